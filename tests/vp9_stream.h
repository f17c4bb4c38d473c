// SPDX-License-Identifier: BSD-2-Clause
//
// Reading VP9 test streams (.ivf, .webm) frame by frame, and the reference
// data beside them in ../shared/vp9 (see its README.md).
//
//   auto stream = Vp9Stream::Open(Vp9Dir() + "/conformance/vp90-2-05-resize.ivf");
//   while (auto frame = (*stream)->Next()) { ... frame->data ... }
//   auto md5s = ReadFrameMd5s(path + ".md5");

#ifndef DAEDALUS_TESTS_VP9_STREAM_H_
#define DAEDALUS_TESTS_VP9_STREAM_H_

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

struct AVFormatContext;

namespace daedalus::testing {

struct CompressedFrame {
  std::string data;  // one VP9 frame or superframe
  int64_t pts = 0;   // container timestamp
  bool keyframe = false;
};

// IVF is read here byte for byte, so corrupt frames reach the decoder as
// they are; WebM goes through libavformat.
class Vp9Stream {
 public:
  static absl::StatusOr<std::unique_ptr<Vp9Stream>> Open(const std::string& path);
  ~Vp9Stream();
  // The next frame, or nullopt at the end.
  std::optional<CompressedFrame> Next();
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  Vp9Stream() = default;
  std::optional<CompressedFrame> NextIvf();
  std::string ivf_;  // whole IVF file, when the stream is IVF
  size_t ivf_pos_ = 0;
  AVFormatContext* fmt_ = nullptr;
  int index_ = -1;
  int width_ = 0, height_ = 0;
};

// One line of a NAME.md5 file. A few files name frames without their
// size ("01.yuv"): then width and height are 0.
struct FrameMd5 {
  std::string md5;
  int width = 0, height = 0;
};

// Whether a VP9 frame (or the first frame of a superframe) is a keyframe,
// from its uncompressed header.
bool IsVp9Keyframe(const std::string& frame);

// $DAEDALUS_VP9_DIR if set, else ../shared/vp9 beside the checkout.
std::string Vp9Dir();
// The conformance streams listed in MANIFEST.tsv, with their output format
// ("yuv420p", "yuv444p").
std::vector<std::pair<std::string, std::string>> ConformanceStreams();

// Streams whose pictures differ from the reference when this build runs
// under qemu-aarch64 on the CI machines (found with --config=aarch64):
// vp90-2-14-resize-fp-tiles-16-8.webm, from its first frame, with 1 and 3
// threads. Not yet checked on arm64 hardware; until then the tests decode
// these streams fully (no error, right frame count) but report rather than
// fail their MD5s. Empty on other architectures.
bool KnownAarch64Mismatch(const std::string& name);
std::vector<std::string> InvalidStreams();
absl::StatusOr<std::vector<FrameMd5>> ReadFrameMd5s(const std::string& path);

// MD5 of a picture as the reference decoder writes it: planar, each plane
// at its own size, no padding.
std::string PlanarMd5(const AVFrame& frame);
// MD5 of any bytes, hex.
std::string Md5Hex(const uint8_t* data, size_t len);

}  // namespace daedalus::testing

#endif  // DAEDALUS_TESTS_VP9_STREAM_H_
