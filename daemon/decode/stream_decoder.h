// SPDX-License-Identifier: BSD-2-Clause
//
// StreamDecoder: one compressed stream of any codec the decode core knows
// (codec.h) in, shown pictures out, with libavcodec. Knows nothing of V4L2
// or the chardev, so it can be tested on its own.
//
//   auto dec = StreamDecoder::Create(*CodecByName("h264"), {.threads = 2});
//   std::deque<Picture> pics;
//   absl::Status st = (*dec)->Decode(buffer_bytes, timestamp, &pics);
//   ... (*dec)->Drain(&pics);  // end of stream: pictures held back
//
// What one Decode() takes depends on the codec (CodecInfo::packets): any
// slice of an H.264/HEVC byte stream, a VP9 frame or superframe, a VP8
// frame, an AV1 temporal unit. A picture carries the timestamp of the
// buffer its frame began in; with frame threads or reordering it may come
// out of a later call, or of Drain().

#ifndef DAEDALUS_DAEMON_DECODE_STREAM_DECODER_H_
#define DAEDALUS_DAEMON_DECODE_STREAM_DECODER_H_

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/decode/codec.h"

namespace daedalus::decode {

// What a decoded picture looks like, as far as a CAPTURE format cares.
struct PictureFormat {
  int width = 0;  // visible size
  int height = 0;
  int bit_depth = 8;
  int chroma_shift_x = 1;  // 1,1: 4:2:0; 1,0: 4:2:2; 0,1: 4:4:0; 0,0: 4:4:4
  int chroma_shift_y = 1;

  bool operator==(const PictureFormat& o) const {
    return width == o.width && height == o.height && bit_depth == o.bit_depth &&
           chroma_shift_x == o.chroma_shift_x && chroma_shift_y == o.chroma_shift_y;
  }
  bool operator!=(const PictureFormat& o) const { return !(*this == o); }
  // "4:2:0", "4:2:2", "4:4:0" or "4:4:4".
  const char* ChromaName() const;
  // 420, 422, 440 or 444, as struct ddv_stream_format has it.
  int ChromaCode() const;
  std::string ToString() const;
};

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

// How the two fields of a picture were coded.
enum class Fields { kProgressive, kInterlacedTopFirst, kInterlacedBottomFirst };

struct Picture {
  FramePtr frame;
  PictureFormat format;
  Fields fields = Fields::kProgressive;
  int64_t timestamp = 0;
};

// libavcodec's identity, e.g. "Lavc59.37.100 (FFmpeg 5.1.6)".
std::string FfmpegVersion();

class StreamDecoder {
 public:
  struct Options {
    int threads = 1;  // frame threads; more adds latency of threads-1 frames
  };

  // Unimplemented when this libavcodec lacks the codec's decoder.
  static absl::StatusOr<std::unique_ptr<StreamDecoder>> Create(const CodecInfo& codec,
                                                               const Options& options);
  ~StreamDecoder();
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;

  // Decodes one OUTPUT buffer's bytes; appends shown pictures. DataLoss
  // for corrupt data: the decoder stays usable, and the next random
  // access point decodes normally.
  absl::Status Decode(std::string_view data, int64_t timestamp, std::deque<Picture>* out);

  // End of stream: appends every picture still held, then the decoder is
  // ready for more input.
  absl::Status Drain(std::deque<Picture>* out);

  // Drops everything in flight (seek). Decoding resumes at a random
  // access point.
  void Reset();

  const CodecInfo& codec() const { return codec_; }

  // The format the stream's headers announce, once the parser has read
  // them (H.264, HEVC): known before the first picture, which reordering
  // and frame threads hold back for several buffers. A stateful decoder
  // reports the format once the headers are parsed (dev-decoder.rst), and
  // clients (v4l2-compliance) wait for it with only a few buffers queued.
  std::optional<PictureFormat> HeaderFormat() const;

 private:
  // Bounds ReceiveAll() even if the decoder kept returning errors.
  static constexpr int kMaxErrorsPerCall = 64;
  // Inputs that never produce a picture (hidden, corrupt, the middle of a
  // frame) are forgotten once this far behind.
  static constexpr int64_t kInputMemory = 512;

  StreamDecoder(const CodecInfo& codec, AVCodecContext* ctx, AVCodecParserContext* parser);
  absl::Status DecodeSuperframe(std::string_view data, int64_t timestamp, std::deque<Picture>* out);
  absl::Status DecodeByteStream(std::string_view data, int64_t timestamp, std::deque<Picture>* out);
  // Runs the parser over `data` (empty: flush it) and sends what it finds.
  absl::Status Parse(std::string_view data, std::deque<Picture>* out);
  // One packet to libavcodec, whose pictures take input `id`'s timestamp.
  absl::Status Send(std::string_view packet, int64_t id, std::deque<Picture>* out);
  absl::Status ReceiveAll(std::deque<Picture>* out);
  void ForgetOldInputs();
  // A fresh parser (byte-stream codecs): after a drain or a seek.
  void NewParser();

  // Each packet sent to libavcodec carries an input number as its pts.
  struct Input {
    int64_t timestamp;  // the caller's
    bool output;        // a picture decoded from it is shown
    bool once;          // it shows one picture at most (VP8, VP9, AV1)
  };

  const CodecInfo& codec_;
  AVCodecContext* ctx_;
  AVCodecParserContext* parser_;  // kParsed codecs only
  AVPacket* packet_;
  int64_t next_input_ = 0;
  std::map<int64_t, Input> inputs_;
  std::string parse_buffer_;  // the bitstream being parsed, padded
  // Byte stream: where each buffer began, by stream offset, so a parsed
  // access unit gets the input its first byte came in.
  std::map<uint64_t, int64_t> buffer_starts_;
  uint64_t stream_offset_ = 0;
};

// FFmpeg's error text for an AVERROR code.
std::string AvError(int err);

}  // namespace daedalus::decode

#endif  // DAEDALUS_DAEMON_DECODE_STREAM_DECODER_H_
