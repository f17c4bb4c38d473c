// SPDX-License-Identifier: BSD-2-Clause
//
// EventLoop: the daemon's main loop. It sleeps in poll() on the chardev and
// a stop fd, lets the KernelLink read whatever the kernel sent, reopens the
// chardev every reconnect_interval while it is closed (so the daemon
// outlives module reloads), feeds a heartbeat (the systemd watchdog), and
// tells an observer when the link goes up or down.
//
//   EventLoop loop({.reconnect_interval = absl::Seconds(1)}, link);
//   loop.SetLinkObserver([&](bool up) { server.SetServing(up); });
//   loop.Run(stop_fd);   // until stop_fd is readable

#ifndef DAEDALUS_DAEMON_EVENT_LOOP_H_
#define DAEDALUS_DAEMON_EVENT_LOOP_H_

#include <functional>

#include "absl/time/time.h"
#include "daemon/kernel_link.h"

namespace daedalus {

class EventLoop {
 public:
  struct Options {
    absl::Duration reconnect_interval = absl::Seconds(1);
  };

  // `link` must outlive the loop.
  EventLoop(Options options, KernelLink& link) : options_(options), link_(link) {}

  // Called from the loop thread, without locks held, whenever the link
  // goes up or down. Set before Run().
  void SetLinkObserver(std::function<void(bool up)> observer);
  // Called from the loop thread at least every `every` while Run() runs:
  // proof that the loop is alive. Set before Run().
  void SetHeartbeat(absl::Duration every, std::function<void()> heartbeat);

  // Runs until `stop_fd` is readable (e.g. an eventfd or a signalfd), then
  // closes the link, which fails pending pings.
  void Run(int stop_fd);

 private:
  void NotifyIfChanged();

  const Options options_;
  KernelLink& link_;
  std::function<void(bool)> observer_;
  absl::Duration heartbeat_every_ = absl::ZeroDuration();
  std::function<void()> heartbeat_;
  bool last_reported_up_ = false;
};

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_EVENT_LOOP_H_
