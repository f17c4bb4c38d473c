// SPDX-License-Identifier: BSD-2-Clause
//
// scaling_bench: how streams through the node use the cores. The clip is
// decoded by 1, 2 and 4 clients at once (each its own open of the node,
// daedalusd run with --decoder-threads 1, so each stream is one decoding
// thread), ROUNDS times each (default 3); the median round's pictures per
// second over all clients are printed beside one stream's, with the goal
// of N streams on N or more CPUs: at least 0.9 x N times one stream's rate.
// Then the control plane beside the decode: GetStatus calls over the
// daemon's socket, one after another idle and 5 ms apart while 4 streams
// decode, their latency p50 and p99 (goal: p99 under 2 ms while decoding). And
// what a board owner sees: the daemon's CPU over 60 s idle (goal under
// 0.5 %), its RSS idle and at its highest with 4 streams, and the kernel's
// buffers (VmallocUsed, where videobuf2 puts them) likewise.
// Figures, not a test: it fails only if a decode or a call fails.
//
//   usage: scaling_bench /dev/videoN CLIP [ROUNDS [SOCKET]]
//          scaling_bench --status /dev/videoN CLIP [SOCKET]
// SOCKET: the daemon's gRPC socket (default /run/daedalus/daedalusd.sock).
// --status: the GetStatus latency alone, idle and beside one round of 4
// streams, then the same for gRPC's own health Check, which touches no
// lock of the daemon and not the kernel: the difference is what GetStatus
// itself adds (scripts/bench.sh runs it on QEMU's counted clock, where
// the scaling table cannot be measured but a latency repeats).

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "daedalus/v1/status.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/node_check.h"
#include "tests/percentile.h"
#include "tests/test_stream.h"
#include "tests/v4l2_decoder.h"

namespace {

using daedalus::testing::Percentile;

using Clock = std::chrono::steady_clock;

// Between two GetStatus calls beside the streams.
constexpr std::chrono::microseconds kBusyPause(5000);

// Pictures per second of `streams` clients decoding the clip at once, or
// a negative number if a decode failed.
double Round(const char* dev, const std::vector<daedalus::testing::CompressedFrame>& frames,
             int width, int height, uint32_t fourcc, int streams) {
  std::vector<daedalus::testing::Result> results(streams);
  std::vector<std::thread> clients;
  auto start = Clock::now();
  for (int i = 0; i < streams; i++) {
    clients.emplace_back([&, i] {
      daedalus::testing::Options opt;
      opt.hash = false;
      opt.codec = fourcc;
      daedalus::testing::Decoder node(dev);
      results[i] = node.Run(frames, width, height, opt);
    });
  }
  for (auto& c : clients) c.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const auto& r : results) {
    if (!r.error.empty() || r.md5.size() != frames.size()) {
      std::fprintf(stderr, "scaling_bench: a stream failed: %s (%zu of %zu pictures)\n",
                   r.error.c_str(), r.md5.size(), frames.size());
      return -1;
    }
  }
  return static_cast<double>(streams * frames.size()) / seconds;
}

// A "Key:   N kB" line of a /proc file, in KiB (0 if missing).
long ProcKib(const std::string& path, const std::string& key) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return 0;
  char line[256];
  long kib = 0;
  while (std::fgets(line, sizeof(line), f)) {
    if (std::string(line).rfind(key + ":", 0) == 0) {
      kib = std::atol(line + key.size() + 1);
      break;
    }
  }
  std::fclose(f);
  return kib;
}

// The resident KiB of `pid`'s mappings of DMA-BUFs (/proc/PID/smaps):
// the clients' CAPTURE buffers daedalusd writes pictures into. They are
// the kernel's buffers, counted in VmallocUsed; VmRSS counts them too.
long DmabufKib(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/smaps").c_str(), "r");
  if (!f) return 0;
  char line[512];
  long kib = 0;
  bool dmabuf = false;
  while (std::fgets(line, sizeof(line), f)) {
    std::string l(line);
    // A mapping's header line: "start-end perms offset dev inode [path]".
    if (!l.empty() && std::isxdigit(static_cast<unsigned char>(l[0])) &&
        l.find('-') < l.find(' ')) {
      dmabuf = l.find("dmabuf") != std::string::npos;
    } else if (dmabuf && l.rfind("Rss:", 0) == 0) {
      kib += std::atol(line + 4);
    }
  }
  std::fclose(f);
  return kib;
}

// The daemon's own resident memory: VmRSS less the clients' buffers it maps.
long OwnRssKib(pid_t pid) {
  return ProcKib("/proc/" + std::to_string(pid) + "/status", "VmRSS") - DmabufKib(pid);
}

