// SPDX-License-Identifier: BSD-2-Clause
//
// codec_bench: decodes one clip (any codec the node offers) twice in the same run, with the same
// number of frame threads: directly with libavcodec (the decode core alone)
// and through the V4L2 node (kernel + daedalusd, which must run with
// --decoder-threads THREADS), over ROUNDS alternating rounds of each
// (default 5). For each path it prints frames per second twice: over the
// whole clip from start-up (creating the decoder; opening the node) and in
// the steady state from the 11th picture to the last, the throughput a
// player sees once pictures flow; start-up to the first picture is printed
// apart. Each round's ratios are printed too, and their median: on a shared
// or emulated machine a burst of load slows one round of one path, which
// the median of paired rounds shrugs off. Then the per-frame latency
// through the node. Figures, not a test: it fails only if a decode fails.
//
//   usage: codec_bench /dev/videoN CLIP.ivf THREADS [ROUNDS]

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "daemon/decode/stream_decoder.h"
#include "tests/percentile.h"
#include "tests/test_stream.h"
#include "tests/v4l2_decoder.h"

namespace {

using daedalus::testing::Percentile;

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Pictures over a stretch of time.
struct Span {
  double pictures = 0, seconds = 0;
  double Fps() const { return pictures / seconds; }
};

// Pictures left out of the steady state: until then a path is still
// filling its pipeline (the node's daemon decodes ahead while the client
// sets CAPTURE up, libdav1d holds pictures back), and a span that started
// at the first picture would credit a path with work done before it.
constexpr size_t kWarmUp = 10;

// One path's round from each picture's arrival: the whole clip from
// start-up (opening the node, allocating buffers, the daemon's decoder,
// the format round trip) to the last picture, and the steady state from
// picture kWarmUp + 1 to the last.
struct Timing {
  Timing() = default;
  Timing(Clock::time_point start, const std::vector<Clock::time_point>& at) {
    if (at.empty()) return;
    size_t from = std::min(kWarmUp, at.size() / 2);
    whole = {static_cast<double>(at.size()), Seconds(start, at.back())};
    steady = {static_cast<double>(at.size() - 1 - from), Seconds(at[from], at.back())};
    first_s = Seconds(start, at.front());
  }
  Span whole, steady;
  double first_s = 0;
};

// CPU time the whole guest spent busy (every CPU, user and kernel, the
// daemon's and the kernel's threads included), in seconds, from
// /proc/stat: the node path's cost is spread over three parties.
double BusySeconds() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return 0;
  unsigned long long v[8] = {};
  int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                      &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n != 8) return 0;
  // user nice system [idle] [iowait] irq softirq steal
  unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Minor page faults of this process so far: the direct path decodes here,
