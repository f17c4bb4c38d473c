// SPDX-License-Identifier: BSD-2-Clause
//
// Decoder: a client of the decoder node on the raw V4L2 API, following
// dev-decoder.rst: OUTPUT set up first, CAPTURE on each SOURCE_CHANGE,
// DEC_CMD_STOP at the end, until the LAST buffer. Either queue can use MMAP,
// USERPTR (page-aligned anonymous memory) or DMABUF (buffers exported with
// EXPBUF from a second handle on the same node). Used by v4l2_check
// (behaviour), codec_check (every codec) and codec_bench (speed).
//
//   Decoder d("/dev/video0");
//   Result r = d.Run(frames, width, height);
//   // r.md5: planar MD5 of each picture; r.latency_ms: QBUF to DQBUF

#ifndef DAEDALUS_TESTS_V4L2_DECODER_H_
#define DAEDALUS_TESTS_V4L2_DECODER_H_

#include <fcntl.h>
#include <linux/daedalus-v4l2.h>  // V4L2 formats the 6.1 headers lack
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/test_stream.h"
#include "tests/v4l2_structs.h"

namespace daedalus::testing {

// One buffer's memory as this process sees it.
struct Mapping {
  void* addr = MAP_FAILED;
  size_t len = 0;
  int dmabuf = -1;  // DMABUF: the exported fd queued with the buffer
};

struct Result {
  std::vector<std::string> md5;
  std::vector<uint64_t> timestamps;
  std::vector<uint32_t> fields;  // per picture: the v4l2_field the node set
  int out_errors = 0;
  int cap_errors = 0;
  int source_changes = 0;
  bool last = false;
  bool eos_event = false;
  bool epipe_after_last = false;
  bool fatal = false;  // EIO: the context failed
  std::string error;
  std::vector<double> latency_ms;     // per picture: its OUTPUT QBUF to its DQBUF
  std::vector<uint32_t> cap_formats;  // the CAPTURE format of each SOURCE_CHANGE
  // When each picture was dequeued (benchmarks, recovery_check).
  std::vector<std::chrono::steady_clock::time_point> picture_at;
};

// Moments of a run a test may act at (Options::on_moment).
enum class Moment { kPicture, kDrainStarted, kSourceChange };

struct Options {
  int close_after = -1;  // close the fd after this many pictures
  int seek_after = -1;   // STREAMOFF/ON OUTPUT and restart after this many
  size_t seek_to = 0;    // frame to restart at
  uint32_t out_memory = V4L2_MEMORY_MMAP;
  uint32_t cap_memory = V4L2_MEMORY_MMAP;
  bool hash = true;                   // false: pictures are counted, not hashed (benchmarks)
  int requeue_delay_ms = 0;           // hold each picture this long before requeueing
                                      // its buffer, like a slow renderer
  uint32_t codec = V4L2_PIX_FMT_VP9;  // the OUTPUT format
  // CAPTURE format to choose after SOURCE_CHANGE if ENUM_FMT lists it;
  // 0 keeps the node's choice (G_FMT).
  uint32_t cap_format = 0;
  // Called on the run's thread at each Moment: a picture dequeued, the
  // drain sent (DEC_CMD_STOP), a mid-stream SOURCE_CHANGE taken.
  std::function<void(Moment)> on_moment;
};

// The picture in a CAPTURE buffer of format `f` as planar samples at the
// picture's size (16-bit little-endian ones for more than 8 bits), the
// way the reference MD5s are taken; RGB as its B, G, R and A bytes per
// pixel (XBGR32's X left out: its value is undefined); empty for a format
// this does not know.
inline std::vector<uint8_t> PlanarPicture(const uint8_t* buf, const v4l2_pix_format_mplane& f) {
  enum Order { kPlanar, kSemiPlanar, kPacked, kRgb };  // packed: Y0 Cb Y1 Cr per pixel pair
  struct Layout {
    uint32_t fourcc, bytes, depth, hsub, vsub;
    Order order;
  };
  static constexpr Layout kLayouts[] = {
      {V4L2_PIX_FMT_YUV420, 1, 8, 2, 2, kPlanar},    {V4L2_PIX_FMT_NV12, 1, 8, 2, 2, kSemiPlanar},
      {V4L2_PIX_FMT_YUV422P, 1, 8, 2, 1, kPlanar},   {V4L2_PIX_FMT_NV16, 1, 8, 2, 1, kSemiPlanar},
      {V4L2_PIX_FMT_NV24, 1, 8, 1, 1, kSemiPlanar},  {V4L2_PIX_FMT_P010, 2, 10, 2, 2, kSemiPlanar},
      {V4L2_PIX_FMT_P012, 2, 12, 2, 2, kSemiPlanar}, {V4L2_PIX_FMT_Y210, 2, 10, 2, 1, kPacked},
      {V4L2_PIX_FMT_Y212, 2, 12, 2, 1, kPacked},     {V4L2_PIX_FMT_ABGR32, 4, 8, 1, 1, kRgb},
      {V4L2_PIX_FMT_XBGR32, 4, 8, 1, 1, kRgb},
  };
  const Layout* l = nullptr;
  for (const Layout& k : kLayouts) {
    if (k.fourcc == f.pixelformat) l = &k;
  }
  std::vector<uint8_t> out;
  if (!l) return out;
  uint32_t w = f.width, h = f.height, bpl = f.plane_fmt[0].bytesperline;
  uint32_t cw = (w + l->hsub - 1) / l->hsub, ch = (h + l->vsub - 1) / l->vsub;
  uint32_t cs = l->order == kSemiPlanar ? bpl * 2 / l->hsub : bpl / l->hsub;
  // More than 8 bits: the sample sits in the high bits of 16.
  auto put = [&](const uint8_t* sample) {
    if (l->bytes == 1) {
      out.push_back(*sample);
      return;
    }
    uint16_t v = static_cast<uint16_t>((sample[0] | sample[1] << 8) >> (16 - l->depth));
    out.push_back(static_cast<uint8_t>(v));
    out.push_back(static_cast<uint8_t>(v >> 8));
  };
  if (l->order == kRgb) {
    const uint32_t keep = f.pixelformat == V4L2_PIX_FMT_ABGR32 ? 4 : 3;
    for (uint32_t y = 0; y < h; y++) {
      for (uint32_t x = 0; x < w; x++) {
        const uint8_t* px = buf + static_cast<size_t>(y) * bpl + 4 * x;
        out.insert(out.end(), px, px + keep);
      }
    }
    return out;
  }
  if (l->order == kPacked) {
    for (uint32_t y = 0; y < h; y++) {
      for (uint32_t x = 0; x < w; x++) put(buf + y * bpl + (x / 2 * 4 + x % 2 * 2) * l->bytes);
    }
    for (uint32_t p = 0; p < 2; p++) {
      for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < cw; x++) put(buf + y * bpl + (x * 4 + 1 + 2 * p) * l->bytes);
      }
    }
    return out;
  }
  for (uint32_t y = 0; y < h; y++) {
    for (uint32_t x = 0; x < w; x++) put(buf + y * bpl + x * l->bytes);
  }
  const uint8_t* c = buf + static_cast<size_t>(bpl) * h;
  for (uint32_t p = 0; p < 2; p++) {
    for (uint32_t y = 0; y < ch; y++) {
      for (uint32_t x = 0; x < cw; x++) {
        if (l->order == kSemiPlanar) {
          put(c + y * cs + (2 * x + p) * l->bytes);
        } else {
          put(c + (p * ch + y) * cs + x * l->bytes);
        }
      }
    }
  }
  return out;
}