// The process's user + system CPU time in seconds, from /proc/PID/stat.
double CpuSeconds(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return 0;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // After "pid (comm) ": state is field 3; utime and stime are 14 and 15.
  const char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
      2) {
    return 0;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Calls of `call` until `stop` (or `max_calls`), `pause` apart: each
// call's milliseconds; empty if one failed. Beside the streams the calls
// are paced as a monitor's are: back to back, a call that is answered
// promptly is soon followed by the next, and the calls took a third of the
// one CPU of the counted clock from the decode (12.83 against 22.96
// pictures/s at --decode-nice 10 and 0, 2026-12-04).
std::vector<double> TimedCalls(const std::function<grpc::Status()>& call,
                               const std::atomic<bool>& stop, size_t max_calls,
                               std::chrono::microseconds pause = std::chrono::microseconds(0)) {
  std::vector<double> ms;
  while (!stop && ms.size() < max_calls) {
    if (!ms.empty() && pause.count() > 0) std::this_thread::sleep_for(pause);
    auto t0 = Clock::now();
    grpc::Status st = call();
    if (!st.ok()) {
      std::fprintf(stderr, "scaling_bench: call: %s\n", st.error_message().c_str());
      return {};
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return ms;
}

std::function<grpc::Status()> GetStatusCall(daedalus::v1::Status::Stub& stub) {
  return [&stub] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    daedalus::v1::GetStatusRequest req;
    daedalus::v1::GetStatusResponse resp;
    return stub.GetStatus(&ctx, req, &resp);
  };
}

std::function<grpc::Status()> HealthCheckCall(grpc::health::v1::Health::Stub& stub) {
  return [&stub] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    return stub.Check(&ctx, req, &resp);
  };
}

// p50 and p99, and the slow tail apart: how many calls took over 2 ms
// and the slowest (a p99 sits on the edge when about 1 % of calls stall).
void PrintCalls(const char* what, const char* when, const std::vector<double>& ms) {
  size_t slow = std::count_if(ms.begin(), ms.end(), [](double m) { return m > 2.0; });
  double most = ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end());
  std::printf(
      "status: %-9s %-24s %5zu calls, p50 %.2f ms, p99 %.2f ms, %zu over 2 ms, max %.2f ms\n", what,
      when, ms.size(), Percentile(ms, 0.5), Percentile(ms, 0.99), slow, most);
}

void PrintStatusGoal(const std::vector<double>& busy) {
  std::printf("status: goal p99 < 2 ms while decoding: %s\n",
              !busy.empty() && Percentile(busy, 0.99) < 2.0 ? "met" : "MISSED");
}

