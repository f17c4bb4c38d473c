// SPDX-License-Identifier: BSD-2-Clause
//
// What the control plane needs from the daemon. The gRPC services and the
// /metrics exporter only translate; the daemon's DaemonBackend implements
// this for real, and tests substitute their own.

#ifndef DAEDALUS_CONTROL_BACKEND_H_
#define DAEDALUS_CONTROL_BACKEND_H_

#include <linux/daedalus-v4l2.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace daedalus::control {

struct LinkStatus {
  bool up = false;
  std::string device;
  uint32_t protocol_version = 0;  // as the kernel announced it
  std::string module_version;
  std::string detail;  // why the link is down
};

struct PingReply {
  uint32_t kernel_cookie = 0;
  absl::Duration kernel_rtt;
  uint32_t fifo_depth = 0;
};

// What the decode path has done, as plain figures: the daemon's
// DecodeStats fills them, TakeStatsSnapshot (stats_snapshot.h) makes the
// daedalus.v1 messages of them.
struct DecodeCounters {
  uint64_t jobs = 0, jobs_dropped = 0;
  uint64_t frames_in = 0, bytes_in = 0, frames_out = 0, bytes_out = 0;
  // By reason ("corrupt_bitstream", ...); every reason present, zero or not.
  std::map<std::string, uint64_t> errors;
  uint64_t flushes = 0, pictures_flushed = 0, format_changes = 0;
  // Pictures dropped before the next key frame of a stream resumed after
  // a daemon restart.
  uint64_t pictures_skipped = 0;
  // Of frames_out, those the kernel copied in (the daemon wrote the others
  // into the client's buffer mapped into it).
  uint64_t frames_out_kernel_copied = 0;
  // Wall time the decode path spent on these jobs: inside libavcodec and
  // writing pictures. Its rate is the decoder's utilisation (1.0: one
  // decoder busy all the time).
  double busy_seconds = 0;
};

// A latency distribution: counts at or below each bound, cumulative.
struct LatencyFigures {
  std::vector<double> bounds_seconds;
  std::vector<uint64_t> cumulative_counts;
  uint64_t count = 0;
  double sum_seconds = 0;
};

struct ContextFigures {
  uint32_t id = 0;
  std::string codec;  // "h264", ...; empty before the first job
  // Current stream format; 0 / empty until the first picture.
  uint32_t width = 0, height = 0, bit_depth = 0;
  std::string chroma;  // "4:2:0", ...
  DecodeCounters counters;
  uint32_t output_queued = 0, capture_queued = 0;  // at the newest job
  uint32_t in_flight = 0, pictures_waiting = 0;
  double frames_per_second = 0;  // over the last few seconds
  absl::Duration age;
};

// One codec, summed over every context that decoded it: its sessions
// (contexts) opened, closed and open now.
struct CodecFigures {
  DecodeCounters counters;
  uint64_t sessions_opened = 0, sessions_closed = 0;
  uint32_t sessions_active = 0;
  // Busy seconds per second over the last few seconds (1.0: one decoder
  // busy all the time).
  double utilisation = 0;
};

struct DecodeFigures {
  DecodeCounters totals;
  // By codec ("h264", ...; "unknown" for work of a context whose codec was
  // never known): every codec seen since start. Their counters add up to
  // `totals`.
  std::map<std::string, CodecFigures> codecs;
  uint64_t contexts_opened = 0, contexts_closed = 0;
  uint32_t contexts_active = 0;
  LatencyFigures job_latency, decode_time, picture_write_time;
  std::vector<ContextFigures> contexts;  // only when asked for
};

// One codec the daemon decodes, as the node offers it.
struct CodecCapability {
  std::string codec;                       // "H264", "HEVC", "VP8", "VP9", "AV1"
  std::vector<std::string> profiles;       // V4L2's menu names: "High", "Main 10", "0"
  std::vector<std::string> pixel_formats;  // CAPTURE formats its pictures come in
  uint32_t max_width = 0, max_height = 0;
  int frame_threads = 1;
};

// Facts about the daemon that do not change while it runs.
struct DaemonInfo {
  std::string version;         // e.g. "0.3.0"
  std::string ffmpeg_version;  // libavcodec's
  int decoder_threads = 1;
  std::vector<CodecCapability> codecs;  // what HELLO announced
  // Which machine this is (daemon/device_identity.h).
  std::string board;           // device tree model, e.g. "Raspberry Pi 5 Model B Rev 1.0"
  std::string kernel_release;  // uname -r
  int cpus = 0;                // CPUs the daemon may run on
  // Jobs the daemon decodes at the same time: one, on its event loop (each
  // with its frame threads). Busy time can grow at most this fast.
  int parallel_decodes = 1;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual LinkStatus GetLinkStatus() = 0;
  // Unavailable while the link is down.
  virtual absl::StatusOr<ddv_stats> GetKernelStats() = 0;
  // Has the kernel inject a PING and waits up to `timeout` for its result.
  virtual absl::StatusOr<PingReply> Ping(absl::Duration timeout) = 0;
  // Decode totals, histograms and (if asked) contexts. Must not wait for a
  // running decode.
  virtual DecodeFigures GetDecodeStats(bool with_contexts) = 0;
};

}  // namespace daedalus::control

#endif  // DAEDALUS_CONTROL_BACKEND_H_