inline const char* MemoryName(uint32_t memory) {
  switch (memory) {
    case V4L2_MEMORY_MMAP:
      return "MMAP";
    case V4L2_MEMORY_USERPTR:
      return "USERPTR";
    case V4L2_MEMORY_DMABUF:
      return "DMABUF";
  }
  return "?";
}

class Decoder {
 public:
  explicit Decoder(const char* dev) : dev_(dev) {
    fd_ = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  }
  ~Decoder() { Close(); }
  bool ok() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    // After the close: the queues no longer hold USERPTR pages or dmabufs.
    Release(out_maps_);
    Release(cap_maps_);
    for (int fd : exporters_) close(fd);
    exporters_.clear();
  }

  Result Run(const std::vector<CompressedFrame>& frames, int width, int height,
             const Options& opt = {}) {
    Result r;
    opt_ = opt;
    if (!Setup(width, height, r)) return r;
    size_t next = 0;
    int queued = 0;
    bool stopped = false, seeked = false;
    int idle_errs = 0;
    for (uint32_t i = 0; i < out_maps_.size() && next < frames.size(); i++) {
      if (!QueueOutput(i, frames[next], next)) return Fail(r, "QBUF OUTPUT");
      next++;
      queued++;
    }
    if (!StreamOn(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE)) return Fail(r, "STREAMON OUTPUT");
    while (!r.last) {
      if (!stopped && next >= frames.size() && queued == 0) {
        v4l2_decoder_cmd cmd = {};
        cmd.cmd = V4L2_DEC_CMD_STOP;
        if (ioctl(fd_, VIDIOC_DECODER_CMD, &cmd) < 0) return Fail(r, "DEC_CMD_STOP");
        stopped = true;
        if (opt_.on_moment) opt_.on_moment(Moment::kDrainStarted);
      }
      pollfd p = {fd_, POLLIN | POLLOUT | POLLPRI, 0};
      int n = poll(&p, 1, 20000);
      if (n <= 0) return Fail(r, "timeout waiting for the decoder");
      // mem2mem reports POLLERR too when no OUTPUT buffer is queued and
      // CAPTURE does not stream: a short stream whose buffers were all
      // consumed before the first picture came out. The queues tell a
      // failed context apart (their ioctls fail with EIO).
      if (p.revents & POLLERR) {
        if (++idle_errs > 20000) return Fail(r, "timeout: POLLERR and nothing to do for 20 s");
        // Let the drain job run rather than spin.
        if (!(p.revents & (POLLPRI | POLLOUT | POLLIN))) usleep(1000);
        p.revents |= POLLOUT;
      } else {
        idle_errs = 0;
      }
      if (p.revents & POLLPRI) {
        if (!HandleEvents(r)) return r;
        // Drained before any picture (a stream that shows none, e.g. a
        // corrupt one): EOS without a CAPTURE queue to carry a LAST buffer.
        if (r.eos_event && cap_maps_.empty()) return r;
      }
      if (p.revents & POLLOUT) {
        uint32_t index;
        int st = DequeueOutput(&index, r);
        if (st < 0) return r;
        if (st > 0) {
          queued--;
          if (next < frames.size()) {
            if (!QueueOutput(index, frames[next], next)) return Fail(r, "QBUF OUTPUT");
            next++;
            queued++;
          }
        }
      }
      if (p.revents & POLLIN) {
        int st = DequeueCapture(r);
        if (st < 0) return r;
      }
      if (opt.close_after >= 0 && static_cast<int>(r.md5.size()) >= opt.close_after) {
        Close();
        return r;
      }
      if (!seeked && opt.seek_after >= 0 && static_cast<int>(r.md5.size()) >= opt.seek_after) {
        // Seek: drop everything queued, restart at seek_to.
        seeked = true;
        int type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
        if (ioctl(fd_, VIDIOC_STREAMOFF, &type) < 0) return Fail(r, "STREAMOFF OUTPUT");
        next = opt.seek_to;
        queued = 0;
        for (uint32_t i = 0; i < out_maps_.size() && next < frames.size(); i++) {
          if (!QueueOutput(i, frames[next], next)) return Fail(r, "QBUF OUTPUT after seek");
          next++;
          queued++;
        }
        if (!StreamOn(type)) return Fail(r, "STREAMON OUTPUT after seek");
      }
    }
    // After LAST, DQBUF must say EPIPE.
    v4l2_plane planes[1] = {};
    v4l2_buffer b = Buffer(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, opt_.cap_memory, 0, planes);
    r.epipe_after_last = ioctl(fd_, VIDIOC_DQBUF, &b) < 0 && errno == EPIPE;
    // An EOS event follows the LAST buffer.
    HandleEvents(r);
    return r;
  }

 private:
  // A single-plane buffer descriptor; `planes` must outlive it.
  static v4l2_buffer Buffer(uint32_t type, uint32_t memory, uint32_t index, v4l2_plane* planes) {
    v4l2_buffer b = {};
    b.type = type;
    b.memory = memory;
    b.index = index;
    b.m.planes = planes;
    b.length = 1;
    return b;
  }

  // What QBUF needs besides the index: the memory itself unless MMAP.
  static v4l2_buffer QueueBuffer(uint32_t type, uint32_t memory, uint32_t index, const Mapping& m,
                                 v4l2_plane* planes) {
    v4l2_buffer b = Buffer(type, memory, index, planes);
    if (memory == V4L2_MEMORY_USERPTR) {
      planes[0].m.userptr = reinterpret_cast<unsigned long>(m.addr);
      planes[0].length = static_cast<uint32_t>(m.len);
    } else if (memory == V4L2_MEMORY_DMABUF) {
      planes[0].m.fd = m.dmabuf;
      planes[0].length = static_cast<uint32_t>(m.len);
    }
    return b;
  }

  static void Release(std::vector<Mapping>& maps) {
    for (auto& m : maps) {
      if (m.addr != MAP_FAILED) munmap(m.addr, m.len);
      if (m.dmabuf >= 0) close(m.dmabuf);
    }
    maps.clear();
  }

  static Result& Fail(Result& r, const std::string& what) {
    if (errno == EIO) r.fatal = true;
    r.error = what + ": " + std::strerror(errno);
    return r;
  }

  bool StreamOn(int type) { return ioctl(fd_, VIDIOC_STREAMON, &type) == 0; }

  bool Setup(int width, int height, Result& r) {
    if (fd_ < 0) return Fail(r, "open"), false;
    for (uint32_t type : {V4L2_EVENT_SOURCE_CHANGE, V4L2_EVENT_EOS}) {
      v4l2_event_subscription sub = {};
      sub.type = type;
      if (ioctl(fd_, VIDIOC_SUBSCRIBE_EVENT, &sub) < 0) return Fail(r, "SUBSCRIBE_EVENT"), false;
    }
    v4l2_format f = CompressedFormat(opt_.codec, width, height);
    if (ioctl(fd_, VIDIOC_S_FMT, &f) < 0) return Fail(r, "S_FMT OUTPUT"), false;
    if (f.fmt.pix_mp.pixelformat != opt_.codec) {
      errno = EINVAL;
      return Fail(r, "the node does not offer the codec"), false;
    }
    return Allocate(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, opt_.out_memory, 4,
                    f.fmt.pix_mp.plane_fmt[0].sizeimage, out_maps_, r);
  }

  bool Allocate(uint32_t type, uint32_t memory, uint32_t count, uint32_t size,
                std::vector<Mapping>& maps, Result& r) {
    if (memory == V4L2_MEMORY_MMAP) return MapBuffers(fd_, type, count, maps, r);
    v4l2_requestbuffers req = {};
    req.type = type;
    req.memory = memory;
    req.count = count;
    if (ioctl(fd_, VIDIOC_REQBUFS, &req) < 0) return Fail(r, "REQBUFS"), false;
    if (memory == V4L2_MEMORY_DMABUF) return Export(req.count, size, maps, r);
    for (uint32_t i = 0; i < req.count; i++) {
      Mapping m;
      m.len = size;
      m.addr = mmap(nullptr, m.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m.addr == MAP_FAILED) return Fail(r, "mmap anonymous"), false;
      maps.push_back(m);
    }
    return true;
  }

  // MMAP buffers of `fd`'s queue `type`, mapped into `maps`.
  bool MapBuffers(int fd, uint32_t type, uint32_t count, std::vector<Mapping>& maps, Result& r) {
    v4l2_requestbuffers req = MmapRequest(type, count);
    if (ioctl(fd, VIDIOC_REQBUFS, &req) < 0) return Fail(r, "REQBUFS"), false;
    for (uint32_t i = 0; i < req.count; i++) {
      v4l2_plane planes[1] = {};
      v4l2_buffer b = Buffer(type, V4L2_MEMORY_MMAP, i, planes);
      if (ioctl(fd, VIDIOC_QUERYBUF, &b) < 0) return Fail(r, "QUERYBUF"), false;
      Mapping m;
      m.len = planes[0].length;
      m.addr = mmap(nullptr, m.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, planes[0].m.mem_offset);
      if (m.addr == MAP_FAILED) return Fail(r, "mmap"), false;
      maps.push_back(m);
    }
    return true;
  }

  // DMABUF memory: `count` MMAP buffers of at least `size` bytes on the
  // OUTPUT queue of a second handle, exported with EXPBUF. The exporting
  // handle stays open until Close().
  bool Export(uint32_t count, uint32_t size, std::vector<Mapping>& maps, Result& r) {
    int ex = open(dev_.c_str(), O_RDWR | O_CLOEXEC);
    if (ex < 0) return Fail(r, "open the exporter"), false;
    exporters_.push_back(ex);
    v4l2_format f = CompressedFormat(opt_.codec, 0, 0, size);
    if (ioctl(ex, VIDIOC_S_FMT, &f) < 0) return Fail(r, "exporter S_FMT"), false;
    if (!MapBuffers(ex, f.type, count, maps, r)) return false;
    if (maps.size() != count) {
      errno = ENOSPC;
      return Fail(r, "exporter gave another number of buffers"), false;
    }
    for (uint32_t i = 0; i < count; i++) {
      if (maps[i].len < size) {
        errno = ENOSPC;
        return Fail(r, "exporter buffer smaller than sizeimage"), false;
      }
      v4l2_exportbuffer e = {};
      e.type = f.type;
      e.index = i;
      e.flags = O_RDWR | O_CLOEXEC;
      if (ioctl(ex, VIDIOC_EXPBUF, &e) < 0) return Fail(r, "EXPBUF"), false;
      maps[i].dmabuf = e.fd;
    }
    return true;
  }

  bool QueueOutput(uint32_t index, const CompressedFrame& frame, size_t number) {
    if (frame.data.size() > out_maps_[index].len) return false;
    std::memcpy(out_maps_[index].addr, frame.data.data(), frame.data.size());
    v4l2_plane planes[1] = {};
    v4l2_buffer b = QueueBuffer(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, opt_.out_memory, index,
                                out_maps_[index], planes);
    planes[0].bytesused = static_cast<uint32_t>(frame.data.size());
    b.timestamp.tv_sec = static_cast<long>(number + 1);  // frame n at second n+1
    queued_at_[number + 1] = std::chrono::steady_clock::now();
    return ioctl(fd_, VIDIOC_QBUF, &b) == 0;
  }

  // 1: dequeued one; 0: none ready; -1: error (in r).
  int DequeueOutput(uint32_t* index, Result& r) {
    v4l2_plane planes[1] = {};
    v4l2_buffer b = Buffer(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, opt_.out_memory, 0, planes);
    if (ioctl(fd_, VIDIOC_DQBUF, &b) < 0) {
      if (errno == EAGAIN) return 0;
      Fail(r, "DQBUF OUTPUT");
      return -1;
    }
    if (b.flags & V4L2_BUF_FLAG_ERROR) r.out_errors++;
    *index = b.index;
    return 1;
  }

  int DequeueCapture(Result& r) {
    v4l2_plane planes[1] = {};
    v4l2_buffer b = Buffer(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, opt_.cap_memory, 0, planes);
    if (ioctl(fd_, VIDIOC_DQBUF, &b) < 0) {
      if (errno == EAGAIN) return 0;
      if (errno == EPIPE) return EndOfSequence(r) ? 0 : -1;
      Fail(r, "DQBUF CAPTURE");
      return -1;
    }
    if (b.flags & V4L2_BUF_FLAG_ERROR) r.cap_errors++;
    if (planes[0].bytesused > 0) {
      r.picture_at.push_back(std::chrono::steady_clock::now());
      r.md5.push_back(opt_.hash ? PictureMd5(static_cast<const uint8_t*>(cap_maps_[b.index].addr))
                                : "");
      r.timestamps.push_back(static_cast<uint64_t>(b.timestamp.tv_sec) * 1000000 +
                             b.timestamp.tv_usec);
      r.fields.push_back(b.field);
      auto it = queued_at_.find(b.timestamp.tv_sec);
      if (it != queued_at_.end()) {
        r.latency_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - it->second)
                .count());
      }
      if (opt_.on_moment) opt_.on_moment(Moment::kPicture);
    }
    if (b.flags & V4L2_BUF_FLAG_LAST) return EndOfSequence(r) ? 1 : -1;
    if (opt_.requeue_delay_ms > 0) usleep(opt_.requeue_delay_ms * 1000);
    b = QueueBuffer(b.type, b.memory, b.index, cap_maps_[b.index], planes);
    if (ioctl(fd_, VIDIOC_QBUF, &b) < 0) {
      Fail(r, "QBUF CAPTURE");
      return -1;
    }
    return 1;
  }

  // A LAST buffer (or EPIPE) ends a sequence: a resolution change if a
  // SOURCE_CHANGE is pending (the event may be taken only now), else the
  // drain. After a resolution change, CAPTURE is set up again.
  bool EndOfSequence(Result& r) {
    if (!HandleEvents(r)) return false;
    if (!reconfigure_pending_) {
      r.last = true;
      return true;
    }
    reconfigure_pending_ = false;
    return ReconfigureCapture(r);
  }

  // The CAPTURE buffer hashed like the reference: planar, no padding.
  std::string PictureMd5(const uint8_t* buf) {
    std::vector<uint8_t> planar = PlanarPicture(buf, cap_fmt_.fmt.pix_mp);
    if (planar.empty()) return "unknown CAPTURE format";
    return Md5Hex(planar.data(), planar.size());
  }

  bool HandleEvents(Result& r) {
    v4l2_event ev;
    while (ioctl(fd_, VIDIOC_DQEVENT, &ev) == 0) {
      if (ev.type == V4L2_EVENT_EOS) r.eos_event = true;
      if (ev.type == V4L2_EVENT_SOURCE_CHANGE) {
        r.source_changes++;
        // The first one: set CAPTURE up now. Later ones: first dequeue the
        // pictures of the old size, up to the LAST buffer.
        if (cap_maps_.empty()) {
          if (!ReconfigureCapture(r)) return false;
        } else {
          reconfigure_pending_ = true;
        }
      }
    }
    return true;
  }

  // The dynamic-resolution sequence: STREAMOFF, free, G_FMT, allocate, STREAMON.
  bool ReconfigureCapture(Result& r) {
    if (opt_.on_moment && !r.md5.empty()) opt_.on_moment(Moment::kSourceChange);
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
    if (ioctl(fd_, VIDIOC_STREAMOFF, &type) < 0) return Fail(r, "STREAMOFF CAPTURE"), false;
    v4l2_requestbuffers req = {};
    req.type = type;
    req.memory = opt_.cap_memory;
    if (ioctl(fd_, VIDIOC_REQBUFS, &req) < 0) return Fail(r, "REQBUFS 0"), false;
    Release(cap_maps_);
    cap_fmt_ = {};
    cap_fmt_.type = type;
    if (ioctl(fd_, VIDIOC_G_FMT, &cap_fmt_) < 0) return Fail(r, "G_FMT CAPTURE"), false;
    if (opt_.cap_format && opt_.cap_format != cap_fmt_.fmt.pix_mp.pixelformat) {
      v4l2_format want = cap_fmt_;
      want.fmt.pix_mp.pixelformat = opt_.cap_format;
      // A format the stream cannot have is refused by the node choosing
      // another: keep what G_FMT said then.
      if (ioctl(fd_, VIDIOC_S_FMT, &want) < 0) return Fail(r, "S_FMT CAPTURE"), false;
      cap_fmt_ = want;
    }
    r.cap_formats.push_back(cap_fmt_.fmt.pix_mp.pixelformat);
    v4l2_control ctrl = {V4L2_CID_MIN_BUFFERS_FOR_CAPTURE, 0};
    if (ioctl(fd_, VIDIOC_G_CTRL, &ctrl) < 0) return Fail(r, "G_CTRL MIN_BUFFERS"), false;
    if (!Allocate(type, opt_.cap_memory, ctrl.value + 2, cap_fmt_.fmt.pix_mp.plane_fmt[0].sizeimage,
                  cap_maps_, r))
      return false;
    for (uint32_t i = 0; i < cap_maps_.size(); i++) {
      v4l2_plane planes[1] = {};
      v4l2_buffer b = QueueBuffer(type, opt_.cap_memory, i, cap_maps_[i], planes);
      if (ioctl(fd_, VIDIOC_QBUF, &b) < 0) return Fail(r, "QBUF CAPTURE"), false;
    }
    if (!StreamOn(type)) return Fail(r, "STREAMON CAPTURE"), false;
    return true;
  }

  std::string dev_;
  Options opt_;
  int fd_ = -1;
  std::vector<int> exporters_;  // handles whose buffers we queue as DMABUF
  bool reconfigure_pending_ = false;
  std::map<long, std::chrono::steady_clock::time_point> queued_at_;
  std::vector<Mapping> out_maps_, cap_maps_;
  v4l2_format cap_fmt_ = {};
};

}  // namespace daedalus::testing

#endif  // DAEDALUS_TESTS_V4L2_DECODER_H_
