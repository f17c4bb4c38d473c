// SPDX-License-Identifier: BSD-2-Clause
//
// SystemdNotifier: the sd_notify(3) datagram protocol, for a Type=notify
// unit: READY=1 once the daemon serves, WATCHDOG=1 from the event loop,
// STOPPING=1 on the way out. Without $NOTIFY_SOCKET (not under systemd)
// every call does nothing. The protocol is a stable, documented interface;
// implementing it here spares the daemon a libsystemd dependency.
//
//   SystemdNotifier notifier = SystemdNotifier::FromEnvironment();
//   notifier.Notify("READY=1");
//   absl::Duration every = notifier.watchdog_interval();  // 0: no watchdog

#ifndef DAEDALUS_DAEMON_SYSTEMD_NOTIFY_H_
#define DAEDALUS_DAEMON_SYSTEMD_NOTIFY_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace daedalus {

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID.
  static SystemdNotifier FromEnvironment();
  SystemdNotifier(std::string socket_path, absl::Duration watchdog_timeout)
      : socket_path_(std::move(socket_path)), watchdog_timeout_(watchdog_timeout) {}

  bool enabled() const { return !socket_path_.empty(); }
  // How often to send WATCHDOG=1: half the unit's WatchdogSec, or zero
  // when systemd does not watch this process.
  absl::Duration watchdog_interval() const { return watchdog_timeout_ / 2; }

  // Sends one state line ("READY=1", "STATUS=...", ...). OK when disabled.
  absl::Status Notify(std::string_view state) const;

 private:
  std::string socket_path_;  // "@name" for an abstract socket
  absl::Duration watchdog_timeout_;
};

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_SYSTEMD_NOTIFY_H_
