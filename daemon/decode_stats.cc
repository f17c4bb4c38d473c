// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/decode_stats.h"

#include <time.h>

#include <algorithm>
#include <string>

#include "absl/time/clock.h"

namespace daedalus {
namespace {

// The rate is taken over the pictures of this last stretch of time.
constexpr absl::Duration kRateWindow = absl::Seconds(3);
constexpr size_t kRateSamples = 256;

constexpr const char* kErrorNames[] = {"corrupt_bitstream", "decoder_setup", "buffer_io"};

// The codec of work whose context never said (or is gone).
constexpr const char* kUnknownCodec = "unknown";

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

void LatencyHistogram::Observe(absl::Duration d) {
  double s = absl::ToDoubleSeconds(d);
  if (s < 0) s = 0;  // clocks of two processes; never negative
  auto it = std::lower_bound(kBoundsSeconds.begin(), kBoundsSeconds.end(), s);
  if (it != kBoundsSeconds.end()) counts_[it - kBoundsSeconds.begin()]++;
  count_++;
  sum_seconds_ += s;
}

control::LatencyFigures LatencyHistogram::Snapshot() const {
  control::LatencyFigures out;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBoundsSeconds.size(); i++) {
    cumulative += counts_[i];
    out.bounds_seconds.push_back(kBoundsSeconds[i]);
    out.cumulative_counts.push_back(cumulative);
  }
  out.count = count_;
  out.sum_seconds = sum_seconds_;
  return out;
}

DecodeStats::DecodeStats(MonotonicClock clock) : clock_(clock ? clock : &MonotonicNs) {}

DecodeStats::Context& DecodeStats::Get(uint32_t ctx) {
  auto [it, inserted] = contexts_.try_emplace(ctx);
  if (inserted) it->second.opened = absl::Now();
  return it->second;
}

DecodeStats::Context* DecodeStats::Find(uint32_t ctx) {
  auto it = contexts_.find(ctx);
  return it == contexts_.end() ? nullptr : &it->second;
}

DecodeStats::CodecTally& DecodeStats::TallyOf(const Context* c) {
  return codecs_[c && !c->codec.empty() ? c->codec : kUnknownCodec];
}

std::array<DecodeStats::Counters*, 3> DecodeStats::CountersOf(Context* c, CodecTally& tally) {
  return {&totals_, c ? &c->counters : &discarded_, &tally.counters};
}

std::array<DecodeStats::Counters*, 3> DecodeStats::CountersOf(uint32_t ctx) {
  Context* c = Find(ctx);
  return CountersOf(c, TallyOf(c));
}

void DecodeStats::AddBusy(uint32_t ctx, absl::Duration d) {
  Context* c = Find(ctx);
  CodecTally& tally = TallyOf(c);
  for (Counters* n : CountersOf(c, tally)) n->busy += d;
  absl::Time now = absl::Now();
  tally.recent_busy.emplace_back(now, d);
  while (now - tally.recent_busy.front().first > kRateWindow) tally.recent_busy.pop_front();
}

void DecodeStats::Closing(const Context& c) {
  if (c.codec.empty()) return;  // never counted as opened (ContextOpened)
  contexts_closed_++;
  codecs_[c.codec].closed++;
}

void DecodeStats::ContextOpened(uint32_t ctx, const std::string& codec) {
  absl::MutexLock lock(&mu_);
  // JobStarted() may have made the entry: a context counts at its first
  // codec; a handle that switches codec ends one session and starts another.
  Context& c = Get(ctx);
  if (c.codec == codec) return;
  if (c.codec.empty()) {
    contexts_opened_++;
  } else {
    codecs_[c.codec].closed++;
  }
  c.codec = codec;
  codecs_[codec].opened++;
}

void DecodeStats::ContextClosed(uint32_t ctx) {
  absl::MutexLock lock(&mu_);
  auto it = contexts_.find(ctx);
  if (it == contexts_.end()) return;
  Closing(it->second);
  contexts_.erase(it);
}

void DecodeStats::AllContextsClosed() {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, c] : contexts_) Closing(c);
  contexts_.clear();
}

void DecodeStats::JobStarted(uint32_t ctx, uint32_t output_queued, uint32_t capture_queued) {
  absl::MutexLock lock(&mu_);
  Context& c = Get(ctx);
  c.output_queued = output_queued;
  c.capture_queued = capture_queued;
  c.in_flight = 1;
}

void DecodeStats::BitstreamDecoded(uint32_t ctx, size_t bytes, absl::Duration decode_time) {
  absl::MutexLock lock(&mu_);
  for (Counters* c : CountersOf(ctx)) {
    c->frames_in++;
    c->bytes_in += bytes;
  }
  AddBusy(ctx, decode_time);
  decode_time_.Observe(decode_time);
}

void DecodeStats::Error(uint32_t ctx, DecodeError reason) {
  absl::MutexLock lock(&mu_);
  size_t i = static_cast<size_t>(reason);
  for (Counters* c : CountersOf(ctx)) c->errors[i]++;
}

void DecodeStats::FormatAnnounced(uint32_t ctx, const decode::PictureFormat& format) {
  absl::MutexLock lock(&mu_);
  for (Counters* n : CountersOf(ctx)) n->format_changes++;
  Context* c = Find(ctx);
  if (!c) return;
  c->format = format;
  c->has_format = true;
}

