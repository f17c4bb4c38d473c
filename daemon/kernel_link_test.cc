// SPDX-License-Identifier: BSD-2-Clause
//
// KernelLink's event loop against a fake kernel. The fake's fd is a real
// eventfd that is readable while messages are queued, so poll() behaves
// as it does on /dev/daedalus-v4l2.

#include "daemon/kernel_link.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace daedalus {
namespace {

class FakeKernel final : public SyscallApi {
 public:
  FakeKernel() : efd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~FakeKernel() override { close(efd_); }

  // Knobs and observations, all under mu_.
  std::mutex mu;
  bool module_loaded = true;
  bool answer_injects = true;  // queue a PING for each PING_INJECT
  uint32_t result_status = 0;  // status in PING_RESULTs
  int read_errno = 0;          // next reads fail with this
  int opens = 0;
  std::string hello_version;
  std::vector<protocol::Message> pongs;

  void Queue(const protocol::Message& msg) {
    std::lock_guard<std::mutex> lock(mu);
    QueueLocked(msg);
  }

  int Open(const char*, int) override {
    std::lock_guard<std::mutex> lock(mu);
    if (!module_loaded) {
      errno = ENOENT;
      return -1;
    }
    opens++;
    read_errno = 0;
    return efd_;
  }
  ssize_t Read(int, void* buf, size_t len) override {
    std::lock_guard<std::mutex> lock(mu);
    if (read_errno) {
      errno = read_errno;
      return -1;
    }
    if (queue_.empty()) {
      errno = EAGAIN;
      return -1;
    }
    std::string wire = protocol::Encode(queue_.front());
    queue_.pop_front();
    if (queue_.empty()) {
      uint64_t v;
      (void)!read(efd_, &v, sizeof(v));
    }
    std::memcpy(buf, wire.data(), std::min(len, wire.size()));
    return static_cast<ssize_t>(wire.size());
  }
  ssize_t Write(int, const void* buf, size_t len) override {
    std::lock_guard<std::mutex> lock(mu);
    absl::StatusOr<protocol::Message> msg =
        protocol::Decode(std::string_view(static_cast<const char*>(buf), len));
    if (!msg.ok()) {
      errno = EINVAL;
      return -1;
    }
    switch (msg->type) {
      case DDV_MSG_HELLO: {
        ddv_hello hello;
        std::memcpy(&hello, msg->payload.data(), sizeof(hello));
        hello_version = hello.daemon_version;
        ddv_hello_ack ack = {DDV_PROTO_VERSION, DDV_FIFO_CAPACITY, "9.9.9"};
        QueueLocked({DDV_MSG_HELLO_ACK, msg->cookie,
                     std::string(reinterpret_cast<char*>(&ack), sizeof(ack))});
        break;
      }
      case DDV_MSG_PING_INJECT:
        if (answer_injects) {
          inject_cookie_ = msg->cookie;
          QueueLocked({DDV_MSG_PING, 0x500, "payload"});
        }
        break;
      case DDV_MSG_PONG: {
        pongs.push_back(*msg);
        if (msg->cookie == 0x500) {
          ddv_ping_result res = {0x500, result_status, 250000};
          QueueLocked({DDV_MSG_PING_RESULT, inject_cookie_,
                       std::string(reinterpret_cast<char*>(&res), sizeof(res))});
        }
        break;
      }
    }
    return static_cast<ssize_t>(len);
  }
  int Ioctl(int, unsigned long, void* arg) override {
    std::memset(arg, 0, sizeof(ddv_stats));
    return 0;
  }
  int Close(int) override { return 0; }

  // Makes the fd readable so the loop notices a read error.
  void Break(int err) {
    std::lock_guard<std::mutex> lock(mu);
    read_errno = err;
    module_loaded = false;
    uint64_t one = 1;
    (void)!write(efd_, &one, sizeof(one));
  }

 private:
  void QueueLocked(const protocol::Message& msg) {
    queue_.push_back(msg);
    uint64_t one = 1;
    (void)!write(efd_, &one, sizeof(one));
  }

