// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/decode_worker.h"

#include <utility>

#include "absl/time/clock.h"

namespace daedalus {

absl::StatusOr<std::unique_ptr<DecodeWorker>> DecodeWorker::Create(
    const decode::Vp9Decoder::Options& options) {
  absl::StatusOr<std::unique_ptr<decode::Vp9Decoder>> decoder = decode::Vp9Decoder::Create(options);
  if (!decoder.ok()) return decoder.status();
  return std::unique_ptr<DecodeWorker>(new DecodeWorker(*std::move(decoder)));
}

DecodeWorker::DecodeWorker(std::unique_ptr<decode::Vp9Decoder> decoder)
    : decoder_(std::move(decoder)) {
  thread_ = std::thread([this] { Run(); });
}

DecodeWorker::~DecodeWorker() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    queue_.clear();
  }
  thread_.join();
}

void DecodeWorker::Submit(std::string packet, int64_t timestamp) {
  absl::MutexLock lock(&mu_);
  queue_.push_back({std::move(packet), timestamp});
}

void DecodeWorker::Run() {
  for (;;) {
    Packet packet;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &DecodeWorker::HasWorkOrStop));
      if (stop_) return;
      packet = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    std::deque<decode::Picture> pictures;
    absl::Time start = absl::Now();
    absl::Status status = decoder_->Decode(packet.data, packet.timestamp, &pictures);
    Decoded decoded{packet.data.size(), absl::Now() - start, std::move(status)};
    absl::MutexLock lock(&mu_);
    for (decode::Picture& p : pictures) pictures_.push_back(std::move(p));
    finished_.push_back(std::move(decoded));
    busy_ = false;
  }
}

bool DecodeWorker::HasWorkOrStop() const { return stop_ || !queue_.empty(); }

bool DecodeWorker::Idle() const { return queue_.empty() && !busy_; }

bool DecodeWorker::WithinCollectLimit() const {
  return queue_.size() + (busy_ ? 1 : 0) <= collect_limit_;
}

void DecodeWorker::WaitIdle() { mu_.Await(absl::Condition(this, &DecodeWorker::Idle)); }

std::vector<DecodeWorker::Decoded> DecodeWorker::Collect(size_t max_pending,
                                                         std::deque<decode::Picture>* out) {
  absl::MutexLock lock(&mu_);
  collect_limit_ = max_pending;
  mu_.Await(absl::Condition(this, &DecodeWorker::WithinCollectLimit));
  for (decode::Picture& p : pictures_) out->push_back(std::move(p));
  pictures_.clear();
  std::vector<Decoded> finished;
  finished.swap(finished_);
  return finished;
}

absl::Status DecodeWorker::Drain(std::vector<Decoded>* finished, std::deque<decode::Picture>* out) {
  *finished = Collect(0, out);
  absl::MutexLock lock(&mu_);
  WaitIdle();  // still idle: only this thread submits
  return decoder_->Drain(out);
}

size_t DecodeWorker::Reset(std::vector<Decoded>* finished) {
  absl::MutexLock lock(&mu_);
  queue_.clear();
  WaitIdle();
  size_t dropped = pictures_.size();
  pictures_.clear();
  finished->swap(finished_);
  finished_.clear();
  decoder_->Reset();
  return dropped;
}

}  // namespace daedalus
