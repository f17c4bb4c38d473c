// SPDX-License-Identifier: BSD-2-Clause

#include "control/stats_snapshot.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

#include "absl/time/clock.h"
#include "control/proto_time.h"

namespace daedalus::control {

void FillKernelCounters(const ddv_stats& s, daedalus::v1::KernelCounters* out) {
  out->set_fifo_depth(s.fifo_depth);
  out->set_fifo_high_water(s.fifo_high_water);
  out->set_fifo_capacity(s.fifo_capacity);
  out->set_msgs_to_daemon(s.msgs_to_daemon);
  out->set_msgs_from_daemon(s.msgs_from_daemon);
  out->set_bytes_to_daemon(s.bytes_to_daemon);
  out->set_bytes_from_daemon(s.bytes_from_daemon);
  auto& errors = *out->mutable_errors();
  errors["bad_magic"] = s.err_bad_magic;
  errors["bad_version"] = s.err_bad_version;
  errors["bad_reserved"] = s.err_bad_reserved;
  errors["too_big"] = s.err_too_big;
  errors["bad_length"] = s.err_bad_length;
  errors["bad_type"] = s.err_bad_type;
  errors["bad_payload"] = s.err_bad_payload;
  errors["short_read"] = s.err_short_read;
  errors["fifo_full"] = s.err_fifo_full;
  errors["unmatched_pong"] = s.err_unmatched_pong;
  out->set_pings_sent(s.pings_sent);
  out->set_pongs_matched(s.pongs_matched);
  out->set_pings_timed_out(s.pings_timed_out);
  out->set_msgs_dropped(s.msgs_dropped);
  out->set_daemon_attaches(s.daemon_attaches);
  out->set_jobs_timed_out(s.jobs_timed_out);
  out->set_streams_failed(s.streams_failed);
  out->set_streams_resumed(s.streams_resumed);
}

namespace {

void FillCounters(const DecodeCounters& c, daedalus::v1::DecodeCounters* out) {
  out->set_jobs(c.jobs);
  out->set_jobs_dropped(c.jobs_dropped);
  out->set_frames_in(c.frames_in);
  out->set_bytes_in(c.bytes_in);
  out->set_frames_out(c.frames_out);
  out->set_bytes_out(c.bytes_out);
  for (const auto& [reason, n] : c.errors) (*out->mutable_errors())[reason] = n;
  out->set_flushes(c.flushes);
  out->set_pictures_flushed(c.pictures_flushed);
  out->set_format_changes(c.format_changes);
  out->set_busy_seconds(c.busy_seconds);
  out->set_pictures_skipped(c.pictures_skipped);
  out->set_frames_out_kernel_copied(c.frames_out_kernel_copied);
}

void FillHistogram(const LatencyFigures& h, daedalus::v1::Histogram* out) {
  for (double b : h.bounds_seconds) out->add_bounds_seconds(b);
  for (uint64_t n : h.cumulative_counts) out->add_cumulative_counts(n);
  out->set_count(h.count);
  out->set_sum_seconds(h.sum_seconds);
}

}  // namespace

void FillContextStats(const ContextFigures& c, daedalus::v1::ContextStats* out) {
  out->set_id(c.id);
  out->set_width(c.width);
  out->set_height(c.height);
  out->set_bit_depth(c.bit_depth);
  out->set_chroma(c.chroma);
  out->set_codec(c.codec);
  FillCounters(c.counters, out->mutable_counters());
  out->set_output_queued(c.output_queued);
  out->set_capture_queued(c.capture_queued);
  out->set_in_flight(c.in_flight);
  out->set_pictures_waiting(c.pictures_waiting);
  out->set_frames_per_second(c.frames_per_second);
  ToProto(c.age, out->mutable_age());
}

void FillDecodeStats(const DecodeFigures& f, daedalus::v1::Stats* out) {
  FillCounters(f.totals, out->mutable_totals());
  out->set_contexts_opened(f.contexts_opened);
  out->set_contexts_closed(f.contexts_closed);
  out->set_contexts_active(f.contexts_active);
  FillHistogram(f.job_latency, out->mutable_job_latency());
  FillHistogram(f.decode_time, out->mutable_decode_time());
  FillHistogram(f.picture_write_time, out->mutable_picture_write_time());
  for (const ContextFigures& c : f.contexts) FillContextStats(c, out->add_contexts());
  // The per-codec rates come from the contexts, when the caller asked for them.
  std::map<std::string, double> fps;
  for (const ContextFigures& c : f.contexts) fps[c.codec] += c.frames_per_second;
  for (const auto& [name, c] : f.codecs) {
    daedalus::v1::CodecStats* cs = out->add_codecs();
    cs->set_codec(name);
    FillCounters(c.counters, cs->mutable_counters());
    cs->set_sessions_opened(c.sessions_opened);
    cs->set_sessions_closed(c.sessions_closed);
    cs->set_sessions_active(c.sessions_active);
    cs->set_frames_per_second(fps[name]);
    cs->set_utilisation(c.utilisation);
  }
}

void FillProcessStats(daedalus::v1::ProcessStats* out) {
  rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    out->set_cpu_user_seconds(static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec / 1e6);
    out->set_cpu_system_seconds(static_cast<double>(ru.ru_stime.tv_sec) +
                                ru.ru_stime.tv_usec / 1e6);
  }
  // /proc/self/statm: total and resident size, in pages.
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  if (statm >> size_pages >> resident_pages) {
    out->set_resident_bytes(resident_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
  }
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) {
      out->set_threads(static_cast<uint32_t>(std::stoul(line.substr(8))));
      break;
    }
  }
}

daedalus::v1::Stats TakeStatsSnapshot(Backend& backend, absl::Time started, bool with_contexts) {
  daedalus::v1::Stats out;
  FillDecodeStats(backend.GetDecodeStats(with_contexts), &out);
  absl::Time now = absl::Now();
  ToProto(now - started, out.mutable_uptime());
  ToProto(now, out.mutable_taken_at());
  // The link may drop at any moment; the snapshot still answers.
  absl::StatusOr<ddv_stats> kernel = backend.GetKernelStats();
  if (kernel.ok()) FillKernelCounters(*kernel, out.mutable_kernel());
  FillProcessStats(out.mutable_process());
  return out;
}

}  // namespace daedalus::control
