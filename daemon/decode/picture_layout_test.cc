// SPDX-License-Identifier: BSD-2-Clause
//
// PictureLayout: 8-bit pictures go as they are; 10-bit 4:2:0 becomes P010
// and 12-bit 4:2:0 P012 (each sample in the high bits, Cb and Cr
// interleaved), 10/12-bit 4:2:2 Y210/Y212 (packed), 8-bit ABGR32/XBGR32
// RGB with the stream's matrix and range; a format that cannot carry a
// picture is refused.

#include "daemon/decode/picture_layout.h"

extern "C" {
#include <libavutil/frame.h>
}

#include <linux/daedalus-v4l2.h>
#include <linux/videodev2.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace daedalus::decode {
namespace {

Picture MakePicture(AVPixelFormat fmt, int w, int h, int depth, int sx, int sy) {
  Picture p;
  p.frame.reset(av_frame_alloc());
  p.frame->format = fmt;
  p.frame->width = w;
  p.frame->height = h;
  EXPECT_EQ(av_frame_get_buffer(p.frame.get(), 0), 0);
  p.format = {w, h, depth, sx, sy};
  return p;
}

TEST(PictureLayoutTest, EightBitPlanesGoAsTheyAre) {
  Picture p = MakePicture(AV_PIX_FMT_YUV422P, 64, 32, 8, 1, 0);
  PictureLayout layout;
  for (uint32_t fourcc : {V4L2_PIX_FMT_NV16, V4L2_PIX_FMT_YUV422P}) {
    auto set = layout.For(p, fourcc);
    ASSERT_TRUE(set.ok()) << set.status();
    EXPECT_EQ(set->num_planes, 3);
    for (int i = 0; i < 3; i++) EXPECT_EQ(set->planes[i], p.frame->data[i]);
  }
}

TEST(PictureLayoutTest, TenBitBecomesP010) {
  const int w = 18, h = 6;  // odd chroma width on purpose: 9
  Picture p = MakePicture(AV_PIX_FMT_YUV420P10LE, w, h, 10, 1, 1);
  for (int plane = 0; plane < 3; plane++) {
    int pw = plane ? 9 : w, ph = plane ? 3 : h;
    for (int y = 0; y < ph; y++) {
      auto* row = reinterpret_cast<uint16_t*>(p.frame->data[plane] + y * p.frame->linesize[plane]);
      for (int x = 0; x < pw; x++)
        row[x] = static_cast<uint16_t>((plane * 300 + y * 37 + x) & 1023);
    }
  }
  PictureLayout layout;
  auto set = layout.For(p, V4L2_PIX_FMT_P010);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->num_planes, 2);
  for (int y = 0; y < h; y++) {
    const auto* out = reinterpret_cast<const uint16_t*>(set->planes[0] + y * set->strides[0]);
    const auto* in = reinterpret_cast<const uint16_t*>(p.frame->data[0] + y * p.frame->linesize[0]);
    for (int x = 0; x < w; x++) ASSERT_EQ(out[x], in[x] << 6) << x << "," << y;
  }
  for (int y = 0; y < 3; y++) {
    const auto* out = reinterpret_cast<const uint16_t*>(set->planes[1] + y * set->strides[1]);
    const auto* u = reinterpret_cast<const uint16_t*>(p.frame->data[1] + y * p.frame->linesize[1]);
    const auto* v = reinterpret_cast<const uint16_t*>(p.frame->data[2] + y * p.frame->linesize[2]);
    for (int x = 0; x < 9; x++) {
      ASSERT_EQ(out[2 * x], u[x] << 6) << x << "," << y;
      ASSERT_EQ(out[2 * x + 1], v[x] << 6) << x << "," << y;
    }
  }
}

// Fills every plane with a pattern of `depth`-bit samples.
void FillPattern(Picture& p, int depth, int cw, int ch) {
  for (int plane = 0; plane < 3; plane++) {
    int pw = plane ? cw : p.frame->width, ph = plane ? ch : p.frame->height;
    for (int y = 0; y < ph; y++) {
      auto* row = reinterpret_cast<uint16_t*>(p.frame->data[plane] + y * p.frame->linesize[plane]);
      for (int x = 0; x < pw; x++)
        row[x] = static_cast<uint16_t>((plane * 1300 + y * 37 + x * 5) & ((1 << depth) - 1));
    }
  }
}

uint16_t At(const uint8_t* plane, int stride, int x, int y) {
  uint16_t v;
  std::memcpy(&v, plane + y * stride + 2 * x, 2);
  return v;
}

uint16_t At(const AVFrame& f, int plane, int x, int y) {
  return At(f.data[plane], f.linesize[plane], x, y);
}