  int efd_;
  uint32_t inject_cookie_ = 0;
  std::deque<protocol::Message> queue_;
};

class KernelLinkTest : public ::testing::Test {
 protected:
  void Start(std::function<void()> heartbeat = nullptr) {
    link_ = std::make_unique<KernelLink>(
        KernelLink::Options{"/dev/fake", "test 1.0", absl::Milliseconds(20)}, kernel_);
    if (heartbeat) link_->SetHeartbeat(absl::Milliseconds(30), std::move(heartbeat));
    link_->SetLinkObserver([this](bool up) {
      if (up)
        ups_++;
      else
        downs_++;
    });
    loop_ = std::thread([this] { link_->Run(stop_fd_); });
  }
  void TearDown() override {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
    if (loop_.joinable()) loop_.join();
    close(stop_fd_);
  }
  // Polls `pred` for up to 5 s.
  template <typename Pred>
  bool Eventually(Pred pred) {
    for (int i = 0; i < 500; i++) {
      if (pred()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  FakeKernel kernel_;
  int stop_fd_ = eventfd(0, EFD_CLOEXEC);
  std::unique_ptr<KernelLink> link_;
  std::thread loop_;
  std::atomic<int> ups_{0}, downs_{0};
};

TEST_F(KernelLinkTest, SaysHelloAndComesUp) {
  Start();
  ASSERT_TRUE(Eventually([&] { return link_->GetLinkStatus().up; }));
  control::LinkStatus st = link_->GetLinkStatus();
  EXPECT_EQ(st.module_version, "9.9.9");
  EXPECT_EQ(st.protocol_version, 3u);
  EXPECT_EQ(st.device, "/dev/fake");
  std::lock_guard<std::mutex> lock(kernel_.mu);
  EXPECT_EQ(kernel_.hello_version, "test 1.0");
  EXPECT_TRUE(Eventually([&] { return ups_ == 1; })) << ups_;  // notified after the state changes
}

TEST_F(KernelLinkTest, HeartbeatsComeWhetherTheLinkIsUpOrDown) {
  std::atomic<int> beats{0};
  Start([&] { beats++; });
  ASSERT_TRUE(Eventually([&] { return link_->GetLinkStatus().up; }));
  // Up: the loop sleeps on the device, yet wakes for each heartbeat.
  int before = beats;
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_GE(beats - before, 5);
  EXPECT_LE(beats - before, 12);
  kernel_.Break(ENODEV);
  ASSERT_TRUE(Eventually([&] { return !link_->GetLinkStatus().up; }));
  before = beats;
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_GE(beats - before, 5);
}

TEST_F(KernelLinkTest, AnswersKernelPingsWithAnEcho) {
  Start();
  ASSERT_TRUE(Eventually([&] { return link_->GetLinkStatus().up; }));
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
  ASSERT_TRUE(Eventually([&] { return link_->GetLinkStatus().up; }));
  absl::StatusOr<control::PingReply> reply = link_->Ping(absl::Seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->kernel_cookie, 0x500u);
  EXPECT_EQ(reply->kernel_rtt, absl::Microseconds(250));
}

TEST_F(KernelLinkTest, PingWhileModuleMissingSaysSo) {
  kernel_.module_loaded = false;
  Start();
  absl::SleepFor(absl::Milliseconds(50));
  absl::StatusOr<control::PingReply> reply = link_->Ping(absl::Seconds(1));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(reply.status().message().find("module loaded"), std::string::npos) << reply.status();
  EXPECT_FALSE(link_->GetLinkStatus().up);
  EXPECT_FALSE(link_->GetKernelStats().ok());
}

TEST_F(KernelLinkTest, PingTimesOutWhenTheKernelIsSilent) {
  kernel_.answer_injects = false;
  Start();
  ASSERT_TRUE(Eventually([&] { return link_->GetLinkStatus().up; }));
  absl::StatusOr<control::PingReply> reply = link_->Ping(absl::Milliseconds(100));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(KernelLinkTest, KernelSideTimeoutIsReported) {
  kernel_.result_status = ETIMEDOUT;
  Start();
  ASSERT_TRUE(Eventually([&] { return link_->GetLinkStatus().up; }));
  absl::StatusOr<control::PingReply> reply = link_->Ping(absl::Seconds(5));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(reply.status().message().find("no PONG"), std::string::npos);
}

TEST_F(KernelLinkTest, SurvivesModuleReload) {
  Start();
  ASSERT_TRUE(Eventually([&] { return link_->GetLinkStatus().up; }));
  kernel_.Break(EIO);
  ASSERT_TRUE(Eventually([&] { return !link_->GetLinkStatus().up; }));
  EXPECT_NE(link_->GetLinkStatus().detail.find("Input/output error"), std::string::npos);
  {
    std::lock_guard<std::mutex> lock(kernel_.mu);
    kernel_.module_loaded = true;
  }
  ASSERT_TRUE(Eventually([&] { return link_->GetLinkStatus().up; }));
  EXPECT_TRUE(link_->Ping(absl::Seconds(5)).ok());
  EXPECT_TRUE(Eventually([&] { return ups_ == 2; })) << ups_;  // notified after the state changes
  EXPECT_TRUE(Eventually([&] { return downs_ == 1; }))
      << downs_;  // notified after the state changes
}

TEST_F(KernelLinkTest, MalformedKernelMessageIsSkipped) {
  Start();
  ASSERT_TRUE(Eventually([&] { return link_->GetLinkStatus().up; }));
  kernel_.Queue({DDV_MSG_PING_RESULT, 0xdead, "short"});  // nobody waits
  kernel_.Queue({0x7777, 1, ""});                         // unknown type
  kernel_.Queue({DDV_MSG_PING, 0x42, "x"});
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(kernel_.mu);
    return !kernel_.pongs.empty();
  }));
  EXPECT_TRUE(link_->GetLinkStatus().up);
}

}  // namespace
}  // namespace daedalus
