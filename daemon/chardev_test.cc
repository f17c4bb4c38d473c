// SPDX-License-Identifier: BSD-2-Clause
//
// The daemon's handling of every error the chardev can return.

#include "daemon/chardev.h"

#include <cerrno>
#include <cstring>
#include <deque>
#include <string>

#include "gtest/gtest.h"

namespace daedalus {
namespace {

// Scripted syscalls: each call pops the next outcome (an errno, or bytes).
class ScriptedSyscalls final : public SyscallApi {
 public:
  struct Outcome {
    int err = 0;           // non-zero: fail with this errno
    std::string data;      // read: bytes returned
    ssize_t written = -1;  // write: bytes taken (-1: all)
  };

  int open_errno = 0;
  int ioctl_errno = 0;
  std::deque<Outcome> reads;
  std::deque<Outcome> writes;
  std::string last_write;

  int Open(const char*, int) override {
    if (open_errno) {
      errno = open_errno;
      return -1;
    }
    return 42;
  }
  ssize_t Read(int, void* buf, size_t len) override {
    if (reads.empty()) {
      errno = EAGAIN;
      return -1;
    }
    Outcome o = reads.front();
    reads.pop_front();
    if (o.err) {
      errno = o.err;
      return -1;
    }
    size_t n = std::min(len, o.data.size());
    std::memcpy(buf, o.data.data(), n);
    return static_cast<ssize_t>(n);
  }
  ssize_t Write(int, const void* buf, size_t len) override {
    last_write.assign(static_cast<const char*>(buf), len);
    if (writes.empty()) return static_cast<ssize_t>(len);
    Outcome o = writes.front();
    writes.pop_front();
    if (o.err) {
      errno = o.err;
      return -1;
    }
    return o.written < 0 ? static_cast<ssize_t>(len) : o.written;
  }
  int Ioctl(int, unsigned long, void* arg) override {
    if (ioctl_errno) {
      errno = ioctl_errno;
      return -1;
    }
    auto* stats = static_cast<ddv_stats*>(arg);
    stats->fifo_depth = 3;
    return 0;
  }
  int Close(int) override { return 0; }
};

TEST(ChardevOpenTest, MapsEveryOpenErrno) {
  struct Case {
    int err;
    absl::StatusCode code;
    const char* hint;
  } cases[] = {
      {ENOENT, absl::StatusCode::kNotFound, "module loaded"},
      {ENODEV, absl::StatusCode::kNotFound, "module loaded"},
      {ENXIO, absl::StatusCode::kNotFound, "module loaded"},
      {EBUSY, absl::StatusCode::kAlreadyExists, "another"},
      {EACCES, absl::StatusCode::kPermissionDenied, "group"},
      {EPERM, absl::StatusCode::kPermissionDenied, "group"},
      {EIO, absl::StatusCode::kUnavailable, "EIO"},
  };
  for (const Case& c : cases) {
    ScriptedSyscalls sys;
    sys.open_errno = c.err;
    Chardev dev(sys);
    absl::Status st = dev.Open("/dev/daedalus-v4l2");
    EXPECT_EQ(st.code(), c.code) << strerrorname_np(c.err);
    EXPECT_NE(st.message().find(c.hint), std::string::npos) << st;
    EXPECT_NE(st.message().find("/dev/daedalus-v4l2"), std::string::npos) << st;
    EXPECT_FALSE(dev.is_open());
  }
}

class ChardevTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dev_.Open("/dev/x").ok()); }
  ScriptedSyscalls sys_;
  Chardev dev_{sys_};
};

TEST_F(ChardevTest, ReadsOneMessage) {
  sys_.reads.push_back({0, protocol::Encode({DDV_MSG_PING, 5, "pl"})});
  auto msg = dev_.Read();
  ASSERT_TRUE(msg.ok()) << msg.status();
  ASSERT_TRUE(msg->has_value());
  EXPECT_EQ((*msg)->cookie, 5u);
  EXPECT_EQ((*msg)->payload, "pl");
}

TEST_F(ChardevTest, EmptyFifoIsNotAnError) {
  sys_.reads.push_back({EAGAIN});
  auto msg = dev_.Read();
  ASSERT_TRUE(msg.ok());
  EXPECT_FALSE(msg->has_value());
}

TEST_F(ChardevTest, RetriesOnEintr) {
  sys_.reads.push_back({EINTR});
  sys_.reads.push_back({0, protocol::Encode({DDV_MSG_PING, 6, ""})});
  auto msg = dev_.Read();
  ASSERT_TRUE(msg.ok());
  ASSERT_TRUE(msg->has_value());
  EXPECT_EQ((*msg)->cookie, 6u);
}

