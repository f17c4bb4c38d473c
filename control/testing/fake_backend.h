// SPDX-License-Identifier: BSD-2-Clause
//
// A Backend for tests of the control plane and the CLI: every answer is a
// public field the test sets. (The real one, KernelLink, is tested against
// a fake kernel in daemon/ and against the real module in the VM.)

#ifndef DAEDALUS_CONTROL_TESTING_FAKE_BACKEND_H_
#define DAEDALUS_CONTROL_TESTING_FAKE_BACKEND_H_

#include <stdlib.h>

#include <string>

#include "absl/synchronization/mutex.h"
#include "control/backend.h"

namespace daedalus::control {

class FakeBackend final : public Backend {
 public:
  LinkStatus link{true, "/dev/daedalus-v4l2", 1, "0.1.0", ""};
  absl::StatusOr<PingReply> ping_reply = PingReply{7, absl::Microseconds(123), 2};
  absl::Duration last_timeout;
  int pings = 0;

  LinkStatus GetLinkStatus() override { return link; }
  absl::StatusOr<ddv_stats> GetKernelStats() override {
    if (!link.up) return absl::UnavailableError("down");
    ddv_stats s = {};
    s.fifo_depth = 2;
    s.fifo_capacity = 64;
    s.fifo_high_water = 5;
    s.err_bad_magic = 1;
    return s;
  }
  absl::StatusOr<PingReply> Ping(absl::Duration timeout) override {
    last_timeout = timeout;
    pings++;
    return ping_reply;
  }
};

// A fresh path for a unix socket: $TEST_TMPDIR is too deep for the 108-byte
// limit of sockaddr_un, so tests use a private directory under /tmp.
inline std::string TestSocketPath(const std::string& name) {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/daedalus-test-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir + "/" + name;
}

}  // namespace daedalus::control

#endif  // DAEDALUS_CONTROL_TESTING_FAKE_BACKEND_H_
