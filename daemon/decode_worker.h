// SPDX-License-Identifier: BSD-2-Clause
//
// DecodeWorker: one context's Vp9Decoder on a thread of its own, so that a
// frame can decode while the kernel and the client turn the previous job
// around (the job's answer, the client's DQBUF/QBUF, the next DECODE):
// without it those steps and the decode run strictly one after the other.
//
//   auto worker = DecodeWorker::Create({.threads = 1});
//   (*worker)->Submit(std::move(bitstream), timestamp);   // returns at once
//   std::deque<decode::Picture> pictures;
//   for (const auto& d : (*worker)->Collect(1, &pictures)) ...  // all but the newest done
//
// Packets decode in submission order. Collect(0, ...) waits for all of
// them, which makes the worker behave like a plain decoder call.

#ifndef DAEDALUS_DAEMON_DECODE_WORKER_H_
#define DAEDALUS_DAEMON_DECODE_WORKER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/decode/vp9_decoder.h"

namespace daedalus {

class DecodeWorker {
 public:
  // How one packet went.
  struct Decoded {
    size_t bytes = 0;
    absl::Duration time;  // in libavcodec
    absl::Status status;  // DataLoss: corrupt bitstream
  };

  static absl::StatusOr<std::unique_ptr<DecodeWorker>> Create(
      const decode::Vp9Decoder::Options& options);
  // Finishes the packet being decoded, drops the queued ones.
  ~DecodeWorker();
  DecodeWorker(const DecodeWorker&) = delete;
  DecodeWorker& operator=(const DecodeWorker&) = delete;

  // Queues a packet for decoding and returns at once.
  void Submit(std::string packet, int64_t timestamp);

  // Waits until at most `max_pending` submitted packets are not yet
  // decoded, moves the pictures decoded so far to `out` (in order) and
  // returns how each packet finished since the last call went.
  std::vector<Decoded> Collect(size_t max_pending, std::deque<decode::Picture>* out);

  // End of stream: waits for every packet, then appends the pictures the
  // decoder still holds (frame threads). The decoder takes input again.
  absl::Status Drain(std::vector<Decoded>* finished, std::deque<decode::Picture>* out);

  // Seek: drops the queued packets, waits for the one being decoded, then
  // drops its pictures and the decoder's state. Returns the pictures
  // dropped; `finished` gets how the packets decoded since the last call went.
  size_t Reset(std::vector<Decoded>* finished);

 private:
  struct Packet {
    std::string data;
    int64_t timestamp;
  };

  explicit DecodeWorker(std::unique_ptr<decode::Vp9Decoder> decoder);
  void Run();
  // Waits for no packet to be queued or decoding.
  void WaitIdle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Await() conditions.
  bool HasWorkOrStop() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool Idle() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool WithinCollectLimit() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Touched by the worker thread while `busy_`, by the caller only when the
  // worker is idle (both under `mu_` to hand it over).
  std::unique_ptr<decode::Vp9Decoder> decoder_;

  mutable absl::Mutex mu_;
  std::deque<Packet> queue_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;  // a packet is being decoded
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  size_t collect_limit_ ABSL_GUARDED_BY(mu_) = 0;  // Collect()'s max_pending
  std::deque<decode::Picture> pictures_ ABSL_GUARDED_BY(mu_);
  std::vector<Decoded> finished_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_DECODE_WORKER_H_
