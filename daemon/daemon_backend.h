// SPDX-License-Identifier: BSD-2-Clause
//
// DaemonBackend: what the control plane (gRPC services, /metrics) asks of
// the daemon, answered from the kernel link and the decode statistics.
// It only forwards; each call is as thread-safe as what it forwards to.
//
//   DaemonBackend backend(link, stats);
//   control::ControlServer server(server_options, backend, info);

#ifndef DAEDALUS_DAEMON_DAEMON_BACKEND_H_
#define DAEDALUS_DAEMON_DAEMON_BACKEND_H_

#include "control/backend.h"
#include "daemon/decode_stats.h"
#include "daemon/kernel_link.h"

namespace daedalus {

class DaemonBackend final : public control::Backend {
 public:
  // Both must outlive the backend.
  DaemonBackend(KernelLink& link, const DecodeStats& stats) : link_(link), stats_(stats) {}

  control::LinkStatus GetLinkStatus() override { return link_.Status(); }
  absl::StatusOr<ddv_stats> GetKernelStats() override { return link_.KernelStats(); }
  absl::StatusOr<control::PingReply> Ping(absl::Duration timeout) override {
    return link_.Ping(timeout);
  }
  // DecodeStats has its own lock: this never waits for a running decode.
  control::DecodeFigures GetDecodeStats(bool with_contexts) override {
    return stats_.Snapshot(with_contexts);
  }

 private:
  KernelLink& link_;
  const DecodeStats& stats_;
};

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_DAEMON_BACKEND_H_