TEST_F(ChardevTest, ShortReadBufferMeansTheSidesDisagree) {
  sys_.reads.push_back({EMSGSIZE});
  auto msg = dev_.Read();
  EXPECT_EQ(msg.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(IsLinkLost(msg.status()));
}

TEST_F(ChardevTest, DeviceErrorsLoseTheLink) {
  for (int err : {EIO, ENODEV, EBADF, EFAULT}) {
    sys_.reads.push_back({err});
    auto msg = dev_.Read();
    EXPECT_TRUE(IsLinkLost(msg.status())) << strerrorname_np(err);
  }
}

TEST_F(ChardevTest, EndOfFileLosesTheLink) {
  sys_.reads.push_back({0, ""});
  EXPECT_TRUE(IsLinkLost(dev_.Read().status()));
}

TEST_F(ChardevTest, MalformedMessageIsReportedButKeepsTheLink) {
  std::string bad = protocol::Encode({DDV_MSG_PING, 1, ""});
  bad[0] = 'X';
  sys_.reads.push_back({0, bad});
  auto msg = dev_.Read();
  EXPECT_EQ(msg.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(IsLinkLost(msg.status()));
  EXPECT_TRUE(dev_.is_open());
}

TEST_F(ChardevTest, WritesWholeMessages) {
  ASSERT_TRUE(dev_.Write({DDV_MSG_PONG, 9, "echo"}).ok());
  auto decoded = protocol::Decode(sys_.last_write);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->type, static_cast<uint32_t>(DDV_MSG_PONG));
  EXPECT_EQ(decoded->payload, "echo");
}

TEST_F(ChardevTest, MapsEveryWriteErrno) {
  struct Case {
    int err;
    absl::StatusCode code;
  } cases[] = {
      {EBADMSG, absl::StatusCode::kInvalidArgument},
      {EPROTO, absl::StatusCode::kInvalidArgument},
      {EMSGSIZE, absl::StatusCode::kInvalidArgument},
      {EINVAL, absl::StatusCode::kInvalidArgument},
      {EOPNOTSUPP, absl::StatusCode::kInvalidArgument},
      {ENOENT, absl::StatusCode::kNotFound},
      {ENOBUFS, absl::StatusCode::kResourceExhausted},
      {EBUSY, absl::StatusCode::kResourceExhausted},
      {ENOMEM, absl::StatusCode::kResourceExhausted},
      {EFAULT, absl::StatusCode::kInternal},
      {EIO, absl::StatusCode::kUnavailable},
      {ENODEV, absl::StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    sys_.writes.push_back({c.err});
    absl::Status st = dev_.Write({DDV_MSG_PONG, 0x77, ""});
    EXPECT_EQ(st.code(), c.code) << strerrorname_np(c.err);
    EXPECT_NE(st.message().find("PONG"), std::string::npos) << st;
    EXPECT_NE(st.message().find("0x00000077"), std::string::npos) << st;
  }
}

// A module of another release says EPROTO: the message names the cause
// and what to do, since the daemon logs it once and keeps retrying.
TEST_F(ChardevTest, ProtocolMismatchSaysWhatToDo) {
  sys_.writes.push_back({EPROTO});
  absl::Status st = dev_.Write({DDV_MSG_HELLO, 1, ""});
  EXPECT_NE(st.message().find("another protocol version than this daemon's (6)"), std::string::npos)
      << st;
  EXPECT_NE(st.message().find("install a daedalusd and module of one release"), std::string::npos)
      << st;
}

TEST_F(ChardevTest, WriteRetriesOnEintr) {
  sys_.writes.push_back({EINTR});
  EXPECT_TRUE(dev_.Write({DDV_MSG_PONG, 1, ""}).ok());
}

TEST_F(ChardevTest, PartialWriteIsInternal) {
  sys_.writes.push_back({0, "", 10});
  EXPECT_EQ(dev_.Write({DDV_MSG_PONG, 1, ""}).code(), absl::StatusCode::kInternal);
}

TEST_F(ChardevTest, OversizedPayloadNeverReachesTheKernel) {
  sys_.last_write.clear();
  absl::Status st = dev_.Write({DDV_MSG_PONG, 1, std::string(DDV_MAX_PAYLOAD + 1, 'x')});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(sys_.last_write.empty());
}

TEST_F(ChardevTest, Stats) {
  auto stats = dev_.GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->fifo_depth, 3u);
  sys_.ioctl_errno = ENOTTY;
  EXPECT_EQ(dev_.GetStats().status().code(), absl::StatusCode::kInternal);
  sys_.ioctl_errno = EIO;
  EXPECT_EQ(dev_.GetStats().status().code(), absl::StatusCode::kUnavailable);
}

TEST(ChardevClosedTest, EverythingFailsUnavailableWhenClosed) {
  ScriptedSyscalls sys;
  Chardev dev(sys);
  EXPECT_EQ(dev.Read().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(dev.Write({DDV_MSG_PONG, 1, ""}).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(dev.GetStats().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace daedalus
