// SPDX-License-Identifier: BSD-2-Clause
//
// CaptureBuffers: one context's CAPTURE buffers mapped into the daemon, so
// that it writes each picture straight into the client's buffer instead
// of handing it to the kernel to copy (DDV_IOC_EXPORT_DST, protocol 6).
// A buffer is exported and mapped the first time a job brings it and
// kept while the kernel names the same memory (index and generation);
// the mapping holds that memory, so a client freeing its buffers never
// pulls it away from under a write.
//
//   CaptureBuffers buffers;
//   absl::StatusOr<uint8_t*> dst = buffers.Map(req, io);  // req flagged
//                                                         // DDV_DECODE_DST_EXPORT
//   PictureWriter writer;
//   absl::Status st = writer.Write(view, req.dst, *dst);

#ifndef DAEDALUS_DAEMON_CAPTURE_BUFFERS_H_
#define DAEDALUS_DAEMON_CAPTURE_BUFFERS_H_

#include <linux/daedalus-v4l2.h>

#include <cstddef>
#include <cstdint>
#include <map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/decode/picture_layout.h"
#include "daemon/job_io.h"

struct SwsContext;

namespace daedalus {

class CaptureBuffers {
 public:
  CaptureBuffers() = default;
  ~CaptureBuffers();
  CaptureBuffers(const CaptureBuffers&) = delete;
  CaptureBuffers& operator=(const CaptureBuffers&) = delete;

  // The job's CAPTURE buffer, mapped read-write, at least
  // `req.dst.sizeimage` bytes. NotFound: the job is gone;
  // FailedPrecondition: the kernel cannot export it (not MMAP memory, or
  // smaller than its layout); other errors: the export or mmap failed.
  absl::StatusOr<uint8_t*> Map(const ddv_decode& req, JobIo& io);

  // Buffers mapped now.
  size_t mapped() const { return buffers_.size(); }

 private:
  struct Mapping {
    uint32_t generation = 0;
    uint8_t* data = nullptr;
    size_t size = 0;
  };
  void Unmap(Mapping& m);

  std::map<uint32_t, Mapping> buffers_;  // by V4L2 buffer index
};

// Writes pictures into mapped CAPTURE buffers as DDV_IOC_WRITE_PICTURE
// would (docs/protocol.md): planes copied row by row, 8-bit U and V
// planes interleaved for an NV format (NV12 by libswscale).
class PictureWriter {
 public:
  PictureWriter() = default;
  ~PictureWriter();
  PictureWriter(const PictureWriter&) = delete;
  PictureWriter& operator=(const PictureWriter&) = delete;

  // `picture` into `dst`, a buffer laid out as `layout`. InvalidArgument
  // for a picture that does not match the layout.
  absl::Status Write(const PictureView& picture, const ddv_layout& layout, uint8_t* dst);

  // The planes of `dst`, laid out as `layout`, for a conversion to write
  // into (decode::PictureLayout::ConvertInto). InvalidArgument for a
  // layout larger than its buffer.
  static absl::StatusOr<decode::PlaneTarget> Target(const ddv_layout& layout, uint8_t* dst);

 private:
  // Y, U and V planes into an NV layout's luma and CbCr planes.
  absl::Status Interleave(const PictureView& picture, uint32_t hsub, uint32_t vsub, uint8_t* luma,
                          uint8_t* chroma, size_t luma_stride, size_t chroma_stride);
  SwsContext* sws_ = nullptr;
};

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_CAPTURE_BUFFERS_H_
