// SPDX-License-Identifier: BSD-2-Clause
//
// kernel_fuzz: the module under hostile peers, in the test VM (KASAN,
// lockdep, kmemleak). Two processes at once, each a seeded random walk:
//  - the daemon (root, /dev/daedalus-v4l2): reads the kernel's messages and
//    answers with valid, mutated, truncated, replayed and random ones (wrong
//    ids, sizes, flags, formats, fields, out-of-order DONEs), READ_SRC and
//    WRITE_PICTURE with random ids, lengths, strides and addresses (bad ones
//    too: the kernel must say EFAULT), a new HELLO, and a close and reopen
//    of the chardev now and then (half the daemons ask for recovery, so
//    their contexts are orphaned and resumed by the next);
//  - the client (an unprivileged user in group video, the node): random
//    V4L2 ioctls with random arguments on several handles at once, mmap and
//    munmap of their buffers, closes in the middle of everything.
// Nothing either sends may crash, leak or wedge the kernel: each process
// uses non-blocking calls only and checks every call returned; the guest
// script then checks that the module still decodes (job_check), unloads,
// and that the kernel log and kmemleak are clean.
//
//   usage: kernel_fuzz /dev/videoN OPS [SEED]   (OPS per process at least;
//   each goes on while the other has not done its OPS, up to 50 x OPS)
// Prints "kernel_fuzz: N operations, seed S" per process; exits non-zero
// if a process died, a call took longer than 10 s, or a walk never reached a
// live context.

#include <fcntl.h>
#include <grp.h>
#include <linux/daedalus-v4l2.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "tests/v4l2_structs.h"

namespace {

using daedalus::testing::CompressedFormat;
using daedalus::testing::MmapRequest;

constexpr char kChardev[] = "/dev/daedalus-v4l2";

// The seeded source of every choice, so a failing run can be replayed.
class Dice {
 public:
  explicit Dice(uint64_t seed) : rng_(seed) {}
  uint32_t Below(uint32_t n) { return n ? static_cast<uint32_t>(rng_() % n) : 0; }
  bool OneIn(uint32_t n) { return Below(n) == 0; }
  uint32_t Word() { return static_cast<uint32_t>(rng_()); }
  // Mostly small numbers (ids, counts, indexes), sometimes anything.
  uint32_t Small() { return OneIn(8) ? Word() : Below(8); }
  void Fill(void* p, size_t n) {
    auto* b = static_cast<uint8_t*>(p);
    for (size_t i = 0; i < n; i++) b[i] = static_cast<uint8_t>(rng_());
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(static_cast<uint32_t>(v.size()))];
  }

 private:
  std::mt19937_64 rng_;
};

