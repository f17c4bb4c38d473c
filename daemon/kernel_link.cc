// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/kernel_link.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "daemon/log.h"

namespace daedalus {

KernelLink::KernelLink(Options options, SyscallApi& sys)
    : options_(std::move(options)), dev_(sys), jobs_({options_.decoder_threads}, stats_) {}

void KernelLink::SetLinkObserver(std::function<void(bool)> observer) {
  observer_ = std::move(observer);
}

void KernelLink::SetHeartbeat(absl::Duration every, std::function<void()> heartbeat) {
  heartbeat_every_ = every;
  heartbeat_ = std::move(heartbeat);
}

void KernelLink::Run(int stop_fd) {
  TryConnect();
  absl::Time next_connect = absl::Now() + options_.reconnect_interval;
  absl::Time next_heartbeat = absl::Now();
  for (;;) {
    absl::Time now = absl::Now();
    if (heartbeat_ && now >= next_heartbeat) {
      heartbeat_();
      next_heartbeat = now + heartbeat_every_;
    }
    int dev_fd;
    {
      absl::MutexLock lock(&mu_);
      dev_fd = dev_.fd();
    }
    // Sleep until the device speaks, the next reconnect attempt or the
    // next heartbeat, whichever comes first.
    absl::Duration wait = dev_fd >= 0 ? absl::InfiniteDuration() : next_connect - now;
    if (heartbeat_) wait = std::min(wait, next_heartbeat - now);
    wait = std::max(wait, absl::ZeroDuration());
    int timeout_ms =
        wait == absl::InfiniteDuration()
            ? -1
            : static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))));
    pollfd fds[2] = {{stop_fd, POLLIN, 0}, {dev_fd, POLLIN, 0}};
    int n = poll(fds, 2, timeout_ms);
    if (n < 0 && errno != EINTR) {
      Log(Severity::kError, absl::StrFormat("poll: %s", std::strerror(errno)));
      break;
    }
    if (fds[0].revents) break;
    if (dev_fd < 0) {
      if (absl::Now() >= next_connect) {
        TryConnect();
        next_connect = absl::Now() + options_.reconnect_interval;
      }
    } else if (n > 0 && fds[1].revents) {
      ReadAll();
      // A link that just broke is retried after the interval, so that the
      // reason it broke stays visible in the meantime.
      next_connect = absl::Now() + options_.reconnect_interval;
    }
  }
  {
    absl::MutexLock lock(&mu_);
    Disconnect(absl::UnavailableError("daedalusd is shutting down"));
  }
  NotifyIfChanged();
}

void KernelLink::TryConnect() {
  {
    absl::MutexLock lock(&mu_);
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
    st = dev_.Write(protocol::MakeHello(hello_cookie_, options_.daemon_version));
    if (!st.ok()) {
      Disconnect(st);
      return;
    }
    detail_ = "waiting for the kernel's HELLO_ACK";
  }
  // The answer may already be queued.
  ReadAll();
}

void KernelLink::ReadAll() {
  {
    absl::MutexLock lock(&mu_);
    while (dev_.is_open()) {
      absl::StatusOr<std::optional<protocol::Message>> msg = dev_.Read();
      if (!msg.ok()) {
        if (IsLinkLost(msg.status())) {
          Disconnect(msg.status());
          break;
        }
        // One malformed message: logged and skipped, the link stays.
        Log(Severity::kError,
            absl::StrFormat("dropped a message from the kernel: %s", msg.status().ToString()));
        continue;
      }
      if (!msg->has_value()) break;  // FIFO empty
      Handle(**msg);
    }
  }
  NotifyIfChanged();
}

