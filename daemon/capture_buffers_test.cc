// SPDX-License-Identifier: BSD-2-Clause
//
// CaptureBuffers maps a buffer once per memory the kernel names, and
// PictureWriter lays pictures out as the kernel's copy does. The kernel's
// DMA-BUFs are stood in for by memfds, which map the same way.

#include "daemon/capture_buffers.h"

#include <linux/videodev2.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace daedalus {
namespace {

class MemfdJobIo final : public JobIo {
 public:
  size_t buffer_size = 4096;
  int exports = 0;
  absl::Status export_status = absl::OkStatus();
  std::vector<int> fds;  // what the daemon got, to look into afterwards

  ~MemfdJobIo() override {
    for (int fd : fds) close(fd);
  }
  absl::StatusOr<size_t> ReadSrc(uint32_t, uint32_t, std::string&) override { return 0; }
  absl::Status WritePicture(uint32_t, uint32_t, const PictureView&) override {
    return absl::UnimplementedError("the daemon writes into mapped buffers here");
  }
  absl::StatusOr<int> ExportDst(uint32_t, uint32_t) override {
    if (!export_status.ok()) return export_status;
    exports++;
    int fd = memfd_create("capture", MFD_CLOEXEC);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(buffer_size)), 0);
    fds.push_back(dup(fd));
    return fd;
  }
  absl::Status Answer(uint32_t, const ddv_decode_done&) override { return absl::OkStatus(); }
};

ddv_decode Job(uint32_t index, uint32_t generation, uint32_t sizeimage = 4096) {
  ddv_decode req = {};
  req.ctx_id = 1;
  req.job_id = 1;
  req.flags = DDV_DECODE_DST | DDV_DECODE_DST_EXPORT;
  req.dst.sizeimage = sizeimage;
  req.dst_index = index;
  req.dst_generation = generation;
  return req;
}

TEST(CaptureBuffers, MapsEachBufferOnceWhileItsMemoryStays) {
  MemfdJobIo io;
  CaptureBuffers buffers;
  absl::StatusOr<uint8_t*> a = buffers.Map(Job(0, 1), io);
  ASSERT_TRUE(a.ok()) << a.status();
  std::memcpy(*a, "picture", 8);
  // The write landed in the buffer's memory, as the client would see it.
  char seen[8] = {};
  ASSERT_EQ(pread(io.fds[0], seen, sizeof(seen), 0), 8);
  EXPECT_STREQ(seen, "picture");

  EXPECT_EQ(*buffers.Map(Job(0, 1), io), *a);
  ASSERT_TRUE(buffers.Map(Job(1, 2), io).ok());
  EXPECT_EQ(io.exports, 2);
  EXPECT_EQ(buffers.mapped(), 2u);
  // The client set index 0 up anew: its old mapping goes, a new one comes.
  ASSERT_TRUE(buffers.Map(Job(0, 3), io).ok());
  EXPECT_EQ(io.exports, 3);
  EXPECT_EQ(buffers.mapped(), 2u);
}

TEST(CaptureBuffers, RefusesWhatCannotBeMapped) {
  MemfdJobIo io;
  CaptureBuffers buffers;
  ddv_decode req = Job(0, 1);
  req.flags &= ~DDV_DECODE_DST_EXPORT;  // USERPTR or DMABUF memory
  EXPECT_TRUE(absl::IsFailedPrecondition(buffers.Map(req, io).status()));
  EXPECT_EQ(io.exports, 0);
  // A buffer smaller than its layout says is never written past its end.
  EXPECT_TRUE(absl::IsFailedPrecondition(buffers.Map(Job(0, 1, 8192), io).status()));
  EXPECT_EQ(buffers.mapped(), 0u);
  io.export_status = absl::NotFoundError("the job is gone");
  EXPECT_TRUE(absl::IsNotFound(buffers.Map(Job(0, 1), io).status()));
}

// A 6x4 4:2:0 picture: Y samples 1.., U 101.., V 201.., rows `stride` apart.
struct Planar {
  std::vector<uint8_t> y, u, v;
  PictureView view;
  explicit Planar(uint32_t stride) : y(stride * 4), u(stride * 2), v(stride * 2) {
    for (uint32_t r = 0; r < 4; r++)
      for (uint32_t x = 0; x < 6; x++) y[r * stride + x] = static_cast<uint8_t>(1 + r * 6 + x);
    for (uint32_t r = 0; r < 2; r++) {
      for (uint32_t x = 0; x < 3; x++) {
        u[r * stride + x] = static_cast<uint8_t>(101 + r * 3 + x);
        v[r * stride + x] = static_cast<uint8_t>(201 + r * 3 + x);
      }
    }
    view = {6, 4, 3, {y.data(), u.data(), v.data()}, {stride, stride, stride}};
  }
};