// Every call is timed: a call that blocks is a wedged kernel. A STREAMOFF
// or close may wait for its running job, which the job timeout bounds (the
// guest sets job_timeout_ms to 500 for this run; it scales with the
// picture, up to 5 times for 4096x2304, and the emulated guest is slow):
// 10 s is a wedge.
int g_slow_calls = 0;
template <typename F>
auto Timed(const char* what, F f) {
  auto start = std::chrono::steady_clock::now();
  auto r = f();
  auto took = std::chrono::steady_clock::now() - start;
  if (took > std::chrono::seconds(10)) {
    std::printf("kernel_fuzz: %s took %lld ms\n", what,
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    g_slow_calls++;
  }
  return r;
}

// ---- the daemon's side -----------------------------------------------------

class FuzzDaemon {
 public:
  explicit FuzzDaemon(Dice& dice) : d_(dice) {}
  ~FuzzDaemon() {
    Close();
    for (auto& [p, size] : maps_) munmap(p, size);
  }

  // How deep the walk got: a run that never saw a job fuzzed nothing live.
  bool ReachedLiveContexts() const { return jobs_seen_ > 0 && dones_accepted_ > 0; }
  std::string Depth() const {
    return std::to_string(attaches_) + " attaches, " + std::to_string(jobs_seen_) +
           " DECODE jobs seen, " + std::to_string(dones_accepted_) + " DECODE_DONEs accepted, " +
           std::to_string(reads_ok_) + " READ_SRC, " + std::to_string(pictures_ok_) +
           " WRITE_PICTURE and " + std::to_string(exports_ok_) + " EXPORT_DST accepted";
  }

  void Step() {
    if (fd_ < 0) {
      Open();
      return;
    }
    switch (d_.Below(13)) {
      case 0:
      case 1:
      case 2:
        ReadMessages();
        break;
      case 3:
      case 4:
        AnswerJob(/*valid=*/true);
        break;
      case 5:
        AnswerJob(/*valid=*/false);
        break;
      case 6:
        WriteGarbage();
        break;
      case 7:
        ReadSrc();
        break;
      case 8:
        WritePicture();
        break;
      case 9:
        SendOther();
        break;
      case 10:
        ddv_stats st;
        Timed("GET_STATS", [&] { return ioctl(fd_, DDV_IOC_GET_STATS, &st); });
        break;
      case 11:
        ExportDst();
        break;
      default:
        if (d_.OneIn(20)) Close();  // a daemon that dies or restarts
        break;
    }
  }

 private:
  void Open() {
    fd_ = Timed("open chardev", [] { return open(kChardev, O_RDWR | O_NONBLOCK | O_CLOEXEC); });
    if (fd_ < 0) return;
    attaches_++;
    ddv_hello h = {};
    h.proto_version = d_.OneIn(20) ? d_.Word() : DDV_PROTO_VERSION;
    // Half the daemons ask for recovery: their contexts outlive them.
    h.flags = d_.OneIn(2) ? DDV_HELLO_RECOVERY : 0;
    if (d_.OneIn(20)) h.flags = d_.Word();
    std::strncpy(h.daemon_version, "kernel_fuzz", sizeof(h.daemon_version) - 1);
    h.num_codecs = d_.OneIn(20) ? d_.Small() : 2;
    h.codecs[0] = {V4L2_PIX_FMT_VP9, 1, 0, DDV_MAX_WIDTH, DDV_MAX_HEIGHT, 0};
    h.codecs[1] = {V4L2_PIX_FMT_H264, 1, 0, DDV_MAX_WIDTH, DDV_MAX_HEIGHT, 0};
    if (d_.OneIn(20)) d_.Fill(&h.codecs, sizeof(h.codecs));
    Send(DDV_MSG_HELLO, 1, &h, sizeof(h));
  }
  void Close() {
    if (fd_ >= 0) Timed("close chardev", [&] { return close(fd_); });
    fd_ = -1;
    jobs_.clear();
  }

  int Send(uint32_t type, uint32_t cookie, const void* payload, size_t len) {
    std::string msg(sizeof(ddv_msg_header) + len, '\0');
    ddv_msg_header hdr = {};
    hdr.magic = DDV_MAGIC;
    hdr.version = DDV_PROTO_VERSION;
    hdr.type = type;
    hdr.cookie = cookie;
    hdr.payload_len = static_cast<uint32_t>(len);
    std::memcpy(msg.data(), &hdr, sizeof(hdr));
    if (len) std::memcpy(msg.data() + sizeof(hdr), payload, len);
    if (d_.OneIn(12)) {  // one byte flipped anywhere
      msg[d_.Below(static_cast<uint32_t>(msg.size()))] ^= static_cast<char>(1 + d_.Below(255));
    }
    size_t n = d_.OneIn(12) ? d_.Below(static_cast<uint32_t>(msg.size())) : msg.size();
    ssize_t r = Timed("write", [&] { return write(fd_, msg.data(), n); });
    if (r == static_cast<ssize_t>(msg.size()) && type == DDV_MSG_DECODE_DONE) dones_accepted_++;
    return r < 0 ? errno : 0;
  }

  void ReadMessages() {
    std::vector<char> buf(sizeof(ddv_msg_header) + DDV_MAX_PAYLOAD);
    for (int i = 0; i < 8; i++) {
      // A short read now and then: the kernel must keep the message.
      size_t room = d_.OneIn(16) ? d_.Below(64) : buf.size();
      ssize_t n = Timed("read", [&] { return read(fd_, buf.data(), room); });
      if (n < static_cast<ssize_t>(sizeof(ddv_msg_header))) return;
      ddv_msg_header hdr;
      std::memcpy(&hdr, buf.data(), sizeof(hdr));
      if (hdr.type == DDV_MSG_DECODE && hdr.payload_len == sizeof(ddv_decode)) {
        ddv_decode job;
        std::memcpy(&job, buf.data() + sizeof(hdr), sizeof(job));
        jobs_.push_back({job, hdr.cookie});
        jobs_seen_++;
        if (jobs_.size() > 64) jobs_.erase(jobs_.begin());
      } else if (hdr.type == DDV_MSG_PING) {
        Send(DDV_MSG_PONG, hdr.cookie, buf.data() + sizeof(hdr), hdr.payload_len);
      }
    }
  }

  struct Job {
    ddv_decode req;
    uint32_t cookie;
  };

  // A DONE for a job seen (or, invalid, for ids and fields made up): any
  // mix of flags, a format that may be absurd, any field.
  void AnswerJob(bool valid) {
    ddv_decode_done done = {};
    uint32_t cookie = d_.Word();
    if (!jobs_.empty()) {
      size_t i = d_.Below(static_cast<uint32_t>(jobs_.size()));
      const Job& j = jobs_[i];
      done.ctx_id = j.req.ctx_id;
      done.job_id = j.req.job_id;
      cookie = j.cookie;
      if (valid && !d_.OneIn(4)) jobs_.erase(jobs_.begin() + static_cast<long>(i));
    }
    uint32_t flags = DDV_DONE_SRC_CONSUMED;
    if (d_.OneIn(2)) flags |= DDV_DONE_FORMAT;
    if (d_.OneIn(3)) flags |= DDV_DONE_PICTURE;
    if (d_.OneIn(6)) flags |= DDV_DONE_LAST;
    if (d_.OneIn(8)) flags |= DDV_DONE_ERROR;
    if (d_.OneIn(3)) flags |= DDV_DONE_MAPPED;
    done.flags = valid ? flags : d_.Word() & 0xff;
    done.status = d_.OneIn(4) ? -static_cast<int32_t>(d_.Below(140)) : 0;
    done.timestamp = d_.Word();
    done.format.width = d_.OneIn(4) ? d_.Word() : 16 + d_.Below(1024);
    done.format.height = d_.OneIn(4) ? d_.Word() : 16 + d_.Below(1024);
    static const std::vector<uint32_t> depths = {8, 10, 12, 9, 0, 16};
    static const std::vector<uint32_t> chroma = {420, 422, 444, 440, 400, 0};
    done.format.bit_depth = d_.Pick(depths);
    done.format.chroma = d_.Pick(chroma);
    done.format.min_buffers = d_.Small();
    done.field = d_.OneIn(3) ? d_.Below(10) : static_cast<uint32_t>(V4L2_FIELD_NONE);
    if (!valid) {
      done.ctx_id = d_.OneIn(2) ? done.ctx_id : d_.Small();
      done.job_id = d_.OneIn(2) ? done.job_id + d_.Below(3) : d_.Word();
      if (d_.OneIn(4)) done.reserved = d_.Word();
      if (d_.OneIn(4)) done.format.reserved = d_.Word();
    }
    size_t len = d_.OneIn(10) ? d_.Below(sizeof(done) + 8) : sizeof(done);
    std::string payload(reinterpret_cast<const char*>(&done), sizeof(done));
    payload.resize(len);
    Send(DDV_MSG_DECODE_DONE, cookie, payload.data(), payload.size());
  }

  void WriteGarbage() {
    std::vector<char> b(d_.Below(256));
    d_.Fill(b.data(), b.size());
    if (b.size() >= 4 && d_.OneIn(2)) std::memcpy(b.data(), &kMagic, 4);
    Timed("write garbage", [&] { return write(fd_, b.data(), b.size()); });
  }

  void SendOther() {
    static const std::vector<uint32_t> types = {
        DDV_MSG_PING,        DDV_MSG_PONG,   DDV_MSG_HELLO, DDV_MSG_HELLO_ACK, DDV_MSG_PING_INJECT,
        DDV_MSG_PING_RESULT, DDV_MSG_DECODE, DDV_MSG_FLUSH, DDV_MSG_CTX_CLOSE, 0x7fffffff};
    std::vector<char> payload(d_.Below(96));
    d_.Fill(payload.data(), payload.size());
    Send(d_.Pick(types), d_.Word(), payload.data(), payload.size());
  }

  // An address for the kernel to copy to or from: the scratch buffer, or
  // one that is not ours to give (the kernel must refuse with EFAULT).
  uint64_t Address(size_t* room) {
    switch (d_.Below(8)) {
      case 0:
        *room = 1 << 20;
        return 0;
      case 1:
        *room = 1 << 20;
        return 0xffff800000000000ull;  // kernel space
      default:
        *room = scratch_.size();
        return reinterpret_cast<uintptr_t>(scratch_.data());
    }
  }

  void ReadSrc() {
    ddv_src_io io = {};
    Pick(&io.ctx_id, &io.job_id);
    size_t room;
    io.addr = Address(&room);
    io.len = d_.Below(static_cast<uint32_t>(room) + 1);
    if (d_.OneIn(8)) io.reserved = d_.Word();
    if (Timed("READ_SRC", [&] { return ioctl(fd_, DDV_IOC_READ_SRC, &io); }) >= 0) reads_ok_++;
  }

  void WritePicture() {
    ddv_picture_io io = {};
    Pick(&io.ctx_id, &io.job_id);
    size_t room;
    for (auto& p : io.plane) p = Address(&room);
    io.width = d_.OneIn(4) ? d_.Word() : 16 + d_.Below(256);
    io.height = d_.OneIn(4) ? d_.Word() : 16 + d_.Below(256);
    for (auto& s : io.stride) s = d_.OneIn(4) ? d_.Word() : io.width * (1 + d_.Below(2));
    io.num_planes = d_.OneIn(4) ? d_.Small() : 1 + d_.Below(3);
    if (d_.OneIn(8)) io.reserved[d_.Below(2)] = d_.Word();
    if (Timed("WRITE_PICTURE", [&] { return ioctl(fd_, DDV_IOC_WRITE_PICTURE, &io); }) == 0)
      pictures_ok_++;
  }

  // A job's CAPTURE buffer as a DMA-BUF: mapped and written as the daemon
  // does, the mapping kept a while (the client may free the buffer
  // meanwhile: the memory must stay).
  void ExportDst() {
    ddv_export_io io = {};
    Pick(&io.ctx_id, &io.job_id);
    if (d_.OneIn(8)) io.reserved = d_.Word();
    if (Timed("EXPORT_DST", [&] { return ioctl(fd_, DDV_IOC_EXPORT_DST, &io); }) != 0) return;
    exports_ok_++;
    off_t size = lseek(io.fd, 0, SEEK_END);
    void* p = size > 0 ? mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE,
                              MAP_SHARED, io.fd, 0)
                       : MAP_FAILED;
    close(io.fd);
    if (p == MAP_FAILED) return;
    std::memset(p, static_cast<int>(d_.Below(256)), static_cast<size_t>(size));
    maps_.push_back({p, static_cast<size_t>(size)});
    if (maps_.size() > 8) {
      munmap(maps_.front().first, maps_.front().second);
      maps_.erase(maps_.begin());
    }
  }

  // The ids of a job seen (mostly) or made up.
  void Pick(uint32_t* ctx, uint32_t* job) {
    if (!jobs_.empty() && !d_.OneIn(4)) {
      const Job& j = jobs_[d_.Below(static_cast<uint32_t>(jobs_.size()))];
      *ctx = j.req.ctx_id;
      *job = j.req.job_id;
    } else {
      *ctx = d_.Small();
      *job = d_.Small();
    }
  }

  static constexpr uint32_t kMagic = DDV_MAGIC;
  Dice& d_;
  int fd_ = -1;
  std::vector<Job> jobs_;
  std::vector<uint8_t> scratch_ = std::vector<uint8_t>(4 << 20);
  long attaches_ = 0, jobs_seen_ = 0, dones_accepted_ = 0, reads_ok_ = 0, pictures_ok_ = 0,
       exports_ok_ = 0;
  std::vector<std::pair<void*, size_t>> maps_;  // exported buffers still mapped
};

