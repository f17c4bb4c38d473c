// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/decode/picture_layout.h"

extern "C" {
#include <libswscale/swscale.h>
}

#include <linux/videodev2.h>

#include <string>

#include "absl/strings/str_format.h"
#include "daemon/decode/codec.h"

namespace daedalus::decode {

PictureLayout::~PictureLayout() { sws_freeContext(sws_); }

namespace {

// The bit depth and subsampling each CAPTURE format carries (as the
// kernel's table in ddv_fmt.c has them).
struct Carries {
  uint32_t fourcc;
  int bit_depth, shift_x, shift_y;
};
constexpr Carries kCarries[] = {
    {V4L2_PIX_FMT_YUV420, 8, 1, 1}, {V4L2_PIX_FMT_NV12, 8, 1, 1}, {V4L2_PIX_FMT_YUV422P, 8, 1, 0},
    {V4L2_PIX_FMT_NV16, 8, 1, 0},   {V4L2_PIX_FMT_NV24, 8, 0, 0}, {V4L2_PIX_FMT_P010, 10, 1, 1},
};

bool CanCarry(uint32_t fourcc, const PictureFormat& f) {
  for (const Carries& c : kCarries) {
    if (c.fourcc == fourcc) {
      return c.bit_depth == f.bit_depth && c.shift_x == f.chroma_shift_x &&
             c.shift_y == f.chroma_shift_y;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<PlaneSet> PictureLayout::For(const Picture& pic, uint32_t fourcc) {
  if (!CanCarry(fourcc, pic.format)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("picture is %s; CAPTURE format %s cannot carry it", pic.format.ToString(),
                        FourccName(fourcc)));
  }
  const AVFrame& f = *pic.frame;
  for (int p = 0; p < 3; p++) {
    if (f.linesize[p] <= 0) return absl::InternalError("picture with a negative stride");
  }
  if (fourcc == V4L2_PIX_FMT_P010) return ToP010(f);
  PlaneSet set;
  for (int p = 0; p < 3; p++) {
    set.planes[p] = f.data[p];
    set.strides[p] = f.linesize[p];
  }
  return set;
}

absl::StatusOr<PlaneSet> PictureLayout::ToP010(const AVFrame& f) {
  AVPixelFormat in = static_cast<AVPixelFormat>(f.format);
  sws_ = sws_getCachedContext(sws_, f.width, f.height, in, f.width, f.height, AV_PIX_FMT_P010LE,
                              SWS_POINT, nullptr, nullptr, nullptr);
  if (!sws_) return absl::InternalError("no libswscale conversion to P010");
  if (!converted_ || converted_->width != f.width || converted_->height != f.height) {
    converted_.reset(av_frame_alloc());
    if (!converted_) return absl::ResourceExhaustedError("av_frame_alloc failed");
    converted_->format = AV_PIX_FMT_P010LE;
    converted_->width = f.width;
    converted_->height = f.height;
    if (av_frame_get_buffer(converted_.get(), 0) < 0) {
      converted_.reset();
      return absl::ResourceExhaustedError("no memory for a P010 picture");
    }
  }
  int rows =
      sws_scale(sws_, f.data, f.linesize, 0, f.height, converted_->data, converted_->linesize);
  if (rows != f.height) return absl::InternalError("libswscale converted a partial picture");
  PlaneSet set;
  set.num_planes = 2;
  for (int p = 0; p < 2; p++) {
    set.planes[p] = converted_->data[p];
    set.strides[p] = converted_->linesize[p];
  }
  return set;
}

}  // namespace daedalus::decode
