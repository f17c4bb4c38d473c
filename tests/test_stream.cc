// SPDX-License-Identifier: BSD-2-Clause

#include "tests/test_stream.h"

extern "C" {
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libavutil/md5.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <dirent.h>
#include <linux/daedalus-v4l2.h>
#include <linux/videodev2.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "daemon/decode/stream_decoder.h"

namespace daedalus::testing {

namespace {

uint32_t Le32(const std::string& b, size_t at) {
  return static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8 |
         static_cast<uint8_t>(b[at + 2]) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3])) << 24;
}

constexpr size_t kIvfHeader = 32, kIvfFrameHeader = 12;

}  // namespace

bool IsVp9Keyframe(const std::string& f) {
  if (f.empty()) return false;
  uint8_t b = static_cast<uint8_t>(f[0]);
  if ((b >> 6) != 2) return false;  // frame_marker
  int profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1);
  int bit = profile == 3 ? 2 : 3;      // profile 3 has a reserved bit
  if ((b >> bit) & 1) return false;    // show_existing_frame
  return ((b >> (bit - 1)) & 1) == 0;  // frame_type 0: KEY_FRAME
}

std::optional<CompressedFrame> TestStream::NextIvf() {
  if (pos_ + kIvfFrameHeader > file_.size()) return std::nullopt;
  uint32_t size = Le32(file_, pos_);
  int64_t pts = static_cast<int64_t>(Le32(file_, pos_ + 4)) |
                static_cast<int64_t>(Le32(file_, pos_ + 8)) << 32;
  size_t start = pos_ + kIvfFrameHeader;
  // A truncated last frame is passed on as it is: the decoder must cope.
  size_t len = std::min<size_t>(size, file_.size() - start);
  pos_ = start + len;
  CompressedFrame f{file_.substr(start, len), pts, false};
  if (codec_->codec == decode::Codec::kVp9) f.keyframe = IsVp9Keyframe(f.data);
  if (codec_->codec == decode::Codec::kVp8) f.keyframe = !f.data.empty() && !(f.data[0] & 1);
  return f;
}

std::optional<CompressedFrame> TestStream::NextSplit() {
  if (pos_ >= file_.size()) return std::nullopt;
  std::uniform_int_distribution<size_t> size(1, options_.split_max);
  size_t len = std::min(size(random_), file_.size() - pos_);
  CompressedFrame f{file_.substr(pos_, len), count_++, pos_ == 0};
  pos_ += len;
  return f;
}

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream all;
  all << in.rdbuf();
  return all.str();
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestStream>> TestStream::Open(const std::string& path,
                                                             const Options& options) {
  std::unique_ptr<TestStream> s(new TestStream());
  s->options_ = options;
  s->random_.seed(options.seed);
  std::string head(4, '\0');
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError("cannot read " + path);
    in.read(head.data(), 4);
  }
  if (head == "DKIF") {
    s->file_ = ReadFile(path);
    if (s->file_.size() < kIvfHeader) return absl::DataLossError(path + ": short IVF header");
    uint32_t fourcc = Le32(s->file_, 8);
    uint32_t v4l2 = fourcc == Le32("VP80", 0)   ? V4L2_PIX_FMT_VP8
                    : fourcc == Le32("VP90", 0) ? V4L2_PIX_FMT_VP9
                    : fourcc == Le32("AV01", 0) ? V4L2_PIX_FMT_AV1
                                                : 0;
    s->codec_ = decode::CodecByFourcc(v4l2);
    if (!s->codec_ && options.codec) s->codec_ = decode::CodecByName(options.codec);
    if (!s->codec_) return absl::InvalidArgumentError(path + ": IVF of an unknown codec");
    s->ivf_ = true;
    s->width_ = static_cast<uint8_t>(s->file_[12]) | static_cast<uint8_t>(s->file_[13]) << 8;
    s->height_ = static_cast<uint8_t>(s->file_[14]) | static_cast<uint8_t>(s->file_[15]) << 8;
    s->pos_ = static_cast<uint8_t>(s->file_[6]) | static_cast<uint8_t>(s->file_[7]) << 8;
    return s;
  }
  bool byte_stream = EndsWith(path, ".h264") || EndsWith(path, ".hevc");
  absl::Status opened = s->OpenContainer(path);
  if (!opened.ok()) return opened;
  if (byte_stream && options.split_max > 0) {
    s->file_ = ReadFile(path);
    avformat_close_input(&s->fmt_);
  }
  return s;
}

