// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/decode/vp9_decoder.h"

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

std::string PictureFormat::ToString() const {
  return absl::StrFormat("%dx%d %s %d-bit", width, height, ChromaName(), bit_depth);
}

absl::StatusOr<std::unique_ptr<Vp9Decoder>> Vp9Decoder::Create(const Options& options) {
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_VP9);
  if (!codec) return absl::UnimplementedError("libavcodec has no VP9 decoder");
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  if (!ctx) return absl::ResourceExhaustedError("avcodec_alloc_context3 failed");
  ctx->thread_count = options.threads < 1 ? 1 : options.threads;
  ctx->thread_type = FF_THREAD_FRAME;
  int err = avcodec_open2(ctx, codec, nullptr);
  if (err < 0) {
    avcodec_free_context(&ctx);
    return absl::InternalError("avcodec_open2(vp9): " + AvError(err));
  }
  return std::unique_ptr<Vp9Decoder>(new Vp9Decoder(ctx));
}

Vp9Decoder::Vp9Decoder(AVCodecContext* ctx) : ctx_(ctx), packet_(av_packet_alloc()) {}

Vp9Decoder::~Vp9Decoder() {
  av_packet_free(&packet_);
  avcodec_free_context(&ctx_);
}

// Collects every picture the decoder has ready. With frame threads a corrupt
// frame's error surfaces here, in between good pictures: keep collecting,
// and report the first error.
absl::Status Vp9Decoder::ReceiveAll(std::deque<Picture>* out) {
  absl::Status first_error;
  for (int errors = 0; errors < kMaxErrorsPerCall;) {
    FramePtr frame(av_frame_alloc());
    if (!frame) return absl::ResourceExhaustedError("av_frame_alloc failed");
    int err = avcodec_receive_frame(ctx_, frame.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return first_error;
    if (err < 0) {
      if (first_error.ok()) first_error = absl::DataLossError("VP9 decode: " + AvError(err));
      errors++;
      continue;
    }
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame->format));
    if (!desc) return absl::InternalError("decoded picture has no pixel format");
    // Which input this picture came from, and whether it is the one picture
    // that input shows (the last shown frame of a superframe: for spatial
    // SVC, the highest layer).
    auto it = inputs_.find(frame->pts);
    if (it == inputs_.end() || !it->second.output) continue;
    int64_t timestamp = it->second.timestamp;
    inputs_.erase(it);
    Picture pic;
    pic.format.width = frame->width;
    pic.format.height = frame->height;
    pic.format.bit_depth = desc->comp[0].depth;
    pic.format.chroma_shift_x = desc->log2_chroma_w;
    pic.format.chroma_shift_y = desc->log2_chroma_h;
    pic.timestamp = timestamp;
    pic.frame = std::move(frame);
    out->push_back(std::move(pic));
  }
  return first_error;
}

absl::Status Vp9Decoder::Decode(std::string_view data, int64_t timestamp,
                                std::deque<Picture>* out) {
  if (data.empty()) return absl::InvalidArgumentError("empty VP9 frame");
  std::vector<std::string_view> frames = SplitSuperframe(data);
  int last_shown = -1;
  for (size_t i = 0; i < frames.size(); i++) {
    if (IsShownFrame(frames[i])) last_shown = static_cast<int>(i);
  }
  // Inputs that never produce a picture (hidden, corrupt) are forgotten
  // once far behind.
  while (!inputs_.empty() && inputs_.begin()->first < next_input_ - kInputMemory) {
    inputs_.erase(inputs_.begin());
  }
  absl::Status first_error;
  for (size_t i = 0; i < frames.size(); i++) {
    int64_t id = next_input_++;
    inputs_[id] = Input{timestamp, static_cast<int>(i) == last_shown};
    av_packet_unref(packet_);
    // libavcodec may read past the end: give it a padded copy.
    int err = av_new_packet(packet_, static_cast<int>(frames[i].size()));
    if (err < 0) return absl::ResourceExhaustedError("av_new_packet: " + AvError(err));
    std::memcpy(packet_->data, frames[i].data(), frames[i].size());
    packet_->pts = id;
    err = avcodec_send_packet(ctx_, packet_);
    av_packet_unref(packet_);
    if (err < 0 && first_error.ok()) {
      first_error = absl::DataLossError("VP9 decode: " + AvError(err));
    }
    // Whether or not the packet was taken, pictures may be waiting.
    absl::Status received = ReceiveAll(out);
    if (first_error.ok()) first_error = received;
  }
  return first_error;
}

absl::Status Vp9Decoder::Drain(std::deque<Picture>* out) {
  int err = avcodec_send_packet(ctx_, nullptr);
  absl::Status st = err < 0 && err != AVERROR_EOF
                        ? absl::InternalError("VP9 drain: " + AvError(err))
                        : ReceiveAll(out);
  avcodec_flush_buffers(ctx_);  // leaves draining mode: ready for new input
  return st;
}

void Vp9Decoder::Reset() {
  avcodec_flush_buffers(ctx_);
  inputs_.clear();
}

std::string FfmpegVersion() {
  return absl::StrFormat("%s (FFmpeg %s)", LIBAVCODEC_IDENT, av_version_info());
}

}  // namespace daedalus::decode