void DecodeStats::PictureWritten(uint32_t ctx, size_t bytes, absl::Duration write_time,
                                 bool kernel_copied) {
  absl::MutexLock lock(&mu_);
  write_time_.Observe(write_time);
  for (Counters* n : CountersOf(ctx)) {
    n->frames_out++;
    n->bytes_out += bytes;
    n->frames_out_kernel_copied += kernel_copied;
  }
  AddBusy(ctx, write_time);
  Context* c = Find(ctx);
  if (!c) return;
  c->recent_pictures.push_back(absl::Now());
  if (c->recent_pictures.size() > kRateSamples) c->recent_pictures.pop_front();
}

void DecodeStats::PicturesWaiting(uint32_t ctx, size_t pictures) {
  absl::MutexLock lock(&mu_);
  if (Context* c = Find(ctx)) c->pictures_waiting = static_cast<uint32_t>(pictures);
}

void DecodeStats::JobAnswered(uint32_t ctx, uint64_t submit_ns) {
  int64_t now_ns = clock_();
  absl::MutexLock lock(&mu_);
  for (Counters* n : CountersOf(ctx)) n->jobs++;
  if (Context* c = Find(ctx)) c->in_flight = 0;
  job_latency_.Observe(absl::Nanoseconds(now_ns - static_cast<int64_t>(submit_ns)));
}

void DecodeStats::JobDropped(uint32_t ctx) {
  absl::MutexLock lock(&mu_);
  for (Counters* n : CountersOf(ctx)) n->jobs_dropped++;
  if (Context* c = Find(ctx)) c->in_flight = 0;
}

void DecodeStats::Flushed(uint32_t ctx, size_t pictures_dropped) {
  absl::MutexLock lock(&mu_);
  for (Counters* n : CountersOf(ctx)) {
    n->flushes++;
    n->pictures_flushed += pictures_dropped;
  }
  if (Context* c = Find(ctx)) {
    c->pictures_waiting = 0;
    c->recent_pictures.clear();
  }
}

void DecodeStats::PicturesSkipped(uint32_t ctx, size_t pictures) {
  absl::MutexLock lock(&mu_);
  for (Counters* n : CountersOf(ctx)) n->pictures_skipped += pictures;
}

control::DecodeCounters DecodeStats::FiguresOf(const Counters& c) {
  control::DecodeCounters out;
  out.jobs = c.jobs;
  out.jobs_dropped = c.jobs_dropped;
  out.frames_in = c.frames_in;
  out.bytes_in = c.bytes_in;
  out.frames_out = c.frames_out;
  out.bytes_out = c.bytes_out;
  for (size_t i = 0; i < c.errors.size(); i++) out.errors[kErrorNames[i]] = c.errors[i];
  out.flushes = c.flushes;
  out.pictures_flushed = c.pictures_flushed;
  out.format_changes = c.format_changes;
  out.pictures_skipped = c.pictures_skipped;
  out.frames_out_kernel_copied = c.frames_out_kernel_copied;
  out.busy_seconds = absl::ToDoubleSeconds(c.busy);
  return out;
}

control::ContextFigures DecodeStats::FiguresOf(uint32_t id, const Context& c,
                                               absl::Time now) const {
  control::ContextFigures out;
  out.id = id;
  out.codec = c.codec;
  if (c.has_format) {
    out.width = static_cast<uint32_t>(c.format.width);
    out.height = static_cast<uint32_t>(c.format.height);
    out.bit_depth = static_cast<uint32_t>(c.format.bit_depth);
    out.chroma = c.format.ChromaName();
  }
  out.counters = FiguresOf(c.counters);
  out.output_queued = c.output_queued;
  out.capture_queued = c.capture_queued;
  out.in_flight = c.in_flight;
  out.pictures_waiting = c.pictures_waiting;
  // Pictures inside the window, over the window (or over the context's
  // age while it is younger than the window).
  size_t n = 0;
  for (auto it = c.recent_pictures.rbegin(); it != c.recent_pictures.rend(); ++it) {
    if (now - *it > kRateWindow) break;
    n++;
  }
  absl::Duration span = std::min(kRateWindow, now - c.opened);
  if (n > 0 && span > absl::ZeroDuration()) {
    out.frames_per_second = static_cast<double>(n) / absl::ToDoubleSeconds(span);
  }
  out.age = now - c.opened;
  return out;
}

control::DecodeFigures DecodeStats::Snapshot(bool with_contexts) const {
  absl::Time now = absl::Now();
  control::DecodeFigures out;
  absl::ReaderMutexLock lock(&mu_);
  out.totals = FiguresOf(totals_);
  out.contexts_opened = contexts_opened_;
  out.contexts_closed = contexts_closed_;
  out.contexts_active = static_cast<uint32_t>(contexts_.size());
  out.job_latency = job_latency_.Snapshot();
  out.decode_time = decode_time_.Snapshot();
  out.picture_write_time = write_time_.Snapshot();
  for (const auto& [name, tally] : codecs_) {
    control::CodecFigures& f = out.codecs[name];
    f.counters = FiguresOf(tally.counters);
    f.sessions_opened = tally.opened;
    f.sessions_closed = tally.closed;
    // Busy time inside the window, over the window.
    absl::Duration busy;
    for (const auto& [at, d] : tally.recent_busy) {
      if (now - at <= kRateWindow) busy += d;
    }
    f.utilisation = absl::FDivDuration(busy, kRateWindow);
  }
  for (const auto& [id, c] : contexts_) {
    if (!c.codec.empty()) out.codecs[c.codec].sessions_active++;
  }
  if (with_contexts) {
    for (const auto& [id, c] : contexts_) out.contexts.push_back(FiguresOf(id, c, now));
  }
  return out;
}

}  // namespace daedalus