// ---- the client's side -----------------------------------------------------

class FuzzClient {
 public:
  FuzzClient(Dice& dice, std::string dev) : d_(dice), dev_(std::move(dev)) {}
  ~FuzzClient() {
    for (auto& h : handles_) CloseHandle(h);
  }

  bool ReachedLiveContexts() const { return queued_ > 0 && streaming_ > 0; }
  std::string Depth() const {
    return std::to_string(opens_) + " opens, " + std::to_string(ioctls_ok_) + " ioctls accepted, " +
           std::to_string(queued_) + " buffers queued, " + std::to_string(streaming_) +
           " STREAMONs, " + std::to_string(dequeued_) + " buffers dequeued, " +
           std::to_string(maps_) + " mmaps";
  }

  void Step() {
    if (handles_.size() < 4 && (handles_.empty() || d_.OneIn(20))) {
      int fd = Timed("open node", [&] { return open(dev_.c_str(), O_RDWR | O_NONBLOCK); });
      if (fd >= 0) {
        handles_.push_back({fd, {}});
        opens_++;
      }
      return;
    }
    if (handles_.empty()) return;
    Handle& h = handles_[d_.Below(static_cast<uint32_t>(handles_.size()))];
    switch (d_.Below(16)) {
      case 0:
        if (d_.OneIn(4)) {  // a close in the middle of everything
          CloseHandle(h);
          h = handles_.back();
          handles_.pop_back();
        }
        break;
      case 1:
        Mmap(h);
        break;
      case 2:
        if (!h.maps.empty()) {
          size_t i = d_.Below(static_cast<uint32_t>(h.maps.size()));
          munmap(h.maps[i].first, h.maps[i].second);
          h.maps.erase(h.maps.begin() + static_cast<long>(i));
        }
        break;
      case 3:
        Sane(h.fd);  // a plausible stream set-up step, to get deeper
        break;
      case 4:
        if (d_.OneIn(8)) FreshStream(h);  // a whole valid start: jobs for the daemon
        break;
      default:
        RandomIoctl(h.fd);
        break;
    }
  }

