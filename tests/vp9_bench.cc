// SPDX-License-Identifier: BSD-2-Clause
//
// vp9_bench: decodes one VP9 clip twice in the same run, with the same
// number of frame threads: directly with libavcodec (the decode core alone)
// and through the V4L2 node (kernel + daedalusd, which must run with
// --decoder-threads THREADS). Prints frames per second for each, their
// ratio, and the per-frame latency through the node, over ROUNDS
// alternating rounds of each (default 5). Each round's ratio is printed too,
// and their median: on a shared or emulated machine a burst of load slows
// one round of one path, which the median of paired rounds shrugs off.
// Figures, not a test: it fails only if a decode fails.
//
//   usage: vp9_bench /dev/videoN CLIP.ivf THREADS [ROUNDS]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>

#include "daemon/decode/vp9_decoder.h"
#include "tests/v4l2_decoder.h"
#include "tests/vp9_stream.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: vp9_bench /dev/videoN CLIP THREADS [ROUNDS]\n");
    return 2;
  }
  int threads = std::atoi(argv[3]);
  int rounds = argc == 5 ? std::atoi(argv[4]) : 5;
  if (threads < 1 || rounds < 1) {
    std::fprintf(stderr, "vp9_bench: THREADS and ROUNDS must be at least 1\n");
    return 2;
  }
  auto in = daedalus::testing::Vp9Stream::Open(argv[2]);
  if (!in.ok()) {
    std::fprintf(stderr, "vp9_bench: %s\n", std::string(in.status().message()).c_str());
    return 1;
  }
  std::vector<daedalus::testing::CompressedFrame> frames;
  while (auto f = (*in)->Next()) frames.push_back(*std::move(f));
  std::printf("clip: %s, %dx%d, %zu frames, %d decoder thread(s)\n", argv[2], (*in)->width(),
              (*in)->height(), frames.size(), threads);

  // Rounds alternate between the two paths, so that neither gets warmer
  // caches or a quieter machine.
  double direct_s = 0, node_s = 0;
  std::vector<double> latency_ms, round_ratios;
  for (int round = 0; round < rounds; round++) {
    // Directly with libavcodec.
    auto dec = daedalus::decode::Vp9Decoder::Create({threads});
    if (!dec.ok()) return 1;
    std::deque<daedalus::decode::Picture> pics;
    auto start = Clock::now();
    for (size_t i = 0; i < frames.size(); i++) {
      (void)(*dec)->Decode(frames[i].data, static_cast<int64_t>(i), &pics);
      pics.clear();  // as the daemon does once a picture is written
    }
    (void)(*dec)->Drain(&pics);
    double round_direct_s = Seconds(start);
    direct_s += round_direct_s;

    // Through the V4L2 node; pictures counted, not hashed, like above.
    daedalus::testing::Decoder node(argv[1]);
    daedalus::testing::Options opt;
    opt.hash = false;
    start = Clock::now();
    daedalus::testing::Result r = node.Run(frames, (*in)->width(), (*in)->height(), opt);
    double round_node_s = Seconds(start);
    node_s += round_node_s;
    if (!r.error.empty() || r.md5.size() != frames.size()) {
      std::fprintf(stderr, "vp9_bench: node decode failed: %s (%zu/%zu pictures)\n",
                   r.error.c_str(), r.md5.size(), frames.size());
      return 1;
    }
    latency_ms.insert(latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
    round_ratios.push_back(round_direct_s / round_node_s);
    std::printf("round %d: direct %.2f fps, node %.2f fps, ratio %.3f\n", round + 1,
                frames.size() / round_direct_s, frames.size() / round_node_s, round_ratios.back());
  }
  double direct_fps = rounds * frames.size() / direct_s;
  double node_fps = rounds * frames.size() / node_s;

  std::printf("direct libavcodec:    %6.2f fps (%.2f s)\n", direct_fps, direct_s);
  std::printf("through %s: %6.2f fps (%.2f s)\n", argv[1], node_fps, node_s);
  std::printf(
      "ratio node/direct:    %6.3f over all rounds, median of %d rounds %.3f "
      "(%.3f..%.3f) (goal >= 0.95)\n",
      node_fps / direct_fps, rounds, Percentile(round_ratios, 0.5),
      *std::min_element(round_ratios.begin(), round_ratios.end()),
      *std::max_element(round_ratios.begin(), round_ratios.end()));
  std::printf("latency through the node, QBUF to DQBUF: p50 %.1f ms, p99 %.1f ms\n",
              Percentile(latency_ms, 0.5), Percentile(latency_ms, 0.99));
  return 0;
}
