// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/event_loop.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "daemon/log.h"

namespace daedalus {

void EventLoop::SetLinkObserver(std::function<void(bool)> observer) {
  observer_ = std::move(observer);
}

void EventLoop::SetHeartbeat(absl::Duration every, std::function<void()> heartbeat) {
  heartbeat_every_ = every;
  heartbeat_ = std::move(heartbeat);
}

void EventLoop::Run(int stop_fd) {
  link_.TryConnect();
  NotifyIfChanged();
  absl::Time next_connect = absl::Now() + options_.reconnect_interval;
  absl::Time next_heartbeat = absl::Now();
  for (;;) {
    absl::Time now = absl::Now();
    if (heartbeat_ && now >= next_heartbeat) {
      heartbeat_();
      next_heartbeat = now + heartbeat_every_;
    }
    int dev_fd = link_.fd();
    // Sleep until the device speaks, the next reconnect attempt or the
    // next heartbeat, whichever comes first.
    absl::Duration wait = dev_fd >= 0 ? absl::InfiniteDuration() : next_connect - now;
    if (heartbeat_) wait = std::min(wait, next_heartbeat - now);
    wait = std::max(wait, absl::ZeroDuration());
    int timeout_ms =
        wait == absl::InfiniteDuration()
            ? -1
            : static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))));
    pollfd fds[3] = {{stop_fd, POLLIN, 0}, {dev_fd, POLLIN, 0}, {link_.wake_fd(), POLLIN, 0}};
    int n = poll(fds, 3, timeout_ms);
    if (n < 0 && errno != EINTR) {
      Log(Severity::kError, absl::StrFormat("poll: %s", std::strerror(errno)));
      break;
    }
    if (fds[0].revents) break;
    // The device spoke, or another thread found the link broken (a wake
    // that comes after the close is drained here too, so it never spins).
    if (n > 0 && (fds[1].revents || fds[2].revents)) {
      link_.ReadAll();
      // A link that just broke is retried after the interval, so that the
      // reason it broke stays visible in the meantime.
      if (dev_fd >= 0) next_connect = absl::Now() + options_.reconnect_interval;
    }
    if (dev_fd < 0 && absl::Now() >= next_connect) {
      link_.TryConnect();
      next_connect = absl::Now() + options_.reconnect_interval;
    }
    NotifyIfChanged();
  }
  link_.Disconnect(absl::UnavailableError("daedalusd is shutting down"));
  NotifyIfChanged();
}

void EventLoop::NotifyIfChanged() {
  bool up = link_.up();
  if (up == last_reported_up_) return;
  last_reported_up_ = up;
  if (observer_) observer_(up);
}

}  // namespace daedalus
