// SPDX-License-Identifier: BSD-2-Clause
//
// fuzz_seeds: writes the seed corpora of the fuzz targets from the shared
// test streams (../shared, or $DAEDALUS_SHARED_DIR), so fuzzing starts
// from real bitstreams and well-formed messages rather than from nothing:
//   OUT/protocol/          each message type, well formed
//   OUT/stream_decoder/    per codec, the first frames of a few streams
//   OUT/job_messages/      per codec, a stream's first jobs as the kernel
//                          sends them (header, pictures, a drain, a seek,
//                          the close)
// Fails if a codec has no stream: a missing ../shared is an error.
//
//   usage: fuzz_seeds OUT_DIR

#include <linux/videodev2.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/decode/codec.h"
#include "daemon/protocol.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/test_stream.h"

namespace {

namespace fs = std::filesystem;
using daedalus::fuzz::FuzzInput;

constexpr int kStreamsPerCodec = 3;
constexpr size_t kFramesPerSeed = 8;

void Write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

template <typename T>
std::string Message(uint32_t type, uint32_t cookie, const T& payload) {
  return daedalus::protocol::Encode(
      {type, cookie, std::string(reinterpret_cast<const char*>(&payload), sizeof(payload))});
}

void ProtocolSeeds(const fs::path& dir) {
  ddv_hello_ack ack = {DDV_PROTO_VERSION, 64, "0.3.0"};
  ddv_ping_result ping = {7, 0, 12345};
  ddv_decode decode = {};
  decode.ctx_id = 1;
  decode.job_id = 1;
  decode.flags = DDV_DECODE_SRC;
  ddv_ctx_msg ctx = {1, 0};
  Write(dir / "hello_ack", Message(DDV_MSG_HELLO_ACK, 1, ack));
  Write(dir / "ping_result", Message(DDV_MSG_PING_RESULT, 2, ping));
  Write(dir / "decode", Message(DDV_MSG_DECODE, 3, decode));
  Write(dir / "flush", Message(DDV_MSG_FLUSH, 4, ctx));
  Write(dir / "ctx_close", Message(DDV_MSG_CTX_CLOSE, 5, ctx));
  Write(dir / "ping", daedalus::protocol::Encode({DDV_MSG_PING, 6, "abcd"}));
}

// A DECODE of context 1, with the bitstream that goes with it.
void AppendJob(const ddv_decode& job, const std::string& src, std::string* seed) {
  FuzzInput::AppendChunk(Message(DDV_MSG_DECODE, job.job_id, job), seed);
  FuzzInput::AppendChunk(src, seed);
}

// The jobs the kernel sends for a stream: the header job without a CAPTURE
// buffer, then each frame with one in the stream's YUV420 layout, a drain,
// a seek (FLUSH) and the close.
std::string JobSeed(const daedalus::decode::CodecInfo& codec, int width, int height,
                    const std::vector<daedalus::testing::CompressedFrame>& frames) {
  std::string seed;
  ddv_decode job = {};
  job.ctx_id = 1;
  job.codec = codec.fourcc;
  for (size_t i = 0; i < frames.size(); i++) {
    job.job_id = static_cast<uint32_t>(i + 1);
    job.flags = DDV_DECODE_SRC | (i > 0 ? DDV_DECODE_DST : 0);
    job.src_bytes = static_cast<uint32_t>(frames[i].data.size());
    job.src_timestamp = i * 1000;
    job.dst = {V4L2_PIX_FMT_YUV420,
               static_cast<uint32_t>(width),
               static_cast<uint32_t>(height),
               static_cast<uint32_t>(width),
               static_cast<uint32_t>(width * height * 3 / 2),
               {}};
    AppendJob(job, frames[i].data, &seed);
  }
  job.job_id++;
  job.flags = DDV_DECODE_DRAIN | DDV_DECODE_DST;
  job.src_bytes = 0;
  AppendJob(job, "", &seed);
  ddv_ctx_msg ctx = {1, 0};
  FuzzInput::AppendChunk(Message(DDV_MSG_FLUSH, 90, ctx), &seed);
  FuzzInput::AppendChunk("", &seed);
  FuzzInput::AppendChunk(Message(DDV_MSG_CTX_CLOSE, 91, ctx), &seed);
  FuzzInput::AppendChunk("", &seed);
  return seed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds OUT_DIR\n");
    return 2;
  }
  fs::path out(argv[1]);
  ProtocolSeeds(out / "protocol");
  const auto& codecs = daedalus::decode::AllCodecs();
  int failed = 0;
  for (size_t ci = 0; ci < codecs.size(); ci++) {
    const auto& codec = codecs[ci];
    int written = 0;
    for (const auto& s : daedalus::testing::ConformanceStreams(codec.name)) {
      if (written == kStreamsPerCodec) break;
      if (s.name.find("1080p") != std::string::npos) continue;
      auto stream = daedalus::testing::TestStream::Open(s.path);
      if (!stream.ok()) continue;
      std::vector<daedalus::testing::CompressedFrame> frames;
      while (frames.size() < kFramesPerSeed) {
        auto f = (*stream)->Next();
        if (!f) break;
        frames.push_back(*std::move(f));
      }
      std::string decoder_seed(1, static_cast<char>(ci));
      for (const auto& f : frames) FuzzInput::AppendChunk(f.data, &decoder_seed);
      Write(out / "stream_decoder" / s.name, decoder_seed);
      Write(out / "job_messages" / s.name,
            JobSeed(codec, (*stream)->width(), (*stream)->height(), frames));
      written++;
    }
    std::printf("fuzz_seeds: %s: %d streams\n", codec.name, written);
    failed += written == 0;
  }
  return failed ? 1 : 0;
}
