// SPDX-License-Identifier: BSD-2-Clause
//
// KernelLink against a fake kernel, driven by a real EventLoop thread as
// in the daemon: HELLO, PINGs both ways, a broken and reopened link, bad
// messages, and the routing of decode-path messages to the JobHandler.
// DaemonBackend is what the tests ask, as the control plane does.

#include "daemon/kernel_link.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "daemon/daemon_backend.h"
#include "daemon/decode_stats.h"
#include "daemon/event_loop.h"
#include "daemon/testing/fake_kernel.h"
#include "gtest/gtest.h"

namespace daedalus {
namespace {

using testing::Eventually;
using testing::FakeKernel;
using LinkLostReporter = JobHandler::LinkLostReporter;

// Records what the link hands to the decode path.
class RecordingJobs final : public JobHandler {
 public:
  absl::Status Handle(const protocol::Message& msg, JobIo&) override {
    std::unique_lock<std::mutex> lock(mu);
    types.push_back(msg.type);
    cv.wait(lock, [this] { return !block; });  // a long decode, while `block`
    return absl::OkStatus();
  }
  void LinkLost() override {
    std::lock_guard<std::mutex> lock(mu);
    links_lost++;
  }
  void SetLinkLostReporter(LinkLostReporter r) override {
    std::lock_guard<std::mutex> lock(mu);
    report = std::move(r);
  }
  LinkLostReporter report;
  std::mutex mu;
  std::condition_variable cv;
  bool block = false;
  std::vector<uint32_t> types;
  int links_lost = 0;
};

class KernelLinkTest : public ::testing::Test {
 protected:
  void Start() {
    link_ =
        std::make_unique<KernelLink>(KernelLink::Options{"/dev/fake", "test 1.0"}, jobs_, kernel_);
    backend_ = std::make_unique<DaemonBackend>(*link_, stats_);
    event_loop_ = std::make_unique<EventLoop>(EventLoop::Options{absl::Milliseconds(20)}, *link_);
    event_loop_->SetLinkObserver([this](bool up) {
      if (up)
        ups_++;
      else
        downs_++;
    });
    loop_ = std::thread([this] { event_loop_->Run(stop_fd_); });
  }
  void TearDown() override {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
    if (loop_.joinable()) loop_.join();
    close(stop_fd_);
  }
  FakeKernel kernel_;
  RecordingJobs jobs_;
  DecodeStats stats_;
  int stop_fd_ = eventfd(0, EFD_CLOEXEC);
  std::unique_ptr<KernelLink> link_;
  std::unique_ptr<DaemonBackend> backend_;
  std::unique_ptr<EventLoop> event_loop_;
  std::thread loop_;
  std::atomic<int> ups_{0}, downs_{0};
};

TEST_F(KernelLinkTest, SaysHelloAndComesUp) {
  Start();
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  control::LinkStatus st = backend_->GetLinkStatus();
  EXPECT_EQ(st.module_version, "9.9.9");
  EXPECT_EQ(st.protocol_version, 6u);
  EXPECT_EQ(st.device, "/dev/fake");
  std::lock_guard<std::mutex> lock(kernel_.mu);
  EXPECT_EQ(kernel_.hello_version, "test 1.0");
  EXPECT_TRUE(Eventually([&] { return ups_ == 1; })) << ups_;  // notified after the state changes
}

TEST_F(KernelLinkTest, AnswersKernelPingsWithAnEcho) {
  Start();
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  kernel_.Queue({DDV_MSG_PING, 0x1234, "DAEDALUS-V4L2-PING-PL"});
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(kernel_.mu);
    return !kernel_.pongs.empty();
  }));
  std::lock_guard<std::mutex> lock(kernel_.mu);
  EXPECT_EQ(kernel_.pongs[0].cookie, 0x1234u);
  EXPECT_EQ(kernel_.pongs[0].payload, "DAEDALUS-V4L2-PING-PL");
}

TEST_F(KernelLinkTest, PingReturnsTheKernelsRtt) {
  Start();
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  absl::StatusOr<control::PingReply> reply = backend_->Ping(absl::Seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->kernel_cookie, 0x500u);
  EXPECT_EQ(reply->kernel_rtt, absl::Microseconds(250));
}

TEST_F(KernelLinkTest, PingWhileModuleMissingSaysSo) {
  kernel_.module_loaded = false;
  Start();
  absl::SleepFor(absl::Milliseconds(50));
  absl::StatusOr<control::PingReply> reply = backend_->Ping(absl::Seconds(1));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(reply.status().message().find("module loaded"), std::string::npos) << reply.status();
  EXPECT_FALSE(backend_->GetLinkStatus().up);
  EXPECT_FALSE(backend_->GetKernelStats().ok());
}

