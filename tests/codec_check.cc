// SPDX-License-Identifier: BSD-2-Clause
//
// codec_check: every codec through the decoder node with our own client
// (tests/v4l2_decoder.h), in the test VM with daedalusd: what ENUM_FMT and
// the profile menus offer, every conformance stream of every codec
// compared frame by frame with its reference MD5s (byte streams also cut
// at random sizes) with each picture's v4l2_field, the first 8-bit 4:2:0
// stream also as NV12 and as RGB (ABGR32, XBGR32), a seek back to the
// start, streams whose pictures no CAPTURE format carries refused with
// EIO, every corrupt stream survived with the next stream bit-exact, and
// one context of each codec decoding at the same time.
//
//   usage: codec_check /dev/videoN [--quick] [CODEC...]
//          codec_check /dev/videoN --stream CODEC FILE [FORMAT]   (FILE.md5 beside it;
//            FORMAT: the CAPTURE fourcc the node must choose, e.g. P012)
//   (default: h264 hevc vp8 vp9 av1). --quick, CI's bounded slice under
//   emulation: no 1080p stream, random splits of three streams per codec.

#include <fcntl.h>
#include <linux/daedalus-v4l2.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "daemon/decode/codec.h"
#include "daemon/decode/picture_layout.h"
#include "daemon/decode/stream_decoder.h"
#include "tests/node_check.h"
#include "tests/test_stream.h"
#include "tests/v4l2_decoder.h"

// Debian 12's userspace headers (6.1) predate the AV1 controls of the
// guest's 6.12 kernel; the ID is the kernel's ABI.
#ifndef V4L2_CID_MPEG_VIDEO_AV1_PROFILE
#define V4L2_CID_MPEG_VIDEO_AV1_PROFILE (V4L2_CID_CODEC_BASE + 655)
#endif

