// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/decode/picture_layout.h"

extern "C" {
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <linux/daedalus-v4l2.h>  // V4L2 formats the 6.1 headers lack
#include <linux/videodev2.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/str_format.h"
#include "daemon/decode/codec.h"

namespace daedalus::decode {

PictureLayout::~PictureLayout() { sws_freeContext(sws_); }

namespace {

constexpr CaptureFormat kCaptureFormats[] = {
    {V4L2_PIX_FMT_YUV420, 8, 1, 1, 1, SampleOrder::kPlanar},
    {V4L2_PIX_FMT_NV12, 8, 1, 1, 1, SampleOrder::kSemiPlanar},
    {V4L2_PIX_FMT_YUV422P, 8, 1, 0, 1, SampleOrder::kPlanar},
    {V4L2_PIX_FMT_NV16, 8, 1, 0, 1, SampleOrder::kSemiPlanar},
    {V4L2_PIX_FMT_NV24, 8, 0, 0, 1, SampleOrder::kSemiPlanar},
    {V4L2_PIX_FMT_P010, 10, 1, 1, 2, SampleOrder::kSemiPlanar},
    {V4L2_PIX_FMT_P012, 12, 1, 1, 2, SampleOrder::kSemiPlanar},
    {V4L2_PIX_FMT_Y210, 10, 1, 0, 2, SampleOrder::kPacked},
    {V4L2_PIX_FMT_Y212, 12, 1, 0, 2, SampleOrder::kPacked},
    {V4L2_PIX_FMT_ABGR32, 8, 0, 0, 4, SampleOrder::kRgb},
    {V4L2_PIX_FMT_XBGR32, 8, 0, 0, 4, SampleOrder::kRgb},
};

// A sample of a high-bit-depth plane, moved to the high bits of 16.
inline uint16_t Sample(const AVFrame& f, int plane, int x, int y, int shift) {
  uint16_t v;
  std::memcpy(&v, f.data[plane] + static_cast<size_t>(y) * f.linesize[plane] + 2 * x, 2);
  return static_cast<uint16_t>(v << shift);
}

inline void Put(uint8_t* out, uint16_t v) { std::memcpy(out, &v, 2); }

bool IsRgb(uint32_t fourcc) {
  const CaptureFormat* c = CaptureFormatOf(fourcc);
  return c && c->order == SampleOrder::kRgb;
}

bool CanCarry(uint32_t fourcc, const PictureFormat& f) {
  const CaptureFormat* c = CaptureFormatOf(fourcc);
  if (!c) return false;
  // RGB: every 8-bit picture that has a YUV format too (not 4:4:0).
  if (c->order == SampleOrder::kRgb) {
    return f.bit_depth == 8 && f.chroma_shift_x >= f.chroma_shift_y;
  }
  return c->bit_depth == f.bit_depth && c->shift_x == f.chroma_shift_x &&
         c->shift_y == f.chroma_shift_y;
}

// libswscale's matrix for a picture: the one its stream names, else BT.709
// for HD and BT.601 below 720 lines, as players assume.
int SwsMatrixOf(const AVFrame& f) {
  switch (f.colorspace) {
    case AVCOL_SPC_BT709:
      return SWS_CS_ITU709;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M:
      return SWS_CS_ITU601;
    case AVCOL_SPC_SMPTE240M:
      return SWS_CS_SMPTE240M;
    case AVCOL_SPC_FCC:
      return SWS_CS_FCC;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
      return SWS_CS_BT2020;
    default:
      return f.height >= 720 ? SWS_CS_ITU709 : SWS_CS_ITU601;
  }
}

}  // namespace

const CaptureFormat* CaptureFormatOf(uint32_t fourcc) {
  for (const CaptureFormat& c : kCaptureFormats) {
    if (c.fourcc == fourcc) return &c;
  }
  return nullptr;
}

absl::Status PictureLayout::Check(const Picture& pic, uint32_t fourcc) const {
  if (!CanCarry(fourcc, pic.format)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("picture is %s; CAPTURE format %s cannot carry it", pic.format.ToString(),
                        FourccName(fourcc)));
  }
  for (int p = 0; p < 3; p++) {
    if (pic.frame->linesize[p] <= 0) return absl::InternalError("picture with a negative stride");
  }
  return absl::OkStatus();
}

absl::StatusOr<PlaneSet> PictureLayout::For(const Picture& pic, uint32_t fourcc) {
  if (absl::Status st = Check(pic, fourcc); !st.ok()) return st;
  const AVFrame& f = *pic.frame;
  if (fourcc == V4L2_PIX_FMT_P010 || IsRgb(fourcc)) {
    absl::StatusOr<std::pair<AVPixelFormat, int>> out = SetUpScale(f, fourcc);
    if (!out.ok()) return out.status();
    return Scale(f, out->first, out->second);
  }
  if (fourcc == V4L2_PIX_FMT_P012) return ToP012(f);
  if (fourcc == V4L2_PIX_FMT_Y210 || fourcc == V4L2_PIX_FMT_Y212) return ToY21x(f);
  PlaneSet set;
  for (int p = 0; p < 3; p++) {
    set.planes[p] = f.data[p];
    set.strides[p] = f.linesize[p];
  }
  return set;
}

absl::StatusOr<bool> PictureLayout::ConvertInto(const Picture& pic, uint32_t fourcc,
                                                const PlaneTarget& target) {
  if (absl::Status st = Check(pic, fourcc); !st.ok()) return st;
  if (fourcc != V4L2_PIX_FMT_P010 && !IsRgb(fourcc)) return false;
  absl::StatusOr<std::pair<AVPixelFormat, int>> out = SetUpScale(*pic.frame, fourcc);
  if (!out.ok()) return out.status();
  if (absl::Status st = ScaleInto(*pic.frame, out->second, target); !st.ok()) return st;
  return true;
}

absl::StatusOr<std::pair<AVPixelFormat, int>> PictureLayout::SetUpScale(const AVFrame& f,
                                                                        uint32_t fourcc) {
  AVPixelFormat in = static_cast<AVPixelFormat>(f.format);
  if (fourcc == V4L2_PIX_FMT_P010) {
    sws_ = sws_getCachedContext(sws_, f.width, f.height, in, f.width, f.height, AV_PIX_FMT_P010LE,
                                SWS_POINT, nullptr, nullptr, nullptr);
    if (!sws_) return absl::InternalError("no libswscale conversion to P010");
    return std::make_pair(AV_PIX_FMT_P010LE, 2);
  }
  // V4L2's ABGR32/XBGR32 are B, G, R, A/X bytes: libavutil's BGRA/BGR0.
  AVPixelFormat out = fourcc == V4L2_PIX_FMT_ABGR32 ? AV_PIX_FMT_BGRA : AV_PIX_FMT_BGR0;
  sws_ = sws_getCachedContext(sws_, f.width, f.height, in, f.width, f.height, out, SWS_BILINEAR,
                              nullptr, nullptr, nullptr);
  if (!sws_) return absl::InternalError("no libswscale conversion to RGB");
  // Full-range RGB from the stream's range; brightness, contrast and
  // saturation neutral (16.16 fixed point).
  const int* matrix = sws_getCoefficients(SwsMatrixOf(f));
  if (sws_setColorspaceDetails(sws_, matrix, f.color_range == AVCOL_RANGE_JPEG, matrix, 1, 0,
                               1 << 16, 1 << 16) < 0) {
    return absl::InternalError("libswscale refused the picture's colorimetry");
  }
  return std::make_pair(out, 1);
}

absl::StatusOr<PlaneSet> PictureLayout::Scale(const AVFrame& f, AVPixelFormat format,
                                              int num_planes) {
  if (!converted_ || converted_->format != format || converted_->width != f.width ||
      converted_->height != f.height) {
    converted_.reset(av_frame_alloc());
    if (!converted_) return absl::ResourceExhaustedError("av_frame_alloc failed");
    converted_->format = format;
    converted_->width = f.width;
    converted_->height = f.height;
    if (av_frame_get_buffer(converted_.get(), 0) < 0) {
      converted_.reset();
      return absl::ResourceExhaustedError(
          absl::StrFormat("no memory for a %s picture", av_get_pix_fmt_name(format)));
    }
  }
  PlaneTarget target;
  for (int p = 0; p < num_planes; p++) {
    target.planes[p] = converted_->data[p];
    target.strides[p] = converted_->linesize[p];
  }
  if (absl::Status st = ScaleInto(f, num_planes, target); !st.ok()) return st;
  PlaneSet set;
  set.num_planes = num_planes;
  for (int p = 0; p < num_planes; p++) {
    set.planes[p] = converted_->data[p];
    set.strides[p] = converted_->linesize[p];
  }
  return set;
}

absl::Status PictureLayout::ScaleInto(const AVFrame& f, int num_planes, const PlaneTarget& target) {
  uint8_t* const dst[4] = {target.planes[0], num_planes > 1 ? target.planes[1] : nullptr, nullptr,
                           nullptr};
  const int strides[4] = {target.strides[0], num_planes > 1 ? target.strides[1] : 0, 0, 0};
  int rows = sws_scale(sws_, f.data, f.linesize, 0, f.height, dst, strides);
  if (rows != f.height) return absl::InternalError("libswscale converted a partial picture");
  return absl::OkStatus();
}

// FFmpeg 5.1's libswscale writes neither P012 nor Y210/Y212, so these two
// are done here: each sample shifted to the high bits (exact, as the
// formats define), chroma interleaved (P012) or packed Y0 Cb Y1 Cr (Y21x).
absl::StatusOr<PlaneSet> PictureLayout::ToP012(const AVFrame& f) {
  if (f.format != AV_PIX_FMT_YUV420P12LE)
    return absl::InternalError("P012 from a non-12-bit picture");
  const int cw = (f.width + 1) / 2, ch = (f.height + 1) / 2;
  const size_t luma = static_cast<size_t>(f.width) * 2, chroma = static_cast<size_t>(cw) * 4;
  converted_bytes_.resize(luma * f.height + chroma * ch);
  uint8_t* out = converted_bytes_.data();
  for (int y = 0; y < f.height; y++) {
    for (int x = 0; x < f.width; x++) Put(out + y * luma + 2 * x, Sample(f, 0, x, y, 4));
  }
  uint8_t* uv = out + luma * f.height;
  for (int y = 0; y < ch; y++) {
    for (int x = 0; x < cw; x++) {
      Put(uv + y * chroma + 4 * x, Sample(f, 1, x, y, 4));
      Put(uv + y * chroma + 4 * x + 2, Sample(f, 2, x, y, 4));
    }
  }
  PlaneSet set;
  set.num_planes = 2;
  set.planes = {out, uv, nullptr};
  set.strides = {static_cast<int>(luma), static_cast<int>(chroma), 0};
  return set;
}

absl::StatusOr<PlaneSet> PictureLayout::ToY21x(const AVFrame& f) {
  int shift;
  if (f.format == AV_PIX_FMT_YUV422P10LE) {
    shift = 6;
  } else if (f.format == AV_PIX_FMT_YUV422P12LE) {
    shift = 4;
  } else {
    return absl::InternalError("Y210/Y212 from a picture that is not 10/12-bit 4:2:2");
  }
  // Pixels go in pairs; an odd width repeats its last luma sample.
  const int pairs = (f.width + 1) / 2;
  const size_t row = static_cast<size_t>(pairs) * 8;
  converted_bytes_.resize(row * f.height);
  for (int y = 0; y < f.height; y++) {
    uint8_t* out = converted_bytes_.data() + y * row;
    for (int x = 0; x < pairs; x++) {
      Put(out + 8 * x, Sample(f, 0, 2 * x, y, shift));
      Put(out + 8 * x + 2, Sample(f, 1, x, y, shift));
      Put(out + 8 * x + 4, Sample(f, 0, std::min(2 * x + 1, f.width - 1), y, shift));
      Put(out + 8 * x + 6, Sample(f, 2, x, y, shift));
    }
  }
  PlaneSet set;
  set.num_planes = 1;
  set.planes = {converted_bytes_.data(), nullptr, nullptr};
  set.strides = {static_cast<int>(row), 0, 0};
  return set;
}

}  // namespace daedalus::decode
