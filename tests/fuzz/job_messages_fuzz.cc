// SPDX-License-Identifier: BSD-2-Clause
//
// Fuzz target: the daemon's job layer as a hostile or broken kernel would
// drive it. Input: FuzzInput chunks, alternately a chardev message (read
// with protocol::Decode, then given to JobDispatcher as the event loop
// does) and the bitstream the next job's ReadSrc returns. Any ids, sizes,
// flags, layouts and orders: no crash, no leak, every answer names the job
// and cookie it answers, and a picture is written only into a job that has
// a CAPTURE buffer, at the size of that buffer's layout (through the
// kernel, or into the buffer the daemon mapped: within its bounds).

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "daemon/decode_stats.h"
#include "daemon/job_dispatcher.h"
#include "daemon/protocol.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

// The kernel's side of a job's buffers: the bitstream from the input, and
// checks on what the daemon writes back.
class FuzzIo final : public daedalus::JobIo {
 public:
  std::string src;
  ddv_decode job = {};
  uint32_t cookie = 0;

  absl::StatusOr<size_t> ReadSrc(uint32_t ctx, uint32_t job_id, std::string& buf) override {
    if (ctx != job.ctx_id || job_id != job.job_id) std::abort();
    size_t n = std::min(buf.size(), src.size());
    std::memcpy(buf.data(), src.data(), n);
    return n;
  }
  absl::Status WritePicture(uint32_t ctx, uint32_t job_id,
                            const daedalus::PictureView& p) override {
    if (ctx != job.ctx_id || job_id != job.job_id || !(job.flags & DDV_DECODE_DST)) std::abort();
    if (p.width != job.dst.width || p.height != job.dst.height) std::abort();
    if (p.num_planes < 1 || p.num_planes > p.planes.size()) std::abort();
    for (uint32_t i = 0; i < p.num_planes; i++) {
      if (!p.planes[i] || p.strides[i] == 0) std::abort();
    }
    return absl::OkStatus();
  }
  // A memfd stands in for the buffer's DMA-BUF: the daemon's own writes
  // into it are checked by ASan's view of the mapping's bounds.
  absl::StatusOr<int> ExportDst(uint32_t ctx, uint32_t job_id) override {
    if (ctx != job.ctx_id || job_id != job.job_id || !(job.flags & DDV_DECODE_DST_EXPORT))
      std::abort();
    int fd = memfd_create("fuzz-capture", MFD_CLOEXEC);
    if (fd < 0) return absl::ResourceExhaustedError("memfd_create");
    // A layout claiming more than this gets a buffer too small for it.
    if (ftruncate(fd, std::min<off_t>(job.dst.sizeimage, 64 << 20)) != 0) {
      close(fd);
      return absl::ResourceExhaustedError("ftruncate");
    }
    return fd;
  }
  absl::Status Answer(uint32_t cookie, const ddv_decode_done& done) override {
    if (cookie != this->cookie || done.ctx_id != job.ctx_id || done.job_id != job.job_id)
      std::abort();
    // Only a buffer the kernel exported can have been written by the daemon.
    if ((done.flags & DDV_DONE_MAPPED) && !(job.flags & DDV_DECODE_DST_EXPORT)) std::abort();
    return absl::OkStatus();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  daedalus::fuzz::FuzzInput in(data, size);
  daedalus::DecodeStats stats;
  daedalus::JobDispatcher jobs(daedalus::DecodeJobs::Options{1, {}}, stats);
  FuzzIo io;
  for (int n = 0; !in.empty() && n < 64; n++) {
    absl::StatusOr<daedalus::protocol::Message> msg = daedalus::protocol::Decode(in.Chunk());
    io.src = std::string(in.Chunk());
    if (!msg.ok()) continue;
    if (msg->type == DDV_MSG_DECODE && msg->payload.size() == sizeof(ddv_decode)) {
      std::memcpy(&io.job, msg->payload.data(), sizeof(io.job));
      io.cookie = msg->cookie;
    }
    (void)jobs.Handle(*msg, io);
  }
  jobs.LinkLost();
  return 0;
}
