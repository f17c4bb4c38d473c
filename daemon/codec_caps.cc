// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/codec_caps.h"

#include <linux/v4l2-controls.h>

#include <map>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace daedalus {

namespace {

constexpr uint32_t Bit(int n) { return 1u << n; }

// "H264", "HEVC", "VP8", "VP9", "AV1".
std::string CodecLabel(uint32_t fourcc) {
  const decode::CodecInfo* codec = decode::CodecByFourcc(fourcc);
  return codec ? absl::AsciiStrToUpper(codec->name) : decode::FourccName(fourcc);
}

}  // namespace

// Profiles left out: H.264 Extended (libavcodec has no data partitioning
// or SP/SI slices), the intra-only and scalable/multiview ones, VP9
// profile 3 and AV1 Professional (10/12-bit 4:2:2 and 4:4:4, which no
// single-plane CAPTURE format of V4L2 carries). 10-bit 4:2:2 and 4:4:4
// streams of the profiles listed fail with EIO and a kernel log line.
ddv_codec_caps CapsOf(const decode::CodecInfo& codec) {
  ddv_codec_caps c = {};
  c.fourcc = codec.fourcc;
  c.max_width = DDV_MAX_WIDTH;
  c.max_height = DDV_MAX_HEIGHT;
  switch (codec.codec) {
    case decode::Codec::kH264:
      c.profiles = Bit(V4L2_MPEG_VIDEO_H264_PROFILE_BASELINE) |
                   Bit(V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE) |
                   Bit(V4L2_MPEG_VIDEO_H264_PROFILE_MAIN) | Bit(V4L2_MPEG_VIDEO_H264_PROFILE_HIGH) |
                   Bit(V4L2_MPEG_VIDEO_H264_PROFILE_HIGH_10) |
                   Bit(V4L2_MPEG_VIDEO_H264_PROFILE_HIGH_422) |
                   Bit(V4L2_MPEG_VIDEO_H264_PROFILE_HIGH_444_PREDICTIVE) |
                   Bit(V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_HIGH);
      c.max_level = V4L2_MPEG_VIDEO_H264_LEVEL_6_2;
      break;
    case decode::Codec::kHevc:
      c.profiles = Bit(V4L2_MPEG_VIDEO_HEVC_PROFILE_MAIN) |
                   Bit(V4L2_MPEG_VIDEO_HEVC_PROFILE_MAIN_STILL_PICTURE) |
                   Bit(V4L2_MPEG_VIDEO_HEVC_PROFILE_MAIN_10);
      c.max_level = V4L2_MPEG_VIDEO_HEVC_LEVEL_6_2;
      break;
    case decode::Codec::kVp8:
      c.profiles = Bit(V4L2_MPEG_VIDEO_VP8_PROFILE_0) | Bit(V4L2_MPEG_VIDEO_VP8_PROFILE_1) |
                   Bit(V4L2_MPEG_VIDEO_VP8_PROFILE_2) | Bit(V4L2_MPEG_VIDEO_VP8_PROFILE_3);
      c.max_level = 0;  // VP8 has no level control
      break;
    case decode::Codec::kVp9:
      c.profiles = Bit(V4L2_MPEG_VIDEO_VP9_PROFILE_0) | Bit(V4L2_MPEG_VIDEO_VP9_PROFILE_1) |
                   Bit(V4L2_MPEG_VIDEO_VP9_PROFILE_2);
      c.max_level = V4L2_MPEG_VIDEO_VP9_LEVEL_6_2;
      break;
    case decode::Codec::kAv1:
      // Main and High as V4L2_MPEG_VIDEO_AV1_PROFILE_* (0, 1); level 7.3
      // is the menu's last (23): the values are the AV1 spec's own, so
      // they hold on kernels whose headers lack the AV1 controls.
      c.profiles = Bit(0) | Bit(1);
      c.max_level = 23;
      break;
  }
  return c;
}

absl::StatusOr<std::vector<ddv_codec_caps>> AnnouncedCodecs(const std::vector<std::string>& only) {
  std::vector<ddv_codec_caps> out;
  if (only.empty()) {
    for (const decode::CodecInfo& codec : decode::AllCodecs()) {
      if (decode::FindDecoder(codec) && out.size() < DDV_MAX_CODECS) out.push_back(CapsOf(codec));
    }
    return out;
  }
  for (const std::string& name : only) {
    const decode::CodecInfo* codec = decode::CodecByName(name);
    if (!codec) return absl::InvalidArgumentError("unknown codec '" + name + "'");
    if (!decode::FindDecoder(*codec)) {
      return absl::UnimplementedError("this libavcodec has no " + name + " decoder");
    }
    for (const ddv_codec_caps& c : out) {
      if (c.fourcc == codec->fourcc) return absl::InvalidArgumentError(name + " named twice");
    }
    out.push_back(CapsOf(*codec));
  }
  return out;
}