// Containers and access units of byte streams come from libavformat; an
// MP4's length-prefixed H.264/HEVC is rewritten as the Annex B byte
// stream a V4L2 decoder takes.
absl::Status TestStream::OpenContainer(const std::string& path) {
  int err = avformat_open_input(&fmt_, path.c_str(), nullptr, nullptr);
  if (err < 0) return absl::NotFoundError(absl::StrFormat("open %s: error %d", path, err));
  if ((err = avformat_find_stream_info(fmt_, nullptr)) < 0) {
    return absl::DataLossError(absl::StrFormat("%s: no stream info (%d)", path, err));
  }
  index_ = av_find_best_stream(fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index_ < 0) return absl::NotFoundError(path + ": no video stream");
  AVCodecParameters* par = fmt_->streams[index_]->codecpar;
  for (const decode::CodecInfo& c : decode::AllCodecs()) {
    if (c.id == par->codec_id) codec_ = &c;
  }
  if (!codec_) return absl::InvalidArgumentError(path + ": a codec the node does not know");
  width_ = par->width;
  height_ = par->height;
  const char* bsf = nullptr;
  if (par->extradata_size > 0 && par->extradata[0] == 1) {
    bsf = codec_->codec == decode::Codec::kH264   ? "h264_mp4toannexb"
          : codec_->codec == decode::Codec::kHevc ? "hevc_mp4toannexb"
                                                  : nullptr;
  }
  if (bsf) {
    const AVBitStreamFilter* filter = av_bsf_get_by_name(bsf);
    if (!filter || av_bsf_alloc(filter, &annexb_) < 0) return absl::InternalError(bsf);
    avcodec_parameters_copy(annexb_->par_in, par);
    annexb_->time_base_in = fmt_->streams[index_]->time_base;
    if (av_bsf_init(annexb_) < 0) return absl::InternalError(std::string(bsf) + " init");
  }
  return absl::OkStatus();
}

TestStream::~TestStream() {
  if (annexb_) av_bsf_free(&annexb_);
  if (fmt_) avformat_close_input(&fmt_);
}

std::optional<CompressedFrame> TestStream::NextPacket() {
  AVPacket* pkt = av_packet_alloc();
  std::optional<CompressedFrame> out;
  while (!out) {
    if (annexb_ && av_bsf_receive_packet(annexb_, pkt) == 0) {
      out = CompressedFrame{std::string(reinterpret_cast<char*>(pkt->data), pkt->size), pkt->pts,
                            (pkt->flags & AV_PKT_FLAG_KEY) != 0};
      av_packet_unref(pkt);
      break;
    }
    if (av_read_frame(fmt_, pkt) < 0) break;
    if (pkt->stream_index != index_) {
      av_packet_unref(pkt);
      continue;
    }
    if (annexb_) {
      av_bsf_send_packet(annexb_, pkt);  // takes the packet
      continue;
    }
    out = CompressedFrame{std::string(reinterpret_cast<char*>(pkt->data), pkt->size), pkt->pts,
                          (pkt->flags & AV_PKT_FLAG_KEY) != 0};
    av_packet_unref(pkt);
  }
  av_packet_free(&pkt);
  return out;
}

std::optional<CompressedFrame> TestStream::Next() {
  if (ivf_) return NextIvf();
  if (!fmt_) return NextSplit();
  return NextPacket();
}

absl::StatusOr<std::vector<CompressedFrame>> ReadStream(const std::string& path,
                                                        const TestStream::Options& options) {
  absl::StatusOr<std::unique_ptr<TestStream>> s = TestStream::Open(path, options);
  if (!s.ok()) return s.status();
  std::vector<CompressedFrame> out;
  while (auto f = (*s)->Next()) out.push_back(*std::move(f));
  return out;
}

std::string SharedDir() {
  if (const char* dir = std::getenv("DAEDALUS_SHARED_DIR")) return dir;
  // Under `bazel test`, README.md in the runfiles links to the checkout's.
  if (const char* runfiles = std::getenv("TEST_SRCDIR")) {
    std::string marker = std::string(runfiles) + "/daedalus/README.md";
    if (char* real = realpath(marker.c_str(), nullptr)) {
      std::string checkout(real);
      free(real);
      return checkout.substr(0, checkout.rfind('/')) + "/../shared";
    }
  }
  return "../shared";
}

std::string CodecDir(const std::string& codec) { return SharedDir() + "/" + codec; }

bool KnownAarch64Mismatch(const std::string& name) {
#if defined(__aarch64__)
  return name == "vp90-2-14-resize-fp-tiles-16-8.webm";
#else
  (void)name;
  return false;
#endif
}

std::vector<ConformanceStream> ConformanceStreams(const std::string& codec, bool profiles) {
  std::vector<ConformanceStream> out;
  std::string dir = CodecDir(codec) + (profiles ? "/profiles" : "/conformance");
  std::ifstream in(dir + "/MANIFEST.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    ConformanceStream c{codec};
    fields >> c.name >> c.format;
    c.path = dir + "/" + c.name;
    out.push_back(c);
  }
  return out;
}

std::vector<std::string> InvalidStreams(const std::string& codec) {
  std::vector<std::string> out;
  std::string dir = CodecDir(codec) + "/invalid";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n[0] != '.' && !EndsWith(n, ".res") && !EndsWith(n, ".md")) out.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {
// What ../shared holds per codec today (each README.md lists them).
struct StreamCounts {
  const char* codec;
  size_t conformance, invalid;
};
constexpr StreamCounts kStreamCounts[] = {
    {"h264", 14, 5}, {"hevc", 8, 2}, {"vp8", 18, 2}, {"vp9", 35, 8}, {"av1", 8, 2},
};
const StreamCounts* CountsOf(const std::string& codec) {
  for (const StreamCounts& c : kStreamCounts)
    if (codec == c.codec) return &c;
  return nullptr;
}
}  // namespace

