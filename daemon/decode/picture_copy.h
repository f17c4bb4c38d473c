// SPDX-License-Identifier: BSD-2-Clause
//
// Writes a decoded picture into a CAPTURE buffer laid out as the kernel
// described it. This is the one copy a decoded picture gets on its way to
// the client (NV12's interleave happens in the same pass).
//
//   BufferLayout layout{V4L2_PIX_FMT_NV12, 352, 288, 352, 152064};
//   absl::Status st = CopyPicture(picture, layout, dst, dst_len);

#ifndef DAEDALUS_DAEMON_DECODE_PICTURE_COPY_H_
#define DAEDALUS_DAEMON_DECODE_PICTURE_COPY_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "daemon/decode/vp9_decoder.h"

namespace daedalus::decode {

struct BufferLayout {
  uint32_t fourcc = 0;  // V4L2_PIX_FMT_NV12 or V4L2_PIX_FMT_YUV420
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t bytesperline = 0;  // of the luma plane
  uint32_t sizeimage = 0;
};

// The smallest sizeimage `layout` needs; 0 for an unknown fourcc.
uint32_t RequiredSize(const BufferLayout& layout);

// FailedPrecondition when the picture does not match the layout (size,
// 8-bit 4:2:0 only); InvalidArgument for a layout that does not fit dst.
absl::Status CopyPicture(const Picture& picture, const BufferLayout& layout, uint8_t* dst,
                         size_t dst_len);

}  // namespace daedalus::decode

#endif  // DAEDALUS_DAEMON_DECODE_PICTURE_COPY_H_
