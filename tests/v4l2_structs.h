// SPDX-License-Identifier: BSD-2-Clause
//
// The V4L2 requests that the node's clients and checks fill again and
// again, filled once: a compressed OUTPUT format and an MMAP REQBUFS.
//
//   v4l2_format f = CompressedFormat(V4L2_PIX_FMT_VP9, 176, 144);
//   v4l2_requestbuffers rb = MmapRequest(f.type, 4);

#ifndef DAEDALUS_TESTS_V4L2_STRUCTS_H_
#define DAEDALUS_TESTS_V4L2_STRUCTS_H_

#include <linux/videodev2.h>

#include <cstdint>

namespace daedalus::testing {

// The OUTPUT (bitstream) format of a stream of `codec`, one plane of
// `sizeimage` bytes (0: the node's default for the size).
inline v4l2_format CompressedFormat(uint32_t codec, uint32_t width, uint32_t height,
                                    uint32_t sizeimage = 0) {
  v4l2_format f = {};
  f.type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
  f.fmt.pix_mp.pixelformat = codec;
  f.fmt.pix_mp.width = width;
  f.fmt.pix_mp.height = height;
  f.fmt.pix_mp.num_planes = 1;
  f.fmt.pix_mp.plane_fmt[0].sizeimage = sizeimage;
  return f;
}

// REQBUFS of `count` driver-allocated (MMAP) buffers on queue `type`.
inline v4l2_requestbuffers MmapRequest(uint32_t type, uint32_t count) {
  v4l2_requestbuffers rb = {};
  rb.type = type;
  rb.memory = V4L2_MEMORY_MMAP;
  rb.count = count;
  return rb;
}

}  // namespace daedalus::testing

#endif  // DAEDALUS_TESTS_V4L2_STRUCTS_H_
