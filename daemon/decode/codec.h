// SPDX-License-Identifier: BSD-2-Clause
//
// The codecs the decode core knows: how the node names each one (its
// V4L2 OUTPUT fourcc), which libavcodec decoder runs it, and how the
// bytes of an OUTPUT buffer become packets for that decoder.
//
//   const CodecInfo* h264 = CodecByFourcc(V4L2_PIX_FMT_H264);
//   const AVCodec* dec = FindDecoder(*h264);  // nullptr: not in this libavcodec

#ifndef DAEDALUS_DAEMON_DECODE_CODEC_H_
#define DAEDALUS_DAEMON_DECODE_CODEC_H_

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <cstdint>
#include <string_view>
#include <vector>

namespace daedalus::decode {

enum class Codec { kH264, kHevc, kVp8, kVp9, kAv1 };

// How an OUTPUT buffer's bytes reach libavcodec.
enum class Packets {
  // Any slice of an Annex B byte stream: libavcodec's parser finds the
  // access units (V4L2_FMT_FLAG_CONTINUOUS_BYTESTREAM).
  kParsed,
  // One VP9 frame or superframe per buffer; the superframe's last shown
  // frame is its picture.
  kVp9Superframe,
  // One frame (VP8) or temporal unit (AV1) per buffer.
  kWholeBuffer,
};

struct CodecInfo {
  Codec codec;
  const char* name;  // "h264", as in logs, metrics labels and options
  uint32_t fourcc;   // V4L2_PIX_FMT_*
  AVCodecID id;
  Packets packets;
};

// Every codec the decode core knows, in the order the node lists them.
const std::vector<CodecInfo>& AllCodecs();
const CodecInfo* CodecByFourcc(uint32_t fourcc);
const CodecInfo* CodecByName(std::string_view name);

// The libavcodec decoder that runs `codec`, or nullptr when this build of
// libavcodec has none. AV1 runs on libdav1d: FFmpeg 5.1's own AV1 decoder
// only drives hardware accelerators.
const AVCodec* FindDecoder(const CodecInfo& codec);

// "H264" for a fourcc, for logs.
std::string FourccName(uint32_t fourcc);

}  // namespace daedalus::decode

#endif  // DAEDALUS_DAEMON_DECODE_CODEC_H_
