// SPDX-License-Identifier: BSD-2-Clause
//
// JobIo: access to the buffers of a running decode job, which the chardev's
// data ioctls give (DDV_IOC_READ_SRC, DDV_IOC_WRITE_PICTURE), and the way
// its answer (DECODE_DONE) goes back, and DDV_IOC_EXPORT_DST, through
// which the daemon maps a CAPTURE buffer to write pictures into itself. Its own header
// so that the syscall layer (Chardev) and the job layer (DecodeJobs) meet
// here without either depending on the other, and without libavcodec.
//
//   PictureView view{width, height, {y, u, v}, {y_stride, u_stride, v_stride}};
//   absl::Status st = io.WritePicture(ctx_id, job_id, view);

#ifndef DAEDALUS_DAEMON_JOB_IO_H_
#define DAEDALUS_DAEMON_JOB_IO_H_

#include <linux/daedalus-v4l2.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace daedalus {

// A decoded picture in memory, each plane with its row stride in bytes:
// three planes (Y, U, V) with the CAPTURE format's sample size, or two
// (Y and the chroma plane as the CAPTURE format lays it out, e.g. P010).
// It borrows the decoder's (or a conversion's) memory: valid while that
// picture lives.
struct PictureView {
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t num_planes = 3;
  std::array<const uint8_t*, 3> planes = {};
  std::array<uint32_t, 3> strides = {};
};

class JobIo {
 public:
  virtual ~JobIo() = default;
  // Copies the job's bitstream into `buf` (sized by the caller); returns
  // the bytes copied. NotFound: the job is gone.
  virtual absl::StatusOr<size_t> ReadSrc(uint32_t ctx, uint32_t job, std::string& buf) = 0;
  // Writes `picture` into the job's CAPTURE buffer. NotFound: job gone.
  virtual absl::Status WritePicture(uint32_t ctx, uint32_t job, const PictureView& picture) = 0;
  // A file descriptor (the caller's to close) through which the job's
  // CAPTURE buffer can be mapped read-write, for a job flagged
  // DDV_DECODE_DST_EXPORT. NotFound: job gone; FailedPrecondition: the
  // buffer is not one the kernel can export.
  virtual absl::StatusOr<int> ExportDst(uint32_t ctx, uint32_t job) = 0;
  // Sends the job's DECODE_DONE, answering the DECODE of `cookie`.
  // NotFound: the kernel ended the job meanwhile (timeout, close).
  virtual absl::Status Answer(uint32_t cookie, const ddv_decode_done& done) = 0;
};

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_JOB_IO_H_
