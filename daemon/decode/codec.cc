// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/decode/codec.h"

#include <linux/daedalus-v4l2.h>
#include <linux/videodev2.h>

#include <string>

namespace daedalus::decode {

const std::vector<CodecInfo>& AllCodecs() {
  static const std::vector<CodecInfo> codecs = {
      {Codec::kH264, "h264", V4L2_PIX_FMT_H264, AV_CODEC_ID_H264, Packets::kParsed},
      {Codec::kHevc, "hevc", V4L2_PIX_FMT_HEVC, AV_CODEC_ID_HEVC, Packets::kParsed},
      {Codec::kVp8, "vp8", V4L2_PIX_FMT_VP8, AV_CODEC_ID_VP8, Packets::kWholeBuffer},
      {Codec::kVp9, "vp9", V4L2_PIX_FMT_VP9, AV_CODEC_ID_VP9, Packets::kVp9Superframe},
      {Codec::kAv1, "av1", V4L2_PIX_FMT_AV1, AV_CODEC_ID_AV1, Packets::kWholeBuffer},
  };
  return codecs;
}

const CodecInfo* CodecByFourcc(uint32_t fourcc) {
  for (const CodecInfo& c : AllCodecs()) {
    if (c.fourcc == fourcc) return &c;
  }
  return nullptr;
}

const CodecInfo* CodecByName(std::string_view name) {
  for (const CodecInfo& c : AllCodecs()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

const AVCodec* FindDecoder(const CodecInfo& codec) {
  if (codec.codec == Codec::kAv1) return avcodec_find_decoder_by_name("libdav1d");
  return avcodec_find_decoder(codec.id);
}

std::string FourccName(uint32_t f) {
  std::string s;
  for (int i = 0; i < 4; i++) {
    char c = static_cast<char>((f >> (8 * i)) & 0xff);
    if (c != ' ') s += c;
  }
  return s;
}

}  // namespace daedalus::decode
