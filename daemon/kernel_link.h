// SPDX-License-Identifier: BSD-2-Clause
//
// KernelLink: the daemon's connection to the kernel module through
// /dev/daedalus-v4l2. It opens the chardev and says HELLO, answers the
// kernel's PINGs, matches injected pings with their results, hands the
// decode path's messages (DECODE, FLUSH, CTX_CLOSE) to a JobHandler, and
// closes the chardev when the link breaks. It owns no thread: the event
// loop (EventLoop) calls TryConnect() and ReadAll(); gRPC threads call
// Status(), KernelStats() and Ping(). All methods are thread-safe.
//
//   ContextWorkers jobs({.threads = 2}, stats);
//   KernelLink link({.device = "/dev/daedalus-v4l2"}, jobs);
//   link.TryConnect();                      // from the event loop
//   absl::StatusOr<control::PingReply> r = link.Ping(absl::Seconds(1));

#ifndef DAEDALUS_DAEMON_KERNEL_LINK_H_
#define DAEDALUS_DAEMON_KERNEL_LINK_H_

#include <linux/daedalus-v4l2.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "control/backend.h"
#include "daemon/chardev.h"
#include "daemon/job_io.h"
#include "daemon/protocol.h"

namespace daedalus {

// Where KernelLink sends the decode path's messages. Called from the
// thread that called ReadAll() (the event loop's), without the link's
// lock, so the control plane never waits for a decode; a handler may run
// them on threads of its own (ContextWorkers).
class JobHandler {
 public:
  virtual ~JobHandler() = default;
  // DECODE, FLUSH or CTX_CLOSE. `io` reaches the job's buffers and takes
  // the answer. A returned status for which IsLinkLost() holds means the
  // chardev is broken; anything else was handled (and logged) already.
  virtual absl::Status Handle(const protocol::Message& msg, JobIo& io) = 0;
  // The link closed: every kernel context is gone. A handler that runs
  // messages on threads of its own stops them first: the chardev is
  // closed after this returns.
  virtual void LinkLost() = 0;
  // Such a handler reports a broken chardev found on its threads here; the
  // event loop then closes the link (KernelLink sets it; thread-safe, and
  // takes none of the handler's locks).
  using LinkLostReporter = std::function<void(const absl::Status&)>;
  virtual void SetLinkLostReporter(LinkLostReporter /*report*/) {}
};

class KernelLink {
 public:
  struct Options {
    std::string device = "/dev/daedalus-v4l2";
    std::string daemon_version;  // announced in HELLO
    // The codecs announced in HELLO (codec_caps.h): the node offers these.
    std::vector<ddv_codec_caps> codecs;
  };

  // `jobs` and `sys` must outlive the KernelLink.
  KernelLink(Options options, JobHandler& jobs, SyscallApi& sys = RealSyscalls());

  ~KernelLink();
  KernelLink(const KernelLink&) = delete;
  KernelLink& operator=(const KernelLink&) = delete;

  // The chardev's fd to poll, or -1 while it is closed.
  int fd();
  // An eventfd that becomes readable when another thread found the link
  // broken; the loop polls it too and then calls ReadAll(), which closes
  // the chardev. Only the loop's thread ever closes it, so the loop never
  // sleeps on a closed (or reused) fd.
  int wake_fd() const { return wake_fd_; }
  // Opens the chardev and says HELLO, unless it is open already; the link
  // is up once the kernel's HELLO_ACK has been read.
  void TryConnect();
  // Closes the link if another thread found it broken, else reads and
  // handles every queued message; closes the link if it broke.
  void ReadAll();
  // Closes the chardev and fails every pending ping with `why`. From the
  // loop's thread only (the one that calls TryConnect() and ReadAll()).
  void Disconnect(const absl::Status& why);
  bool up();

  control::LinkStatus Status();
  // Unavailable while the link is down.
  absl::StatusOr<ddv_stats> KernelStats();
  // Has the kernel inject a PING and waits up to `timeout` for its result.
  absl::StatusOr<control::PingReply> Ping(absl::Duration timeout);

 private:
  struct PendingPing {
    bool done = false;
    absl::StatusOr<control::PingReply> result;
  };

  // Messages of the link itself (PING, HELLO_ACK, PING_RESULT, unknown).
  void Handle(const protocol::Message& msg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The chardev for the job handler, used without mu_: only the loop's
  // thread (the one in ReadAll) ever opens or closes it, so it cannot
  // change under the loop; other threads use it under mu_, and the kernel
  // takes each write() and ioctl() whole.
  JobIo& LoopIo() ABSL_NO_THREAD_SAFETY_ANALYSIS { return dev_; }
  void OnHelloAck(const protocol::Message& msg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnPingResult(const protocol::Message& msg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DisconnectLocked(const absl::Status& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // From a thread other than the loop's: the link is broken; the loop
  // closes it (see wake_fd()).
  void MarkLost(const absl::Status& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The same from the job handler's threads, without mu_: the loop may
  // hold it while it waits for those threads to stop (LinkLost()).
  void ReportLost(const absl::Status& why);
  absl::Status TakeReportedLoss();
  // Makes wake_fd() readable: the loop then calls ReadAll().
  void WakeLoop();

  const Options options_;
  JobHandler& jobs_;
  const int wake_fd_;

  absl::Mutex mu_;
  absl::CondVar ping_done_;
  Chardev dev_ ABSL_GUARDED_BY(mu_);
  bool up_ ABSL_GUARDED_BY(mu_) = false;
  std::string detail_ ABSL_GUARDED_BY(mu_) = "not connected yet";
  ddv_hello_ack hello_ack_ ABSL_GUARDED_BY(mu_) = {};
  uint32_t hello_cookie_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t next_cookie_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint32_t, std::shared_ptr<PendingPing>> pending_ ABSL_GUARDED_BY(mu_);
  absl::Status lost_ ABSL_GUARDED_BY(mu_);  // set by MarkLost, cleared on close
  absl::Mutex reported_mu_;
  absl::Status reported_ ABSL_GUARDED_BY(reported_mu_);  // set by ReportLost
};

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_KERNEL_LINK_H_
