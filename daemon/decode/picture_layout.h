// SPDX-License-Identifier: BSD-2-Clause
//
// PictureLayout: the planes of a decoded picture as a CAPTURE format
// takes them. 8-bit pictures go as libavcodec left them (the kernel copies
// or interleaves their planes); a 10-bit 4:2:0 picture for P010 is first
// converted with libswscale (samples moved to the high bits, Cb and Cr
// interleaved); 12-bit 4:2:0 for P012 and 10/12-bit 4:2:2 for Y210/Y212
// (packed Y0 Cb Y1 Cr), which FFmpeg 5.1's libswscale cannot write, here.
// An 8-bit picture for ABGR32/XBGR32 (AR24/XR24) is converted to RGB with
// libswscale, with the matrix and range the stream names.
// Converted pictures live in memory this object keeps until the next call.
//
//   PictureLayout layout;
//   absl::StatusOr<PlaneSet> planes = layout.For(picture, V4L2_PIX_FMT_P010);

#ifndef DAEDALUS_DAEMON_DECODE_PICTURE_LAYOUT_H_
#define DAEDALUS_DAEMON_DECODE_PICTURE_LAYOUT_H_

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/decode/stream_decoder.h"

struct SwsContext;

namespace daedalus::decode {

struct PlaneSet {
  int num_planes = 3;
  std::array<const uint8_t*, 3> planes = {};
  std::array<int, 3> strides = {};
};

// The CAPTURE formats of the node as V4L2 lays them out in one plane (the
// kernel's table in ddv_fmt.c): which pictures each carries, and how.
enum class SampleOrder {
  kPlanar,      // a luma plane, then Cb, then Cr
  kSemiPlanar,  // a luma plane, then Cb and Cr interleaved (NV12, P010)
  kPacked,      // Y0 Cb Y1 Cr for each pair of pixels (Y210)
  kRgb,         // B G R A/X for each pixel, converted from YUV
};
struct CaptureFormat {
  uint32_t fourcc;
  int bit_depth;         // of the pictures it carries (RGB: 8-bit ones)
  int shift_x, shift_y;  // their chroma subsampling (RGB: see CanCarry)
  int bytes;             // a sample (RGB: a pixel)
  SampleOrder order;
};
// The format's description, or null for a fourcc that is none of the node's.
const CaptureFormat* CaptureFormatOf(uint32_t fourcc);

// Where a converted picture goes: the planes of a CAPTURE buffer (luma,
// then the chroma plane of a semi-planar format; one plane for RGB).
struct PlaneTarget {
  std::array<uint8_t*, 2> planes = {};
  std::array<int, 2> strides = {};
};

class PictureLayout {
 public:
  PictureLayout() = default;
  ~PictureLayout();
  PictureLayout(const PictureLayout&) = delete;
  PictureLayout& operator=(const PictureLayout&) = delete;

  // The planes of `pic` for CAPTURE format `fourcc`. FailedPrecondition
  // when the format cannot carry the picture; Internal for a frame laid
  // out bottom-up (negative strides) or a failed conversion.
  absl::StatusOr<PlaneSet> For(const Picture& pic, uint32_t fourcc);

  // For the formats libswscale makes (P010, ABGR32, XBGR32): converts
  // `pic` straight into `target`, e.g. the client's buffer mapped into the
  // daemon, and returns true; false for any other format, whose For()
  // planes the caller copies. Errors as For().
  absl::StatusOr<bool> ConvertInto(const Picture& pic, uint32_t fourcc, const PlaneTarget& target);

 private:
  // Checks that `fourcc` can carry `pic` and that its strides are sane.
  absl::Status Check(const Picture& pic, uint32_t fourcc) const;
  // Sets sws_ up for `frame` to `fourcc` (P010, ABGR32 or XBGR32) and
  // returns libswscale's format for it, with how many planes it has.
  absl::StatusOr<std::pair<AVPixelFormat, int>> SetUpScale(const AVFrame& frame, uint32_t fourcc);
  // The frame through sws_ into `converted_`, a picture of `format` at
  // the frame's size, as its first `num_planes` planes.
  absl::StatusOr<PlaneSet> Scale(const AVFrame& frame, AVPixelFormat format, int num_planes);
  // The frame through sws_ into `num_planes` planes of `target`.
  absl::Status ScaleInto(const AVFrame& frame, int num_planes, const PlaneTarget& target);
  absl::StatusOr<PlaneSet> ToP012(const AVFrame& frame);
  absl::StatusOr<PlaneSet> ToY21x(const AVFrame& frame);
  SwsContext* sws_ = nullptr;
  FramePtr converted_;                    // P010 or RGB, by libswscale
  std::vector<uint8_t> converted_bytes_;  // P012, Y210, Y212
};

}  // namespace daedalus::decode

#endif  // DAEDALUS_DAEMON_DECODE_PICTURE_LAYOUT_H_