namespace {

using daedalus::testing::BitExact;
using daedalus::testing::CompressedFrame;
using daedalus::testing::ConformanceStream;
using daedalus::testing::Decoder;
using daedalus::testing::Describe;
using daedalus::testing::NodeStream;
using daedalus::testing::Options;
using daedalus::testing::Result;

daedalus::testing::CheckCounter g_checks;
const char* g_dev = nullptr;
bool g_quick = false;

// Left out of --quick: the 1080p streams, minutes each under emulation.
bool Slow(const ConformanceStream& s) {
  return g_quick && s.name.find("1080p") != std::string::npos;
}

void Check(bool ok, const std::string& what) { g_checks.Check(ok, what); }

// A stream with the reference of its pictures, and what its manifest says.
struct Stream : NodeStream {
  ConformanceStream info;
};

// The stream's pictures decoded directly with libavcodec (no node), on
// this CPU: what the node's pictures and their fields are compared with
// where the reference cannot say.
std::deque<daedalus::decode::Picture> DecodeDirectly(const std::string& codec,
                                                     const std::vector<CompressedFrame>& frames) {
  std::deque<daedalus::decode::Picture> pics;
  auto dec = daedalus::decode::StreamDecoder::Create(*daedalus::decode::CodecByName(codec), {1});
  if (!dec.ok()) return pics;
  for (size_t i = 0; i < frames.size(); i++) {
    (void)(*dec)->Decode(frames[i].data, static_cast<int64_t>(i), &pics);
  }
  (void)(*dec)->Drain(&pics);
  return pics;
}

// AV1 under QEMU's TCG: Debian 12's QEMU gets libdav1d's 8-bit AVX2 code
// wrong, so on such a CPU libdav1d itself (FFmpeg too, no node involved)
// gives other pictures than the reference (docs/testing.md). Decoded here
// directly first: where libdav1d on this CPU disagrees with the reference,
// the node is compared with libdav1d on this CPU, and the line says so.
void CheckAv1Reference(Stream& s) {
  std::vector<std::string> here;
  for (const auto& p : DecodeDirectly("av1", s.frames)) {
    here.push_back(daedalus::testing::PlanarMd5(*p.frame));
  }
  if (here.empty() || here == s.want) return;
  size_t differ = 0;
  for (size_t i = 0; i < here.size() && i < s.want.size(); i++) differ += here[i] != s.want[i];
  std::printf(
      "note %s: libdav1d on this CPU gives %zu of %zu pictures unlike the reference "
      "(an emulated CPU?): the node is compared with libdav1d here\n",
      s.info.name.c_str(), differ, s.want.size());
  s.want = here;
}

Stream Load(const ConformanceStream& c, const daedalus::testing::TestStream::Options& opt = {}) {
  auto md5 = daedalus::testing::ReferenceMd5s(c);
  Stream s;
  static_cast<NodeStream&>(s) = daedalus::testing::LoadNodeStream(
      c.path, md5.ok() ? *std::move(md5) : std::vector<std::string>{}, opt);
  s.info = c;
  if (c.codec == "av1" && !s.want.empty()) CheckAv1Reference(s);
  return s;
}

// Pictures of these FFmpeg formats have no CAPTURE format on the node
// (V4L2 has no single-plane layout for them): their streams must fail
// with EIO, never give garbage.
bool NoCaptureFormat(const std::string& format) {
  return format.rfind("yuv440p", 0) == 0 || format == "yuv444p10le" || format == "yuv444p12le";
}

Result Decode(const Stream& s, uint32_t codec, uint32_t cap_format = 0) {
  Options opt;
  opt.codec = codec;
  opt.cap_format = cap_format;
  Decoder d(g_dev);
  return d.Run(s.frames, s.width ? s.width : 320, s.height ? s.height : 240, opt);
}

// What the node says about the codec: the OUTPUT format and its flags,
// the profile menu, the frame sizes.
void CheckOffered(const daedalus::decode::CodecInfo& c) {
  int fd = open(g_dev, O_RDWR | O_CLOEXEC);
  bool listed = false, byte_stream = false;
  for (v4l2_fmtdesc d = {0, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE}; ioctl(fd, VIDIOC_ENUM_FMT, &d) == 0;
       d.index++) {
    if (d.pixelformat != c.fourcc) continue;
    listed = (d.flags & V4L2_FMT_FLAG_COMPRESSED) && (d.flags & V4L2_FMT_FLAG_DYN_RESOLUTION);
    byte_stream = d.flags & V4L2_FMT_FLAG_CONTINUOUS_BYTESTREAM;
  }
  Check(listed, std::string(c.name) + ": ENUM_FMT lists it, compressed, dynamic resolution");
  bool want_bytes = c.packets == daedalus::decode::Packets::kParsed;
  Check(byte_stream == want_bytes,
        std::string(c.name) + ": CONTINUOUS_BYTESTREAM " + (want_bytes ? "set" : "not set"));
  v4l2_frmsizeenum fs = {};
  fs.pixel_format = c.fourcc;
  Check(ioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) == 0 && fs.stepwise.max_width == DDV_MAX_WIDTH,
        std::string(c.name) + ": ENUM_FRAMESIZES up to 4096x2304");
  uint32_t cid = c.codec == daedalus::decode::Codec::kH264   ? V4L2_CID_MPEG_VIDEO_H264_PROFILE
                 : c.codec == daedalus::decode::Codec::kHevc ? V4L2_CID_MPEG_VIDEO_HEVC_PROFILE
                 : c.codec == daedalus::decode::Codec::kVp8  ? V4L2_CID_MPEG_VIDEO_VP8_PROFILE
                 : c.codec == daedalus::decode::Codec::kVp9  ? V4L2_CID_MPEG_VIDEO_VP9_PROFILE
                                                             : V4L2_CID_MPEG_VIDEO_AV1_PROFILE;
  std::string profiles;
  v4l2_queryctrl q = {};
  q.id = cid;
  if (ioctl(fd, VIDIOC_QUERYCTRL, &q) == 0) {
    for (int i = q.minimum; i <= q.maximum; i++) {
      v4l2_querymenu m = {};
      m.id = cid;
      m.index = static_cast<uint32_t>(i);
      if (ioctl(fd, VIDIOC_QUERYMENU, &m) == 0) {
        profiles += std::string(profiles.empty() ? "" : ", ") + reinterpret_cast<char*>(m.name);
      }
    }
  }
  Check(!profiles.empty(), std::string(c.name) + ": profile menu: " + profiles);
  close(fd);
}

// The v4l2_field each picture must carry: for H.264 (MBAFF and field
// pictures) as libavcodec decodes the same stream directly, INTERLACED_TB
// or _BT by the field order it reports; the other codecs' streams here
// are progressive, V4L2_FIELD_NONE. Counts the interlaced pictures.
std::vector<uint32_t> WantFields(const daedalus::decode::CodecInfo& c, const Stream& s,
                                 int* interlaced) {
  if (c.codec != daedalus::decode::Codec::kH264)
    return std::vector<uint32_t>(s.want.size(), V4L2_FIELD_NONE);
  std::vector<uint32_t> want;
  for (const auto& p : DecodeDirectly(c.name, s.frames)) {
    if (!p.frame->interlaced_frame) {
      want.push_back(V4L2_FIELD_NONE);
      continue;
    }
    want.push_back(p.frame->top_field_first ? V4L2_FIELD_INTERLACED_TB : V4L2_FIELD_INTERLACED_BT);
    (*interlaced)++;
  }
  return want;
}

