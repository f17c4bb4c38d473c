// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/kernel_link.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "daemon/log.h"

namespace daedalus {
namespace {

bool IsDecodePath(uint32_t type) {
  return type == DDV_MSG_DECODE || type == DDV_MSG_FLUSH || type == DDV_MSG_CTX_CLOSE;
}

}  // namespace

KernelLink::KernelLink(Options options, JobHandler& jobs, SyscallApi& sys)
    : options_(std::move(options)),
      jobs_(jobs),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      dev_(sys) {
  jobs_.SetLinkLostReporter([this](const absl::Status& why) { ReportLost(why); });
}

KernelLink::~KernelLink() {
  jobs_.SetLinkLostReporter(nullptr);
  // The handler's threads use the chardev, which dies with the link.
  jobs_.LinkLost();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void KernelLink::ReportLost(const absl::Status& why) {
  {
    absl::MutexLock lock(&reported_mu_);
    if (reported_.ok()) reported_ = why;
  }
  WakeLoop();
}

void KernelLink::WakeLoop() {
  uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof(one));
}

absl::Status KernelLink::TakeReportedLoss() {
  absl::MutexLock lock(&reported_mu_);
  return std::exchange(reported_, absl::OkStatus());
}

int KernelLink::fd() {
  absl::MutexLock lock(&mu_);
  return dev_.fd();
}

bool KernelLink::up() {
  absl::MutexLock lock(&mu_);
  return up_;
}

void KernelLink::TryConnect() {
  {
    absl::MutexLock lock(&mu_);
    if (dev_.is_open()) return;
    absl::Status st = dev_.Open(options_.device);
    if (!st.ok()) {
      // Say it once per cause, not once per retry.
      if (detail_ != st.message()) {
        Log(Severity::kWarning, absl::StrFormat("kernel link down: %s", st.message()));
      }
      detail_ = std::string(st.message());
      return;
    }
    hello_cookie_ = next_cookie_++;
    st = dev_.Write(protocol::MakeHello(hello_cookie_, options_.daemon_version, options_.codecs));
    if (!st.ok()) {
      DisconnectLocked(st);
      return;
    }
    detail_ = "waiting for the kernel's HELLO_ACK";
  }
  // The answer may already be queued.
  ReadAll();
}

void KernelLink::ReadAll() {
  mu_.Lock();
  uint64_t wakes;
  if (wake_fd_ >= 0) (void)!read(wake_fd_, &wakes, sizeof(wakes));
  if (absl::Status st = TakeReportedLoss(); !st.ok() && dev_.is_open()) DisconnectLocked(st);
  while (dev_.is_open()) {
    if (!lost_.ok()) {  // another thread found the link broken
      DisconnectLocked(lost_);
      break;
    }
    absl::StatusOr<std::optional<protocol::Message>> msg = dev_.Read();
    if (!msg.ok()) {
      if (IsLinkLost(msg.status())) {
        DisconnectLocked(msg.status());
        break;
      }
      // One malformed message: logged and skipped, the link stays.
      Log(Severity::kError,
          absl::StrFormat("dropped a message from the kernel: %s", msg.status().ToString()));
      continue;
    }
    if (!msg->has_value()) break;  // FIFO empty
    if (!IsDecodePath((*msg)->type)) {
      Handle(**msg);
      continue;
    }
    // A decode takes a frame's time: the control plane must not wait for
    // it, so the job runs without the lock (see LoopIo()).
    JobIo& io = LoopIo();
    mu_.Unlock();
    absl::Status st = jobs_.Handle(**msg, io);
    mu_.Lock();
    if (IsLinkLost(st)) DisconnectLocked(st);
  }
  mu_.Unlock();
}

void KernelLink::Handle(const protocol::Message& msg) {
  switch (msg.type) {
    case DDV_MSG_PING: {
      // Echo cookie and payload; the kernel checks both.
      absl::Status st = dev_.Write({DDV_MSG_PONG, msg.cookie, msg.payload});
      if (!st.ok()) {
        Log(Severity::kError, std::string(st.message()));
        if (IsLinkLost(st)) DisconnectLocked(st);
      }
      return;
    }
    case DDV_MSG_HELLO_ACK:
      OnHelloAck(msg);
      return;
    case DDV_MSG_PING_RESULT:
      OnPingResult(msg);
      return;
    default:
      Log(Severity::kWarning, absl::StrFormat("ignored %s (cookie 0x%08x) from the kernel",
                                              protocol::TypeName(msg.type), msg.cookie));
  }
}

void KernelLink::OnHelloAck(const protocol::Message& msg) {
  absl::StatusOr<ddv_hello_ack> ack = protocol::ParseHelloAck(msg);
  if (!ack.ok() || msg.cookie != hello_cookie_) {
    Log(Severity::kError, absl::StrFormat("unexpected HELLO_ACK (cookie 0x%08x): %s", msg.cookie,
                                          ack.status().ToString()));
    return;
  }
  hello_ack_ = *ack;
  up_ = true;
  detail_.clear();
  Log(Severity::kInfo, absl::StrFormat("kernel link up: %s, module %s, protocol %d, FIFO %d",
                                       options_.device, hello_ack_.module_version,
                                       hello_ack_.proto_version, hello_ack_.fifo_capacity));
  if (hello_ack_.flags & DDV_HELLO_RECOVERY) {
    Log(Severity::kInfo,
        absl::StrFormat("streams survive a daemon restart: the kernel keeps them %d ms",
                        hello_ack_.recovery_ms));
  }
}

void KernelLink::OnPingResult(const protocol::Message& msg) {
  auto it = pending_.find(msg.cookie);
  if (it == pending_.end()) {
    // Its Ping() gave up already; nothing waits for it.
    Log(Severity::kDebug, absl::StrFormat("late PING_RESULT 0x%08x", msg.cookie));
    return;
  }
  std::shared_ptr<PendingPing> pending = it->second;
  pending_.erase(it);
  absl::StatusOr<ddv_ping_result> res = protocol::ParsePingResult(msg);
  if (!res.ok()) {
    pending->result =
        absl::InternalError(absl::StrFormat("malformed PING_RESULT: %s", res.status().message()));
  } else if (res->status != 0) {
    pending->result = absl::DeadlineExceededError(
        absl::StrFormat("the kernel's PING 0x%08x got no PONG: %s", res->ping_cookie,
                        std::strerror(static_cast<int>(res->status))));
  } else {
    control::PingReply reply;
    reply.kernel_cookie = res->ping_cookie;
    reply.kernel_rtt = absl::Nanoseconds(res->rtt_ns);
    absl::StatusOr<ddv_stats> stats = dev_.GetStats();
    if (stats.ok()) reply.fifo_depth = stats->fifo_depth;
    pending->result = reply;
  }
  pending->done = true;
  ping_done_.SignalAll();
}

void KernelLink::MarkLost(const absl::Status& why) {
  up_ = false;
  detail_ = std::string(why.message());
  if (lost_.ok()) lost_ = why;
  WakeLoop();
}

void KernelLink::Disconnect(const absl::Status& why) {
  absl::MutexLock lock(&mu_);
  DisconnectLocked(why);
}

void KernelLink::DisconnectLocked(const absl::Status& why) {
  // Once per cause: a HELLO the module refuses fails the same way on
  // every retry.
  if (dev_.is_open() && why.message() != detail_) {
    Log(Severity::kWarning, absl::StrFormat("kernel link down: %s", why.message()));
  }
  // The handler's threads stop before the fd they use is closed (and
  // perhaps reused by the next open).
  jobs_.LinkLost();
  dev_.Close();
  (void)TakeReportedLoss();  // about the link just closed
  lost_ = absl::OkStatus();
  up_ = false;
  detail_ = std::string(why.message());
  for (auto& [cookie, pending] : pending_) {
    pending->result =
        absl::UnavailableError(absl::StrFormat("kernel link lost: %s", why.message()));
    pending->done = true;
  }
  pending_.clear();
  ping_done_.SignalAll();
}

control::LinkStatus KernelLink::Status() {
  absl::MutexLock lock(&mu_);
  control::LinkStatus st;
  st.up = up_;
  st.device = options_.device;
  if (up_) {
    st.protocol_version = hello_ack_.proto_version;
    st.module_version = hello_ack_.module_version;
  }
  st.detail = detail_;
  return st;
}

absl::StatusOr<ddv_stats> KernelLink::KernelStats() {
  absl::MutexLock lock(&mu_);
  if (!up_) return absl::UnavailableError(absl::StrFormat("kernel link down: %s", detail_));
  return dev_.GetStats();
}

absl::StatusOr<control::PingReply> KernelLink::Ping(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  if (!up_) {
    return absl::FailedPreconditionError(absl::StrFormat("kernel link down: %s", detail_));
  }
  uint32_t cookie = next_cookie_++;
  auto pending = std::make_shared<PendingPing>();
  absl::Status st = dev_.Write({DDV_MSG_PING_INJECT, cookie, ""});
  if (!st.ok()) {
    if (IsLinkLost(st)) MarkLost(st);
    if (absl::IsInvalidArgument(st)) return absl::InternalError(st.message());
    return st;
  }
  pending_[cookie] = pending;
  absl::Time deadline = absl::Now() + timeout;
  while (!pending->done) {
    if (ping_done_.WaitWithDeadline(&mu_, deadline) && !pending->done) {
      pending_.erase(cookie);
      return absl::DeadlineExceededError(
          absl::StrFormat("the kernel did not report PING_INJECT 0x%08x within %s", cookie,
                          absl::FormatDuration(timeout)));
    }
  }
  return pending->result;
}

}  // namespace daedalus
