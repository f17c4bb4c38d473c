// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/decode/stream_decoder.h"

#include <linux/daedalus-v4l2.h>

extern "C" {
#include <libavcodec/version.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/pixdesc.h>
}

#include <cstring>

#include "absl/strings/str_format.h"
#include "daemon/decode/superframe.h"

namespace daedalus::decode {

std::string AvError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

const char* PictureFormat::ChromaName() const {
  if (chroma_shift_x) return chroma_shift_y ? "4:2:0" : "4:2:2";
  return chroma_shift_y ? "4:4:0" : "4:4:4";
}

int PictureFormat::ChromaCode() const {
  if (chroma_shift_x) return chroma_shift_y ? 420 : 422;
  return chroma_shift_y ? 440 : 444;
}

std::string PictureFormat::ToString() const {
  return absl::StrFormat("%dx%d %s %d-bit", width, height, ChromaName(), bit_depth);
}

absl::StatusOr<std::unique_ptr<StreamDecoder>> StreamDecoder::Create(const CodecInfo& info,
                                                                     const Options& options) {
  const AVCodec* codec = FindDecoder(info);
  if (!codec) {
    return absl::UnimplementedError(absl::StrFormat("libavcodec has no %s decoder", info.name));
  }
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  if (!ctx) return absl::ResourceExhaustedError("avcodec_alloc_context3 failed");
  ctx->thread_count = options.threads < 1 ? 1 : options.threads;
  ctx->thread_type = FF_THREAD_FRAME;
  // A stream that claims a picture larger than the node can carry is
  // refused by libavcodec before it allocates one (a fuzzed VP8 header of
  // 16208x13679 made it take 1.6 GB); the kernel fails such a context
  // anyway. The slack covers codecs' alignment of the coded size.
  ctx->max_pixels = static_cast<int64_t>(DDV_MAX_WIDTH + 64) * (DDV_MAX_HEIGHT + 64);
  int err = avcodec_open2(ctx, codec, nullptr);
  if (err < 0) {
    avcodec_free_context(&ctx);
    return absl::InternalError(absl::StrFormat("avcodec_open2(%s): %s", info.name, AvError(err)));
  }
  AVCodecParserContext* parser = nullptr;
  if (info.packets == Packets::kParsed) {
    parser = av_parser_init(info.id);
    if (!parser) {
      avcodec_free_context(&ctx);
      return absl::UnimplementedError(absl::StrFormat("libavcodec has no %s parser", info.name));
    }
  }
  return std::unique_ptr<StreamDecoder>(new StreamDecoder(info, ctx, parser));
}

StreamDecoder::StreamDecoder(const CodecInfo& codec, AVCodecContext* ctx,
                             AVCodecParserContext* parser)
    : codec_(codec), ctx_(ctx), parser_(parser), packet_(av_packet_alloc()) {}

StreamDecoder::~StreamDecoder() {
  av_packet_free(&packet_);
  if (parser_) av_parser_close(parser_);
  avcodec_free_context(&ctx_);
}

namespace {

Fields FieldsOf(const AVFrame& f) {
  if (!f.interlaced_frame) return Fields::kProgressive;
  return f.top_field_first ? Fields::kInterlacedTopFirst : Fields::kInterlacedBottomFirst;
}

}  // namespace

// Collects every picture the decoder has ready. With frame threads a corrupt
// frame's error surfaces here, in between good pictures: keep collecting,
// and report the first error.
absl::Status StreamDecoder::ReceiveAll(std::deque<Picture>* out) {
  absl::Status first_error;
  for (int errors = 0; errors < kMaxErrorsPerCall;) {
    FramePtr frame(av_frame_alloc());
    if (!frame) return absl::ResourceExhaustedError("av_frame_alloc failed");
    int err = avcodec_receive_frame(ctx_, frame.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return first_error;
    if (err < 0) {
      if (first_error.ok()) {
        first_error =
            absl::DataLossError(absl::StrFormat("%s decode: %s", codec_.name, AvError(err)));
      }
      errors++;
      continue;
    }
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame->format));
    if (!desc) return absl::InternalError("decoded picture has no pixel format");
    // Which input this picture came from, and whether that input shows it
    // (a VP9 superframe shows its last shown frame only: for spatial SVC,
    // the highest layer).
    auto it = inputs_.find(frame->pts);
    if (it == inputs_.end() || !it->second.output) continue;
    int64_t timestamp = it->second.timestamp;
    if (it->second.once) inputs_.erase(it);
    Picture pic;
    pic.format.width = frame->width;
    pic.format.height = frame->height;
    pic.format.bit_depth = desc->comp[0].depth;
    pic.format.chroma_shift_x = desc->log2_chroma_w;
    pic.format.chroma_shift_y = desc->log2_chroma_h;
    pic.fields = FieldsOf(*frame);
    pic.timestamp = timestamp;
    pic.frame = std::move(frame);
    out->push_back(std::move(pic));
  }
  return first_error;
}

absl::Status StreamDecoder::Send(std::string_view data, int64_t id, std::deque<Picture>* out) {
  av_packet_unref(packet_);
  // libavcodec may read past the end: give it a padded copy.
  int err = av_new_packet(packet_, static_cast<int>(data.size()));
  if (err < 0) return absl::ResourceExhaustedError("av_new_packet: " + AvError(err));
  std::memcpy(packet_->data, data.data(), data.size());
  packet_->pts = id;
  err = avcodec_send_packet(ctx_, packet_);
  av_packet_unref(packet_);
  absl::Status st;
  if (err < 0)
    st = absl::DataLossError(absl::StrFormat("%s decode: %s", codec_.name, AvError(err)));
  // Whether or not the packet was taken, pictures may be waiting.
  absl::Status received = ReceiveAll(out);
  return st.ok() ? received : st;
}

