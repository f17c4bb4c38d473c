// SPDX-License-Identifier: BSD-2-Clause
//
// soak_check: the node under a long mixed load, in the test VM. For
// SECONDS, at once:
//   - eight streams of mixed codecs, each playing its clip over and over
//     (every pass through its own open and close of the node), every pass
//     bit-exact with the reference;
//   - two churn threads opening the node, starting a stream (OUTPUT
//     format, buffers, STREAMON) and closing it again, at least five times
//     a second between them (thousands in scripts/soak.sh's 600 s);
//   - clients killed: a child process decoding a clip is killed (SIGKILL)
//     at a random moment, over and over.
// The daemon's resident memory is read ten times from the moment every
// stream has done a pass (warm) to the end, and its floor (the lowest of
// the first three readings, of the last three) must not grow by more than
// a bound; the guest script then checks kmemleak and the kernel log.
//
//   usage: soak_check /dev/videoN CLIP_DIR SECONDS
// CLIP_DIR holds recovery-CODEC.EXT clips (h264, hevc, vp8, vp9) with
// their NAME.md5 references, as the recovery checks make them.

#include <dirent.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/decode/codec.h"
#include "tests/node_check.h"
#include "tests/test_stream.h"
#include "tests/v4l2_decoder.h"
#include "tests/v4l2_structs.h"

namespace {

using Clock = std::chrono::steady_clock;
using daedalus::testing::DaemonPid;
using daedalus::testing::Decoder;
using daedalus::testing::NodeStream;
using daedalus::testing::Options;
using daedalus::testing::Result;

// Threads opening, starting and closing the node beside the eight streams.
constexpr int kChurnThreads = 2;

daedalus::testing::CheckCounter g_checks;
const char* g_dev = nullptr;

void Check(bool ok, const std::string& what) { g_checks.Check(ok, what); }

// Where a process's resident memory is, in KiB, from /proc/PID/smaps:
// the brk heap (glibc's main arena), anonymous mappings (the other
// threads' arenas, large allocations, thread stacks) and file mappings.
// A leak grows with the load; an allocator keeping freed pages grows
// towards a plateau, in the arenas of the threads that used them.
struct Memory {
  long total = 0, heap = 0, anon = 0, file = 0;
};

Memory MemoryOf(pid_t pid) {
  std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
  Memory m;
  long* bucket = &m.file;
  std::string line;
  while (std::getline(smaps, line)) {
    if (line.empty()) continue;
    if (std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < line.find(' ')) {
      // "start-end perms offset dev inode [path]": the path is field 6.
      std::istringstream fields(line);
      std::string skip, path;
      for (int i = 0; i < 5; i++) fields >> skip;
      fields >> path;
      bucket = path == "[heap]" ? &m.heap : path.empty() ? &m.anon : &m.file;
    } else if (line.rfind("Rss:", 0) == 0) {
      long kib = std::atol(line.c_str() + 4);
      *bucket += kib;
      m.total += kib;
    }
  }
  return m;
}

std::string Describe(const Memory& m) {
  return std::to_string(m.total) + " KiB (heap " + std::to_string(m.heap) + ", anon " +
         std::to_string(m.anon) + ", files " + std::to_string(m.file) + ")";
}

struct Clip {
  std::string codec;
  NodeStream stream;
};

Clip LoadClip(const std::string& dir, const std::string& codec, const std::string& ext) {
  std::string path = dir + "/recovery-" + codec + "." + ext;
  daedalus::testing::ConformanceStream info{"", path.substr(path.rfind('/') + 1), path, ""};
  auto md5 = daedalus::testing::ReferenceMd5s(info);
  return {codec, daedalus::testing::LoadNodeStream(
                     path, md5.ok() ? *std::move(md5) : std::vector<std::string>{})};
}

// One of the eight streams: passes of its clip until the deadline.
struct Player {
  const Clip* clip = nullptr;
  int passes = 0, bad = 0;
  std::string first_bad;
  std::atomic<bool> warm{false};

  void Play(Clock::time_point deadline) {
    Options opt;
    opt.codec = daedalus::decode::CodecByName(clip->codec)->fourcc;
    while (Clock::now() < deadline) {
      Decoder d(g_dev);
      Result r = d.Run(clip->stream.frames, clip->stream.width, clip->stream.height, opt);
      passes++;
      if (!daedalus::testing::BitExact(r, clip->stream)) {
        if (bad++ == 0) first_bad = daedalus::testing::Describe(r, clip->stream);
      }
      warm = true;
    }
  }
};

// Opens the node, starts a stream of `codec` and closes it: the churn of
// a browser that probes and abandons decoders. True if every call worked.
bool OpenStartClose(uint32_t codec) {
  int fd = open(g_dev, O_RDWR | O_NONBLOCK);
  if (fd < 0) return false;
  v4l2_format f = daedalus::testing::CompressedFormat(codec, 176, 144);
  v4l2_requestbuffers rb = daedalus::testing::MmapRequest(f.type, 2);
  uint32_t type = f.type;
  bool ok = ioctl(fd, VIDIOC_S_FMT, &f) == 0 && ioctl(fd, VIDIOC_REQBUFS, &rb) == 0 &&
            ioctl(fd, VIDIOC_STREAMON, &type) == 0;
  return close(fd) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: soak_check /dev/videoN CLIP_DIR SECONDS\n");
    return 2;
  }
  g_dev = argv[1];
  std::string dir = argv[2];
  int seconds = std::atoi(argv[3]);
  std::vector<Clip> clips = {LoadClip(dir, "h264", "h264"), LoadClip(dir, "hevc", "hevc"),
                             LoadClip(dir, "vp8", "ivf"), LoadClip(dir, "vp9", "ivf")};
  bool loaded = true;
  for (const Clip& c : clips) loaded = loaded && !c.stream.frames.empty() && !c.stream.want.empty();
  Check(loaded, "four clips (h264, hevc, vp8, vp9) and their references in " + dir);
  pid_t daemon = DaemonPid();
  Check(daemon > 0, "daedalusd runs");
  if (!loaded || daemon <= 0) return g_checks.Summary("soak_check");