// so its faults compare with the daemon's (tests/vm/guest/bench.sh).
long MinorFaults() {
  rusage u = {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

struct Round {
  Timing direct, node;
  double direct_cpu_s = 0, node_cpu_s = 0;  // BusySeconds() over each path
  long direct_faults = 0;                   // MinorFaults() over the direct path
};

// Both paths' frame rates over all rounds (all pictures over all time),
// their ratio, and the median and range of the rounds' ratios.
void Summary(const char* what, const std::vector<Round>& runs, Span Timing::*span,
             const char* dev) {
  Span direct, node;
  std::vector<double> ratios;
  for (const Round& run : runs) {
    const Span& d = run.direct.*span;
    const Span& n = run.node.*span;
    direct.pictures += d.pictures;
    direct.seconds += d.seconds;
    node.pictures += n.pictures;
    node.seconds += n.seconds;
    ratios.push_back(n.Fps() / d.Fps());
  }
  std::printf("%s:\n", what);
  std::printf("  direct libavcodec:    %6.2f fps\n", direct.Fps());
  std::printf("  through %s: %6.2f fps\n", dev, node.Fps());
  std::printf(
      "  ratio node/direct:    %6.3f over all rounds, median of %zu rounds %.3f (%.3f..%.3f)"
      " (goal >= 0.97 in the steady state)\n",
      node.Fps() / direct.Fps(), ratios.size(), Percentile(ratios, 0.5),
      *std::min_element(ratios.begin(), ratios.end()),
      *std::max_element(ratios.begin(), ratios.end()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: codec_bench /dev/videoN CLIP THREADS [ROUNDS]\n");
    return 2;
  }
  int threads = std::atoi(argv[3]);
  int rounds = argc == 5 ? std::atoi(argv[4]) : 5;
  if (threads < 1 || rounds < 1) {
    std::fprintf(stderr, "codec_bench: THREADS and ROUNDS must be at least 1\n");
    return 2;
  }
  auto in = daedalus::testing::TestStream::Open(argv[2]);
  if (!in.ok()) {
    std::fprintf(stderr, "codec_bench: %s\n", std::string(in.status().message()).c_str());
    return 1;
  }
  std::vector<daedalus::testing::CompressedFrame> frames;
  while (auto f = (*in)->Next()) frames.push_back(*std::move(f));
  std::printf("clip: %s (%s), %dx%d, %zu frames, %d decoder thread(s)\n", argv[2],
              (*in)->codec().name, (*in)->width(), (*in)->height(), frames.size(), threads);

  // Rounds alternate between the two paths, so that neither gets warmer
  // caches or a quieter machine.
  std::vector<Round> runs;
  std::vector<double> latency_ms;
  for (int round = 0; round < rounds; round++) {
    Round run;
    // Directly with libavcodec, from creating the decoder on.
    std::deque<daedalus::decode::Picture> pics;
    double busy = BusySeconds();
    long faults = MinorFaults();
    auto start = Clock::now();
    auto dec = daedalus::decode::StreamDecoder::Create((*in)->codec(), {threads});
    if (!dec.ok()) return 1;
    std::vector<Clock::time_point> shown_at;
    auto collect = [&] {
      if (pics.empty()) return;
      shown_at.insert(shown_at.end(), pics.size(), Clock::now());
      pics.clear();  // as the daemon does once a picture is written
    };
    for (size_t i = 0; i < frames.size(); i++) {
      (void)(*dec)->Decode(frames[i].data, static_cast<int64_t>(i), &pics);
      collect();
    }
    (void)(*dec)->Drain(&pics);
    collect();
    run.direct = Timing(start, shown_at);
    size_t shown = shown_at.size();
    run.direct_cpu_s = BusySeconds() - busy;
    run.direct_faults = MinorFaults() - faults;

    // Through the V4L2 node, from opening it on; pictures counted, not
    // hashed, like above.
    daedalus::testing::Options opt;
    opt.hash = false;
    opt.codec = (*in)->codec().fourcc;
    busy = BusySeconds();
    start = Clock::now();
    daedalus::testing::Decoder node(argv[1]);
    daedalus::testing::Result r = node.Run(frames, (*in)->width(), (*in)->height(), opt);
    run.node = Timing(start, r.picture_at);
    run.node_cpu_s = BusySeconds() - busy;
    if (!r.error.empty() || r.md5.size() != frames.size() || shown != frames.size()) {
      std::fprintf(stderr,
                   "codec_bench: decode failed: %s (node %zu, direct %zu of %zu pictures)\n",
                   r.error.c_str(), r.md5.size(), shown, frames.size());
      return 1;
    }
    latency_ms.insert(latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
    std::printf(
        "round %d: whole clip: direct %.2f fps, node %.2f fps, ratio %.3f; "
        "steady: direct %.2f fps, node %.2f fps, ratio %.3f; "
        "first picture: direct %.0f ms, node %.0f ms\n",
        round + 1, run.direct.whole.Fps(), run.node.whole.Fps(),
        run.node.whole.Fps() / run.direct.whole.Fps(), run.direct.steady.Fps(),
        run.node.steady.Fps(), run.node.steady.Fps() / run.direct.steady.Fps(),
        run.direct.first_s * 1000, run.node.first_s * 1000);
    runs.push_back(run);
  }
  Summary("whole clip (start-up included)", runs, &Timing::whole, argv[1]);
  const std::string steady =
      "steady state (picture " + std::to_string(kWarmUp + 1) + " to the last)";
  Summary(steady.c_str(), runs, &Timing::steady, argv[1]);
  std::vector<double> first_direct, first_node;
  for (const Round& run : runs) {
    first_direct.push_back(run.direct.first_s * 1000);
    first_node.push_back(run.node.first_s * 1000);
  }
  std::printf("start-up to the first picture, median: direct %.0f ms, node %.0f ms\n",
              Percentile(first_direct, 0.5), Percentile(first_node, 0.5));
  std::printf("latency through the node, QBUF to DQBUF: p50 %.1f ms, p99 %.1f ms\n",
              Percentile(latency_ms, 0.5), Percentile(latency_ms, 0.99));
  double direct_cpu = 0, node_cpu = 0;
  long direct_faults = 0;
  for (const Round& run : runs) {
    direct_cpu += run.direct_cpu_s;
    node_cpu += run.node_cpu_s;
    direct_faults += run.direct_faults;
  }
  double pictures = static_cast<double>(frames.size() * runs.size());
  std::printf(
      "CPU time per frame (the whole guest, /proc/stat): direct %.2f ms, node %.2f ms "
      "(client + daemon + kernel), ratio %.3f (goal <= 1.05)\n",
      direct_cpu / pictures * 1000, node_cpu / pictures * 1000, node_cpu / direct_cpu);
  std::printf("direct path minor page faults: %ld over %zu rounds, %.0f a picture\n", direct_faults,
              runs.size(), static_cast<double>(direct_faults) / pictures);
  return 0;
}