TEST_F(KernelLinkTest, PingTimesOutWhenTheKernelIsSilent) {
  kernel_.answer_injects = false;
  Start();
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  absl::StatusOr<control::PingReply> reply = backend_->Ping(absl::Milliseconds(100));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(KernelLinkTest, KernelSideTimeoutIsReported) {
  kernel_.result_status = ETIMEDOUT;
  Start();
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  absl::StatusOr<control::PingReply> reply = backend_->Ping(absl::Seconds(5));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(reply.status().message().find("no PONG"), std::string::npos);
}

TEST_F(KernelLinkTest, SurvivesModuleReload) {
  Start();
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  kernel_.Break(EIO);
  ASSERT_TRUE(Eventually([&] { return !backend_->GetLinkStatus().up; }));
  EXPECT_NE(backend_->GetLinkStatus().detail.find("Input/output error"), std::string::npos);
  {
    std::lock_guard<std::mutex> lock(kernel_.mu);
    kernel_.module_loaded = true;
  }
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  EXPECT_TRUE(backend_->Ping(absl::Seconds(5)).ok());
  EXPECT_TRUE(Eventually([&] { return ups_ == 2; })) << ups_;  // notified after the state changes
  EXPECT_TRUE(Eventually([&] { return downs_ == 1; }))
      << downs_;  // notified after the state changes
}

TEST_F(KernelLinkTest, MalformedKernelMessageIsSkipped) {
  Start();
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  kernel_.Queue({DDV_MSG_PING_RESULT, 0xdead, "short"});  // nobody waits
  kernel_.Queue({0x7777, 1, ""});                         // unknown type
  kernel_.Queue({DDV_MSG_PING, 0x42, "x"});
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(kernel_.mu);
    return !kernel_.pongs.empty();
  }));
  EXPECT_TRUE(backend_->GetLinkStatus().up);
}

// A gRPC thread that finds the link broken must not close the fd the event
// loop is polling: the loop would sleep on a dead fd (or a reused number)
// and never reconnect (issue 14, bug 7).
TEST_F(KernelLinkTest, LinkLostOnAPingThreadIsClosedByTheLoopWhichReconnects) {
  Start();
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  {
    std::lock_guard<std::mutex> lock(kernel_.mu);
    kernel_.inject_errno = ENODEV;  // the module went away under the write
  }
  absl::StatusOr<control::PingReply> reply = backend_->Ping(absl::Seconds(1));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
  // The loop notices, closes, and opens the device again by itself.
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(kernel_.mu);
    return kernel_.opens >= 2;
  })) << "the event loop never reopened the chardev";
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  EXPECT_TRUE(backend_->Ping(absl::Seconds(5)).ok());
}

// A decode runs on the loop's thread without the link's lock: the control
// plane's calls answer while a frame decodes (issue 15, part 2).
TEST_F(KernelLinkTest, StatusAnswersWhileAJobIsBeingHandled) {
  Start();
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  {
    std::lock_guard<std::mutex> lock(jobs_.mu);
    jobs_.block = true;
  }
  kernel_.Queue({DDV_MSG_DECODE, 1, std::string(sizeof(ddv_decode), '\0')});
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(jobs_.mu);
    return jobs_.types.size() == 1;
  }));
  std::atomic<bool> answered{false};
  std::thread control([&] {
    EXPECT_TRUE(backend_->GetLinkStatus().up);
    EXPECT_TRUE(backend_->GetKernelStats().ok());
    answered = true;
  });
  bool in_time = Eventually([&] { return answered.load(); });
  {
    std::lock_guard<std::mutex> lock(jobs_.mu);
    jobs_.block = false;
  }
  jobs_.cv.notify_all();
  control.join();
  EXPECT_TRUE(in_time) << "GetLinkStatus waited for the job handler";
}

// A job handler's own thread (ContextWorkers) finds the chardev broken:
// the loop closes the link and opens it again.
TEST_F(KernelLinkTest, LinkLostOnAJobThreadIsClosedByTheLoopWhichReconnects) {
  Start();
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  LinkLostReporter report;
  {
    std::lock_guard<std::mutex> lock(jobs_.mu);
    report = jobs_.report;
  }
  ASSERT_TRUE(report) << "the link gave the job handler no way to report";
  std::thread([&report] { report(absl::UnavailableError("write DECODE_DONE: ENODEV")); }).join();
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(kernel_.mu);
    return kernel_.opens >= 2;
  })) << "the event loop never reopened the chardev";
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  std::lock_guard<std::mutex> lock(jobs_.mu);
  EXPECT_EQ(jobs_.links_lost, 1);
}

TEST_F(KernelLinkTest, DecodePathMessagesGoToTheJobHandler) {
  Start();
  ASSERT_TRUE(Eventually([&] { return backend_->GetLinkStatus().up; }));
  kernel_.Queue({DDV_MSG_DECODE, 1, std::string(sizeof(ddv_decode), '\0')});
  kernel_.Queue({DDV_MSG_FLUSH, 2, std::string(sizeof(ddv_ctx_msg), '\0')});
  kernel_.Queue({DDV_MSG_CTX_CLOSE, 3, std::string(sizeof(ddv_ctx_msg), '\0')});
  kernel_.Queue({DDV_MSG_PING, 0x42, "x"});  // not for the handler
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(jobs_.mu);
    return jobs_.types.size() == 3;
  }));
  {
    std::lock_guard<std::mutex> lock(jobs_.mu);
    EXPECT_EQ(jobs_.types,
              (std::vector<uint32_t>{DDV_MSG_DECODE, DDV_MSG_FLUSH, DDV_MSG_CTX_CLOSE}));
    EXPECT_EQ(jobs_.links_lost, 0);
  }
  kernel_.Break(EIO);
  ASSERT_TRUE(Eventually([&] { return !backend_->GetLinkStatus().up; }));
  std::lock_guard<std::mutex> lock(jobs_.mu);
  EXPECT_GE(jobs_.links_lost, 1);  // every context is gone with the link
}

}  // namespace
}  // namespace daedalus
