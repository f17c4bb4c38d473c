// SPDX-License-Identifier: BSD-2-Clause
//
// Fuzz target: the decode core's packet rules for every codec (H.264/HEVC
// byte streams through libavcodec's parsers, VP9 superframes, VP8 frames,
// AV1 temporal units) and the decoders behind them. Input: a codec byte,
// then OUTPUT buffers as FuzzInput chunks, then a drain. Whatever the
// bytes: no crash, no leak, and every picture has a size.

#include <cstdint>
#include <cstdlib>
#include <deque>

#include "daemon/decode/codec.h"
#include "daemon/decode/stream_decoder.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using daedalus::decode::StreamDecoder;
  daedalus::fuzz::FuzzInput in(data, size);
  const auto& codecs = daedalus::decode::AllCodecs();
  const daedalus::decode::CodecInfo& codec = codecs[in.Byte() % codecs.size()];
  auto dec = StreamDecoder::Create(codec, {1});
  if (!dec.ok()) return 0;  // this libavcodec lacks the codec
  std::deque<daedalus::decode::Picture> pics;
  auto check = [&pics] {
    for (const auto& p : pics) {
      if (p.format.width <= 0 || p.format.height <= 0) std::abort();
    }
    pics.clear();  // as the daemon hands each picture on
  };
  for (int64_t ts = 0; !in.empty() && ts < 64; ts++) {
    (void)(*dec)->Decode(in.Chunk(), ts, &pics);
    check();
  }
  (void)(*dec)->Drain(&pics);
  check();
  return 0;
}
