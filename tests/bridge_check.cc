// SPDX-License-Identifier: BSD-2-Clause
//
// bridge_check: the chardev round-trip check, run in the test VM against
// the real module with no daemon running. Every step is asserted; the
// program prints one line per check and exits non-zero if any failed.
//
// It extends the v0 check (open, EAGAIN, trigger, read and verify the PING,
// PONG, close) with single-open, every header errno, short reads that keep
// the message, blocking reads, the FIFO bound, PING_INJECT with the
// kernel's RTT, ping timeouts, counters and the purge on close.
//
//   usage: bridge_check [/dev/daedalus-v4l2]

#include <fcntl.h>
#include <linux/daedalus-v4l2.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace {

const char* g_dev = "/dev/daedalus-v4l2";
const char kTestPing[] = "/sys/kernel/debug/daedalus_v4l2/test_ping";
const char kTimeoutParam[] = "/sys/module/daedalus_v4l2/parameters/ping_timeout_ms";
int g_passed = 0, g_failed = 0;

void Check(bool ok, const std::string& what) {
  if (ok) {
    g_passed++;
    std::printf("ok   %s\n", what.c_str());
  } else {
    g_failed++;
    std::printf("FAIL %s (errno %d %s)\n", what.c_str(), errno, std::strerror(errno));
  }
  std::fflush(stdout);
}

std::string Frame(uint32_t type, uint32_t cookie, const std::string& payload,
                  uint32_t magic = DDV_MAGIC, uint32_t version = DDV_PROTO_VERSION,
                  uint32_t reserved = 0) {
  ddv_msg_header h = {magic,   version, type, cookie, static_cast<uint32_t>(payload.size()),
                      reserved};
  return std::string(reinterpret_cast<char*>(&h), sizeof(h)) + payload;
}

// write() of one frame; returns 0 or the errno.
int WriteErr(int fd, const std::string& wire) {
  ssize_t n = write(fd, wire.data(), wire.size());
  if (n == static_cast<ssize_t>(wire.size())) return 0;
  return n < 0 ? errno : -1;
}

struct Msg {
  ddv_msg_header hdr = {};
  std::string payload;
  bool ok = false;
};

Msg ReadMsg(int fd) {
  std::vector<char> buf(sizeof(ddv_msg_header) + DDV_MAX_PAYLOAD);
  Msg m;
  ssize_t n = read(fd, buf.data(), buf.size());
  if (n < static_cast<ssize_t>(sizeof(ddv_msg_header))) return m;
  std::memcpy(&m.hdr, buf.data(), sizeof(m.hdr));
  m.payload.assign(buf.data() + sizeof(m.hdr), n - sizeof(m.hdr));
  m.ok = m.hdr.magic == DDV_MAGIC && m.hdr.version == DDV_PROTO_VERSION &&
         m.hdr.payload_len == m.payload.size() && m.hdr.reserved == 0;
  return m;
}

