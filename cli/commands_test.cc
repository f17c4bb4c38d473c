// SPDX-License-Identifier: BSD-2-Clause
//
// daedalusctl's commands against a real ControlServer on a unix socket:
// what they print and the exit code for each failure.

#include "cli/commands.h"

#include <sstream>

#include "cli/exit_codes.h"
#include "control/server.h"
#include "control/testing/fake_backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daedalus::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    target_.socket = control::TestSocketPath("cli.sock");
    target_.timeout = absl::Seconds(2);
    server_ = std::make_unique<control::ControlServer>(
        control::ControlServer::Options{target_.socket, "no-such-group", ""}, backend_, "0.1.0");
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(1));
  }

  control::FakeBackend backend_;
  std::unique_ptr<control::ControlServer> server_;
  Target target_;
  std::ostringstream out_, err_;
};

TEST_F(CommandsTest, StatusPrintsLinkAndCounters) {
  EXPECT_EQ(RunStatus(target_, out_, err_), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("daemon:        daedalusd 0.1.0 at unix:"));
  EXPECT_THAT(out_.str(),
              HasSubstr("kernel link:   up, /dev/daedalus-v4l2, protocol v1, module 0.1.0"));
  EXPECT_THAT(out_.str(), HasSubstr("fifo:          depth 2/64, high-water 5"));
  EXPECT_THAT(out_.str(), HasSubstr("kernel errors: bad_magic=1\n"));
}

TEST_F(CommandsTest, StatusWithLinkDownExits4) {
  backend_.link = {false, "/dev/daedalus-v4l2", 0, "", "is the module loaded?"};
  EXPECT_EQ(RunStatus(target_, out_, err_), kExitKernelLinkDown);
  EXPECT_THAT(out_.str(),
              HasSubstr("kernel link:   DOWN, /dev/daedalus-v4l2: is the module loaded?"));
}

TEST_F(CommandsTest, PingPrintsRepliesAndSummary) {
  PingOptions opts{3, absl::ZeroDuration(), absl::Seconds(1)};
  EXPECT_EQ(RunPing(target_, opts, out_, err_), kExitOk) << err_.str();
  EXPECT_EQ(backend_.pings, 3);
  std::string text = out_.str();
  EXPECT_THAT(text, HasSubstr("reply from kernel: seq=1 cookie=0x00000007 fifo=2 time=0.123 ms\n"));
  EXPECT_THAT(text, HasSubstr("reply from kernel: seq=3 "));
  EXPECT_THAT(text, HasSubstr("3 sent, 3 received, 0% lost\n"));
  EXPECT_THAT(text, HasSubstr("rtt min/avg/max = 0.123/0.123/0.123 ms"));
}

TEST_F(CommandsTest, PingWithLinkDownExits4AtOnce) {
  backend_.ping_reply = absl::FailedPreconditionError("kernel link down: module not loaded");
  PingOptions opts{3, absl::ZeroDuration(), absl::Seconds(1)};
  EXPECT_EQ(RunPing(target_, opts, out_, err_), kExitKernelLinkDown);
  EXPECT_EQ(backend_.pings, 1);
  EXPECT_THAT(err_.str(), HasSubstr("kernel link down: module not loaded"));
}

TEST_F(CommandsTest, SilentKernelExits5WithLoss) {
  backend_.ping_reply = absl::DeadlineExceededError("the kernel did not report");
  PingOptions opts{2, absl::ZeroDuration(), absl::Milliseconds(50)};
  EXPECT_EQ(RunPing(target_, opts, out_, err_), kExitKernelSilent);
  EXPECT_THAT(out_.str(), HasSubstr("2 sent, 0 received, 100% lost\n"));
  EXPECT_THAT(err_.str(), HasSubstr("seq=1: the kernel did not report"));
}

TEST_F(CommandsTest, NoDaemonExits3) {
  server_->Shutdown(absl::ZeroDuration());
  server_.reset();
  target_.timeout = absl::Milliseconds(200);
  EXPECT_EQ(RunStatus(target_, out_, err_), kExitDaemonDown);
  EXPECT_THAT(err_.str(),
              MatchesRegex(".*daedalusd is not running \\(no socket at .*cli.sock\\).*\n"));
  PingOptions opts{1, absl::ZeroDuration(), absl::Seconds(1)};
  EXPECT_EQ(RunPing(target_, opts, out_, err_), kExitDaemonDown);
}

}  // namespace
}  // namespace daedalus::cli