TEST(PictureWriter, LaysOutPlanarAndInterleavedFormats) {
  Planar pic(32);
  PictureWriter writer;
  // YUV420, 8 bytes a line: Y 8x4, then U and V 4x2 each.
  ddv_layout yuv = {V4L2_PIX_FMT_YUV420, 6, 4, 8, 8 * 4 + 2 * 4 * 2, {}};
  std::vector<uint8_t> buf(yuv.sizeimage, 0);
  ASSERT_TRUE(writer.Write(pic.view, yuv, buf.data()).ok());
  EXPECT_EQ(buf[0], 1);
  EXPECT_EQ(buf[8 * 3 + 5], 24);        // last luma sample
  EXPECT_EQ(buf[32], 101);              // U starts after 4 luma lines
  EXPECT_EQ(buf[32 + 4 + 2], 106);      // U row 1
  EXPECT_EQ(buf[32 + 8], 201);          // V after U's 2 lines
  EXPECT_EQ(buf[32 + 8 + 4 + 2], 206);  // V row 1
  EXPECT_EQ(buf[6], 0);                 // padding untouched

  // NV12: U and V interleaved in one chroma plane, 8 bytes a line.
  ddv_layout nv12 = {V4L2_PIX_FMT_NV12, 6, 4, 8, 8 * 4 + 8 * 2, {}};
  std::vector<uint8_t> nv(nv12.sizeimage, 0);
  ASSERT_TRUE(writer.Write(pic.view, nv12, nv.data()).ok());
  const uint8_t row0[] = {101, 201, 102, 202, 103, 203};
  const uint8_t row1[] = {104, 204, 105, 205, 106, 206};
  EXPECT_EQ(std::memcmp(&nv[32], row0, 6), 0);
  EXPECT_EQ(std::memcmp(&nv[40], row1, 6), 0);
}

// Every NV layout, from planes of distinct samples, odd sizes included:
// exactly the samples interleaved, nothing resampled or rounded.
TEST(PictureWriter, InterleavesEveryNvFormatExactly) {
  struct Case {
    uint32_t fourcc, hsub, vsub;
  };
  for (const Case& c : {Case{V4L2_PIX_FMT_NV12, 2, 2}, Case{V4L2_PIX_FMT_NV16, 2, 1},
                        Case{V4L2_PIX_FMT_NV24, 1, 1}}) {
    for (uint32_t w : {7u, 16u, 33u}) {
      const uint32_t h = w + 2, cw = (w + c.hsub - 1) / c.hsub, ch = (h + c.vsub - 1) / c.vsub;
      const uint32_t stride = 64;
      std::vector<uint8_t> y(stride * h), u(stride * ch), v(stride * ch);
      for (size_t i = 0; i < y.size(); i++) y[i] = static_cast<uint8_t>(i * 7 + 3);
      for (size_t i = 0; i < u.size(); i++) u[i] = static_cast<uint8_t>(i * 13 + 1);
      for (size_t i = 0; i < v.size(); i++) v[i] = static_cast<uint8_t>(i * 29 + 5);
      PictureView view = {w, h, 3, {y.data(), u.data(), v.data()}, {stride, stride, stride}};
      const uint32_t bpl = 64, cs = bpl * 2 / c.hsub;
      ddv_layout layout = {c.fourcc, w, h, bpl, bpl * h + cs * ch, {}};
      std::vector<uint8_t> buf(layout.sizeimage, 0);
      PictureWriter writer;
      ASSERT_TRUE(writer.Write(view, layout, buf.data()).ok());
      bool exact = true;
      for (uint32_t r = 0; r < h; r++)
        for (uint32_t x = 0; x < w; x++) exact &= buf[r * bpl + x] == y[r * stride + x];
      for (uint32_t r = 0; r < ch; r++) {
        for (uint32_t x = 0; x < cw; x++) {
          exact &= buf[bpl * h + r * cs + 2 * x] == u[r * stride + x];
          exact &= buf[bpl * h + r * cs + 2 * x + 1] == v[r * stride + x];
        }
      }
      EXPECT_TRUE(exact) << "fourcc " << std::string(reinterpret_cast<const char*>(&c.fourcc), 4)
                         << ", " << w << "x" << h;
    }
  }
}

TEST(PictureWriter, RefusesPicturesThatDoNotFit) {
  Planar pic(32);
  PictureWriter writer;
  ddv_layout yuv = {V4L2_PIX_FMT_YUV420, 6, 4, 8, 8 * 4 + 2 * 4 * 2, {}};
  std::vector<uint8_t> buf(yuv.sizeimage);
  ddv_layout bigger = yuv;
  bigger.height = 6;
  EXPECT_TRUE(absl::IsInvalidArgument(writer.Write(pic.view, bigger, buf.data())));
  ddv_layout short_buffer = yuv;
  short_buffer.sizeimage -= 1;
  EXPECT_TRUE(absl::IsInvalidArgument(writer.Write(pic.view, short_buffer, buf.data())));
  ddv_layout rgb = {V4L2_PIX_FMT_XBGR32, 6, 4, 32, 32 * 4, {}};
  EXPECT_TRUE(absl::IsInvalidArgument(writer.Write(pic.view, rgb, buf.data())));
  ddv_layout unknown = yuv;
  unknown.pixelformat = V4L2_PIX_FMT_MJPEG;
  EXPECT_TRUE(absl::IsInvalidArgument(writer.Write(pic.view, unknown, buf.data())));
}

}  // namespace
}  // namespace daedalus