bool Readable(int fd, int timeout_ms) {
  pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

bool WriteFile(const char* path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.flush();
  return f.good();
}

ddv_stats Stats(int fd) {
  ddv_stats s = {};
  if (ioctl(fd, DDV_IOC_GET_STATS, &s) < 0) s.size = 0;
  return s;
}

const std::string kPingPayload("DAEDALUS-V4L2-PING-PL\0\0\0", 24);

void CheckHeaderErrors(int fd) {
  std::string pong = Frame(DDV_MSG_PONG, 1, "");
  Check(WriteErr(fd, Frame(DDV_MSG_PONG, 1, "", 0xdeadbeef)) == EBADMSG, "bad magic -> EBADMSG");
  Check(WriteErr(fd, Frame(DDV_MSG_PONG, 1, "", DDV_MAGIC, 0)) == EPROTO, "version 0 -> EPROTO");
  Check(WriteErr(fd, Frame(DDV_MSG_PONG, 1, "", DDV_MAGIC, DDV_PROTO_VERSION + 1)) == EPROTO,
        "a newer version -> EPROTO");
  Check(WriteErr(fd, Frame(DDV_MSG_PONG, 1, "", DDV_MAGIC, DDV_PROTO_VERSION, 7)) == EINVAL,
        "non-zero reserved -> EINVAL");
  std::string big = Frame(DDV_MSG_PONG, 1, "");
  ddv_msg_header h;
  std::memcpy(&h, big.data(), sizeof(h));
  h.payload_len = DDV_MAX_PAYLOAD + 1;
  std::memcpy(big.data(), &h, sizeof(h));
  big.resize(sizeof(h) + DDV_MAX_PAYLOAD + 1);
  Check(WriteErr(fd, big) == EMSGSIZE, "payload over 64 KiB -> EMSGSIZE");
  Check(WriteErr(fd, pong.substr(0, 10)) == EINVAL, "write shorter than a header -> EINVAL");
  Check(WriteErr(fd, Frame(DDV_MSG_PONG, 1, "abc").substr(0, 25)) == EINVAL,
        "length disagrees with payload_len -> EINVAL");
  Check(WriteErr(fd, Frame(0x7777, 1, "")) == EOPNOTSUPP, "unknown type -> EOPNOTSUPP");
  Check(WriteErr(fd, Frame(DDV_MSG_PING, 1, "")) == EOPNOTSUPP,
        "kernel-only type from daemon -> EOPNOTSUPP");
  Check(WriteErr(fd, Frame(DDV_MSG_PONG, 0x999, kPingPayload)) == ENOENT,
        "PONG for no outstanding PING -> ENOENT");
  Check(WriteErr(fd, Frame(DDV_MSG_PING_INJECT, 1, "x")) == EINVAL,
        "PING_INJECT with a payload -> EINVAL");
  Check(WriteErr(fd, Frame(DDV_MSG_HELLO, 1, "short")) == EINVAL,
        "HELLO with a wrong-size payload -> EINVAL");
  Check(Readable(fd, 0) == false, "refused writes queued nothing");
}

void CheckV0RoundTrip(int fd) {
  Check(WriteFile(kTestPing, "1"), "debugfs test_ping trigger");
  Check(Readable(fd, 1000), "poll reports POLLIN");
  char small[16];
  Check(read(fd, small, sizeof(small)) < 0 && errno == EMSGSIZE,
        "read into a 16-byte buffer -> EMSGSIZE");
  Check(Readable(fd, 0), "message still at the head after EMSGSIZE");
  Msg m = ReadMsg(fd);
  Check(m.ok, "PING header valid (magic, version, length, reserved)");
  Check(m.hdr.type == DDV_MSG_PING, "type PING");
  Check(m.hdr.cookie == 0x1234, "cookie 0x1234");
  Check(m.payload == kPingPayload, "payload DAEDALUS-V4L2-PING-PL, NUL-padded to 24");
  Check(WriteFile(kTestPing, "1") == false, "second trigger while outstanding refused");
  Check(WriteErr(fd, Frame(DDV_MSG_PONG, 0x1234, "wrong")) == EINVAL,
        "PONG with a different payload -> EINVAL");
  Check(WriteErr(fd, Frame(DDV_MSG_PONG, 0x1234, kPingPayload)) == 0, "PONG accepted");
  Check(WriteErr(fd, Frame(DDV_MSG_PONG, 0x1234, kPingPayload)) == ENOENT,
        "same PONG again -> ENOENT");
}

// A HELLO announcing one codec: VP9 profile 0.
ddv_hello Hello(const char* name) {
  ddv_hello hello = {};
  hello.proto_version = DDV_PROTO_VERSION;
  std::strncpy(hello.daemon_version, name, sizeof(hello.daemon_version) - 1);
  hello.num_codecs = 1;
  hello.codecs[0] = {V4L2_PIX_FMT_VP9, 1, 0, DDV_MAX_WIDTH, DDV_MAX_HEIGHT, 0};
  return hello;
}

// The codec list is the daemon's word: anything malformed is refused.
void CheckHelloCodecs(int fd) {
  auto refused = [fd](ddv_hello h, const std::string& what) {
    std::string p(reinterpret_cast<char*>(&h), sizeof(h));
    Check(WriteErr(fd, Frame(DDV_MSG_HELLO, 0x57, p)) == EINVAL, what + " -> EINVAL");
  };
  ddv_hello h = Hello("bad");
  h.num_codecs = 0;
  refused(h, "HELLO with no codec");
  h = Hello("bad");
  h.num_codecs = DDV_MAX_CODECS + 1;
  refused(h, "HELLO with more codecs than fit");
  h = Hello("bad");
  h.codecs[0].fourcc = V4L2_PIX_FMT_MJPEG;
  refused(h, "HELLO with a codec the module does not know");
  h = Hello("bad");
  h.codecs[0].profiles = 1u << 9;
  refused(h, "HELLO with a profile beyond the codec's menu");
  h = Hello("bad");
  h.codecs[0].max_level = 99;
  refused(h, "HELLO with a level beyond the codec's menu");
  h = Hello("bad");
  h.num_codecs = 2;
  h.codecs[1] = h.codecs[0];
  refused(h, "HELLO naming a codec twice");
}

void CheckHello(int fd) {
  ddv_hello hello = Hello("bridge_check");
  std::string p(reinterpret_cast<char*>(&hello), sizeof(hello));
  Check(WriteErr(fd, Frame(DDV_MSG_HELLO, 0x55, p)) == 0, "HELLO accepted");
  Msg m = ReadMsg(fd);
  ddv_hello_ack ack = {};
  if (m.payload.size() == sizeof(ack)) std::memcpy(&ack, m.payload.data(), sizeof(ack));
  Check(m.ok && m.hdr.type == DDV_MSG_HELLO_ACK && m.hdr.cookie == 0x55,
        "HELLO_ACK with the HELLO's cookie");
  Check(ack.proto_version == DDV_PROTO_VERSION && ack.fifo_capacity == DDV_FIFO_CAPACITY &&
            std::strlen(ack.module_version) > 0,
        std::string("HELLO_ACK: this protocol, FIFO 64, module ") + ack.module_version);
  hello.proto_version = DDV_PROTO_VERSION + 1;
  p.assign(reinterpret_cast<char*>(&hello), sizeof(hello));
  Check(WriteErr(fd, Frame(DDV_MSG_HELLO, 0x56, p)) == EPROTO,
        "HELLO for a newer protocol -> EPROTO");
  CheckHelloCodecs(fd);
}

void CheckInjectedPing(int fd) {
  Check(WriteErr(fd, Frame(DDV_MSG_PING_INJECT, 0xabc, "")) == 0, "PING_INJECT accepted");
  Msg ping = ReadMsg(fd);
  Check(ping.ok && ping.hdr.type == DDV_MSG_PING && ping.payload == kPingPayload,
        "injected PING queued");
  usleep(2000);
  Check(WriteErr(fd, Frame(DDV_MSG_PONG, ping.hdr.cookie, ping.payload)) == 0,
        "PONG for the injected PING");
  Msg res = ReadMsg(fd);
  ddv_ping_result r = {};
  if (res.payload.size() == sizeof(r)) std::memcpy(&r, res.payload.data(), sizeof(r));
  Check(res.ok && res.hdr.type == DDV_MSG_PING_RESULT && res.hdr.cookie == 0xabc,
        "PING_RESULT carries the PING_INJECT's cookie");
  Check(r.status == 0 && r.ping_cookie == ping.hdr.cookie, "PING_RESULT names the PING");
  Check(r.rtt_ns >= 2000000 && r.rtt_ns < 10000000000ull,
        "kernel-measured RTT covers the 2 ms the PONG was held (" + std::to_string(r.rtt_ns) +
            " ns)");
}

void CheckBlockingRead(int fd_nonblock) {
  int fd = dup(fd_nonblock);
  fcntl(fd, F_SETFL, 0);  // blocking
  auto reader = std::async(std::launch::async, [fd] { return ReadMsg(fd); });
  bool waiting = reader.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout;
  Check(waiting, "blocking read waits on an empty FIFO");
  WriteErr(fd_nonblock, Frame(DDV_MSG_PING_INJECT, 0xb10c, ""));
  bool woke = reader.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  Check(woke, "blocking read wakes when a message is queued");
  if (!woke) std::exit(1);  // the reader would hang forever
  Msg ping = reader.get();
  Check(ping.ok && ping.hdr.type == DDV_MSG_PING, "blocking read returns the PING");
  WriteErr(fd_nonblock, Frame(DDV_MSG_PONG, ping.hdr.cookie, ping.payload));
  Msg res = ReadMsg(fd_nonblock);
  Check(res.ok && res.hdr.cookie == 0xb10c, "and its PING_RESULT follows");
  close(fd);
}

void CheckFifoBound(int fd) {
  ddv_hello hello = Hello("fill");
  std::string p(reinterpret_cast<char*>(&hello), sizeof(hello));
  int accepted = 0;
  while (accepted < DDV_FIFO_CAPACITY + 5 && WriteErr(fd, Frame(DDV_MSG_HELLO, accepted, p)) == 0)
    accepted++;
  Check(accepted == DDV_FIFO_CAPACITY,
        "FIFO takes exactly 64 messages (" + std::to_string(accepted) + ")");
  Check(WriteErr(fd, Frame(DDV_MSG_HELLO, 999, p)) == ENOBUFS, "65th -> ENOBUFS");
  ddv_stats s = Stats(fd);
  Check(s.fifo_depth == 64 && s.fifo_high_water == 64, "stats: depth 64, high-water 64");
  int in_order = 0;
  for (int i = 0; i < DDV_FIFO_CAPACITY; i++) {
    Msg m = ReadMsg(fd);
    if (m.ok && m.hdr.cookie == static_cast<uint32_t>(i)) in_order++;
  }
  Check(in_order == DDV_FIFO_CAPACITY, "all 64 read back in FIFO order");
  Check(!Readable(fd, 0), "FIFO empty again");
}

void CheckPingTimeout(int fd) {
  std::ifstream in(kTimeoutParam);
  std::string old;
  in >> old;
  Check(WriteFile(kTimeoutParam, "200"), "ping_timeout_ms set to 200");
  WriteErr(fd, Frame(DDV_MSG_PING_INJECT, 0x7135, ""));
  Msg ping = ReadMsg(fd);
  Check(ping.ok && ping.hdr.type == DDV_MSG_PING, "PING queued, left unanswered");
  Check(Readable(fd, 3000), "a result arrives without a PONG");
  Msg res = ReadMsg(fd);
  ddv_ping_result r = {};
  if (res.payload.size() == sizeof(r)) std::memcpy(&r, res.payload.data(), sizeof(r));
  Check(res.hdr.type == DDV_MSG_PING_RESULT && res.hdr.cookie == 0x7135 && r.status == ETIMEDOUT,
        "PING_RESULT reports ETIMEDOUT");
  Check(WriteErr(fd, Frame(DDV_MSG_PONG, ping.hdr.cookie, ping.payload)) == ENOENT,
        "late PONG -> ENOENT");
  WriteFile(kTimeoutParam, old);
}

void CheckOutstandingBound(int fd) {
  int accepted = 0;
  int err = 0;
  while (accepted < 40 && (err = WriteErr(fd, Frame(DDV_MSG_PING_INJECT, accepted, ""))) == 0)
    accepted++;
  Check(accepted == 16 && err == EBUSY,
        "17th outstanding PING -> EBUSY (" + std::to_string(accepted) + " accepted)");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_dev = argv[1];
  std::printf("bridge_check on %s\n", g_dev);

  Check(WriteFile(kTestPing, "1") == false, "debugfs trigger without a daemon refused");
  int fd = open(g_dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  Check(fd >= 0, "open");
  if (fd < 0) return 1;
  int fd2 = open(g_dev, O_RDWR);
  Check(fd2 < 0 && errno == EBUSY, "second open -> EBUSY");
  if (fd2 >= 0) close(fd2);
  char c;
  Check(read(fd, &c, 1) < 0 && errno == EAGAIN, "non-blocking read on empty FIFO -> EAGAIN");
  Check(!Readable(fd, 0), "poll: no POLLIN when empty");
  Check(lseek(fd, 0, SEEK_SET) < 0 && errno == ESPIPE, "lseek -> ESPIPE");
  Check(ioctl(fd, _IO(DDV_IOC_MAGIC, 99)) < 0 && errno == ENOTTY, "unknown ioctl -> ENOTTY");
  ddv_stats before = Stats(fd);
  Check(before.size == sizeof(ddv_stats) && before.fifo_capacity == 64, "DDV_IOC_GET_STATS");

  CheckHeaderErrors(fd);
  ddv_stats after = Stats(fd);
  Check(after.err_bad_magic == before.err_bad_magic + 1 &&
            after.err_bad_version == before.err_bad_version + 2 &&
            after.err_too_big == before.err_too_big + 1 &&
            after.err_unmatched_pong == before.err_unmatched_pong + 1,
        "error counters count each refusal");

  CheckV0RoundTrip(fd);
  CheckHello(fd);
  CheckInjectedPing(fd);
  CheckBlockingRead(fd);
  CheckFifoBound(fd);
  CheckPingTimeout(fd);
  CheckOutstandingBound(fd);

  // Close with 16 PINGs queued: they are dropped, and the next open is clean.
  uint64_t dropped = Stats(fd).msgs_dropped;
  Check(close(fd) == 0, "close with messages queued");
  fd = open(g_dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  Check(fd >= 0, "reopen after close");
  Check(read(fd, &c, 1) < 0 && errno == EAGAIN, "queue purged on close");
  ddv_stats s = Stats(fd);
  Check(s.msgs_dropped == dropped + 16 && s.fifo_depth == 0, "purged messages counted");
  Check(WriteErr(fd, Frame(DDV_MSG_PING_INJECT, 1, "")) == 0, "fresh session accepts PINGs");
  close(fd);

  std::printf("bridge_check: %d checks passed, %d failed\n", g_passed, g_failed);
  return g_failed ? 1 : 0;
}