 private:
  struct Handle {
    int fd;
    std::vector<std::pair<void*, size_t>> maps;
  };

  void CloseHandle(Handle& h) {
    for (auto& m : h.maps) munmap(m.first, m.second);
    h.maps.clear();
    Timed("close node", [&] { return close(h.fd); });
  }

  uint32_t Type() {
    static const std::vector<uint32_t> types = {
        V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
        V4L2_BUF_TYPE_VIDEO_OUTPUT, V4L2_BUF_TYPE_VIDEO_CAPTURE};
    return d_.OneIn(10) ? d_.Word() : d_.Pick(types);
  }
  uint32_t Memory() {
    static const std::vector<uint32_t> memory = {V4L2_MEMORY_MMAP, V4L2_MEMORY_USERPTR,
                                                 V4L2_MEMORY_DMABUF};
    return d_.OneIn(10) ? d_.Word() : d_.Pick(memory);
  }

  void Mmap(Handle& h) {
    v4l2_plane plane = {};
    v4l2_buffer b = {};
    b.type = d_.OneIn(2) ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE : V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
    b.memory = V4L2_MEMORY_MMAP;
    b.index = d_.Below(8);
    b.m.planes = &plane;
    b.length = 1;
    size_t len = plane.length;
    off_t offset = d_.Word() & ~0xfffu;
    if (Timed("QUERYBUF", [&] { return ioctl(h.fd, VIDIOC_QUERYBUF, &b); }) == 0) {
      len = plane.length;
      offset = plane.m.mem_offset;
    }
    if (len == 0 || len > (64u << 20)) len = 4096;
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, h.fd, offset);
    if (p == MAP_FAILED) return;
    static_cast<volatile uint8_t*>(p)[0] = 1;  // touch it
    h.maps.push_back({p, len});
    maps_++;
  }

  // A valid stream start on the handle: OUTPUT format, two buffers with
  // some bytes queued, OUTPUT streaming. Jobs then reach the daemon.
  void FreshStream(Handle& h) {
    v4l2_format f = CompressedFormat(d_.OneIn(2) ? V4L2_PIX_FMT_VP9 : V4L2_PIX_FMT_H264, 64, 64);
    v4l2_requestbuffers rb = MmapRequest(f.type, 2);
    if (Timed("S_FMT", [&] { return ioctl(h.fd, VIDIOC_S_FMT, &f); }) ||
        Timed("REQBUFS", [&] { return ioctl(h.fd, VIDIOC_REQBUFS, &rb); }))
      return;
    for (uint32_t i = 0; i < rb.count && i < 2; i++) {
      v4l2_plane plane = {};
      plane.bytesused = 1 + d_.Below(512);
      v4l2_buffer b = {};
      b.type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
      b.memory = V4L2_MEMORY_MMAP;
      b.index = i;
      b.m.planes = &plane;
      b.length = 1;
      if (Timed("QBUF", [&] { return ioctl(h.fd, VIDIOC_QBUF, &b); }) == 0) queued_++;
    }
    uint32_t type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
    if (Timed("STREAMON", [&] { return ioctl(h.fd, VIDIOC_STREAMON, &type); }) == 0) streaming_++;
  }

  // The steps of a real stream, each with a random part.
  void Sane(int fd) {
    switch (d_.Below(6)) {
      case 0: {
        v4l2_format f = CompressedFormat(d_.OneIn(2) ? V4L2_PIX_FMT_VP9 : V4L2_PIX_FMT_H264,
                                         16 + d_.Below(4096), 16 + d_.Below(2304));
        Timed("S_FMT", [&] { return ioctl(fd, VIDIOC_S_FMT, &f); });
        break;
      }
      case 1: {
        v4l2_requestbuffers rb = {};
        rb.type = Type();
        rb.memory = V4L2_MEMORY_MMAP;
        rb.count = d_.Below(6);
        Timed("REQBUFS", [&] { return ioctl(fd, VIDIOC_REQBUFS, &rb); });
        break;
      }
      case 2: {
        v4l2_plane plane = {};
        plane.bytesused = d_.Below(4096);
        v4l2_buffer b = {};
        b.type = Type();
        b.memory = V4L2_MEMORY_MMAP;
        b.index = d_.Below(6);
        b.m.planes = &plane;
        b.length = 1;
        b.timestamp.tv_sec = d_.Small();
        if (Timed("QBUF", [&] { return ioctl(fd, VIDIOC_QBUF, &b); }) == 0) queued_++;
        break;
      }
      case 3: {
        uint32_t type = Type();
        unsigned long cmd = d_.OneIn(3) ? VIDIOC_STREAMOFF : VIDIOC_STREAMON;
        if (Timed("STREAMON/OFF", [&] { return ioctl(fd, cmd, &type); }) == 0 &&
            cmd == VIDIOC_STREAMON)
          streaming_++;
        break;
      }
      case 4: {
        v4l2_plane plane = {};
        v4l2_buffer b = {};
        b.type = Type();
        b.memory = V4L2_MEMORY_MMAP;
        b.m.planes = &plane;
        b.length = 1;
        if (Timed("DQBUF", [&] { return ioctl(fd, VIDIOC_DQBUF, &b); }) == 0) dequeued_++;
        v4l2_event ev;
        Timed("DQEVENT", [&] { return ioctl(fd, VIDIOC_DQEVENT, &ev); });
        break;
      }
      default: {
        v4l2_decoder_cmd c = {};
        c.cmd = d_.OneIn(2) ? V4L2_DEC_CMD_STOP : V4L2_DEC_CMD_START;
        Timed("DECODER_CMD", [&] { return ioctl(fd, VIDIOC_DECODER_CMD, &c); });
        v4l2_event_subscription sub = {};
        sub.type = d_.OneIn(2) ? V4L2_EVENT_SOURCE_CHANGE : V4L2_EVENT_EOS;
        Timed("SUBSCRIBE_EVENT", [&] { return ioctl(fd, VIDIOC_SUBSCRIBE_EVENT, &sub); });
        break;
      }
    }
  }

  // Any V4L2 ioctl the node has, its argument random bytes with a
  // plausible type, memory, count and index most of the time. Pointers
  // inside arguments point at a scratch area or are junk.
  void RandomIoctl(int fd) {
    static const std::vector<unsigned long> ioctls = {VIDIOC_QUERYCAP,
                                                      VIDIOC_ENUM_FMT,
                                                      VIDIOC_G_FMT,
                                                      VIDIOC_S_FMT,
                                                      VIDIOC_TRY_FMT,
                                                      VIDIOC_REQBUFS,
                                                      VIDIOC_CREATE_BUFS,
                                                      VIDIOC_QUERYBUF,
                                                      VIDIOC_QBUF,
                                                      VIDIOC_DQBUF,
                                                      VIDIOC_PREPARE_BUF,
                                                      VIDIOC_EXPBUF,
                                                      VIDIOC_STREAMON,
                                                      VIDIOC_STREAMOFF,
                                                      VIDIOC_G_CTRL,
                                                      VIDIOC_S_CTRL,
                                                      VIDIOC_QUERYCTRL,
                                                      VIDIOC_QUERY_EXT_CTRL,
                                                      VIDIOC_QUERYMENU,
                                                      VIDIOC_G_EXT_CTRLS,
                                                      VIDIOC_S_EXT_CTRLS,
                                                      VIDIOC_TRY_EXT_CTRLS,
                                                      VIDIOC_ENUM_FRAMESIZES,
                                                      VIDIOC_G_SELECTION,
                                                      VIDIOC_S_SELECTION,
                                                      VIDIOC_SUBSCRIBE_EVENT,
                                                      VIDIOC_UNSUBSCRIBE_EVENT,
                                                      VIDIOC_DQEVENT,
                                                      VIDIOC_DECODER_CMD,
                                                      VIDIOC_TRY_DECODER_CMD,
                                                      VIDIOC_G_PARM,
                                                      VIDIOC_S_PARM,
                                                      VIDIOC_LOG_STATUS,
                                                      VIDIOC_ENUM_FRAMEINTERVALS};
    union {
      v4l2_format fmt;
      v4l2_buffer buf;
      v4l2_requestbuffers req;
      v4l2_create_buffers create;
      v4l2_ext_controls ext;
      v4l2_exportbuffer exp;
      uint8_t raw[256];
    } arg;
    d_.Fill(&arg, sizeof(arg));
    unsigned long cmd = d_.Pick(ioctls);
    // Plausible fields, where the argument has them.
    switch (cmd) {
      case VIDIOC_QUERYBUF:
      case VIDIOC_QBUF:
      case VIDIOC_DQBUF:
      case VIDIOC_PREPARE_BUF:
        arg.buf.index = d_.Small();
        arg.buf.type = Type();
        arg.buf.memory = Memory();
        arg.buf.m.planes = planes_.data();
        arg.buf.length = d_.OneIn(4) ? d_.Word() : d_.Below(4);
        d_.Fill(planes_.data(), sizeof(v4l2_plane) * planes_.size());
        for (auto& p : planes_) {
          if (d_.OneIn(2)) p.m.userptr = reinterpret_cast<uintptr_t>(userptr_.data());
          if (d_.OneIn(2)) p.length = static_cast<uint32_t>(userptr_.size());
          if (d_.OneIn(2)) p.m.fd = -1;
        }
        break;
      case VIDIOC_REQBUFS:
        arg.req.count = d_.Small();
        arg.req.type = Type();
        arg.req.memory = Memory();
        break;
      case VIDIOC_CREATE_BUFS:
        arg.create.count = d_.Small();
        arg.create.memory = Memory();
        arg.create.format.type = Type();
        break;
      case VIDIOC_G_FMT:
      case VIDIOC_S_FMT:
      case VIDIOC_TRY_FMT:
        arg.fmt.type = Type();
        if (d_.OneIn(2)) arg.fmt.fmt.pix_mp.num_planes = d_.Below(3);
        break;
      case VIDIOC_G_EXT_CTRLS:
      case VIDIOC_S_EXT_CTRLS:
      case VIDIOC_TRY_EXT_CTRLS:
        arg.ext.count = d_.Below(4);
        arg.ext.controls = controls_.data();
        d_.Fill(controls_.data(), sizeof(v4l2_ext_control) * controls_.size());
        for (auto& c : controls_) {
          c.ptr = userptr_.data();  // the kernel may write `size` bytes there
          c.size = d_.Below(static_cast<uint32_t>(userptr_.size()));
        }
        break;
      case VIDIOC_EXPBUF:
        arg.exp.type = Type();
        arg.exp.index = d_.Small();
        arg.exp.plane = d_.Small();
        arg.exp.flags = O_CLOEXEC;
        break;
      case VIDIOC_STREAMON:
      case VIDIOC_STREAMOFF: {
        uint32_t type = Type();
        std::memcpy(arg.raw, &type, sizeof(type));
        break;
      }
      default:
        break;
    }
    char what[40];
    std::snprintf(what, sizeof(what), "V4L2 ioctl 0x%08lx", cmd);
    int r = Timed(what, [&] { return ioctl(fd, cmd, &arg); });
    if (r == 0) ioctls_ok_++;
    if (r == 0 && cmd == VIDIOC_EXPBUF) close(arg.exp.fd);
  }

  Dice& d_;
  std::string dev_;
  std::vector<Handle> handles_;
  std::vector<v4l2_plane> planes_ = std::vector<v4l2_plane>(VIDEO_MAX_PLANES);
  std::vector<v4l2_ext_control> controls_ = std::vector<v4l2_ext_control>(4);
  std::vector<uint8_t> userptr_ = std::vector<uint8_t>(1 << 20);
  long opens_ = 0, ioctls_ok_ = 0, queued_ = 0, streaming_ = 0, dequeued_ = 0, maps_ = 0;
};

