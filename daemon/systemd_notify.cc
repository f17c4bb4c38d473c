// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace daedalus {

SystemdNotifier SystemdNotifier::FromEnvironment() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  absl::Duration watchdog = absl::ZeroDuration();
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  uint64_t us = 0;
  int watched_pid = 0;
  // WATCHDOG_PID, when set, names the process systemd watches: a child
  // that inherited the environment must not answer for its parent.
  bool ours = pid == nullptr || (absl::SimpleAtoi(pid, &watched_pid) && watched_pid == getpid());
  if (usec != nullptr && ours && absl::SimpleAtoi(usec, &us) && us > 0) {
    watchdog = absl::Microseconds(static_cast<int64_t>(us));
  }
  return SystemdNotifier(socket ? socket : "", watchdog);
}

absl::Status SystemdNotifier::Notify(std::string_view state) const {
  if (!enabled()) return absl::OkStatus();
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(addr.sun_path) ||
      (socket_path_[0] != '/' && socket_path_[0] != '@')) {
    return absl::InvalidArgumentError(
        absl::StrFormat("NOTIFY_SOCKET=%s is not a usable socket address", socket_path_));
  }
  std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrFormat("socket: %s", std::strerror(errno)));
  ssize_t n = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                     reinterpret_cast<const sockaddr*>(&addr), len);
  int err = errno;
  close(fd);
  if (n < 0) {
    return absl::UnavailableError(
        absl::StrFormat("sd_notify to %s: %s", socket_path_, std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace daedalus
