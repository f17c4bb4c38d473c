// SPDX-License-Identifier: BSD-2-Clause
//
// EventLoop against a fake kernel: the heartbeat comes whether the link is
// up or down, a missing module is retried at the reconnect interval, the
// observer hears each change once, and the stop fd ends the loop with the
// link closed.

#include "daemon/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"
#include "daemon/testing/fake_kernel.h"
#include "gtest/gtest.h"

namespace daedalus {
namespace {

using testing::Eventually;
using testing::FakeKernel;

class NoJobs final : public JobHandler {
 public:
  absl::Status Handle(const protocol::Message&, JobIo&) override { return absl::OkStatus(); }
  void LinkLost() override {}
};

class EventLoopTest : public ::testing::Test {
 protected:
  void Start(absl::Duration heartbeat_every = absl::ZeroDuration()) {
    if (heartbeat_every > absl::ZeroDuration()) {
      loop_.SetHeartbeat(heartbeat_every, [this] { beats_++; });
    }
    loop_.SetLinkObserver([this](bool up) { (up ? ups_ : downs_)++; });
    thread_ = std::thread([this] { loop_.Run(stop_fd_); });
  }
  void Stop() {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
    if (thread_.joinable()) thread_.join();
  }
  void TearDown() override {
    Stop();
    close(stop_fd_);
  }
  int Opens() {
    std::lock_guard<std::mutex> lock(kernel_.mu);
    return kernel_.opens;
  }

  FakeKernel kernel_;
  NoJobs jobs_;
  KernelLink link_{{"/dev/fake", "test 1.0"}, jobs_, kernel_};
  EventLoop loop_{{absl::Milliseconds(20)}, link_};
  int stop_fd_ = eventfd(0, EFD_CLOEXEC);
  std::thread thread_;
  std::atomic<int> beats_{0}, ups_{0}, downs_{0};
};

TEST_F(EventLoopTest, HeartbeatsComeWhetherTheLinkIsUpOrDown) {
  Start(absl::Milliseconds(30));
  ASSERT_TRUE(Eventually([&] { return link_.up(); }));
  // Up: the loop sleeps on the device, yet wakes for each heartbeat.
  int before = beats_;
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_GE(beats_ - before, 5);
  EXPECT_LE(beats_ - before, 12);
  kernel_.Break(ENODEV);
  ASSERT_TRUE(Eventually([&] { return !link_.up(); }));
  before = beats_;
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_GE(beats_ - before, 5);
}

TEST_F(EventLoopTest, MissingModuleIsRetriedAtTheReconnectInterval) {
  {
    std::lock_guard<std::mutex> lock(kernel_.mu);
    kernel_.module_loaded = false;
  }
  Start();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Opens(), 0);
  EXPECT_FALSE(link_.up());
  {
    std::lock_guard<std::mutex> lock(kernel_.mu);
    kernel_.module_loaded = true;
  }
  // Found within a few intervals, without anything else waking the loop.
  ASSERT_TRUE(Eventually([&] { return link_.up(); }));
  EXPECT_EQ(Opens(), 1);
  EXPECT_TRUE(Eventually([&] { return ups_ == 1; }));
  EXPECT_EQ(downs_, 0);
}

TEST_F(EventLoopTest, StopClosesTheLinkAndFailsPendingPings) {
  kernel_.answer_injects = false;  // the ping stays pending
  Start();
  ASSERT_TRUE(Eventually([&] { return link_.up(); }));
  absl::StatusOr<control::PingReply> reply;
  std::thread pinger([&] { reply = link_.Ping(absl::Seconds(10)); });
  absl::SleepFor(absl::Milliseconds(100));
  Stop();
  pinger.join();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("shutting down"), std::string::npos) << reply.status();
  EXPECT_FALSE(link_.up());
  EXPECT_EQ(link_.fd(), -1);
  EXPECT_EQ(downs_, 1);
}

}  // namespace
}  // namespace daedalus
