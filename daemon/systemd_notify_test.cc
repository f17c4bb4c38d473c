// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/systemd_notify.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace daedalus {
namespace {

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    unlink(path_.c_str());
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
  }
  std::string Receive() {
    char buf[256];
    ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_;
};

TEST(SystemdNotifierTest, SendsStateLinesToTheNotifySocket) {
  char dir[] = "/tmp/ddv-notify-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  NotifySocket systemd(std::string(dir) + "/notify");
  setenv("NOTIFY_SOCKET", systemd.path().c_str(), 1);
  setenv("WATCHDOG_USEC", "30000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  SystemdNotifier n = SystemdNotifier::FromEnvironment();
  EXPECT_TRUE(n.enabled());
  EXPECT_EQ(n.watchdog_interval(), absl::Seconds(15));
  ASSERT_TRUE(n.Notify("READY=1").ok());
  EXPECT_EQ(systemd.Receive(), "READY=1");
  ASSERT_TRUE(n.Notify("WATCHDOG=1").ok());
  EXPECT_EQ(systemd.Receive(), "WATCHDOG=1");
  rmdir(dir);
}

TEST(SystemdNotifierTest, WatchdogOfAnotherProcessIsNotOurs) {
  setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
  setenv("WATCHDOG_USEC", "30000000", 1);
  setenv("WATCHDOG_PID", "1", 1);
  EXPECT_EQ(SystemdNotifier::FromEnvironment().watchdog_interval(), absl::ZeroDuration());
}

TEST(SystemdNotifierTest, WithoutSystemdEverythingIsANoOp) {
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  SystemdNotifier n = SystemdNotifier::FromEnvironment();
  EXPECT_FALSE(n.enabled());
  EXPECT_EQ(n.watchdog_interval(), absl::ZeroDuration());
  EXPECT_TRUE(n.Notify("READY=1").ok());
}

TEST(SystemdNotifierTest, AGoneSystemdIsAnError) {
  SystemdNotifier n("/tmp/ddv-no-such-notify-socket", absl::ZeroDuration());
  EXPECT_FALSE(n.Notify("READY=1").ok());
  SystemdNotifier bad("relative/path", absl::ZeroDuration());
  EXPECT_EQ(bad.Notify("READY=1").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace daedalus
