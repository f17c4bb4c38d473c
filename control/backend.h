// SPDX-License-Identifier: BSD-2-Clause
//
// What the control plane needs from the daemon. The gRPC services and the
// /metrics exporter only translate; the daemon's DaemonBackend implements
// this for real, and tests substitute their own.

#ifndef DAEDALUS_CONTROL_BACKEND_H_
#define DAEDALUS_CONTROL_BACKEND_H_

#include <linux/daedalus-v4l2.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daedalus/v1/stats.pb.h"

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

// Facts about the daemon that do not change while it runs.
struct DaemonInfo {
  std::string version;         // e.g. "0.3.0"
  std::string ffmpeg_version;  // libavcodec's
  int decoder_threads = 1;
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
  virtual void GetDecodeStats(bool with_contexts, daedalus::v1::Stats* out) = 0;
};

}  // namespace daedalus::control

#endif  // DAEDALUS_CONTROL_BACKEND_H_
