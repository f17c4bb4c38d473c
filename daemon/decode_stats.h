// SPDX-License-Identifier: BSD-2-Clause
//
// DecodeStats: what the daemon's decode path has done, kept apart from the
// decode path's own lock so that the control plane can read it without
// waiting for a decode. The decode loop records; gRPC and /metrics
// threads take snapshots as plain figures (control::DecodeFigures).
//
//   DecodeStats stats;
//   stats.JobStarted(ctx, /*output_queued=*/3, /*capture_queued=*/4);
//   stats.PictureWritten(ctx, bytes);
//   stats.JobAnswered(ctx, submit_ns);
//   control::DecodeFigures now = stats.Snapshot(/*with_contexts=*/true);

#ifndef DAEDALUS_DAEMON_DECODE_STATS_H_
#define DAEDALUS_DAEMON_DECODE_STATS_H_

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "control/backend.h"
#include "daemon/decode/stream_decoder.h"

namespace daedalus {

// A latency distribution with fixed bucket bounds from 0.5 ms to 10 s.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 14> kBoundsSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  void Observe(absl::Duration d);
  control::LatencyFigures Snapshot() const;

 private:
  std::array<uint64_t, kBoundsSeconds.size()> counts_ = {};  // not cumulative
  uint64_t count_ = 0;
  double sum_seconds_ = 0;
};

// Decode error reasons; each is exported, zero or not.
enum class DecodeError { kCorruptBitstream, kDecoderSetup, kBufferIo };

class DecodeStats {
 public:
  // A clock returning CLOCK_MONOTONIC nanoseconds, the kernel's submit_ns
  // clock. Tests pass their own.
  using MonotonicClock = int64_t (*)();

  explicit DecodeStats(MonotonicClock clock = nullptr);

  // A context's first job, or its first of another codec: counted once.
  void ContextOpened(uint32_t ctx, const std::string& codec);
  void ContextClosed(uint32_t ctx);
  // Every context closed at once (the kernel link broke).
  void AllContextsClosed();

  // A DECODE arrived: the client's queue depths at submit time.
  void JobStarted(uint32_t ctx, uint32_t output_queued, uint32_t capture_queued);
  void BitstreamDecoded(uint32_t ctx, size_t bytes, absl::Duration decode_time);
  void Error(uint32_t ctx, DecodeError reason);
  void FormatAnnounced(uint32_t ctx, const decode::PictureFormat& format);
  // `kernel_copied`: by DDV_IOC_WRITE_PICTURE, not into a mapped buffer.
  void PictureWritten(uint32_t ctx, size_t bytes, absl::Duration write_time,
                      bool kernel_copied = false);
  void PicturesWaiting(uint32_t ctx, size_t pictures);
  // The DONE went to the kernel; `submit_ns` from the DECODE.
  void JobAnswered(uint32_t ctx, uint64_t submit_ns);
  // The job's client was gone before the answer.
  void JobDropped(uint32_t ctx);
  void Flushed(uint32_t ctx, size_t pictures_dropped);
  // Pictures dropped while resuming a dead daemon's stream (before its
  // next key frame).
  void PicturesSkipped(uint32_t ctx, size_t pictures);

  // Totals, histograms and (if asked) contexts.
  control::DecodeFigures Snapshot(bool with_contexts) const;

 private:
  struct Counters {
    uint64_t jobs = 0, jobs_dropped = 0;
    uint64_t frames_in = 0, bytes_in = 0, frames_out = 0, bytes_out = 0;
    uint64_t frames_out_kernel_copied = 0;
    std::array<uint64_t, 3> errors = {};
    uint64_t flushes = 0, pictures_flushed = 0, format_changes = 0, pictures_skipped = 0;
    absl::Duration busy;
  };
  // A codec's counters and its sessions (contexts) so far.
  struct CodecTally {
    Counters counters;
    uint64_t opened = 0, closed = 0;
    std::deque<std::pair<absl::Time, absl::Duration>> recent_busy;  // for the utilisation
  };
  struct Context {
    absl::Time opened;
    std::string codec;
    Counters counters;
    decode::PictureFormat format;
    bool has_format = false;
    uint32_t output_queued = 0, capture_queued = 0, in_flight = 0, pictures_waiting = 0;
    std::deque<absl::Time> recent_pictures;  // for the rate
  };

  // Get() creates the context's entry; the others never do, so that a
  // late event cannot resurrect a closed context.
  Context& Get(uint32_t ctx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Context* Find(uint32_t ctx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The tally of a context's codec ("unknown" for a context not known, or
  // whose codec never was).
  CodecTally& TallyOf(const Context* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The counters an event of a context adds to: the totals, the context's
  // (a scratch set for a context not known) and its codec's.
  std::array<Counters*, 3> CountersOf(Context* c, CodecTally& tally)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::array<Counters*, 3> CountersOf(uint32_t ctx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Time the decode path spent on a job of `ctx`.
  void AddBusy(uint32_t ctx, absl::Duration d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A context ends: its codec's session closes.
  void Closing(const Context& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static control::DecodeCounters FiguresOf(const Counters& c);
  control::ContextFigures FiguresOf(uint32_t id, const Context& c, absl::Time now) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const MonotonicClock clock_;
  mutable absl::Mutex mu_;
  Counters totals_ ABSL_GUARDED_BY(mu_);
  Counters discarded_ ABSL_GUARDED_BY(mu_);
  uint64_t contexts_opened_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t contexts_closed_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint32_t, Context> contexts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, CodecTally> codecs_ ABSL_GUARDED_BY(mu_);
  LatencyHistogram job_latency_ ABSL_GUARDED_BY(mu_);
  LatencyHistogram decode_time_ ABSL_GUARDED_BY(mu_);
  LatencyHistogram write_time_ ABSL_GUARDED_BY(mu_);
};

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_DECODE_STATS_H_
