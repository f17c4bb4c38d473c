// SPDX-License-Identifier: BSD-2-Clause
//
// stream_to_hdr: converts a test stream of any codec (.ivf, .webm, .mp4,
// .h264, .hevc) into the file format `v4l2-compliance --stream-from-hdr`
// (and `v4l2-ctl --stream-from-hdr`) read: per buffer a big-endian 'Vhdr'
// id, then per plane a big-endian length and the bytes. One frame,
// superframe, temporal unit or access unit per buffer, one plane.
//
//   usage: stream_to_hdr IN.ivf OUT.hdr [MAX_FRAMES]

#include <arpa/inet.h>
#include <linux/videodev2.h>

#include <cstdio>
#include <cstdlib>

#include "tests/test_stream.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: stream_to_hdr IN OUT [MAX_FRAMES]\n");
    return 2;
  }
  long max_frames = argc > 3 ? std::atol(argv[3]) : -1;
  auto in = daedalus::testing::TestStream::Open(argv[1]);
  if (!in.ok()) {
    std::fprintf(stderr, "stream_to_hdr: %s\n", std::string(in.status().message()).c_str());
    return 1;
  }
  FILE* out = std::fopen(argv[2], "wb");
  if (!out) {
    std::perror(argv[2]);
    return 1;
  }
  const uint32_t id = htonl(v4l2_fourcc('V', 'h', 'd', 'r'));
  long frames = 0;
  while (max_frames < 0 || frames < max_frames) {
    auto frame = (*in)->Next();
    if (!frame) break;
    uint32_t len = htonl(static_cast<uint32_t>(frame->data.size()));
    std::fwrite(&id, sizeof(id), 1, out);
    std::fwrite(&len, sizeof(len), 1, out);
    std::fwrite(frame->data.data(), 1, frame->data.size(), out);
    frames++;
  }
  if (std::fclose(out) != 0) {
    std::perror(argv[2]);
    return 1;
  }
  std::printf("%ld frames, %dx%d\n", frames, (*in)->width(), (*in)->height());
  return frames > 0 ? 0 : 1;
}