// Every conformance stream: bit-exact, or EIO where no format carries it.
void CheckConformance(const daedalus::decode::CodecInfo& c) {
  std::vector<ConformanceStream> streams = daedalus::testing::ConformanceStreams(c.name);
  if (c.codec == daedalus::decode::Codec::kVp9) {
    for (auto& s : daedalus::testing::ConformanceStreams("vp9", true)) streams.push_back(s);
  }
  // VP9's profiles/ adds its 4:4:0, 4:4:4 and 10-bit streams.
  size_t want_streams = daedalus::testing::MinConformanceStreams(c.name) +
                        (c.codec == daedalus::decode::Codec::kVp9 ? 3 : 0);
  int exact = 0, refused = 0, tested = 0, fields_right = 0, interlaced = 0;
  for (const ConformanceStream& info : streams) {
    if (Slow(info)) {
      want_streams--;
      continue;
    }
    Stream s = Load(info);
    tested++;
    Result r = Decode(s, c.fourcc);
    if (NoCaptureFormat(info.format)) {
      bool ok = r.fatal && r.md5.empty();
      refused += ok;
      if (!ok)
        std::printf("    %s (%s) not refused: %s\n", info.name.c_str(), info.format.c_str(),
                    Describe(r, s).c_str());
      continue;
    }
    if (daedalus::testing::KnownAarch64Mismatch(info.name)) {
      tested--;
      continue;
    }
    if (BitExact(r, s)) {
      exact++;
    } else {
      std::printf("    %s mismatch: %s\n", info.name.c_str(), Describe(r, s).c_str());
    }
    if (r.fields == WantFields(c, s, &interlaced)) {
      fields_right++;
    } else {
      std::printf("    %s: the pictures' v4l2_field differ from libavcodec's\n", info.name.c_str());
    }
  }
  bool need_interlaced = c.codec == daedalus::decode::Codec::kH264;
  Check(fields_right == tested - refused && (!need_interlaced || interlaced > 0),
        std::string(c.name) + ": every picture's v4l2_field as libavcodec's: " +
            std::to_string(fields_right) + "/" + std::to_string(tested - refused) + " streams, " +
            std::to_string(interlaced) + " interlaced pictures");
  char what[200];
  std::snprintf(what, sizeof(what),
                "%s: %d/%d streams bit-exact through the node, %d refused (EIO, no CAPTURE format)",
                c.name, exact, tested - refused, refused);
  Check(static_cast<size_t>(tested) >= want_streams && exact + refused == tested, what);
}

// The MD5 of each picture of `s` decoded here with libavcodec and made RGB
// (`fourcc`) by the daemon's own libswscale conversion (its matrix and
// range are unit-tested in picture_layout_test): what the node's RGB
// pictures must be, byte for byte.
std::vector<std::string> RgbMd5s(const Stream& s, const std::string& codec, uint32_t fourcc) {
  std::vector<std::string> md5s;
  daedalus::decode::PictureLayout layout;
  for (const daedalus::decode::Picture& p : DecodeDirectly(codec, s.frames)) {
    auto set = layout.For(p, fourcc);
    if (!set.ok()) return {};
    v4l2_pix_format_mplane f = {};
    f.width = static_cast<uint32_t>(p.frame->width);
    f.height = static_cast<uint32_t>(p.frame->height);
    f.pixelformat = fourcc;
    f.plane_fmt[0].bytesperline = static_cast<uint32_t>(set->strides[0]);
    std::vector<uint8_t> bytes = daedalus::testing::PlanarPicture(set->planes[0], f);
    md5s.push_back(daedalus::testing::Md5Hex(bytes.data(), bytes.size()));
  }
  return md5s;
}

