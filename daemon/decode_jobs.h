// SPDX-License-Identifier: BSD-2-Clause
//
// DecodeJobs: the daemon's side of the V4L2 decoder. One StreamDecoder per
// kernel context, of the codec its jobs name (the context's OUTPUT
// format); each DECODE job becomes one DECODE_DONE answer.
//
// A job brings at most one OUTPUT buffer (bitstream) and at most one
// CAPTURE buffer. Pictures the decoder produces wait in a per-context queue
// until a job brings a CAPTURE buffer for them; the first picture of a new
// format is announced (DDV_DONE_FORMAT) before it is written. Everything
// that happens is counted in a DecodeStats.
//
//   DecodeStats stats;
//   DecodeJobs jobs({.threads = 2}, stats);
//   std::optional<ddv_decode_done> done = jobs.Run(request, chardev);

#ifndef DAEDALUS_DAEMON_DECODE_JOBS_H_
#define DAEDALUS_DAEMON_DECODE_JOBS_H_

#include <linux/daedalus-v4l2.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/capture_buffers.h"
#include "daemon/decode/picture_layout.h"
#include "daemon/decode/stream_decoder.h"
#include "daemon/decode_stats.h"
#include "daemon/job_io.h"

namespace daedalus {

class DecodeJobs {
 public:
  struct Options {
    int threads = 1;  // libavcodec frame threads per context
    // Per codec ("h264", "av1"...), instead of `threads`.
    std::map<std::string, int> codec_threads;
    // Write pictures into CAPTURE buffers mapped into the daemon where the
    // kernel can export them (MMAP buffers); else, and when false, the
    // kernel copies each picture (DDV_IOC_WRITE_PICTURE).
    bool map_capture = true;
    int ThreadsFor(const decode::CodecInfo& codec) const {
      auto it = codec_threads.find(codec.name);
      return it == codec_threads.end() ? threads : it->second;
    }
  };
  DecodeJobs(Options options, DecodeStats& stats) : options_(options), stats_(stats) {}

  // Decoded pictures a context may hold for CAPTURE buffers, on top of
  // its frame threads' own. A stream keeps one or two waiting; more means
  // the client does not take them or its buffers can never carry them, and
  // the context fails (ENOSPC) rather than the daemon's memory growing with
  // every job.
  static constexpr size_t kMaxPendingPictures = 16;

  // The answer to a DECODE, or nullopt when the job is gone (the kernel
  // timed it out or the client closed): nothing to answer.
  std::optional<ddv_decode_done> Run(const ddv_decode& request, JobIo& io);
  // The client seeked: drop pictures and decoder state.
  void Flush(uint32_t ctx);
  // The client closed: free the context.
  void Close(uint32_t ctx);
  // The link to the kernel broke: every context is gone.
  void Clear();

  size_t contexts() const { return contexts_.size(); }

 private:
  struct Context {
    std::unique_ptr<decode::StreamDecoder> decoder;
    decode::PictureLayout layout;  // converts pictures a CAPTURE format needs converted
    CaptureBuffers capture;        // the client's buffers, mapped to write pictures into
    PictureWriter writer;          // and what writes them there
    bool kernel_writes = false;    // a buffer could not be mapped: the kernel copies
    std::deque<decode::Picture> pending;
    std::optional<decode::PictureFormat> announced;  // last DDV_DONE_FORMAT
    bool drained = false;                            // Drain() ran for the current drain
    // A dead daemon's stream picked up mid-way (DDV_DECODE_RESUME): until
    // a key frame, pictures may lack their references and are dropped.
    bool resuming = false;
  };

  // What a step of a job leaves to do: go on with the next step, answer
  // with `done` as it is, or nothing (the job is gone).
  enum class Step { kGoOn, kAnswer, kGone };

  // The context's decoder, for `fourcc`: a context whose client chose
  // another codec for a new stream gets a new decoder.
  absl::StatusOr<Context*> GetContext(uint32_t id, uint32_t fourcc);
  std::optional<ddv_decode_done> RunJob(const ddv_decode& request, JobIo& io);
  // While the context resumes a stream, drops the pictures before its
  // first key frame; how many.
  size_t DropUntilKeyFrame(uint32_t id, Context& c);
  // Reads the job's OUTPUT buffer and decodes it.
  Step DecodeBitstream(const ddv_decode& request, JobIo& io, Context& c, ddv_decode_done& done);
  // Announces the next picture's format, or writes the picture into the
  // job's CAPTURE buffer.
  Step DeliverPicture(const ddv_decode& request, JobIo& io, Context& c, ddv_decode_done& done);
  // The job's CAPTURE buffer mapped for a picture, or null where the
  // kernel is to copy it. NotFound: the job is gone.
  absl::StatusOr<uint8_t*> MapCapture(const ddv_decode& request, JobIo& io, Context& c);
  // The picture into the job's CAPTURE buffer mapped at `dst`.
  absl::Status WriteMapped(const ddv_decode& request, const decode::Picture& pic, Context& c,
                           uint8_t* dst);
  // Tells the kernel the stream's format (DDV_DONE_FORMAT).
  void Announce(uint32_t ctx, Context& c, const decode::PictureFormat& format,
                ddv_decode_done& done);

  const Options options_;
  std::map<uint32_t, Context> contexts_;
  std::string bitstream_;  // reused between jobs
  DecodeStats& stats_;
};

// The stream format as the kernel sees it.
ddv_stream_format ToStreamFormat(const decode::PictureFormat& format);

// What the chardev writes of `picture` into a CAPTURE buffer of `fourcc`.
// FailedPrecondition for a format that cannot carry it; Internal for a
// frame libavcodec laid out bottom-up (negative strides).
absl::StatusOr<PictureView> ViewOf(const decode::Picture& picture, uint32_t fourcc,
                                   decode::PictureLayout& layout);
// The V4L2 field of a picture (V4L2_FIELD_NONE, _INTERLACED_TB, _BT).
uint32_t FieldOf(const decode::Picture& picture);

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_DECODE_JOBS_H_