// Drops root for the group video and the user nobody, as a desktop user's
// browser would run.
bool DropToVideoUser() {
  group* video = getgrnam("video");
  gid_t gid = video ? video->gr_gid : 44;
  return setgroups(1, &gid) == 0 && setgid(gid) == 0 && setuid(65534) == 0;
}

// Shared by the two processes: whether each has done its OPS. Their steps
// cost different times (on a kernel without debug checks the daemon's
// 10^5 steps ended before the client had a stream going, and no job was
// ever seen), so each goes on until the other has done its share too, up
// to kMaxOpsFactor times OPS.
struct Progress {
  std::atomic<int> ops_done[2];
};
constexpr long kMaxOpsFactor = 50;

// Runs the walk; fails on a call that blocked, or a walk that never got to
// a context with jobs (it would have fuzzed nothing that matters).
template <typename Fuzzer>
int RunChild(const char* who, Fuzzer& fuzzer, long ops, uint64_t seed, Progress* progress, int me) {
  long done = 0;
  for (; done < ops || (!progress->ops_done[1 - me] && done < ops * kMaxOpsFactor); done++) {
    if (done == ops) progress->ops_done[me] = 1;
    fuzzer.Step();
  }
  progress->ops_done[me] = 1;
  std::printf("kernel_fuzz: %s: %ld operations, seed %llu, %d slow calls; %s\n", who, done,
              static_cast<unsigned long long>(seed), g_slow_calls, fuzzer.Depth().c_str());
  if (!fuzzer.ReachedLiveContexts())
    std::printf("kernel_fuzz: %s never reached a live context\n", who);
  std::fflush(stdout);
  return g_slow_calls || !fuzzer.ReachedLiveContexts() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: kernel_fuzz /dev/videoN OPS [SEED]\n");
    return 2;
  }
  std::string dev = argv[1];
  long ops = std::atol(argv[2]);
  uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 0) : std::random_device{}();
  void* shared =
      mmap(nullptr, sizeof(Progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) {
    std::perror("kernel_fuzz: mmap");
    return 1;
  }
  auto* progress = new (shared) Progress{};
  pid_t daemon = fork();
  if (daemon == 0) {
    Dice dice(seed);
    FuzzDaemon fuzzer(dice);
    _exit(RunChild("daemon", fuzzer, ops, seed, progress, 0));
  }
  pid_t client = fork();
  if (client == 0) {
    if (!DropToVideoUser()) {
      std::printf("kernel_fuzz: cannot become nobody:video\n");
      _exit(1);
    }
    Dice dice(seed + 1);
    FuzzClient fuzzer(dice, dev);
    _exit(RunChild("client (nobody:video)", fuzzer, ops, seed + 1, progress, 1));
  }
  int failed = 0;
  for (pid_t p : {daemon, client}) {
    int status = 0;
    waitpid(p, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::printf("kernel_fuzz: %s %s\n", p == daemon ? "daemon" : "client",
                  WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "failed");
      failed++;
    }
  }
  std::printf("kernel_fuzz: %s\n", failed ? "FAILED" : "done, every call returned");
  return failed ? 1 : 0;
}