namespace {

// V4L2's names of the menu values (v4l2-ctrls-defs.c), for the profiles
// the daemon announces.
std::string ProfileName(uint32_t fourcc, int value) {
  static const std::map<int, const char*> h264 = {
      {V4L2_MPEG_VIDEO_H264_PROFILE_BASELINE, "Baseline"},
      {V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE, "Constrained Baseline"},
      {V4L2_MPEG_VIDEO_H264_PROFILE_MAIN, "Main"},
      {V4L2_MPEG_VIDEO_H264_PROFILE_HIGH, "High"},
      {V4L2_MPEG_VIDEO_H264_PROFILE_HIGH_10, "High 10"},
      {V4L2_MPEG_VIDEO_H264_PROFILE_HIGH_422, "High 422"},
      {V4L2_MPEG_VIDEO_H264_PROFILE_HIGH_444_PREDICTIVE, "High 444 Predictive"},
      {V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_HIGH, "Constrained High"}};
  static const std::map<int, const char*> hevc = {
      {V4L2_MPEG_VIDEO_HEVC_PROFILE_MAIN, "Main"},
      {V4L2_MPEG_VIDEO_HEVC_PROFILE_MAIN_STILL_PICTURE, "Main Still Picture"},
      {V4L2_MPEG_VIDEO_HEVC_PROFILE_MAIN_10, "Main 10"}};
  static const std::map<int, const char*> av1 = {{0, "Main"}, {1, "High"}, {2, "Professional"}};
  const std::map<int, const char*>* names = fourcc == V4L2_PIX_FMT_H264   ? &h264
                                            : fourcc == V4L2_PIX_FMT_HEVC ? &hevc
                                            : fourcc == V4L2_PIX_FMT_AV1  ? &av1
                                                                          : nullptr;
  if (names) {
    auto it = names->find(value);
    if (it != names->end()) return it->second;
  }
  return std::to_string(value);  // VP8 and VP9 profiles are numbers
}

}  // namespace

control::CodecCapability CapabilityOf(const ddv_codec_caps& c, int frame_threads) {
  control::CodecCapability out;
  out.codec = CodecLabel(c.fourcc);
  for (int i = 0; i < 32; i++) {
    if (c.profiles & Bit(i)) out.profiles.push_back(ProfileName(c.fourcc, i));
  }
  // The CAPTURE formats of the chroma layouts and depths the codec's
  // streams decode to with libavcodec (for HEVC its range extensions too,
  // which V4L2's profile menu does not name), then the RGB every 8-bit
  // stream converts to.
  switch (c.fourcc) {
    case V4L2_PIX_FMT_VP8:
      out.pixel_formats = {"YUV420", "NV12"};
      break;
    case V4L2_PIX_FMT_AV1:  // Main and High: 8/10-bit 4:2:0, 8-bit 4:4:4
      out.pixel_formats = {"YUV420", "NV12", "NV24", "P010"};
      break;
    case V4L2_PIX_FMT_VP9:  // profiles 0-2: 4:2:0 up to 12-bit, 8-bit 4:2:2/4:4:4
      out.pixel_formats = {"YUV420", "NV12", "YUV422P", "NV16", "NV24", "P010", "P012"};
      break;
    default:  // H.264, HEVC
      out.pixel_formats = {"YUV420", "NV12", "YUV422P", "NV16", "NV24",
                           "P010",   "P012", "Y210",    "Y212"};
  }
  out.pixel_formats.insert(out.pixel_formats.end(), {"ABGR32", "XBGR32"});
  out.max_width = c.max_width;
  out.max_height = c.max_height;
  out.frame_threads = frame_threads;
  return out;
}

std::string DescribeCaps(const ddv_codec_caps& c) {
  std::vector<int> profiles;
  for (int i = 0; i < 32; i++) {
    if (c.profiles & Bit(i)) profiles.push_back(i);
  }
  return absl::StrFormat("%s (profiles %s; level <= %d; up to %dx%d)", CodecLabel(c.fourcc),
                         absl::StrJoin(profiles, ","), c.max_level, c.max_width, c.max_height);
}

}  // namespace daedalus
