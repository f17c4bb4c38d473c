// SPDX-License-Identifier: BSD-2-Clause
//
// job_check: the decode-job protocol between the node and the chardev,
// with this program as both sides: a V4L2 client of the decoder node and
// a scripted daemon on /dev/daedalus-v4l2 that answers each DECODE exactly
// as a scenario needs (late, wrongly, not at all). Run in the test VM with
// the module loaded and no daedalusd. One line per check; exits non-zero
// if any failed.
//
// Scenarios, each for a race or a trust gap found by reading the kernel:
//  - DONE_PICTURE for a job whose picture was never written is refused;
//  - the benchmark's skip_picture_copy hook skips the copy, and only then;
//  - a watchdog that fired for a job just answered does not fail the next
//    one (debugfs watchdog_delay_ms holds it, as a preempted worker);
//  - FLUSH and CTX_CLOSE reach the daemon even when the FIFO is full;
//  - a daemon's close racing the next daemon's open does not fail what
//    the new daemon serves;
//  - a job the daemon never answers times out, and the kernel counts it;
//  - a drain that ends before the stream had a format gives a client that
//    streams CAPTURE from the start (FFmpeg 5.1) an empty LAST buffer;
//  - a client that streams CAPTURE from the start and restarts it at the
//    first SOURCE_CHANGE (GStreamer 1.22) gets no picture before it took
//    the event, however its poll() and the daemon's answer interleave;
//  - max_contexts: one decoding context more gets EBUSY;
//  - RGB CAPTURE: listed for 8-bit streams only, its layout, and the
//    daemon's one-plane picture given to the client row for row; a stream
//    turning 10-bit falls back to P010 with the OUTPUT's colorimetry;
//  - a daemon that attaches the moment the chardev appears finds the
//    decoder node ready for its HELLO (--attach-at-load).
// The client side queues OUTPUT buffers 0, 1, 2 (header, job 1, job 2)
// and never reuses one, so it never needs to dequeue OUTPUT.
//
//   usage: job_check [/dev/videoN]   (default: the node named daedalus-dec)
//          job_check --attach-at-load  (started before insmod; see AttachAtLoad)

#include <fcntl.h>
#include <linux/daedalus-v4l2.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/v4l2_structs.h"

