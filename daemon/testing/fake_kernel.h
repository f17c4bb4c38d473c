// SPDX-License-Identifier: BSD-2-Clause
//
// FakeKernel: the kernel module's side of /dev/daedalus-v4l2 for the
// daemon's tests, as a SyscallApi. Its fd is a real eventfd that is
// readable while messages are queued, so poll() behaves as it does on the
// chardev. It answers HELLO with a HELLO_ACK and PING_INJECT with a PING
// whose PONG it turns into a PING_RESULT; tests queue anything else.

#ifndef DAEDALUS_DAEMON_TESTING_FAKE_KERNEL_H_
#define DAEDALUS_DAEMON_TESTING_FAKE_KERNEL_H_

#include <linux/daedalus-v4l2.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/chardev.h"
#include "daemon/protocol.h"

namespace daedalus::testing {

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
  int inject_errno = 0;        // the next PING_INJECT write fails with this, once
  int opens = 0;
  std::string hello_version;
  std::vector<protocol::Message> pongs;
  std::vector<protocol::Message> written;  // every message the daemon wrote

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
    if (msg->type == DDV_MSG_PING_INJECT && inject_errno) {
      errno = inject_errno;
      inject_errno = 0;
      return -1;
    }
    written.push_back(*msg);
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

// Polls `pred` every 10 ms for up to 5 s; whether it came true.
template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 500; i++) {
    if (pred()) return true;
    usleep(10000);
  }
  return false;
}

}  // namespace daedalus::testing

#endif  // DAEDALUS_DAEMON_TESTING_FAKE_KERNEL_H_