TEST(PictureLayoutTest, TwelveBitBecomesP012) {
  const int w = 14, h = 5;  // odd height: 3 chroma rows
  Picture p = MakePicture(AV_PIX_FMT_YUV420P12LE, w, h, 12, 1, 1);
  FillPattern(p, 12, 7, 3);
  PictureLayout layout;
  auto set = layout.For(p, V4L2_PIX_FMT_P012);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->num_planes, 2);
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++)
      ASSERT_EQ(At(set->planes[0], set->strides[0], x, y), At(*p.frame, 0, x, y) << 4);
  }
  for (int y = 0; y < 3; y++) {
    for (int x = 0; x < 7; x++) {
      ASSERT_EQ(At(set->planes[1], set->strides[1], 2 * x, y), At(*p.frame, 1, x, y) << 4);
      ASSERT_EQ(At(set->planes[1], set->strides[1], 2 * x + 1, y), At(*p.frame, 2, x, y) << 4);
    }
  }
}

// Y0 Cb Y1 Cr per pair of pixels, in the high bits; an odd width repeats
// its last luma sample in the last pair.
void ExpectY21x(AVPixelFormat fmt, int depth, uint32_t fourcc) {
  const int w = 9, h = 4;
  Picture p = MakePicture(fmt, w, h, depth, 1, 0);
  FillPattern(p, depth, 5, h);
  PictureLayout layout;
  auto set = layout.For(p, fourcc);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->num_planes, 1);
  ASSERT_GE(set->strides[0], 5 * 8);
  const int shift = 16 - depth;
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < 5; x++) {
      const uint8_t* row = set->planes[0];
      ASSERT_EQ(At(row, set->strides[0], 4 * x, y), At(*p.frame, 0, 2 * x, y) << shift);
      ASSERT_EQ(At(row, set->strides[0], 4 * x + 1, y), At(*p.frame, 1, x, y) << shift);
      ASSERT_EQ(At(row, set->strides[0], 4 * x + 2, y),
                At(*p.frame, 0, std::min(2 * x + 1, w - 1), y) << shift);
      ASSERT_EQ(At(row, set->strides[0], 4 * x + 3, y), At(*p.frame, 2, x, y) << shift);
    }
  }
}

TEST(PictureLayoutTest, TenBit422BecomesY210) {
  ExpectY21x(AV_PIX_FMT_YUV422P10LE, 10, V4L2_PIX_FMT_Y210);
}

TEST(PictureLayoutTest, TwelveBit422BecomesY212) {
  ExpectY21x(AV_PIX_FMT_YUV422P12LE, 12, V4L2_PIX_FMT_Y212);
}

// Every sample of each plane of an 8-bit picture set to y, u, v.
void FillYuv(Picture& p, uint8_t y, uint8_t u, uint8_t v) {
  const uint8_t value[3] = {y, u, v};
  for (int plane = 0; plane < 3; plane++) {
    int rows = plane ? AV_CEIL_RSHIFT(p.frame->height, p.format.chroma_shift_y) : p.frame->height;
    for (int r = 0; r < rows; r++) {
      std::memset(p.frame->data[plane] + r * p.frame->linesize[plane], value[plane],
                  p.frame->linesize[plane]);
    }
  }
}

// The B, G, R bytes of pixel (x, y) of a one-plane RGB picture.
std::array<int, 3> Bgr(const PlaneSet& set, int x, int y) {
  const uint8_t* px = set.planes[0] + y * set.strides[0] + 4 * x;
  return {px[0], px[1], px[2]};
}

void ExpectNear(std::array<int, 3> got, std::array<int, 3> want, const char* what) {
  for (int i = 0; i < 3; i++) EXPECT_NEAR(got[i], want[i], 3) << what << ", byte " << i;
}

TEST(PictureLayoutTest, EightBitBecomesRgbInV4l2ByteOrder) {
  // Limited-range BT.601 pure red (Y 81, Cb 90, Cr 240), and white.
  Picture red = MakePicture(AV_PIX_FMT_YUV420P, 32, 16, 8, 1, 1);
  FillYuv(red, 81, 90, 240);
  Picture white = MakePicture(AV_PIX_FMT_YUV420P, 32, 16, 8, 1, 1);
  FillYuv(white, 235, 128, 128);
  PictureLayout layout;
  for (uint32_t fourcc : {V4L2_PIX_FMT_ABGR32, V4L2_PIX_FMT_XBGR32}) {
    auto set = layout.For(red, fourcc);
    ASSERT_TRUE(set.ok()) << set.status();
    ASSERT_EQ(set->num_planes, 1);
    EXPECT_GE(set->strides[0], 32 * 4);
    ExpectNear(Bgr(*set, 7, 5), {0, 0, 255}, "red as B, G, R");
    if (fourcc == V4L2_PIX_FMT_ABGR32) {
      EXPECT_EQ(set->planes[0][3], 255) << "opaque alpha";
    }
    set = layout.For(white, fourcc);
    ASSERT_TRUE(set.ok()) << set.status();
    ExpectNear(Bgr(*set, 31, 15), {255, 255, 255}, "white");
  }
}

