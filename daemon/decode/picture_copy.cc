// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/decode/picture_copy.h"

#include <linux/videodev2.h>

#include <cstring>

#include "absl/strings/str_format.h"

namespace daedalus::decode {
namespace {

uint32_t ChromaRows(const BufferLayout& l) { return (l.height + 1) / 2; }

void CopyPlane(const uint8_t* src, int src_stride, uint8_t* dst, uint32_t dst_stride,
               uint32_t width, uint32_t rows) {
  for (uint32_t y = 0; y < rows; y++) {
    std::memcpy(dst + static_cast<size_t>(y) * dst_stride,
                src + static_cast<ptrdiff_t>(y) * src_stride, width);
  }
}

// U and V planes into one interleaved UV plane.
void InterleavePlanes(const uint8_t* u, int u_stride, const uint8_t* v, int v_stride, uint8_t* dst,
                      uint32_t dst_stride, uint32_t width, uint32_t rows) {
  for (uint32_t y = 0; y < rows; y++) {
    const uint8_t* us = u + static_cast<ptrdiff_t>(y) * u_stride;
    const uint8_t* vs = v + static_cast<ptrdiff_t>(y) * v_stride;
    uint8_t* d = dst + static_cast<size_t>(y) * dst_stride;
    for (uint32_t x = 0; x < width; x++) {
      d[2 * x] = us[x];
      d[2 * x + 1] = vs[x];
    }
  }
}

}  // namespace

uint32_t RequiredSize(const BufferLayout& l) {
  uint64_t luma = static_cast<uint64_t>(l.bytesperline) * l.height;
  uint64_t size;
  switch (l.fourcc) {
    case V4L2_PIX_FMT_NV12:
      size = luma + static_cast<uint64_t>(l.bytesperline) * ChromaRows(l);
      break;
    case V4L2_PIX_FMT_YUV420:
      size = luma + 2ull * (l.bytesperline / 2) * ChromaRows(l);
      break;
    default:
      return 0;
  }
  return size > UINT32_MAX ? 0 : static_cast<uint32_t>(size);
}

absl::Status CopyPicture(const Picture& pic, const BufferLayout& l, uint8_t* dst, size_t dst_len) {
  if (!pic.format.Is8Bit420()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("picture is %s; only 8-bit 4:2:0 fits NV12/YUV420", pic.format.ToString()));
  }
  if (static_cast<uint32_t>(pic.format.width) != l.width ||
      static_cast<uint32_t>(pic.format.height) != l.height) {
    return absl::FailedPreconditionError(
        absl::StrFormat("picture is %dx%d but the buffer is laid out for %dx%d", pic.format.width,
                        pic.format.height, l.width, l.height));
  }
  uint32_t chroma_width = (l.width + 1) / 2;
  uint32_t need = RequiredSize(l);
  if (need == 0 || l.bytesperline < l.width + (l.width & 1) || l.sizeimage < need ||
      dst_len < need) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad layout %08x %dx%d bytesperline %d sizeimage %d for a %d-byte buffer",
                        l.fourcc, l.width, l.height, l.bytesperline, l.sizeimage, dst_len));
  }
  const AVFrame& f = *pic.frame;
  CopyPlane(f.data[0], f.linesize[0], dst, l.bytesperline, l.width, l.height);
  uint8_t* chroma = dst + static_cast<size_t>(l.bytesperline) * l.height;
  if (l.fourcc == V4L2_PIX_FMT_NV12) {
    InterleavePlanes(f.data[1], f.linesize[1], f.data[2], f.linesize[2], chroma, l.bytesperline,
                     chroma_width, ChromaRows(l));
  } else {
    uint32_t cstride = l.bytesperline / 2;
    CopyPlane(f.data[1], f.linesize[1], chroma, cstride, chroma_width, ChromaRows(l));
    CopyPlane(f.data[2], f.linesize[2], chroma + static_cast<size_t>(cstride) * ChromaRows(l),
              cstride, chroma_width, ChromaRows(l));
  }
  return absl::OkStatus();
}

}  // namespace daedalus::decode