// The first 8-bit 4:2:0 stream in every other CAPTURE format it may take:
// NV12, and the two RGB formats (ABGR32, XBGR32) the daemon converts to.
void CheckCaptureFormats(const daedalus::decode::CodecInfo& c) {
  for (const ConformanceStream& info : daedalus::testing::ConformanceStreams(c.name)) {
    if (info.format != "yuv420p") continue;
    Stream s = Load(info);
    Result r = Decode(s, c.fourcc, V4L2_PIX_FMT_NV12);
    Check(BitExact(r, s), std::string(c.name) + " as NV12: " + info.name + ": " + Describe(r, s));
    for (uint32_t f : {V4L2_PIX_FMT_ABGR32, V4L2_PIX_FMT_XBGR32}) {
      Stream rgb = s;
      rgb.want = RgbMd5s(s, c.name, f);
      r = Decode(s, c.fourcc, f);
      Check(BitExact(r, rgb), std::string(c.name) + " as " + daedalus::decode::FourccName(f) +
                                  ": " + info.name + ": " + Describe(r, rgb));
    }
    break;
  }
  // 4:2:2 in both its layouts (H.264 High 4:2:2).
  if (c.codec == daedalus::decode::Codec::kH264) {
    for (const ConformanceStream& info : daedalus::testing::ConformanceStreams(c.name)) {
      if (info.format != "yuv422p") continue;
      Stream s = Load(info);
      for (uint32_t f : {V4L2_PIX_FMT_NV16, V4L2_PIX_FMT_YUV422P}) {
        Result r = Decode(s, c.fourcc, f);
        Check(BitExact(r, s), std::string("h264 4:2:2 as ") + daedalus::decode::FourccName(f) +
                                  ": " + Describe(r, s));
      }
    }
  }
}

// H.264/HEVC: the byte stream cut at random sizes, as a client reading
// blocks of a file would queue it.
void CheckRandomSplits(const daedalus::decode::CodecInfo& c) {
  if (c.packets != daedalus::decode::Packets::kParsed) return;
  int exact = 0, tested = 0;
  for (const ConformanceStream& info : daedalus::testing::ConformanceStreams(c.name)) {
    if (info.name.find(".mp4") != std::string::npos || NoCaptureFormat(info.format)) continue;
    if (Slow(info) || (g_quick && tested == 3)) continue;
    tested++;
    Stream s = Load(info, {.split_max = 4096, .seed = 11});
    Result r = Decode(s, c.fourcc);
    if (BitExact(r, s)) {
      exact++;
    } else {
      std::printf("    %s split: %s\n", info.name.c_str(), Describe(r, s).c_str());
    }
  }
  Check(tested > 0 && exact == tested, std::string(c.name) +
                                           " cut at random sizes: " + std::to_string(exact) + "/" +
                                           std::to_string(tested) + " streams bit-exact");
}

// Every corrupt stream: no hang, then the next stream bit-exact.
void CheckInvalid(const daedalus::decode::CodecInfo& c) {
  Stream good = Load(daedalus::testing::ConformanceStreams(c.name).at(0));
  std::vector<std::string> invalid = daedalus::testing::InvalidStreams(c.name);
  int survived = 0;
  for (const std::string& path : invalid) {
    ConformanceStream info{c.name, path, path, ""};
    Stream bad = Load(info, {.codec = c.name});
    Result r = Decode(bad, c.fourcc);
    bool no_hang = r.error.find("timeout") == std::string::npos;
    Result next = Decode(good, c.fourcc);
    if (no_hang && BitExact(next, good)) {
      survived++;
    } else {
      std::printf("    %s: %s; next: %s\n", path.c_str(), r.error.c_str(),
                  Describe(next, good).c_str());
    }
  }
  Check(invalid.size() >= daedalus::testing::MinInvalidStreams(c.name) &&
            survived == static_cast<int>(invalid.size()),
        std::string(c.name) + ": " + std::to_string(survived) + "/" +
            std::to_string(invalid.size()) + " corrupt streams survived, the next bit-exact");
}

// A seek: after 10 pictures OUTPUT is stopped and restarted at the first
// frame (dev-decoder.rst's seek); the pictures after it are the whole
// stream again, bit-exact. The first stream with more than 10 pictures.
void CheckSeek(const daedalus::decode::CodecInfo& c) {
  for (const ConformanceStream& info : daedalus::testing::ConformanceStreams(c.name)) {
    if (Slow(info) || NoCaptureFormat(info.format)) continue;
    Stream s = Load(info);
    if (s.want.size() <= 10) continue;
    Options opt;
    opt.codec = c.fourcc;
    opt.seek_after = 10;
    opt.seek_to = 0;
    Decoder d(g_dev);
    Result r = d.Run(s.frames, s.width ? s.width : 320, s.height ? s.height : 240, opt);
    bool tail = r.md5.size() >= s.want.size() &&
                std::equal(s.want.begin(), s.want.end(), r.md5.end() - s.want.size());
    Check(r.error.empty() && r.last && tail,
          std::string(c.name) + ": " + info.name +
              " seeks back to the start after 10 pictures: the whole stream again bit-exact (" +
              std::to_string(r.md5.size()) + " pictures, " + std::to_string(s.want.size()) +
              " in the stream)");
    return;
  }
  Check(false, std::string(c.name) + ": a stream of more than 10 pictures to seek in");
}