// --status: GetStatus and health Check idle, then each beside a round of
// 4 streams.
int StatusOnly(const char* dev, const std::vector<daedalus::testing::CompressedFrame>& frames,
               const daedalus::testing::TestStream& in, daedalus::v1::Status::Stub& stub,
               grpc::health::v1::Health::Stub& health) {
  const std::function<grpc::Status()> calls[2] = {GetStatusCall(stub), HealthCheckCall(health)};
  const char* names[2] = {"GetStatus", "Check"};
  std::atomic<bool> never{false};
  std::vector<double> idle[2], busy[2];
  double rate[2];
  for (int i = 0; i < 2; i++) {
    idle[i] = TimedCalls(calls[i], never, 1000);
    if (idle[i].empty()) return 1;
  }
  for (int i = 0; i < 2; i++) {
    std::atomic<bool> decoded{false};
    std::thread caller([&] { busy[i] = TimedCalls(calls[i], decoded, 100000, kBusyPause); });
    rate[i] = Round(dev, frames, in.width(), in.height(), in.codec().fourcc, 4);
    decoded = true;
    caller.join();
    if (rate[i] < 0 || busy[i].empty()) return 1;
  }
  std::printf(
      "status: 4 streams at once: %.2f pictures/s (beside GetStatus), %.2f (beside Check)\n",
      rate[0], rate[1]);
  for (int i = 0; i < 2; i++) {
    PrintCalls(names[i], "idle:", idle[i]);
    PrintCalls(names[i], "while 4 streams decode:", busy[i]);
  }
  PrintStatusGoal(busy[0]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool status_only = argc > 1 && std::string(argv[1]) == "--status";
  if (status_only) {
    argv++;
    argc--;
  }
  if (argc < 3 || argc > (status_only ? 4 : 5)) {
    std::fprintf(stderr,
                 "usage: scaling_bench /dev/videoN CLIP [ROUNDS [SOCKET]]\n"
                 "       scaling_bench --status /dev/videoN CLIP [SOCKET]\n");
    return 2;
  }
  int rounds = !status_only && argc >= 4 ? std::atoi(argv[3]) : 3;
  std::string socket =
      argc == (status_only ? 4 : 5) ? argv[argc - 1] : "/run/daedalus/daedalusd.sock";
  if (rounds < 1) return 2;
  auto in = daedalus::testing::TestStream::Open(argv[2]);
  if (!in.ok()) {
    std::fprintf(stderr, "scaling_bench: %s\n", std::string(in.status().message()).c_str());
    return 1;
  }
  std::vector<daedalus::testing::CompressedFrame> frames;
  while (auto f = (*in)->Next()) frames.push_back(*std::move(f));
  if (status_only) {
    std::printf("status: %s (%s), %dx%d, %zu frames, %ld CPU(s)\n", argv[2], (*in)->codec().name,
                (*in)->width(), (*in)->height(), frames.size(), sysconf(_SC_NPROCESSORS_ONLN));
    auto channel = grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
    auto stub = daedalus::v1::Status::NewStub(channel);
    auto health = grpc::health::v1::Health::NewStub(channel);
    return StatusOnly(argv[1], frames, **in, *stub, *health);
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  std::printf("scaling: %s (%s), %dx%d, %zu frames, %ld CPUs, median of %d rounds\n", argv[2],
              (*in)->codec().name, (*in)->width(), (*in)->height(), frames.size(), cpus, rounds);
  std::printf("scaling: streams  pictures/s  vs one stream  goal\n");
  auto stub = daedalus::v1::Status::NewStub(
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  std::atomic<bool> never{false}, decoded{false};
  const std::function<grpc::Status()> get_status = GetStatusCall(*stub);
  std::vector<double> idle = TimedCalls(get_status, never, 1000);
  std::vector<double> busy;
  if (idle.empty()) return 1;
  pid_t daemon = daedalus::testing::DaemonPid();
  double cpu0 = CpuSeconds(daemon);
  sleep(60);
  double idle_cpu_percent = (CpuSeconds(daemon) - cpu0) / 60 * 100;
  long rss_idle = OwnRssKib(daemon);
  long vmalloc_idle = ProcKib("/proc/meminfo", "VmallocUsed");
  std::atomic<long> rss_peak{0}, vmalloc_peak{0};
  double one = 0;
  for (int streams : {1, 2, 4}) {
    std::vector<double> rates;
    for (int r = 0; r < rounds; r++) {
      // Beside the first round of 4 streams: the control plane's calls and
      // the memory's high-water marks.
      std::thread calls, memory;
      if (streams == 4 && r == 0) {
        decoded = false;
        calls = std::thread([&] { busy = TimedCalls(get_status, decoded, 100000, kBusyPause); });
        memory = std::thread([&] {
          while (!decoded) {
            rss_peak = std::max(rss_peak.load(), OwnRssKib(daemon));
            vmalloc_peak = std::max(vmalloc_peak.load(), ProcKib("/proc/meminfo", "VmallocUsed"));
            usleep(100000);
          }
        });
      }
      double rate =
          Round(argv[1], frames, (*in)->width(), (*in)->height(), (*in)->codec().fourcc, streams);
      decoded = true;  // ends the calls and the sampling
      if (calls.joinable()) calls.join();
      if (memory.joinable()) memory.join();
      if (rate < 0) return 1;
      rates.push_back(rate);
    }
    double median = Percentile(rates, 0.5);
    if (streams == 1) one = median;
    double ratio = median / one;
    std::string goal = "-";
    if (streams > 1 && streams <= cpus) {
      double want = 0.9 * streams;
      goal = ">= " + std::to_string(want).substr(0, 4) + "x: " + (ratio >= want ? "met" : "MISSED");
    } else if (streams > cpus) {
      goal = "(more streams than CPUs)";
    }
    std::printf("scaling: %7d  %10.2f  %12.2fx  %s\n", streams, median, ratio, goal.c_str());
  }
  PrintCalls("GetStatus", "idle:", idle);
  PrintCalls("GetStatus", "while 4 streams decode:", busy);
  PrintStatusGoal(busy);
  std::printf("board: daedalusd idle CPU over 60 s: %.3f %% (goal < 0.5 %%: %s)\n",
              idle_cpu_percent, idle_cpu_percent < 0.5 ? "met" : "MISSED");
  std::printf(
      "board: daedalusd RSS (its own, less the clients' buffers it maps) idle %.1f MiB, "
      "with 4 streams at most %.1f MiB (%.1f MiB a stream)\n",
      rss_idle / 1024.0, rss_peak / 1024.0, (rss_peak - rss_idle) / 4 / 1024.0);
  std::printf(
      "board: kernel buffers (VmallocUsed) idle %.1f MiB, with 4 streams at most %.1f MiB "
      "(%.1f MiB a stream)\n",
      vmalloc_idle / 1024.0, vmalloc_peak / 1024.0, (vmalloc_peak - vmalloc_idle) / 4 / 1024.0);
  return busy.empty() ? 1 : 0;
}