namespace {

constexpr char kChardev[] = "/dev/daedalus-v4l2";
constexpr char kParams[] = "/sys/module/daedalus_v4l2/parameters/";
constexpr char kDebugfs[] = "/sys/kernel/debug/daedalus_v4l2/";
constexpr uint32_t kWidth = 64, kHeight = 48;

int g_passed = 0, g_failed = 0;

void Check(bool ok, const std::string& what) {
  (ok ? g_passed : g_failed)++;
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  std::fflush(stdout);
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.flush();
  return f.good();
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// The daemon's side: one message per read and write, as daedalusd does.
class FakeDaemon {
 public:
  // `flags`: the HELLO's (DDV_HELLO_RECOVERY: keep my streams if I die).
  bool Open(uint32_t flags = 0) {
    fd_ = open(kChardev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0 || Hello(1, flags)) return false;
    auto ack = Next(1000);
    return ack && ack->hdr.type == DDV_MSG_HELLO_ACK;
  }
  // A HELLO for VP9; the kernel queues a HELLO_ACK. 0 or the errno.
  int Hello(uint32_t cookie, uint32_t flags = 0) {
    ddv_hello h = {};
    h.proto_version = DDV_PROTO_VERSION;
    h.flags = flags;
    std::strncpy(h.daemon_version, "job_check", sizeof(h.daemon_version) - 1);
    h.num_codecs = 1;
    h.codecs[0] = {V4L2_PIX_FMT_VP9, 1, 0, DDV_MAX_WIDTH, DDV_MAX_HEIGHT, 0};
    return Send(DDV_MSG_HELLO, cookie, &h, sizeof(h));
  }
  ~FakeDaemon() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

  struct Msg {
    ddv_msg_header hdr;
    std::string payload;
    template <typename T>
    T As() const {
      T t = {};
      std::memcpy(&t, payload.data(), std::min(sizeof(t), payload.size()));
      return t;
    }
  };

  // The next message within timeout_ms, or nothing.
  std::optional<Msg> Next(int timeout_ms) {
    pollfd p = {fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return std::nullopt;
    std::vector<char> buf(sizeof(ddv_msg_header) + DDV_MAX_PAYLOAD);
    ssize_t n = read(fd_, buf.data(), buf.size());
    if (n < static_cast<ssize_t>(sizeof(ddv_msg_header))) return std::nullopt;
    Msg m;
    std::memcpy(&m.hdr, buf.data(), sizeof(m.hdr));
    m.payload.assign(buf.data() + sizeof(m.hdr), n - sizeof(m.hdr));
    return m;
  }

  // The next DECODE, skipping anything else.
  std::optional<ddv_decode> NextDecode(int timeout_ms) {
    while (auto m = Next(timeout_ms)) {
      if (m->hdr.type == DDV_MSG_DECODE) return m->As<ddv_decode>();
    }
    return std::nullopt;
  }

  // 0 or the errno of the write.
  int Send(uint32_t type, uint32_t cookie, const void* payload, size_t len) {
    std::string wire(sizeof(ddv_msg_header) + len, '\0');
    ddv_msg_header h = {DDV_MAGIC, DDV_PROTO_VERSION, type, cookie, static_cast<uint32_t>(len), 0};
    std::memcpy(wire.data(), &h, sizeof(h));
    std::memcpy(wire.data() + sizeof(h), payload, len);
    return write(fd_, wire.data(), wire.size()) == static_cast<ssize_t>(wire.size()) ? 0 : errno;
  }

  int Done(const ddv_decode& job, uint32_t flags, const ddv_stream_format* format = nullptr) {
    ddv_decode_done d = {};
    d.ctx_id = job.ctx_id;
    d.job_id = job.job_id;
    d.flags = flags;
    d.timestamp = job.src_timestamp;
    d.field = V4L2_FIELD_NONE;  // progressive pictures
    if (format) d.format = *format;
    return Send(DDV_MSG_DECODE_DONE, job.job_id, &d, sizeof(d));
  }

  // A grey 8-bit 4:2:0 picture into the job's CAPTURE buffer; 0 or errno.
  int WritePicture(const ddv_decode& job, uint8_t luma) {
    std::vector<uint8_t> y(kWidth * kHeight, luma), uv(kWidth * kHeight / 4, 128);
    ddv_picture_io io = {};
    io.ctx_id = job.ctx_id;
    io.job_id = job.job_id;
    io.plane[0] = reinterpret_cast<uintptr_t>(y.data());
    io.plane[1] = io.plane[2] = reinterpret_cast<uintptr_t>(uv.data());
    io.stride[0] = kWidth;
    io.stride[1] = io.stride[2] = kWidth / 2;
    io.width = kWidth;
    io.height = kHeight;
    io.num_planes = 3;
    return ioctl(fd_, DDV_IOC_WRITE_PICTURE, &io) == 0 ? 0 : errno;
  }

  // A picture of one plane, `stride` bytes a row (RGB), or the grey
  // 4:2:0 one's three planes when `planes` is 3; 0 or errno.
  int WritePacked(const ddv_decode& job, const std::vector<uint8_t>& rows, uint32_t stride,
                  uint32_t planes = 1) {
    ddv_picture_io io = {};
    io.ctx_id = job.ctx_id;
    io.job_id = job.job_id;
    for (uint32_t p = 0; p < planes; p++) {
      io.plane[p] = reinterpret_cast<uintptr_t>(rows.data());
      io.stride[p] = stride;
    }
    io.width = kWidth;
    io.height = kHeight;
    io.num_planes = planes;
    return ioctl(fd_, DDV_IOC_WRITE_PICTURE, &io) == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

// The OUTPUT format of the clients here: VP9 at kWidth x kHeight, with
// buffers of `sizeimage` bytes (0: the node's default).
v4l2_format Vp9Output(uint32_t sizeimage = 0) {
  return daedalus::testing::CompressedFormat(V4L2_PIX_FMT_VP9, kWidth, kHeight, sizeimage);
}

// The client's side: a VP9 context with four OUTPUT and two CAPTURE buffers.
class Client {
 public:
  explicit Client(const std::string& dev) : fd_(open(dev.c_str(), O_RDWR | O_NONBLOCK)) {}
  ~Client() { Close(); }
  void Close() {
    for (auto& m : maps_) munmap(m.first, m.second);
    maps_.clear();
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  bool SetUpOutput() {
    v4l2_format f = Vp9Output();
    if (ioctl(fd_, VIDIOC_S_FMT, &f)) return false;
    v4l2_event_subscription sub = {};
    sub.type = V4L2_EVENT_SOURCE_CHANGE;
    if (ioctl(fd_, VIDIOC_SUBSCRIBE_EVENT, &sub)) return false;
    return Alloc(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, 4) &&
           StreamOn(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE);
  }

  // CAPTURE streaming before any SOURCE_CHANGE, in the node's default
  // format, as FFmpeg 5.1 sets it up.
  bool StreamCaptureEarly() {
    if (!Alloc(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, 2)) return false;
    for (uint32_t i = 0; i < 2; i++) {
      if (!Queue(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, i, 0, 0)) return false;
    }
    return StreamOn(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);
  }

  // V4L2_DEC_CMD_STOP: the drain.
  bool Stop() {
    v4l2_decoder_cmd c = {};
    c.cmd = V4L2_DEC_CMD_STOP;
    return ioctl(fd_, VIDIOC_DECODER_CMD, &c) == 0;
  }

  // After the SOURCE_CHANGE: CAPTURE in the node's format (or in
  // `fourcc`, its format then in `*got`), all buffers queued.
  bool SetUpCapture(uint32_t fourcc = 0, v4l2_pix_format_mplane* got = nullptr,
                    uint32_t memory = V4L2_MEMORY_MMAP) {
    v4l2_event ev = {};
    for (int i = 0; i < 100 && ioctl(fd_, VIDIOC_DQEVENT, &ev); i++) SleepMs(10);
    if (ev.type != V4L2_EVENT_SOURCE_CHANGE) return false;
    formats_at_change_ = CaptureFormats();
    if (fourcc) {
      v4l2_format f = {};
      f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
      if (ioctl(fd_, VIDIOC_G_FMT, &f)) return false;
      f.fmt.pix_mp.pixelformat = fourcc;
      if (ioctl(fd_, VIDIOC_S_FMT, &f) || f.fmt.pix_mp.pixelformat != fourcc) return false;
      if (got) *got = f.fmt.pix_mp;
    }
    cap_memory_ = memory;
    if (!Alloc(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, 2)) return false;
    for (uint32_t i = 0; i < 2; i++) {
      if (!Queue(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, i, 0, 0)) return false;
    }
    return StreamOn(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);
  }

  // An OUTPUT buffer with a few bytes: the fake daemon never parses them.
  bool QueueOutput(uint32_t index, uint64_t timestamp_us) {
    return Queue(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, index, 64, timestamp_us);
  }

  // A CAPTURE buffer within timeout_ms: its bytesused, or -errno.
  long DequeueCapture(int timeout_ms, uint32_t* flags = nullptr, uint32_t* index = nullptr) {
    v4l2_plane plane = {};
    v4l2_buffer b = Buffer(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, 0, &plane);
    for (int waited = 0;; waited += 10) {
      if (ioctl(fd_, VIDIOC_DQBUF, &b) == 0) break;
      if (errno != EAGAIN || waited >= timeout_ms) return -errno;
      SleepMs(10);
    }
    if (flags) *flags = b.flags;
    if (index) *index = b.index;
    return plane.bytesused;
  }

  bool StreamOff(uint32_t type) { return ioctl(fd_, VIDIOC_STREAMOFF, &type) == 0; }

  // The CAPTURE formats ENUM_FMT lists now, as "YU12,NV12,...".
  std::string CaptureFormats() {
    std::string list;
    for (v4l2_fmtdesc d = {0, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE};
         ioctl(fd_, VIDIOC_ENUM_FMT, &d) == 0; d.index++) {
      list += std::string(list.empty() ? "" : ",") +
              std::string(reinterpret_cast<const char*>(&d.pixelformat), 4);
    }
    return list;
  }

  // G_FMT of the queue `type`; all zero if it failed.
  v4l2_pix_format_mplane Format(uint32_t type) {
    v4l2_format f = {};
    f.type = type;
    if (ioctl(fd_, VIDIOC_G_FMT, &f)) return {};
    return f.fmt.pix_mp;
  }

  // What ENUM_FMT listed for CAPTURE at the last SOURCE_CHANGE.
  const std::string& formats_at_change() const { return formats_at_change_; }

  // The memory of CAPTURE buffer `index` (after SetUpOutput's four OUTPUT ones).
  const uint8_t* CaptureMemory(uint32_t index) const {
    if (cap_memory_ == V4L2_MEMORY_USERPTR) return user_.at(index).data();
    return static_cast<const uint8_t*>(maps_.at(4 + index).first);
  }

 private:
  bool Alloc(uint32_t type, uint32_t count) {
    v4l2_requestbuffers rb = {};
    rb.count = count;
    rb.type = type;
    rb.memory = MemoryOf(type);
    if (ioctl(fd_, VIDIOC_REQBUFS, &rb) || rb.count < count) return false;
    if (rb.memory == V4L2_MEMORY_USERPTR) {
      // The client's own memory, as large as the format asks.
      user_.assign(count, std::vector<uint8_t>(Format(type).plane_fmt[0].sizeimage, 0));
      return true;
    }
    for (uint32_t i = 0; i < count; i++) {
      v4l2_plane plane = {};
      v4l2_buffer b = Buffer(type, i, &plane);
      if (ioctl(fd_, VIDIOC_QUERYBUF, &b)) return false;
      void* p =
          mmap(nullptr, plane.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, plane.m.mem_offset);
      if (p == MAP_FAILED) return false;
      maps_.push_back({p, plane.length});
    }
    return true;
  }
  // CAPTURE's memory is the client's choice (SetUpCapture); OUTPUT is MMAP.
  uint32_t MemoryOf(uint32_t type) const {
    return type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE ? cap_memory_
                                                      : static_cast<uint32_t>(V4L2_MEMORY_MMAP);
  }
  // A buffer of the queue with its one plane.
  v4l2_buffer Buffer(uint32_t type, uint32_t index, v4l2_plane* plane) {
    v4l2_buffer b = {};
    b.type = type;
    b.memory = MemoryOf(type);
    b.index = index;
    b.m.planes = plane;
    b.length = 1;
    if (b.memory == V4L2_MEMORY_USERPTR && index < user_.size()) {
      plane->m.userptr = reinterpret_cast<unsigned long>(user_[index].data());
      plane->length = static_cast<uint32_t>(user_[index].size());
    }
    return b;
  }
  bool Queue(uint32_t type, uint32_t index, uint32_t bytes, uint64_t timestamp_us) {
    v4l2_plane plane = {};
    plane.bytesused = bytes;
    v4l2_buffer b = Buffer(type, index, &plane);
    b.timestamp.tv_sec = timestamp_us / 1000000;
    b.timestamp.tv_usec = timestamp_us % 1000000;
    return ioctl(fd_, VIDIOC_QBUF, &b) == 0;
  }
  bool StreamOn(uint32_t type) { return ioctl(fd_, VIDIOC_STREAMON, &type) == 0; }

  int fd_;
  uint32_t cap_memory_ = V4L2_MEMORY_MMAP;
  std::vector<std::vector<uint8_t>> user_;  // USERPTR CAPTURE buffers
  std::vector<std::pair<void*, size_t>> maps_;
  std::string formats_at_change_;
};

const ddv_stream_format kFormat = {kWidth, kHeight, 8, 420, 2, 0};

// A context past its first SOURCE_CHANGE, CAPTURE streaming, and the
// first job with a CAPTURE buffer sent to the daemon.
std::optional<ddv_decode> StartDecoding(FakeDaemon& daemon, Client& client,
                                        const ddv_stream_format& format = kFormat,
                                        uint32_t capture_fourcc = 0,
                                        v4l2_pix_format_mplane* capture = nullptr,
                                        uint32_t capture_memory = V4L2_MEMORY_MMAP) {
  if (!client.ok() || !client.SetUpOutput() || !client.QueueOutput(0, 1000)) return std::nullopt;
  auto header = daemon.NextDecode(2000);
  if (!header || daemon.Done(*header, DDV_DONE_SRC_CONSUMED | DDV_DONE_FORMAT, &format))
    return std::nullopt;
  if (!client.SetUpCapture(capture_fourcc, capture, capture_memory) || !client.QueueOutput(1, 2000))
    return std::nullopt;
  auto job = daemon.NextDecode(2000);
  if (!job || !(job->flags & DDV_DECODE_DST)) return std::nullopt;
  return job;
}

// The daemon says "picture" but never wrote one: the kernel must not hand
// the client a buffer of whatever the memory held before.
void CheckPictureNeverWritten(const std::string& dev) {
  FakeDaemon daemon;
  Client client(dev);
  Check(daemon.Open(), "fake daemon attached (HELLO for VP9)");
  auto job = StartDecoding(daemon, client);
  Check(job.has_value(), "a job with a CAPTURE buffer reaches the daemon");
  if (!job) return;
  int err = daemon.Done(*job, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE);
  Check(err == EINVAL, "DONE_PICTURE with no picture written -> EINVAL (got " +
                           std::string(err ? std::strerror(err) : "accepted") + ")");
  Check(daemon.WritePicture(*job, 77) == 0, "the picture written after the refusal");
  Check(daemon.Done(*job, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE) == 0,
        "DONE_PICTURE accepted once the picture is there");
  long bytes = client.DequeueCapture(2000);
  Check(bytes == kWidth * kHeight * 3 / 2,
        "the client gets the picture: " + std::to_string(bytes) + " bytes");
}

// DDV_IOC_EXPORT_DST: the daemon maps the job's CAPTURE buffer and writes
// the picture itself; the kernel takes DONE_PICTURE | DONE_MAPPED only for
// a buffer it exported, and the mapping holds the memory after the client
// has closed.
void CheckPictureThroughExport(const std::string& dev) {
  FakeDaemon daemon;
  auto client = std::make_unique<Client>(dev);
  Check(daemon.Open(), "fake daemon attached (HELLO for VP9)");
  auto job = StartDecoding(daemon, *client);
  Check(
      job && (job->flags & DDV_DECODE_DST_EXPORT) && job->dst_index < 2 && job->dst_generation > 0,
      "a job with an MMAP CAPTURE buffer is flagged DST_EXPORT and names it (index " +
          std::to_string(job ? job->dst_index : -1) + ", generation " +
          std::to_string(job ? job->dst_generation : 0) + ")");
  if (!job) return;
  int err = daemon.Done(*job, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE | DDV_DONE_MAPPED);
  Check(err == EINVAL, "DONE_MAPPED for a buffer never exported -> EINVAL (got " +
                           std::string(err ? std::strerror(err) : "accepted") + ")");
  ddv_export_io io = {job->ctx_id, job->job_id + 1, -1, 0};
  err = ioctl(daemon.fd(), DDV_IOC_EXPORT_DST, &io) ? errno : 0;
  Check(err == ESTALE, "EXPORT_DST for a job not running -> ESTALE (got " +
                           std::string(err ? std::strerror(err) : "an fd") + ")");
  io = {job->ctx_id, job->job_id, -1, 1};
  err = ioctl(daemon.fd(), DDV_IOC_EXPORT_DST, &io) ? errno : 0;
  Check(err == EINVAL, "EXPORT_DST with reserved set -> EINVAL");
  io = {job->ctx_id, job->job_id, -1, 0};
  err = ioctl(daemon.fd(), DDV_IOC_EXPORT_DST, &io) ? errno : 0;
  off_t size = err ? -1 : lseek(io.fd, 0, SEEK_END);
  Check(!err && size >= static_cast<off_t>(job->dst.sizeimage),
        "EXPORT_DST gives a DMA-BUF of the buffer's size (" + std::to_string(size) + " bytes for " +
            std::to_string(job->dst.sizeimage) + ")");
  if (err || size < static_cast<off_t>(job->dst.sizeimage)) return;
  auto* mem = static_cast<uint8_t*>(
      mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, io.fd, 0));
  close(io.fd);
  Check(mem != MAP_FAILED, "the daemon maps it read-write");
  if (mem == MAP_FAILED) return;
  std::memset(mem, 55, job->dst.sizeimage);
  err = daemon.Done(*job, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE | DDV_DONE_MAPPED);
  Check(err == 0, "DONE_PICTURE | DONE_MAPPED accepted once exported");
  uint32_t index = 99;
  long bytes = client->DequeueCapture(2000, nullptr, &index);
  Check(bytes == static_cast<long>(job->dst.sizeimage) && index == job->dst_index &&
            client->CaptureMemory(index)[0] == 55 &&
            client->CaptureMemory(index)[job->dst.sizeimage - 1] == 55,
        "the client dequeues the buffer with the daemon's bytes, none copied by the kernel (" +
            std::to_string(bytes) + " bytes, index " + std::to_string(index) + ")");
  auto job2 = client->QueueOutput(2, 3000) ? daemon.NextDecode(2000) : std::nullopt;
  Check(job2 && job2->dst_index != job->dst_index && job2->dst_generation != job->dst_generation,
        "the next job's buffer has its own index and generation");
  if (job2) {
    err = daemon.Done(*job2, DDV_DONE_SRC_CONSUMED | DDV_DONE_MAPPED);
    Check(err == EINVAL, "DONE_MAPPED without a picture -> EINVAL");
    Check(daemon.Done(*job2, DDV_DONE_SRC_CONSUMED) == 0, "the job ends without a picture");
  }
  // The client frees its buffers; the daemon's mapping keeps the memory.
  client.reset();
  std::memset(mem, 66, job->dst.sizeimage);
  Check(mem[0] == 66 && mem[job->dst.sizeimage - 1] == 66,
        "the mapping outlives the client's close (its memory held, not freed under it)");
  munmap(mem, static_cast<size_t>(size));
}

// A client's own memory (USERPTR) cannot be handed to the daemon: its
// jobs are not flagged DST_EXPORT, EXPORT_DST refuses, and the kernel
// copies the daemon's picture in as before.
void CheckUserptrIsCopied(const std::string& dev) {
  FakeDaemon daemon;
  Client client(dev);
  Check(daemon.Open(), "fake daemon attached (HELLO for VP9)");
  auto job = StartDecoding(daemon, client, kFormat, 0, nullptr, V4L2_MEMORY_USERPTR);
  Check(job && !(job->flags & DDV_DECODE_DST_EXPORT),
        "a job with a USERPTR CAPTURE buffer is not flagged DST_EXPORT");
  if (!job) return;
  ddv_export_io io = {job->ctx_id, job->job_id, -1, 0};
  int err = ioctl(daemon.fd(), DDV_IOC_EXPORT_DST, &io) ? errno : 0;
  Check(err == EOPNOTSUPP, "EXPORT_DST of a USERPTR buffer -> EOPNOTSUPP (got " +
                               std::string(err ? std::strerror(err) : "an fd") + ")");
  bool done = daemon.WritePicture(*job, 44) == 0 &&
              daemon.Done(*job, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE) == 0;
  uint32_t index = 0;
  long bytes = client.DequeueCapture(2000, nullptr, &index);
  Check(done && bytes == kWidth * kHeight * 3 / 2 && client.CaptureMemory(index)[0] == 44,
        "the kernel copies the picture into the client's memory (first byte " +
            std::to_string(bytes > 0 ? client.CaptureMemory(index)[0] : -1) + ")");
}

// The benchmark's hook (debugfs skip_picture_copy): with it set, a picture
// is checked and accepted but not copied, so the client's buffer keeps
// what it had; cleared, the next picture is copied again.
void CheckSkipCopyHook(const std::string& dev) {
  const std::string hook = std::string(kDebugfs) + "skip_picture_copy";
  Check(ReadFile(hook) == "0", "debugfs skip_picture_copy is 0 after load: " + ReadFile(hook));
  FakeDaemon daemon;
  Client client(dev);
  Check(daemon.Open(), "fake daemon attached (HELLO for VP9)");
  auto job = StartDecoding(daemon, client);
  if (!job || !WriteFile(hook, "1")) {
    Check(false, "a job with a CAPTURE buffer, skip_picture_copy set");
    return;
  }
  bool done = daemon.WritePicture(*job, 99) == 0 &&
              daemon.Done(*job, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE) == 0;
  WriteFile(hook, "0");
  uint32_t index = 0;
  long bytes = client.DequeueCapture(2000, nullptr, &index);
  Check(done && bytes == kWidth * kHeight * 3 / 2 && client.CaptureMemory(index)[0] != 99,
        "hook set: the picture accepted, its buffer not written (first byte " +
            std::to_string(bytes > 0 ? client.CaptureMemory(index)[0] : -1) + ", the daemon's 99)");
  auto job2 = client.QueueOutput(2, 3000) ? daemon.NextDecode(2000) : std::nullopt;
  bool done2 = job2 && daemon.WritePicture(*job2, 98) == 0 &&
               daemon.Done(*job2, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE) == 0;
  bytes = client.DequeueCapture(2000, nullptr, &index);
  Check(done2 && bytes > 0 && client.CaptureMemory(index)[0] == 98,
        "hook cleared: the next picture is copied (first byte " +
            std::to_string(bytes > 0 ? client.CaptureMemory(index)[0] : -1) + ")");
}

// RGB CAPTURE (ABGR32, XBGR32): listed after the YUV formats for 8-bit
// streams (not for 10-bit ones), four bytes a pixel in one plane, full
// range; the daemon's picture goes in as one plane, its rows as they are.
void CheckRgbCapture(const std::string& dev) {
  {
    const ddv_stream_format ten_bit = {kWidth, kHeight, 10, 420, 2, 0};
    FakeDaemon daemon;
    Client client(dev);
    Check(daemon.Open() && StartDecoding(daemon, client, ten_bit).has_value(),
          "a 10-bit 4:2:0 stream decoding");
    Check(client.formats_at_change() == "P010",
          "its CAPTURE formats, no RGB: " + client.formats_at_change());
  }
  FakeDaemon daemon;
  Client client(dev);
  Check(daemon.Open(), "fake daemon attached (HELLO for VP9)");
  v4l2_pix_format_mplane cap = {};
  auto job = StartDecoding(daemon, client, kFormat, V4L2_PIX_FMT_ABGR32, &cap);
  Check(job.has_value(), "an 8-bit 4:2:0 stream decoding to ABGR32");
  Check(client.formats_at_change() == "YU12,NV12,AR24,XR24",
        "CAPTURE formats of an 8-bit 4:2:0 stream: " + client.formats_at_change());
  const uint32_t bpl = (kWidth * 4 + 63) / 64 * 64;
  Check(cap.plane_fmt[0].bytesperline == bpl && cap.plane_fmt[0].sizeimage == bpl * kHeight &&
            cap.quantization == V4L2_QUANTIZATION_FULL_RANGE,
        "ABGR32: " + std::to_string(cap.plane_fmt[0].bytesperline) + " bytes a row, " +
            std::to_string(cap.plane_fmt[0].sizeimage) + " a picture, quantization " +
            std::to_string(cap.quantization) + " (full range is 1)");
  if (!job) return;
  std::vector<uint8_t> rgb(kWidth * 4 * kHeight);
  for (size_t i = 0; i < rgb.size(); i++) rgb[i] = static_cast<uint8_t>(i * 7 + i / 256);
  Check(daemon.WritePacked(*job, rgb, kWidth * 4, 3) == EINVAL,
        "three planes for an RGB format -> EINVAL");
  Check(daemon.WritePacked(*job, rgb, kWidth * 4 - 4) == EINVAL,
        "rows shorter than width x 4 -> EINVAL");
  Check(daemon.WritePacked(*job, rgb, kWidth * 4) == 0, "the RGB picture written as one plane");
  Check(daemon.Done(*job, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE) == 0, "DONE_PICTURE");
  uint32_t index = 0;
  long bytes = client.DequeueCapture(2000, nullptr, &index);
  bool same = bytes == static_cast<long>(bpl * kHeight);
  for (uint32_t y = 0; same && y < kHeight; y++) {
    same = std::memcmp(client.CaptureMemory(index) + y * bpl, rgb.data() + y * kWidth * 4,
                       kWidth * 4) == 0;
  }
  Check(same, "the client gets the daemon's rows: " + std::to_string(bytes) + " bytes");
}

// The stream turns 10-bit while the client decodes it to ABGR32: the
// kernel falls back to P010, and its colorimetry is the OUTPUT's again
// (full range belongs to RGB, which the daemon expands as it converts).
void CheckRgbStreamTurnsTenBit(const std::string& dev) {
  FakeDaemon daemon;
  Client client(dev);
  Check(daemon.Open(), "fake daemon attached (HELLO for VP9)");
  auto job = StartDecoding(daemon, client, kFormat, V4L2_PIX_FMT_ABGR32);
  Check(job.has_value(), "an 8-bit 4:2:0 stream decoding to ABGR32");
  if (!job) return;
  const ddv_stream_format ten_bit = {kWidth, kHeight, 10, 420, 2, 0};
  Check(daemon.Done(*job, DDV_DONE_SRC_CONSUMED | DDV_DONE_FORMAT, &ten_bit) == 0,
        "the daemon says the stream is 10-bit now");
  uint32_t flags = 0;
  long bytes = client.DequeueCapture(2000, &flags);
  Check(bytes == 0 && (flags & V4L2_BUF_FLAG_LAST),
        "the client gets the empty LAST buffer (" + std::to_string(bytes) + " bytes)");
  v4l2_pix_format_mplane cap = client.Format(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);
  v4l2_pix_format_mplane out = client.Format(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE);
  Check(cap.pixelformat == V4L2_PIX_FMT_P010 && cap.quantization == out.quantization &&
            cap.ycbcr_enc == out.ycbcr_enc && cap.colorspace == out.colorspace,
        "CAPTURE falls back to " + std::string(reinterpret_cast<const char*>(&cap.pixelformat), 4) +
            " with the OUTPUT's quantization: " + std::to_string(cap.quantization) + " (OUTPUT " +
            std::to_string(out.quantization) + ")");
}

// The watchdog fires for job 1 while its answer is on the way; held by the
// test hook, it runs only once job 2 is with the daemon. It must not fail
// job 2, which is well within its own time.
void CheckStaleWatchdog(const std::string& dev) {
  const std::string timeout_param = std::string(kParams) + "job_timeout_ms";
  const std::string delay_hook = std::string(kDebugfs) + "watchdog_delay_ms";
  std::string old_timeout = ReadFile(timeout_param);
  bool hooked = WriteFile(timeout_param, "400") && WriteFile(delay_hook, "250");
  Check(hooked, "job_timeout_ms 400, debugfs watchdog_delay_ms 250");
  FakeDaemon daemon;
  Client client(dev);
  if (hooked && daemon.Open()) {
    auto job1 = StartDecoding(daemon, client);
    Check(job1.has_value() && client.QueueOutput(2, 3000), "job 1 with the daemon, job 2 queued");
    if (job1) {
      SleepMs(450);  // the watchdog fired at 400 ms and is held until 650
      bool answered = daemon.WritePicture(*job1, 1) == 0 &&
                      daemon.Done(*job1, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE) == 0;
      auto job2 = daemon.NextDecode(1000);
      SleepMs(350);  // job 2 is 350 ms old: the held watchdog has run
      bool job2_ok = job2 && daemon.WritePicture(*job2, 2) == 0 &&
                     daemon.Done(*job2, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE) == 0;
      Check(answered, "job 1 answered after its watchdog fired (its answer wins)");
      Check(job2_ok, "job 2, answered within its own timeout, completes: " +
                         std::string(job2_ok ? "yes" : std::strerror(errno)));
      long a = client.DequeueCapture(1000), b = client.DequeueCapture(1000);
      Check(a > 0 && b > 0, "both pictures reach the client (" + std::to_string(a) + ", " +
                                std::to_string(b) + ")");
    }
  }
  WriteFile(delay_hook, "0");
  WriteFile(timeout_param, old_timeout.empty() ? "5000" : old_timeout);
}

// A slow daemon is not a hung one: a job's time scales with its picture
// (job_timeout_ms per started 1920x1088), so a 4K job answered after twice
// job_timeout_ms completes (two clients' 4K streams failed that way in an
// emulated guest); a 4K job never answered still fails, within its own
// scaled time.
void CheckBigPictureTime(const std::string& dev) {
  const std::string timeout_param = std::string(kParams) + "job_timeout_ms";
  std::string old_timeout = ReadFile(timeout_param);
  const ddv_stream_format uhd = {3840, 2160, 8, 420, 2, 0};
  FakeDaemon daemon;
  Client client(dev);
  bool ready = WriteFile(timeout_param, "300") && daemon.Open();
  auto job = ready ? StartDecoding(daemon, client, uhd) : std::nullopt;
  Check(job.has_value(), "job_timeout_ms 300; a 3840x2160 stream's first job with the daemon");
  if (job) {
    SleepMs(700);  // beyond 300 ms, within 4 x 300 (3840x2160 is 4 started 1920x1088)
    int err = daemon.Done(*job, DDV_DONE_SRC_CONSUMED);
    Check(err == 0, "its answer after 700 ms is taken (" +
                        std::string(err ? std::strerror(err) : "accepted") + ")");
    bool queued = client.QueueOutput(2, 3000);
    auto next = queued ? daemon.NextDecode(2000) : std::nullopt;
    Check(next.has_value(), "the context goes on: the next job reaches the daemon");
    if (next) {
      auto sent = std::chrono::steady_clock::now();
      long got = client.DequeueCapture(5000);
      long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - sent)
                    .count();
      Check(got == -EIO && ms >= 1000 && ms < 3000,
            "a 4K job never answered fails the context after " + std::to_string(ms) +
                " ms (4 x 300 ms scaled; got " + std::to_string(got) + ")");
    }
  }
  WriteFile(timeout_param, old_timeout.empty() ? "5000" : old_timeout);
}

// A corrupt stream that never gives a picture, drained by a client that
// streams CAPTURE from the start (FFmpeg 5.1): the drain must end with a
// LAST buffer, since that client waits for one and ignores the EOS event.
void CheckDrainBeforeFormat(const std::string& dev) {
  FakeDaemon daemon;
  Client client(dev);
  bool ready = daemon.Open() && client.ok() && client.SetUpOutput() &&
               client.StreamCaptureEarly() && client.QueueOutput(0, 1000);
  Check(ready, "CAPTURE streaming before any format, one OUTPUT buffer queued");
  if (!ready) return;
  auto job = daemon.NextDecode(2000);
  bool corrupt = job && daemon.Done(*job, DDV_DONE_SRC_CONSUMED | DDV_DONE_ERROR) == 0;
  bool stopped = corrupt && client.Stop();
  auto drain = stopped ? daemon.NextDecode(2000) : std::nullopt;
  bool last = drain && daemon.Done(*drain, DDV_DONE_LAST) == 0;
  Check(last, "the only frame corrupt (no picture, no format), the drain answered LAST");
  uint32_t flags = 0;
  long bytes = last ? client.DequeueCapture(2000, &flags) : -1;
  Check(bytes == 0 && (flags & V4L2_BUF_FLAG_LAST),
        "the client gets an empty LAST CAPTURE buffer (" + std::to_string(bytes) + " bytes, " +
            ((flags & V4L2_BUF_FLAG_LAST) ? "LAST" : "no LAST") + ")");
}

// GStreamer 1.22 streams CAPTURE before the first SOURCE_CHANGE and, once
// it has the event, restarts CAPTURE: a picture decoded into a buffer of
// the old queue meanwhile is lost with it (seen in CI: v4l2vp8dec's first
// picture, "1 frames 0-0 left undrained"). Its capture thread waits in
// poll(POLLIN | POLLPRI); the answer's OUTPUT buffer wakes it just before
// the event is queued, and a poll that sees no event yet must not let
// decoding resume. The poller here spins and the trials are many, as the
// window is short: no job may reach the daemon before the client has
// taken the event.
void CheckEarlyCaptureWaitsForEvent(const std::string& dev) {
  constexpr int kTrials = 60;
  FakeDaemon daemon;
  if (!daemon.Open()) {
    Check(false, "fake daemon attached (HELLO for VP9)");
    return;
  }
  int ran = 0, early = 0, resumed = 0;
  for (int t = 0; t < kTrials; t++) {
    Client client(dev);
    if (!client.ok() || !client.SetUpOutput() || !client.StreamCaptureEarly() ||
        !client.QueueOutput(0, 1000) || !client.QueueOutput(1, 2000))
      break;
    std::atomic<bool> stop{false};
    // Polls without sleeping, so that one of its polls falls in the
    // kernel's answer whenever the answer has a window.
    std::thread poller([&] {
      pollfd p = {client.fd(), POLLIN | POLLPRI, 0};
      while (!stop) {
        if (poll(&p, 1, 0) == 1 && (p.revents & POLLPRI)) return;  // takes the event
      }
    });
    auto header = daemon.NextDecode(2000);
    bool answered =
        header && daemon.Done(*header, DDV_DONE_SRC_CONSUMED | DDV_DONE_FORMAT, &kFormat) == 0;
    // The client has not dequeued the event: any job now is too early.
    auto job = answered ? daemon.NextDecode(100) : std::nullopt;
    stop = true;
    poller.join();
    if (!answered) break;
    ran++;
    if (job) {
      early++;
      daemon.Done(*job, DDV_DONE_SRC_CONSUMED);  // so that the close need not wait
      continue;
    }
    // Once it took the event, a client that polls for pictures keeps its
    // buffers (FFmpeg 5.1 does): decoding resumes into them.
    v4l2_event ev = {};
    pollfd p = {client.fd(), POLLIN, 0};
    bool took = ioctl(client.fd(), VIDIOC_DQEVENT, &ev) == 0 &&
                ev.type == V4L2_EVENT_SOURCE_CHANGE && poll(&p, 1, 0) >= 0;
    auto next = took ? daemon.NextDecode(2000) : std::nullopt;
    if (next && (next->flags & DDV_DECODE_DST)) resumed++;
    if (next) daemon.Done(*next, DDV_DONE_SRC_CONSUMED);
  }
  Check(ran == kTrials && early == 0,
        "CAPTURE streaming from the start, a poller waiting: no job before the client took the "
        "first SOURCE_CHANGE (" +
            std::to_string(early) + " early in " + std::to_string(ran) + "/" +
            std::to_string(kTrials) + " trials)");
  Check(resumed == ran - early && ran > 0,
        "the client that took the event and polls keeps its CAPTURE buffers: a job with one "
        "follows (" +
            std::to_string(resumed) + "/" + std::to_string(ran - early) + ")");
}

// Two contexts' jobs are with the daemon at once (issue 15: mem2mem used
// to run one job for the whole device, so streams took turns), while each
// context still has one job at a time, in order: its next job is sent only
// once the daemon answered the one before.
void CheckContextsRunAtOnce(const std::string& dev) {
  FakeDaemon daemon;
  Client a(dev), b(dev);
  bool ready = daemon.Open() && a.ok() && b.ok() && a.SetUpOutput() && b.SetUpOutput() &&
               a.QueueOutput(0, 1000) && a.QueueOutput(1, 2000) && b.QueueOutput(0, 1000) &&
               b.QueueOutput(1, 2000);
  Check(ready, "two contexts, two OUTPUT buffers queued on each");
  if (!ready) return;
  std::vector<ddv_decode> jobs;
  while (auto job = daemon.NextDecode(1000)) jobs.push_back(*job);
  bool two_contexts = jobs.size() == 2 && jobs[0].ctx_id != jobs[1].ctx_id;
  Check(two_contexts, "both contexts' first jobs reach the daemon before either is answered (" +
                          std::to_string(jobs.size()) + " DECODEs, " +
                          (two_contexts ? "two contexts" : "one context") + ")");
  if (jobs.empty()) return;
  ddv_decode first = jobs[0];
  Check(daemon.Done(first, DDV_DONE_SRC_CONSUMED) == 0, "the first job answered");
  auto next = daemon.NextDecode(1000);
  Check(next && next->ctx_id == first.ctx_id && next->job_id == first.job_id + 1 &&
            next->src_timestamp == 2000000,
        "that context's next job follows its answer, in order");
  // Every job left answered, so that the clients close without waiting.
  for (size_t i = 1; i < jobs.size(); i++) daemon.Done(jobs[i], DDV_DONE_SRC_CONSUMED);
  if (next) daemon.Done(*next, DDV_DONE_SRC_CONSUMED);
  while (auto job = daemon.NextDecode(300)) daemon.Done(*job, DDV_DONE_SRC_CONSUMED);
}

// The kernel's counters, as the daemon reads them.
ddv_stats KernelStats(const FakeDaemon& daemon) {
  ddv_stats st = {};
  if (ioctl(daemon.fd(), DDV_IOC_GET_STATS, &st)) st = {};
  return st;
}

// A job the daemon never answers: the watchdog fails it and its context,
// and the kernel counts both (daedalus_kernel_jobs_timed_out_total and
// _streams_failed_total in /metrics come from these).
void CheckTimeoutCounted(const std::string& dev) {
  const std::string timeout_param = std::string(kParams) + "job_timeout_ms";
  std::string old_timeout = ReadFile(timeout_param);
  FakeDaemon daemon;
  Client client(dev);
  bool ready = WriteFile(timeout_param, "300") && daemon.Open();
  ddv_stats before = KernelStats(daemon);
  auto job = ready ? StartDecoding(daemon, client) : std::nullopt;
  Check(job.has_value(), "job_timeout_ms 300; a job the daemon will not answer");
  if (job) {
    long got = client.DequeueCapture(2000);
    ddv_stats after = KernelStats(daemon);
    Check(got == -EIO || got == 0,
          "the client's CAPTURE fails once the job timed out (" + std::to_string(got) + ")");
    Check(after.jobs_timed_out == before.jobs_timed_out + 1,
          "jobs_timed_out counts it: " + std::to_string(before.jobs_timed_out) + " -> " +
              std::to_string(after.jobs_timed_out));
    Check(after.streams_failed == before.streams_failed + 1,
          "streams_failed counts the failed context: " + std::to_string(before.streams_failed) +
              " -> " + std::to_string(after.streams_failed));
  }
  WriteFile(timeout_param, old_timeout.empty() ? "5000" : old_timeout);
}

// Fills the FIFO with HELLO_ACKs the daemon does not read: the number
// queued before the kernel said ENOBUFS, or -1 if it never did.
int FillFifo(FakeDaemon& daemon) {
  for (int queued = 0; queued <= DDV_FIFO_CAPACITY; queued++) {
    int err = daemon.Hello(100 + queued);
    if (err) return err == ENOBUFS ? queued : -1;
  }
  return -1;
}

// Reads everything queued; counts the FLUSH and CTX_CLOSE of ctx_id.
void CountCtxMessages(FakeDaemon& daemon, uint32_t ctx_id, int* flushes, int* closes) {
  while (auto m = daemon.Next(200)) {
    auto c = m->As<ddv_ctx_msg>();
    if (c.ctx_id != ctx_id) continue;
    *flushes += m->hdr.type == DDV_MSG_FLUSH;
    *closes += m->hdr.type == DDV_MSG_CTX_CLOSE;
  }
}

// A seek (STREAMOFF OUTPUT) and a close while the FIFO is full: the daemon
// must still hear of both, or it shows old pictures after the seek and
// keeps a decoder for a context that is gone.
void CheckCtxMessagesWhenFull(const std::string& dev) {
  FakeDaemon daemon;
  Client client(dev);
  Check(daemon.Open(), "fake daemon attached");
  auto job = StartDecoding(daemon, client);
  if (!job) {
    Check(false, "a context the daemon has seen");
    return;
  }
  daemon.WritePicture(*job, 3);
  daemon.Done(*job, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE);
  int filled = FillFifo(daemon);
  Check(filled >= 0, "FIFO full: " + std::to_string(filled) + " HELLO_ACKs queued, then ENOBUFS");
  bool off = client.StreamOff(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE);
  client.Close();
  int flushes = 0, closes = 0;
  CountCtxMessages(daemon, job->ctx_id, &flushes, &closes);
  Check(off && flushes >= 1, "the seek's FLUSH reached the daemon through a full FIFO (" +
                                 std::to_string(flushes) + ")");
  Check(closes == 1, "the close's CTX_CLOSE reached the daemon through a full FIFO (" +
                         std::to_string(closes) + ")");
}

// A daemon that closes the chardev and a new one that opens it at once
// (systemd's restart): the old daemon's clean-up, held by the test hook,
// must not fail what the new daemon serves.
void CheckQuickReattach(const std::string& dev) {
  const std::string hook = std::string(kDebugfs) + "detach_delay_ms";
  auto old_daemon = std::make_unique<FakeDaemon>();
  Check(old_daemon->Open() && WriteFile(hook, "600"), "a daemon attached; detach_delay_ms 600");
  std::thread closer([&old_daemon] { old_daemon.reset(); });
  SleepMs(100);  // the old daemon's close is in progress
  FakeDaemon daemon;
  bool attached = daemon.Open();
  Client client(dev);
  auto job = attached ? StartDecoding(daemon, client) : std::nullopt;
  closer.join();
  WriteFile(hook, "0");
  SleepMs(100);
  bool decoded = job && daemon.WritePicture(*job, 5) == 0 &&
                 daemon.Done(*job, DDV_DONE_SRC_CONSUMED | DDV_DONE_PICTURE) == 0 &&
                 client.DequeueCapture(1000) > 0;
  Check(attached && decoded, "the new daemon's context decodes after the old one's clean-up: " +
                                 std::string(decoded ? "yes" : std::strerror(errno)));
}

// A job that starts while a daemon whose streams are kept is going away
// (its close in progress, held by detach_delay_ms; its contexts not kept
// yet) goes to the next daemon instead of failing its context: an arm64
// CI run lost an HEVC stream to "context failed (-107): no daemon" in that
// window, once contexts started jobs on their own.
void CheckJobWhileTheDaemonGoes(const std::string& dev) {
  const std::string hook = std::string(kDebugfs) + "detach_delay_ms";
  auto old_daemon = std::make_unique<FakeDaemon>();
  Client client(dev);
  bool ready = old_daemon->Open(DDV_HELLO_RECOVERY) && client.ok() && client.SetUpOutput() &&
               client.QueueOutput(0, 1000);
  auto first = ready ? old_daemon->NextDecode(2000) : std::nullopt;
  ready = first && old_daemon->Done(*first, DDV_DONE_SRC_CONSUMED) == 0 && WriteFile(hook, "400");
  Check(ready, "a daemon keeping its streams answered a context's first job; detach_delay_ms 400");
  if (!ready) return;
  std::thread closer([&old_daemon] { old_daemon.reset(); });
  SleepMs(100);  // the close is in progress: detached, contexts not kept yet
  bool queued = client.QueueOutput(1, 2000);
  closer.join();
  WriteFile(hook, "0");
  FakeDaemon daemon;
  bool attached = daemon.Open(DDV_HELLO_RECOVERY);
  auto job = attached ? daemon.NextDecode(2000) : std::nullopt;
  Check(queued && job && (job->flags & DDV_DECODE_RESUME) && job->src_timestamp == 2000000,
        "the job started meanwhile reaches the next daemon, flagged RESUME (" +
            std::string(!job ? "no DECODE: the context failed" : "got it") + ")");
  if (job) daemon.Done(*job, DDV_DONE_SRC_CONSUMED);
}

// REQBUFS of one OUTPUT buffer: 0 or the errno.
int RequestOutput(int fd) {
  v4l2_requestbuffers rb = {};
  rb.count = 1;
  rb.type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
  rb.memory = V4L2_MEMORY_MMAP;
  return ioctl(fd, VIDIOC_REQBUFS, &rb) == 0 ? 0 : errno;
}

// max_contexts bounds the contexts that decode (have OUTPUT buffers), not
// the opens, which V4L2 clients expect to be unlimited: with 3, five opens
// succeed, the fourth and fifth REQBUFS get EBUSY (logged once), and a
// close makes room again.
void CheckContextLimit(const std::string& dev) {
  const std::string param = std::string(kParams) + "max_contexts";
  std::string old_limit = ReadFile(param);
  Check(WriteFile(param, "3"), "max_contexts 3");
  std::vector<int> fds;
  for (int i = 0; i < 5; i++) fds.push_back(open(dev.c_str(), O_RDWR));
  bool opened = true;
  for (int fd : fds) opened = opened && fd >= 0;
  Check(opened, "five opens succeed (opens are not limited)");
  std::vector<int> errs;
  for (int fd : fds) errs.push_back(fd >= 0 ? RequestOutput(fd) : EBADF);
  Check(errs[0] == 0 && errs[1] == 0 && errs[2] == 0 && errs[3] == EBUSY && errs[4] == EBUSY,
        "three contexts get OUTPUT buffers; the fourth and fifth REQBUFS get EBUSY");
  close(fds[0]);
  fds[0] = -1;
  Check(RequestOutput(fds[3]) == 0, "a close makes room for one more");
  for (int fd : fds) {
    if (fd >= 0) close(fd);
  }
  WriteFile(param, old_limit.empty() ? "32" : old_limit);
}

// OUTPUT buffers of `size` bytes on a fresh handle (MMAP): how many the
// node gave, or -errno.
int RequestBig(int fd, uint32_t size, uint32_t count) {
  v4l2_format f = Vp9Output(size);
  v4l2_requestbuffers rb = daedalus::testing::MmapRequest(f.type, count);
  if (ioctl(fd, VIDIOC_S_FMT, &f) || ioctl(fd, VIDIOC_REQBUFS, &rb)) return -errno;
  return static_cast<int>(rb.count);
}

// Buffers are kernel memory: all contexts together hold at most
// max_buffer_mb of MMAP buffers (an unprivileged fuzzing client once ran
// the arm64 guest out of memory with 64 buffers of 16 MiB per handle).
// With 64 MiB: 8 buffers of 16 MiB asked, 4 given; a second handle gets
// ENOMEM; a CREATE_BUFS of 1 GiB gets ENOMEM; a close makes room again.
void CheckBufferBudget(const std::string& dev) {
  const std::string param = std::string(kParams) + "max_buffer_mb";
  std::string old_limit = ReadFile(param);
  Check(WriteFile(param, "64"), "max_buffer_mb 64");
  constexpr uint32_t k16MiB = 16u << 20;
  int a = open(dev.c_str(), O_RDWR), b = open(dev.c_str(), O_RDWR);
  int got_a = a >= 0 ? RequestBig(a, k16MiB, 8) : -EBADF;
  int got_b = b >= 0 ? RequestBig(b, k16MiB, 2) : -EBADF;
  Check(got_a == 4,
        "8 OUTPUT buffers of 16 MiB asked, " + std::to_string(got_a) + " given (4 fit in 64 MiB)");
  Check(got_b == -ENOMEM,
        "a second handle's 2 more: " + std::string(got_b < 0 ? std::strerror(-got_b) : "given") +
            " (want ENOMEM)");
  v4l2_create_buffers cb = {};
  cb.count = 1;
  cb.memory = V4L2_MEMORY_MMAP;
  cb.format.type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
  if (a >= 0) ioctl(a, VIDIOC_G_FMT, &cb.format);
  cb.format.fmt.pix_mp.plane_fmt[0].sizeimage = 1u << 30;
  int created = a >= 0 ? ioctl(a, VIDIOC_CREATE_BUFS, &cb) : -1;
  Check(created != 0 && errno == ENOMEM,
        "CREATE_BUFS of one 1 GiB buffer: " +
            std::string(created == 0 ? "created" : std::strerror(errno)) + " (want ENOMEM)");
  if (a >= 0) close(a);
  got_b = b >= 0 ? RequestBig(b, k16MiB, 2) : -EBADF;
  Check(got_b == 2,
        "after the first handle's close, the second gets its 2 (" + std::to_string(got_b) + ")");
  if (b >= 0) close(b);
  WriteFile(param, old_limit.empty() ? "0" : old_limit);
}

std::string FindNode();

// Run in the background of an insmod: attaches the moment the chardev
// appears and announces VP9 only. Had the chardev come up before the
// decoder node's side of the module, the HELLO's codec list would be
// lost and the node would offer every codec.
int AttachAtLoad() {
  FakeDaemon daemon;
  bool attached = false;
  for (int i = 0; i < 20000 && !attached; i++) {
    attached = daemon.Open();
    if (!attached) std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  Check(attached, "attached as the module loaded");
  std::string dev;
  for (int i = 0; i < 500 && dev.empty(); i++) {
    dev = FindNode();
    if (dev.empty()) SleepMs(10);
  }
  std::string offered;
  int fd = open(dev.c_str(), O_RDWR);
  for (v4l2_fmtdesc d = {0, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE};
       fd >= 0 && ioctl(fd, VIDIOC_ENUM_FMT, &d) == 0; d.index++) {
    offered += std::string(offered.empty() ? "" : ",") +
               std::string(reinterpret_cast<const char*>(&d.pixelformat), 4);
  }
  if (fd >= 0) close(fd);
  Check(offered == "VP90", "the node offers what the HELLO announced: " + offered);
  std::printf("job_check: %d checks passed, %d failed\n", g_passed, g_failed);
  return g_failed ? 1 : 0;
}

std::string FindNode() {
  for (int i = 0; i < 64; i++) {
    std::string base = "/sys/class/video4linux/video" + std::to_string(i);
    if (ReadFile(base + "/name") == "daedalus-dec") return "/dev/video" + std::to_string(i);
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--attach-at-load") return AttachAtLoad();
  std::string dev = argc > 1 ? argv[1] : FindNode();
  if (dev.empty()) {
    std::printf("FAIL no daedalus-dec node\njob_check: 0 checks passed, 1 failed\n");
    return 1;
  }
  CheckPictureNeverWritten(dev);
  CheckPictureThroughExport(dev);
  CheckUserptrIsCopied(dev);
  CheckSkipCopyHook(dev);
  CheckRgbCapture(dev);
  CheckRgbStreamTurnsTenBit(dev);
  CheckContextsRunAtOnce(dev);
  CheckStaleWatchdog(dev);
  CheckTimeoutCounted(dev);
  CheckBigPictureTime(dev);
  CheckDrainBeforeFormat(dev);
  CheckEarlyCaptureWaitsForEvent(dev);
  CheckCtxMessagesWhenFull(dev);
  CheckQuickReattach(dev);
  CheckJobWhileTheDaemonGoes(dev);
  CheckContextLimit(dev);
  CheckBufferBudget(dev);
  std::printf("job_check: %d checks passed, %d failed\n", g_passed, g_failed);
  return g_failed ? 1 : 0;
}
