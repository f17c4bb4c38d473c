// SPDX-License-Identifier: BSD-2-Clause
//
// What HELLO announces: every codec of Debian 12's libavcodec, with the
// profiles whose pictures the node's CAPTURE formats carry.

#include "daemon/codec_caps.h"

#include <linux/v4l2-controls.h>

#include "gtest/gtest.h"

namespace daedalus {
namespace {

TEST(CodecCapsTest, AnnouncesEveryCodecThisLibavcodecHas) {
  absl::StatusOr<std::vector<ddv_codec_caps>> all = AnnouncedCodecs();
  ASSERT_TRUE(all.ok()) << all.status();
  const std::vector<ddv_codec_caps>& caps = *all;
  ASSERT_EQ(caps.size(), 5u) << "Debian 12's libavcodec (with libdav1d) has all five";
  EXPECT_EQ(caps[0].fourcc, V4L2_PIX_FMT_H264);
  EXPECT_EQ(caps[4].fourcc, V4L2_PIX_FMT_AV1);
  for (const ddv_codec_caps& c : caps) {
    EXPECT_NE(c.profiles, 0u);
    EXPECT_EQ(c.max_width, DDV_MAX_WIDTH);
    EXPECT_EQ(c.reserved, 0u);
  }
}

TEST(CodecCapsTest, OnlyTheNamedCodecsInTheirOrder) {
  auto caps = AnnouncedCodecs({"vp9", "h264"});
  ASSERT_TRUE(caps.ok()) << caps.status();
  ASSERT_EQ(caps->size(), 2u);
  EXPECT_EQ((*caps)[0].fourcc, V4L2_PIX_FMT_VP9);
  EXPECT_EQ((*caps)[1].fourcc, V4L2_PIX_FMT_H264);
  EXPECT_EQ(AnnouncedCodecs({"mpeg2"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AnnouncedCodecs({"vp9", "vp9"}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CodecCapsTest, ProfilesAreThoseTheNodeCanCarry) {
  ddv_codec_caps vp9 = CapsOf(*decode::CodecByName("vp9"));
  EXPECT_TRUE(vp9.profiles & (1u << V4L2_MPEG_VIDEO_VP9_PROFILE_2));   // 10-bit 4:2:0: P010
  EXPECT_FALSE(vp9.profiles & (1u << V4L2_MPEG_VIDEO_VP9_PROFILE_3));  // no format for it
  ddv_codec_caps h264 = CapsOf(*decode::CodecByName("h264"));
  EXPECT_TRUE(h264.profiles & (1u << V4L2_MPEG_VIDEO_H264_PROFILE_HIGH));
  EXPECT_FALSE(h264.profiles & (1u << V4L2_MPEG_VIDEO_H264_PROFILE_EXTENDED));
  EXPECT_EQ(h264.max_level, static_cast<uint32_t>(V4L2_MPEG_VIDEO_H264_LEVEL_6_2));
  EXPECT_EQ(CapsOf(*decode::CodecByName("vp8")).max_level, 0u);
  EXPECT_EQ(DescribeCaps(CapsOf(*decode::CodecByName("hevc"))),
            "HEVC (profiles 0,1,2; level <= 12; up to 4096x2304)");
}

}  // namespace
}  // namespace daedalus