void KernelLink::Handle(const protocol::Message& msg) {
  switch (msg.type) {
    case DDV_MSG_PING: {
      // Echo cookie and payload; the kernel checks both.
      absl::Status st = dev_.Write({DDV_MSG_PONG, msg.cookie, msg.payload});
      if (!st.ok()) {
        Log(Severity::kError, std::string(st.message()));
        if (IsLinkLost(st)) Disconnect(st);
      }
      return;
    }
    case DDV_MSG_HELLO_ACK: {
      absl::StatusOr<ddv_hello_ack> ack = protocol::ParseHelloAck(msg);
      if (!ack.ok() || msg.cookie != hello_cookie_) {
        Log(Severity::kError, absl::StrFormat("unexpected HELLO_ACK (cookie 0x%08x): %s",
                                              msg.cookie, ack.status().ToString()));
        return;
      }
      hello_ack_ = *ack;
      up_ = true;
      detail_.clear();
      Log(Severity::kInfo, absl::StrFormat("kernel link up: %s, module %s, protocol %d, FIFO %d",
                                           options_.device, hello_ack_.module_version,
                                           hello_ack_.proto_version, hello_ack_.fifo_capacity));
      return;
    }
    case DDV_MSG_PING_RESULT:
      OnPingResult(msg);
      return;
    case DDV_MSG_DECODE:
      OnDecode(msg);
      return;
    case DDV_MSG_FLUSH:
    case DDV_MSG_CTX_CLOSE:
      OnContextMessage(msg);
      return;
    default:
      Log(Severity::kWarning, absl::StrFormat("ignored %s (cookie 0x%08x) from the kernel",
                                              protocol::TypeName(msg.type), msg.cookie));
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

void KernelLink::OnDecode(const protocol::Message& msg) {
  ddv_decode req;
  if (msg.payload.size() != sizeof(req)) {
    Log(Severity::kError, absl::StrFormat("DECODE with a %d-byte payload", msg.payload.size()));
    return;
  }
  std::memcpy(&req, msg.payload.data(), sizeof(req));
  std::optional<ddv_decode_done> done = jobs_.Run(req, dev_);
  if (!done) return;  // the job is gone: nothing to answer
  absl::Status st = dev_.Write({DDV_MSG_DECODE_DONE, msg.cookie,
                                std::string(reinterpret_cast<const char*>(&*done), sizeof(*done))});
  if (st.ok()) {
    stats_.JobAnswered(req.ctx_id, req.submit_ns);
  } else {
    stats_.JobDropped(req.ctx_id);
    // NotFound: the kernel ended the job meanwhile (timeout, close).
    if (!absl::IsNotFound(st)) Log(Severity::kError, std::string(st.message()));
    if (IsLinkLost(st)) Disconnect(st);
  }
}

void KernelLink::OnContextMessage(const protocol::Message& msg) {
  ddv_ctx_msg m;
  if (msg.payload.size() != sizeof(m)) {
    Log(Severity::kError, absl::StrFormat("%s with a %d-byte payload", protocol::TypeName(msg.type),
                                          msg.payload.size()));
    return;
  }
  std::memcpy(&m, msg.payload.data(), sizeof(m));
  if (msg.type == DDV_MSG_FLUSH) {
    jobs_.Flush(m.ctx_id);
  } else {
    jobs_.Close(m.ctx_id);
  }
}

void KernelLink::Disconnect(const absl::Status& why) {
  if (dev_.is_open()) {
    Log(Severity::kWarning, absl::StrFormat("kernel link down: %s", why.message()));
  }
  dev_.Close();
  jobs_.Clear();
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

void KernelLink::NotifyIfChanged() {
  bool up;
  {
    absl::MutexLock lock(&mu_);
    up = up_;
  }
  if (up == last_reported_up_) return;
  last_reported_up_ = up;
  if (observer_) observer_(up);
}

control::LinkStatus KernelLink::GetLinkStatus() {
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

absl::StatusOr<ddv_stats> KernelLink::GetKernelStats() {
  absl::MutexLock lock(&mu_);
  if (!up_) return absl::UnavailableError(absl::StrFormat("kernel link down: %s", detail_));
  return dev_.GetStats();
}

void KernelLink::GetDecodeStats(bool with_contexts, daedalus::v1::Stats* out) {
  stats_.Fill(with_contexts, out);
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
    if (IsLinkLost(st)) Disconnect(st);
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