TEST(PictureLayoutTest, RgbFollowsTheStreamsMatrixAndRange) {
  // Y 81, Cb 90, Cr 240 has G near 0 with BT.601 (the guess for a small
  // picture that names no matrix) but about 24 with BT.709.
  Picture p = MakePicture(AV_PIX_FMT_YUV420P, 32, 16, 8, 1, 1);
  FillYuv(p, 81, 90, 240);
  PictureLayout layout;
  auto set = layout.For(p, V4L2_PIX_FMT_XBGR32);
  ASSERT_TRUE(set.ok()) << set.status();
  ExpectNear(Bgr(*set, 3, 3), {0, 0, 255}, "BT.601 by default");
  p.frame->colorspace = AVCOL_SPC_BT709;
  set = layout.For(p, V4L2_PIX_FMT_XBGR32);
  ASSERT_TRUE(set.ok()) << set.status();
  ExpectNear(Bgr(*set, 3, 3), {0, 24, 255}, "BT.709 as the stream says");
  // Full range: luma 200 is 200, not 214 (limited range's expansion).
  FillYuv(p, 200, 128, 128);
  set = layout.For(p, V4L2_PIX_FMT_XBGR32);
  ASSERT_TRUE(set.ok()) << set.status();
  ExpectNear(Bgr(*set, 3, 3), {214, 214, 214}, "limited range expanded");
  p.frame->color_range = AVCOL_RANGE_JPEG;
  set = layout.For(p, V4L2_PIX_FMT_XBGR32);
  ASSERT_TRUE(set.ok()) << set.status();
  ExpectNear(Bgr(*set, 3, 3), {200, 200, 200}, "full range kept");
}

// Converting straight into a buffer gives the bytes For() gives, row for
// row; formats libswscale does not make are left to the caller.
TEST(PictureLayoutTest, ConvertsIntoATargetAsIntoItsOwnMemory) {
  struct Case {
    AVPixelFormat in;
    int depth;
    uint32_t fourcc;
    int planes, bytes;  // of the output, and its bytes a pixel in plane 0
  };
  for (const Case& c : {Case{AV_PIX_FMT_YUV420P10LE, 10, V4L2_PIX_FMT_P010, 2, 2},
                        Case{AV_PIX_FMT_YUV420P, 8, V4L2_PIX_FMT_ABGR32, 1, 4},
                        Case{AV_PIX_FMT_YUV420P, 8, V4L2_PIX_FMT_XBGR32, 1, 4}}) {
    const int w = 18, h = 6, stride = 256;
    Picture p = MakePicture(c.in, w, h, c.depth, 1, 1);
    for (int plane = 0; plane < 3; plane++) {
      for (int y = 0; y < (plane ? h / 2 : h); y++) {
        uint8_t* row = p.frame->data[plane] + y * p.frame->linesize[plane];
        for (int x = 0; x < p.frame->linesize[plane]; x++)
          row[x] = static_cast<uint8_t>(c.depth == 10 && (x & 1) ? (x + y) & 3 : x * 5 + y * 3);
      }
    }
    PictureLayout own, direct;
    auto set = own.For(p, c.fourcc);
    ASSERT_TRUE(set.ok()) << set.status();
    std::vector<uint8_t> buf(stride * h * 2, 0);
    PlaneTarget target;
    target.planes = {buf.data(), buf.data() + stride * h};
    target.strides = {stride, stride};
    auto done = direct.ConvertInto(p, c.fourcc, target);
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_TRUE(*done);
    bool same = true;
    for (int plane = 0; plane < c.planes; plane++) {
      for (int y = 0; y < (plane ? h / 2 : h); y++) {
        same &= std::memcmp(target.planes[plane] + y * stride,
                            set->planes[plane] + y * set->strides[plane], w * c.bytes) == 0;
      }
    }
    EXPECT_TRUE(same) << "fourcc " << c.fourcc;
  }
  Picture p8 = MakePicture(AV_PIX_FMT_YUV420P, 16, 16, 8, 1, 1);
  PictureLayout layout;
  std::vector<uint8_t> buf(64 * 32);
  PlaneTarget target;
  target.planes = {buf.data(), buf.data() + 64 * 16};
  target.strides = {64, 64};
  auto done = layout.ConvertInto(p8, V4L2_PIX_FMT_NV12, target);
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(*done) << "NV12 is copied by the caller, not converted";
  EXPECT_EQ(layout.ConvertInto(p8, V4L2_PIX_FMT_P010, target).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PictureLayoutTest, RefusesAFormatThatCannotCarryThePicture) {
  Picture p10 = MakePicture(AV_PIX_FMT_YUV420P10LE, 16, 16, 10, 1, 1);
  Picture p440 = MakePicture(AV_PIX_FMT_YUV440P, 16, 16, 8, 0, 1);
  PictureLayout layout;
  EXPECT_EQ(layout.For(p10, V4L2_PIX_FMT_NV12).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(layout.For(p440, V4L2_PIX_FMT_NV24).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Picture p422 = MakePicture(AV_PIX_FMT_YUV422P10LE, 16, 16, 10, 1, 0);
  EXPECT_EQ(layout.For(p422, V4L2_PIX_FMT_Y212).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(layout.For(p10, V4L2_PIX_FMT_P012).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // RGB is for 8-bit pictures with a YUV format too.
  EXPECT_EQ(layout.For(p10, V4L2_PIX_FMT_ABGR32).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(layout.For(p440, V4L2_PIX_FMT_XBGR32).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace daedalus::decode
