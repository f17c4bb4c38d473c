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

 private:
  absl::StatusOr<PlaneSet> ToP010(const AVFrame& frame);
  absl::StatusOr<PlaneSet> ToRgb(const AVFrame& frame, uint32_t fourcc);
  // The frame through sws_ (set up by the caller) into `converted_`, a
  // picture of `format` at the frame's size, as its first `num_planes` planes.
  absl::StatusOr<PlaneSet> Scale(const AVFrame& frame, AVPixelFormat format, int num_planes);
  absl::StatusOr<PlaneSet> ToP012(const AVFrame& frame);
  absl::StatusOr<PlaneSet> ToY21x(const AVFrame& frame);
  SwsContext* sws_ = nullptr;
  FramePtr converted_;                    // P010 or RGB, by libswscale
  std::vector<uint8_t> converted_bytes_;  // P012, Y210, Y212
};

}  // namespace daedalus::decode

#endif  // DAEDALUS_DAEMON_DECODE_PICTURE_LAYOUT_H_
