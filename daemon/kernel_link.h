// SPDX-License-Identifier: BSD-2-Clause
//
// KernelLink: the daemon's conversation with the kernel module.
//
// Run() is the daemon's event loop: it polls the chardev, answers the
// kernel's PINGs, completes injected pings, and when the link breaks (module
// unloaded, device error) closes it and retries every reconnect_interval,
// so the daemon outlives module reloads. Other threads (gRPC handlers) use
// the Backend methods, which are thread-safe.
//
//   KernelLink link({.device = "/dev/daedalus-v4l2"});
//   std::thread loop([&] { link.Run(stop_fd); });
//   absl::StatusOr<control::PingReply> r = link.Ping(absl::Seconds(1));

#ifndef DAEDALUS_DAEMON_KERNEL_LINK_H_
#define DAEDALUS_DAEMON_KERNEL_LINK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "control/backend.h"
#include "daemon/chardev.h"
#include "daemon/decode_jobs.h"
#include "daemon/decode_stats.h"
#include "daemon/protocol.h"

namespace daedalus {

class KernelLink final : public control::Backend {
 public:
  struct Options {
    std::string device = "/dev/daedalus-v4l2";
    std::string daemon_version;
    absl::Duration reconnect_interval = absl::Seconds(1);
    int decoder_threads = 1;
  };

  explicit KernelLink(Options options, SyscallApi& sys = RealSyscalls());

  // Called (from the loop thread, without locks held) whenever the link
  // goes up or down. Set before Run().
  void SetLinkObserver(std::function<void(bool up)> observer);
  // Called from the loop thread at least every `every` while Run() runs:
  // proof that the event loop is alive (the systemd watchdog). Set before
  // Run().
  void SetHeartbeat(absl::Duration every, std::function<void()> heartbeat);

  // Runs the event loop until `stop_fd` is readable (e.g. an eventfd or a
  // signalfd), then closes the chardev and fails pending pings.
  void Run(int stop_fd);

  control::LinkStatus GetLinkStatus() override;
  absl::StatusOr<ddv_stats> GetKernelStats() override;
  absl::StatusOr<control::PingReply> Ping(absl::Duration timeout) override;
  void GetDecodeStats(bool with_contexts, daedalus::v1::Stats* out) override;

 private:
  struct PendingPing {
    bool done = false;
    absl::StatusOr<control::PingReply> result;
  };

  void TryConnect();
  void ReadAll();
  void Handle(const protocol::Message& msg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnPingResult(const protocol::Message& msg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnDecode(const protocol::Message& msg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnContextMessage(const protocol::Message& msg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Closes the chardev and fails every pending ping with `why`.
  void Disconnect(const absl::Status& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NotifyIfChanged();

  const Options options_;
  std::function<void(bool)> observer_;
  absl::Duration heartbeat_every_ = absl::ZeroDuration();
  std::function<void()> heartbeat_;
  bool last_reported_up_ = false;  // loop thread only

  absl::Mutex mu_;
  absl::CondVar ping_done_;
  Chardev dev_ ABSL_GUARDED_BY(mu_);
  bool up_ ABSL_GUARDED_BY(mu_) = false;
  std::string detail_ ABSL_GUARDED_BY(mu_) = "not connected yet";
  ddv_hello_ack hello_ack_ ABSL_GUARDED_BY(mu_) = {};
  uint32_t hello_cookie_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t next_cookie_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint32_t, std::shared_ptr<PendingPing>> pending_ ABSL_GUARDED_BY(mu_);
  DecodeStats stats_;  // its own lock: readable while a job decodes
  DecodeJobs jobs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_KERNEL_LINK_H_
