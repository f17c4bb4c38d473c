// SPDX-License-Identifier: BSD-2-Clause

#include "tests/vp9_stream.h"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/md5.h>
#include <libavutil/pixdesc.h>
}

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"

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

std::optional<CompressedFrame> Vp9Stream::NextIvf() {
  if (ivf_pos_ + kIvfFrameHeader > ivf_.size()) return std::nullopt;
  uint32_t size = Le32(ivf_, ivf_pos_);
  int64_t pts = static_cast<int64_t>(Le32(ivf_, ivf_pos_ + 4)) |
                static_cast<int64_t>(Le32(ivf_, ivf_pos_ + 8)) << 32;
  size_t start = ivf_pos_ + kIvfFrameHeader;
  // A truncated last frame is passed on as it is: the decoder must cope.
  size_t len = std::min<size_t>(size, ivf_.size() - start);
  ivf_pos_ = start + len;
  CompressedFrame f{ivf_.substr(start, len), pts, false};
  f.keyframe = IsVp9Keyframe(f.data);
  return f;
}

absl::StatusOr<std::unique_ptr<Vp9Stream>> Vp9Stream::Open(const std::string& path) {
  std::unique_ptr<Vp9Stream> s(new Vp9Stream());
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::string head(4, '\0');
  in.read(head.data(), 4);
  if (head == "DKIF") {
    std::ostringstream all;
    all << head << in.rdbuf();
    s->ivf_ = all.str();
    if (s->ivf_.size() < kIvfHeader) return absl::DataLossError(path + ": short IVF header");
    s->width_ = static_cast<uint8_t>(s->ivf_[12]) | static_cast<uint8_t>(s->ivf_[13]) << 8;
    s->height_ = static_cast<uint8_t>(s->ivf_[14]) | static_cast<uint8_t>(s->ivf_[15]) << 8;
    s->ivf_pos_ = static_cast<uint8_t>(s->ivf_[6]) | static_cast<uint8_t>(s->ivf_[7]) << 8;
    return s;
  }
  int err = avformat_open_input(&s->fmt_, path.c_str(), nullptr, nullptr);
  if (err < 0) return absl::NotFoundError(absl::StrFormat("open %s: error %d", path, err));
  if ((err = avformat_find_stream_info(s->fmt_, nullptr)) < 0) {
    return absl::DataLossError(absl::StrFormat("%s: no stream info (%d)", path, err));
  }
  s->index_ = av_find_best_stream(s->fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (s->index_ < 0) return absl::NotFoundError(path + ": no video stream");
  AVCodecParameters* par = s->fmt_->streams[s->index_]->codecpar;
  if (par->codec_id != AV_CODEC_ID_VP9) return absl::InvalidArgumentError(path + ": not VP9");
  s->width_ = par->width;
  s->height_ = par->height;
  return s;
}

Vp9Stream::~Vp9Stream() {
  if (fmt_) avformat_close_input(&fmt_);
}

std::optional<CompressedFrame> Vp9Stream::Next() {
  if (!fmt_) return NextIvf();
  AVPacket* pkt = av_packet_alloc();
  std::optional<CompressedFrame> out;
  while (av_read_frame(fmt_, pkt) >= 0) {
    if (pkt->stream_index == index_) {
      out = CompressedFrame{std::string(reinterpret_cast<char*>(pkt->data), pkt->size), pkt->pts,
                            (pkt->flags & AV_PKT_FLAG_KEY) != 0};
      av_packet_unref(pkt);
      break;
    }
    av_packet_unref(pkt);
  }
  av_packet_free(&pkt);
  return out;
}

std::string Vp9Dir() {
  if (const char* dir = std::getenv("DAEDALUS_VP9_DIR")) return dir;
  // Under `bazel test`, README.md in the runfiles links to the checkout's.
  if (const char* runfiles = std::getenv("TEST_SRCDIR")) {
    std::string marker = std::string(runfiles) + "/daedalus/README.md";
    if (char* real = realpath(marker.c_str(), nullptr)) {
      std::string checkout(real);
      free(real);
      return checkout.substr(0, checkout.rfind('/')) + "/../shared/vp9";
    }
  }
  return "../shared/vp9";
}

bool KnownAarch64Mismatch(const std::string& name) {
#if defined(__aarch64__)
  return name == "vp90-2-14-resize-fp-tiles-16-8.webm";
#else
  (void)name;
  return false;
#endif
}

std::vector<std::pair<std::string, std::string>> ConformanceStreams() {
  std::vector<std::pair<std::string, std::string>> out;
  std::ifstream in(Vp9Dir() + "/conformance/MANIFEST.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name, format;
    fields >> name >> format;
    out.emplace_back(name, format);
  }
  return out;
}

std::vector<std::string> InvalidStreams() {
  std::vector<std::string> out;
  std::string dir = Vp9Dir() + "/invalid";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.substr(n.size() - 4) != ".res" && n[0] != '.') out.push_back(n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
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