void StreamDecoder::ForgetOldInputs() {
  while (!inputs_.empty() && inputs_.begin()->first < next_input_ - kInputMemory) {
    inputs_.erase(inputs_.begin());
  }
  while (buffer_starts_.size() > 1 && buffer_starts_.begin()->second < next_input_ - kInputMemory) {
    buffer_starts_.erase(buffer_starts_.begin());
  }
}

absl::Status StreamDecoder::Decode(std::string_view data, int64_t timestamp,
                                   std::deque<Picture>* out) {
  if (data.empty())
    return absl::InvalidArgumentError(std::string("empty ") + codec_.name + " buffer");
  ForgetOldInputs();
  switch (codec_.packets) {
    case Packets::kVp9Superframe:
      return DecodeSuperframe(data, timestamp, out);
    case Packets::kParsed:
      return DecodeByteStream(data, timestamp, out);
    case Packets::kWholeBuffer:
      break;
  }
  int64_t id = next_input_++;
  inputs_[id] = Input{timestamp, true, true};
  return Send(data, id, out);
}

absl::Status StreamDecoder::DecodeSuperframe(std::string_view data, int64_t timestamp,
                                             std::deque<Picture>* out) {
  std::vector<std::string_view> frames = SplitSuperframe(data);
  int last_shown = -1;
  for (size_t i = 0; i < frames.size(); i++) {
    if (IsShownFrame(frames[i])) last_shown = static_cast<int>(i);
  }
  absl::Status first_error;
  for (size_t i = 0; i < frames.size(); i++) {
    int64_t id = next_input_++;
    inputs_[id] = Input{timestamp, static_cast<int>(i) == last_shown, true};
    absl::Status st = Send(frames[i], id, out);
    if (first_error.ok()) first_error = st;
  }
  return first_error;
}

absl::Status StreamDecoder::DecodeByteStream(std::string_view data, int64_t timestamp,
                                             std::deque<Picture>* out) {
  int64_t id = next_input_++;
  inputs_[id] = Input{timestamp, true, false};
  buffer_starts_[stream_offset_] = id;
  return Parse(data, out);
}

absl::Status StreamDecoder::Parse(std::string_view data, std::deque<Picture>* out) {
  if (!parser_) return absl::ResourceExhaustedError("av_parser_init failed");
  // The parser, like the decoder, may read past the end (CI's libFuzzer
  // slice caught it reading beyond a buffer of exactly the bitstream's
  // size): it gets a copy with libavcodec's zeroed padding.
  parse_buffer_.assign(data.data(), data.size());
  parse_buffer_.append(AV_INPUT_BUFFER_PADDING_SIZE, '\0');
  const uint8_t* in = reinterpret_cast<const uint8_t*>(parse_buffer_.data());
  int left = static_cast<int>(data.size());
  bool flush = data.empty();
  absl::Status first_error;
  do {
    uint8_t* unit = nullptr;
    int unit_size = 0;
    int used = av_parser_parse2(parser_, ctx_, &unit, &unit_size, in, left, AV_NOPTS_VALUE,
                                AV_NOPTS_VALUE, 0);
    if (used < 0) return absl::InternalError("av_parser_parse2: " + AvError(used));
    in += used;
    left -= used;
    stream_offset_ += static_cast<uint64_t>(used);
    if (unit_size > 0) {
      // The unit ends where the parser stopped reading: its first byte came
      // in the last buffer that started at or before that.
      uint64_t start = stream_offset_ - static_cast<uint64_t>(unit_size);
      auto it = buffer_starts_.upper_bound(start);
      int64_t id = it == buffer_starts_.begin() ? next_input_ - 1 : std::prev(it)->second;
      absl::Status st = Send(
          std::string_view(reinterpret_cast<char*>(unit), static_cast<size_t>(unit_size)), id, out);
      if (first_error.ok()) first_error = st;
    }
    if (flush) break;  // one call returns the last unit
  } while (left > 0);
  return first_error;
}

absl::Status StreamDecoder::Drain(std::deque<Picture>* out) {
  absl::Status parsed = codec_.packets == Packets::kParsed ? Parse({}, out) : absl::OkStatus();
  int err = avcodec_send_packet(ctx_, nullptr);
  absl::Status st =
      err < 0 && err != AVERROR_EOF
          ? absl::InternalError(absl::StrFormat("%s drain: %s", codec_.name, AvError(err)))
          : ReceiveAll(out);
  avcodec_flush_buffers(ctx_);  // leaves draining mode: ready for new input
  NewParser();
  return parsed.ok() ? st : parsed;
}

void StreamDecoder::Reset() {
  avcodec_flush_buffers(ctx_);
  NewParser();
  inputs_.clear();
  buffer_starts_.clear();
}

std::optional<PictureFormat> StreamDecoder::HeaderFormat() const {
  if (!parser_ || parser_->width <= 0 || parser_->height <= 0 || parser_->format < 0) {
    return std::nullopt;
  }
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(parser_->format));
  if (!desc) return std::nullopt;
  PictureFormat f;
  f.width = parser_->width;
  f.height = parser_->height;
  f.bit_depth = desc->comp[0].depth;
  f.chroma_shift_x = desc->log2_chroma_w;
  f.chroma_shift_y = desc->log2_chroma_h;
  return f;
}

void StreamDecoder::NewParser() {
  if (codec_.packets != Packets::kParsed) return;
  // A parser cannot be reset: a new one forgets any half-read unit.
  if (parser_) av_parser_close(parser_);
  parser_ = av_parser_init(codec_.id);
}

std::string FfmpegVersion() {
  return absl::StrFormat("%s (FFmpeg %s)", LIBAVCODEC_IDENT, av_version_info());
}

}  // namespace daedalus::decode