  auto start = Clock::now();
  auto deadline = start + std::chrono::seconds(seconds);
  std::vector<Player> players(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < players.size(); i++) {
    players[i].clip = &clips[i % clips.size()];
    threads.emplace_back([&players, i, deadline] { players[i].Play(deadline); });
  }

  std::atomic<long> cycles{0}, cycle_failures{0};
  for (int t = 0; t < kChurnThreads; t++) {
    threads.emplace_back([&, t] {
      uint32_t codecs[] = {V4L2_PIX_FMT_H264, V4L2_PIX_FMT_HEVC, V4L2_PIX_FMT_VP8,
                           V4L2_PIX_FMT_VP9};
      for (long n = t; Clock::now() < deadline; n++) {
        if (!OpenStartClose(codecs[n % 4])) cycle_failures++;
        cycles++;
      }
    });
  }

  long killed = 0;
  std::thread killer([&] {
    std::mt19937 rng(1);
    for (long n = 0; Clock::now() < deadline; n++) {
      pid_t child = fork();
      if (child == 0) {
        const Clip& c = clips[n % clips.size()];
        Options opt;
        opt.codec = daedalus::decode::CodecByName(c.codec)->fourcc;
        opt.hash = false;
        Decoder d(g_dev);
        d.Run(c.stream.frames, c.stream.width, c.stream.height, opt);
        _exit(0);
      }
      if (child < 0) break;
      usleep(20000 + rng() % 400000);
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
      killed++;
    }
  });

  // Warm: every stream has done a pass, so its decoder and buffers exist.
  // From then on the daemon's memory is sampled ten times over the run, so
  // that a failure shows whether it grew steadily (a leak) or levelled off.
  while (Clock::now() < deadline) {
    bool all = true;
    for (const Player& p : players) all = all && p.warm;
    if (all) break;
    usleep(100000);
  }
  std::vector<Memory> samples;
  auto warm_at = Clock::now();
  auto step = (deadline - warm_at) / 10;
  for (int i = 0; i < 10; i++) {
    std::this_thread::sleep_until(warm_at + step * i);
    samples.push_back(MemoryOf(daemon));
    double at = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("soak: %4.0f s: daedalusd RSS %s\n", at, Describe(samples.back()).c_str());
    std::fflush(stdout);
  }
  for (auto& t : threads) t.join();
  killer.join();
  // The streams' pictures in flight and the decoders of contexts being
  // opened come and go: one reading can catch them at a peak (9 MiB above
  // its neighbours in a 60 s CI run, and the highest of three readings
  // then failed the check). A leak raises the floor under them, so the
  // start and the end are each the lowest of three readings.
  auto lowest = [&samples](size_t from) {
    return std::min({samples[from], samples[from + 1], samples[from + 2]},
                    [](const Memory& a, const Memory& b) { return a.total < b.total; });
  };
  Memory warm = lowest(0), end = lowest(samples.size() - 3);
  long rss_warm = warm.total, rss_end = end.total;
  double took = std::chrono::duration<double>(Clock::now() - start).count();

  int passes = 0, bad = 0;
  for (const Player& p : players) {
    passes += p.passes;
    bad += p.bad;
    if (p.bad) std::printf("soak: %s stream: %s\n", p.clip->codec.c_str(), p.first_bad.c_str());
  }
  std::printf(
      "soak: %.0f s: 8 streams, %d passes (%d not bit-exact); %ld open/start/close cycles (%ld "
      "failed); %ld clients killed mid-stream; daedalusd RSS %s at the start, %s at the end\n",
      took, passes, bad, cycles.load(), cycle_failures.load(), killed, Describe(warm).c_str(),
      Describe(end).c_str());
  Check(DaemonPid() == daemon,
        "the same daedalusd ran throughout (pid " + std::to_string(daemon) + ")");
  Check(passes >= 8 && bad == 0, "8 streams of mixed codecs: " + std::to_string(passes) +
                                     " passes, every one bit-exact (" + std::to_string(bad) +
                                     " not)");
  // With the streams decoding on every core the churn gets less CPU: 12 a
  // second in the KASAN guest's 60 s slice, 18 with one decoding thread.
  long want_cycles = 5L * seconds;
  Check(cycles >= want_cycles && cycle_failures == 0,
        std::to_string(cycles.load()) +
            " open/start/close cycles (>= " + std::to_string(want_cycles) + ", 5 a second), " +
            std::to_string(cycle_failures.load()) + " failed");
  Check(killed >= 10, std::to_string(killed) + " clients killed mid-stream (>= 10)");
  // Flat: the allocator may keep some freed pages; growth with the load
  // would be far beyond this over thousands of cycles.
  long bound = std::max(rss_warm / 10, 8L * 1024);
  Check(rss_warm > 0 && rss_end - rss_warm <= bound,
        "daedalusd RSS flat: " + std::to_string(rss_warm) + " KiB at the start, " +
            std::to_string(rss_end) + " KiB at the end (bound +" + std::to_string(bound) + " KiB)");
  return g_checks.Summary("soak_check");
}