size_t MinConformanceStreams(const std::string& codec) {
  const StreamCounts* c = CountsOf(codec);
  return c ? c->conformance : 1;
}

size_t MinInvalidStreams(const std::string& codec) {
  const StreamCounts* c = CountsOf(codec);
  return c ? c->invalid : 1;
}

absl::StatusOr<std::vector<FrameMd5>> ReadFrameMd5s(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::vector<FrameMd5> out;
  std::string md5, name;
  while (in >> md5 >> name) {
    // NAME-<W>x<H>-<frame#>.<ext>: the size sits between the last two '-'.
    size_t last = name.rfind('-');
    size_t prev = name.rfind('-', last - 1);
    FrameMd5 f{md5};
    if (md5.size() != 32) return absl::DataLossError(path + ": bad MD5 " + md5);
    if (last != std::string::npos && prev != std::string::npos &&
        std::sscanf(name.c_str() + prev + 1, "%dx%d", &f.width, &f.height) != 2) {
      f.width = f.height = 0;  // a name without the size
    }
    out.push_back(f);
  }
  return out;
}

bool ReferenceIsAutoscaled(const std::string& name) {
  return name == "h264-13-resize-352x288-640x360.h264" ||
         name == "hevc-07-resize-352x288-640x360.hevc";
}

absl::StatusOr<std::vector<std::string>> ReferenceMd5s(const ConformanceStream& s) {
  absl::StatusOr<std::vector<FrameMd5>> lines = ReadFrameMd5s(s.path + ".md5");
  if (!lines.ok()) return lines.status();
  std::vector<std::string> out;
  for (const FrameMd5& l : *lines) out.push_back(l.md5);
  if (!ReferenceIsAutoscaled(s.name) || lines->empty()) return out;
  const decode::CodecInfo* codec = decode::CodecByName(s.codec);
  if (!codec) return absl::InvalidArgumentError("unknown codec " + s.codec);
  auto dec = decode::StreamDecoder::Create(*codec, {1});
  if (!dec.ok()) return dec.status();
  absl::StatusOr<std::vector<CompressedFrame>> frames = ReadStream(s.path);
  if (!frames.ok()) return frames.status();
  std::deque<decode::Picture> pics;
  for (size_t i = 0; i < frames->size(); i++) {
    (void)(*dec)->Decode((*frames)[i].data, static_cast<int64_t>(i), &pics);
  }
  (void)(*dec)->Drain(&pics);
  if (pics.size() != out.size()) return absl::DataLossError(s.name + ": picture count differs");
  for (size_t i = 0; i < pics.size(); i++) {
    if ((*lines)[i].width != (*lines)[0].width || (*lines)[i].height != (*lines)[0].height) {
      out[i] = PlanarMd5(*pics[i].frame);
    }
  }
  return out;
}

std::string ScaledPlanarMd5(const AVFrame& f, int width, int height) {
  AVPixelFormat fmt = static_cast<AVPixelFormat>(f.format);
  SwsContext* sws = sws_getContext(f.width, f.height, fmt, width, height, fmt, SWS_BICUBIC, nullptr,
                                   nullptr, nullptr);
  AVFrame* out = av_frame_alloc();
  out->format = fmt;
  out->width = width;
  out->height = height;
  std::string md5;
  if (sws && av_frame_get_buffer(out, 0) == 0 &&
      sws_scale(sws, f.data, f.linesize, 0, f.height, out->data, out->linesize) == height) {
    md5 = PlanarMd5(*out);
  }
  av_frame_free(&out);
  sws_freeContext(sws);
  return md5;
}

std::string Md5Hex(const uint8_t* data, size_t len) {
  uint8_t sum[16];
  av_md5_sum(sum, data, static_cast<int>(len));
  std::string hex;
  for (uint8_t b : sum) hex += absl::StrFormat("%02x", b);
  return hex;
}

std::string PlanarMd5(const AVFrame& f) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f.format));
  int bytes = d->comp[0].depth > 8 ? 2 : 1;
  AVMD5* ctx = av_md5_alloc();
  av_md5_init(ctx);
  for (int p = 0; p < 3; p++) {
    int w = p ? AV_CEIL_RSHIFT(f.width, d->log2_chroma_w) : f.width;
    int h = p ? AV_CEIL_RSHIFT(f.height, d->log2_chroma_h) : f.height;
    for (int y = 0; y < h; y++) av_md5_update(ctx, f.data[p] + y * f.linesize[p], w * bytes);
  }
  uint8_t sum[16];
  av_md5_final(ctx, sum);
  av_free(ctx);
  std::string hex;
  for (uint8_t b : sum) hex += absl::StrFormat("%02x", b);
  return hex;
}

}  // namespace daedalus::testing
