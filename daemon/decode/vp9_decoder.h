// SPDX-License-Identifier: BSD-2-Clause
//
// Vp9Decoder: one VP9 stream in, shown pictures out, with libavcodec.
// Knows nothing of V4L2 or the chardev, so it can be tested on its own.
//
//   auto dec = Vp9Decoder::Create({.threads = 2});
//   std::deque<Picture> pics;
//   absl::Status st = (*dec)->Decode(frame_bytes, timestamp, &pics);
//   ... (*dec)->Drain(&pics);  // end of stream: pictures held by threads
//
// Each input produces at most one picture: a superframe shows only its last
// shown frame (for spatial SVC, the highest layer), as the reference
// decoder does. With frame threads a picture may come out of a later call,
// or of Drain(). Pictures carry the timestamp of their input.

#ifndef DAEDALUS_DAEMON_DECODE_VP9_DECODER_H_
#define DAEDALUS_DAEMON_DECODE_VP9_DECODER_H_

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace daedalus::decode {

// What a decoded picture looks like, as far as a CAPTURE format cares.
struct PictureFormat {
  int width = 0;  // visible size
  int height = 0;
  int bit_depth = 8;
  int chroma_shift_x = 1;  // 1,1: 4:2:0; 1,0: 4:2:2; 0,0: 4:4:4
  int chroma_shift_y = 1;

  bool operator==(const PictureFormat& o) const {
    return width == o.width && height == o.height && bit_depth == o.bit_depth &&
           chroma_shift_x == o.chroma_shift_x && chroma_shift_y == o.chroma_shift_y;
  }
  bool operator!=(const PictureFormat& o) const { return !(*this == o); }
  bool Is8Bit420() const { return bit_depth == 8 && chroma_shift_x == 1 && chroma_shift_y == 1; }
  // "4:2:0", "4:2:2", "4:4:0" or "4:4:4".
  const char* ChromaName() const;
  std::string ToString() const;
};

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

struct Picture {
  FramePtr frame;
  PictureFormat format;
  int64_t timestamp = 0;
};

// libavcodec's identity, e.g. "Lavc59.37.100 (FFmpeg 5.1.6)".
std::string FfmpegVersion();

class Vp9Decoder {
 public:
  struct Options {
    int threads = 1;  // frame threads; more adds latency of threads-1 frames
  };

  static absl::StatusOr<std::unique_ptr<Vp9Decoder>> Create(const Options& options);
  ~Vp9Decoder();
  Vp9Decoder(const Vp9Decoder&) = delete;
  Vp9Decoder& operator=(const Vp9Decoder&) = delete;

  // Decodes one compressed frame or superframe; appends shown pictures.
  // DataLoss for a corrupt frame: the decoder stays usable, and the next
  // keyframe decodes normally.
  absl::Status Decode(std::string_view data, int64_t timestamp, std::deque<Picture>* out);

  // End of stream: appends every picture still held, then the decoder is
  // ready for more input.
  absl::Status Drain(std::deque<Picture>* out);

  // Drops everything in flight (seek). Decoding resumes at a keyframe.
  void Reset();

 private:
  // Bounds ReceiveAll() even if the decoder kept returning errors.
  static constexpr int kMaxErrorsPerCall = 64;

  explicit Vp9Decoder(AVCodecContext* ctx);
  absl::Status ReceiveAll(std::deque<Picture>* out);

  // Each frame sent to libavcodec carries a sequence number as its pts.
  struct Input {
    int64_t timestamp;  // the caller's
    bool output;        // its picture is shown to the caller
  };
  static constexpr int64_t kInputMemory = 256;

  AVCodecContext* ctx_;
  AVPacket* packet_;
  int64_t next_input_ = 0;
  std::map<int64_t, Input> inputs_;
};

// FFmpeg's error text for an AVERROR code.
std::string AvError(int err);

}  // namespace daedalus::decode

#endif  // DAEDALUS_DAEMON_DECODE_VP9_DECODER_H_
