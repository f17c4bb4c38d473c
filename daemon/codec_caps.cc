// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/codec_caps.h"

#include <linux/v4l2-controls.h>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace daedalus {

namespace {

constexpr uint32_t Bit(int n) { return 1u << n; }

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

std::vector<ddv_codec_caps> AnnouncedCodecs() {
  std::vector<ddv_codec_caps> out;
  for (const decode::CodecInfo& codec : decode::AllCodecs()) {
    if (decode::FindDecoder(codec) && out.size() < DDV_MAX_CODECS) out.push_back(CapsOf(codec));
  }
  return out;
}

std::string DescribeCaps(const ddv_codec_caps& c) {
  std::vector<int> profiles;
  for (int i = 0; i < 32; i++) {
    if (c.profiles & Bit(i)) profiles.push_back(i);
  }
  return absl::StrFormat("%s (profiles %s; level <= %d; up to %dx%d)", decode::FourccName(c.fourcc),
                         absl::StrJoin(profiles, ","), c.max_level, c.max_width, c.max_height);
}

}  // namespace daedalus
