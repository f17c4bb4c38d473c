// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/decode/superframe.h"

#include <string>

#include "gtest/gtest.h"

namespace daedalus::decode {
namespace {

// Builds a superframe with 1-byte sizes: frames, then the index.
std::string Superframe(const std::vector<std::string>& frames) {
  std::string out;
  for (const auto& f : frames) out += f;
  uint8_t marker = 0xc0 | static_cast<uint8_t>(frames.size() - 1);  // mag 1
  out += static_cast<char>(marker);
  for (const auto& f : frames) out += static_cast<char>(f.size());
  out += static_cast<char>(marker);
  return out;
}

TEST(SuperframeTest, PlainFrameIsOneFrame) {
  std::string f = "\x82\x49\x83";
  auto parts = SplitSuperframe(f);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0], f);
}

TEST(SuperframeTest, SplitsByIndex) {
  std::string sf = Superframe({"aaa", "bb", "c"});
  auto parts = SplitSuperframe(sf);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], "aaa");
  EXPECT_EQ(parts[1], "bb");
  EXPECT_EQ(parts[2], "c");
}

TEST(SuperframeTest, LyingIndexIsTreatedAsOneFrame) {
  std::string sf = Superframe({"aaa", "bb"});
  sf[sf.size() - 2] = 100;  // second size far past the data
  EXPECT_EQ(SplitSuperframe(sf).size(), 1u);
  std::string mismatch = Superframe({"aaa"});
  mismatch[mismatch.size() - 3] = 0x00;  // first marker byte differs
  EXPECT_EQ(SplitSuperframe(mismatch).size(), 1u);
  EXPECT_EQ(SplitSuperframe(std::string(1, '\xc0')).size(), 1u);
}

TEST(SuperframeTest, ShownBits) {
  // frame_marker 10, profile 0, show_existing 0, frame_type 0, show_frame 1
  EXPECT_TRUE(IsShownFrame("\x82"));
  // show_frame 0: a hidden frame (e.g. an alt-ref)
  EXPECT_FALSE(IsShownFrame("\x80"));
  // show_existing_frame 1
  EXPECT_TRUE(IsShownFrame("\x88"));
  // profile 3: one more bit before show_existing_frame
  EXPECT_TRUE(IsShownFrame("\xb1"));  // 10 1 1 0 0 0 1: show_frame at bit 0
  EXPECT_FALSE(IsShownFrame("\xb0"));
  EXPECT_FALSE(IsShownFrame(""));
  EXPECT_FALSE(IsShownFrame("\x02"));  // no frame marker
}

}  // namespace
}  // namespace daedalus::decode