// One context of each codec at once.
void CheckMixed(const std::vector<const daedalus::decode::CodecInfo*>& codecs) {
  std::vector<Stream> streams;
  for (const auto* c : codecs)
    streams.push_back(Load(daedalus::testing::ConformanceStreams(c->name).at(0)));
  std::vector<Result> results(codecs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < codecs.size(); i++) {
    threads.emplace_back([&, i] { results[i] = Decode(streams[i], codecs[i]->fourcc); });
  }
  for (auto& t : threads) t.join();
  std::string names;
  bool all = true;
  for (size_t i = 0; i < codecs.size(); i++) {
    names += std::string(names.empty() ? "" : " ") + codecs[i]->name;
    if (!BitExact(results[i], streams[i])) {
      all = false;
      std::printf("    %s: %s\n", codecs[i]->name, Describe(results[i], streams[i]).c_str());
    }
  }
  Check(all, "one context of each codec at once (" + names + "): all bit-exact");
}

// One stream made for the test (a resolution change for a codec the shared
// data has none for), against the MD5s beside it.
// One stream made by the guest script, its reference beside it: a
// resolution change (no format given: at least two SOURCE_CHANGEs), or a
// picture format (each SOURCE_CHANGE must give that CAPTURE format).
int CheckOneStream(const std::string& codec, const std::string& path, const std::string& format) {
  const daedalus::decode::CodecInfo* c = daedalus::decode::CodecByName(codec);
  if (!c) {
    std::fprintf(stderr, "codec_check: unknown codec %s\n", codec.c_str());
    return 2;
  }
  Stream s = Load(ConformanceStream{codec, path, path, ""});
  Options opt;
  opt.codec = c->fourcc;
  Decoder d(g_dev);
  Result r = d.Run(s.frames, s.width ? s.width : 320, s.height ? s.height : 240, opt);
  Check(BitExact(r, s), codec + " " + path + ": " + Describe(r, s));
  if (format.empty()) {
    Check(r.source_changes >= 2, codec + ": SOURCE_CHANGE at the start and at the size change (" +
                                     std::to_string(r.source_changes) + ")");
  } else {
    std::string got;
    bool all = !r.cap_formats.empty();
    for (uint32_t f : r.cap_formats) {
      std::string name = daedalus::decode::FourccName(f);
      all = all && name == format;
      got += (got.empty() ? "" : ",") + name;
    }
    Check(all, codec + ": CAPTURE format " + (got.empty() ? "none" : got) + ", want " + format);
  }
  return g_checks.Summary("codec_check");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: codec_check /dev/videoN [CODEC...]\n");
    return 2;
  }
  g_dev = argv[1];
  if ((argc == 5 || argc == 6) && std::string(argv[2]) == "--stream")
    return CheckOneStream(argv[3], argv[4], argc == 6 ? argv[5] : "");
  std::vector<const daedalus::decode::CodecInfo*> codecs;
  for (int i = 2; i < argc; i++) {
    if (std::string(argv[i]) == "--quick") {
      g_quick = true;
      continue;
    }
    const auto* c = daedalus::decode::CodecByName(argv[i]);
    if (!c) {
      std::fprintf(stderr, "codec_check: unknown codec %s\n", argv[i]);
      return 2;
    }
    codecs.push_back(c);
  }
  if (codecs.empty()) {
    for (const auto& c : daedalus::decode::AllCodecs()) codecs.push_back(&c);
  }
  for (const auto* c : codecs) {
    CheckOffered(*c);
    CheckConformance(*c);
    CheckCaptureFormats(*c);
    CheckRandomSplits(*c);
    CheckSeek(*c);
    CheckInvalid(*c);
  }
  if (codecs.size() > 1) CheckMixed(codecs);
  return g_checks.Summary("codec_check");
}
