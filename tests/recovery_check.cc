// SPDX-License-Identifier: BSD-2-Clause
//
// recovery_check: streams that survive their daemon, in the test VM. The
// guest script runs daedalusd under a supervisor that restarts it after the
// systemd unit's RestartSec, as systemd would; this program decodes through
// the node with our own client and kills the daemon (SIGKILL) at chosen
// moments:
//   - once mid-stream, with one stream of every codec open;
//   - 20 times in a row, with three streams open;
//   - during a drain, during a resolution change, and during a close.
// Every stream must go on and end normally (LAST, no EIO). Its pictures
// must be the reference's, in order, with at most one gap per kill (the
// pictures a dead daemon held, and those before the next key frame, which
// come back as empty buffers flagged ERROR): after each resume the stream
// is bit-exact again. A kill during the drain may leave the gap at the
// end: what the daemon held then were the last pictures (kHeldAtDrain).
// Prints the time from a kill to the next good picture, split into the
// daemon's restart (its HELLO) and the streams' resume; the resume must
// take under 2 s, the restart less than the module's window.
//
//   usage: recovery_check [--memory-limit CGROUP] /dev/videoN CLIP_DIR
// With --memory-limit, only what the unit's MemoryMax= does at the limit
// (CheckMemoryLimit): the daemon runs in the cgroup v2 directory CGROUP.
// CLIP_DIR holds recovery-CODEC.EXT (h264, hevc, vp8, vp9, av1) and
// recovery-resize.h264, each with a keyframe every 10 pictures and its
// per-picture MD5s beside it (NAME.md5), made by the guest script.

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/decode/codec.h"
#include "tests/node_check.h"
#include "tests/test_stream.h"
#include "tests/v4l2_decoder.h"

namespace {

using Clock = std::chrono::steady_clock;
using daedalus::testing::DaemonPid;
using daedalus::testing::Decoder;
using daedalus::testing::Moment;
using daedalus::testing::NodeStream;
using daedalus::testing::Options;
using daedalus::testing::Result;

daedalus::testing::CheckCounter g_checks;
const char* g_dev = nullptr;
std::string g_clips;

void Check(bool ok, const std::string& what) { g_checks.Check(ok, what); }

// Daemons that attached to the chardev since the module loaded (the
// kernel's counter, in debugfs).
uint64_t Attaches() {
  std::ifstream stats("/sys/kernel/debug/daedalus_v4l2/stats");
  std::string key;
  uint64_t value = 0;
  while (stats >> key >> value) {
    if (key == "daemon_attaches") return value;
  }
  return 0;
}

// When a daemon attached beyond `before` attaches (waits up to `seconds`).
std::optional<Clock::time_point> WaitForAttach(uint64_t before, int seconds) {
  for (int i = 0; i < seconds * 200; i++) {
    if (Attaches() > before) return Clock::now();
    usleep(5000);
  }
  return std::nullopt;
}

// The module's recovery_ms.
int RecoveryWindowMs() {
  std::ifstream f("/sys/module/daedalus_v4l2/parameters/recovery_ms");
  int ms = 0;
  f >> ms;
  return ms;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Kills the daemon; the time of the kill, or nullopt if none ran.
std::optional<Clock::time_point> KillDaemon() {
  pid_t pid = DaemonPid();
  if (pid <= 0 || kill(pid, SIGKILL) != 0) return std::nullopt;
  return Clock::now();
}

NodeStream LoadClip(const std::string& name, int repeat = 1) {
  std::string path = g_clips + "/" + name;
  daedalus::testing::ConformanceStream info{"", name, path, ""};
  auto md5 = daedalus::testing::ReferenceMd5s(info);
  NodeStream s = daedalus::testing::LoadNodeStream(
      path, md5.ok() ? *std::move(md5) : std::vector<std::string>{});
  // Played `repeat` times over: a longer stream with the same keyframes.
  NodeStream out = s;
  for (int i = 1; i < repeat; i++) {
    out.frames.insert(out.frames.end(), s.frames.begin(), s.frames.end());
    out.want.insert(out.want.end(), s.want.begin(), s.want.end());
  }
  return out;
}

// The stream's pictures against the reference: each in the reference's
// order, `runs` contiguous runs of it, the last ending at its end.
struct Match {
  bool in_order = false;
  bool to_the_end = false;
  int runs = 0;
  size_t missing_at_end = 0;  // reference pictures after the last one got
};
Match MatchReference(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  Match m;
  size_t j = 0;
  bool fresh = true;
  for (const std::string& md5 : got) {
    size_t k = j;
    while (k < want.size() && want[k] != md5) k++;
    if (k == want.size()) return m;  // a picture not in the reference (after j)
    if (fresh || k != j) m.runs++;
    fresh = false;
    j = k + 1;
  }
  m.in_order = true;
  m.to_the_end = !want.empty() && j == want.size();
  m.missing_at_end = want.size() - j;
  return m;
}

// One stream decoded on its own thread, its pictures counted as they come.
struct Playback {
  NodeStream stream;
  Options opt;
  Result result;
  std::atomic<int> pictures{0};
  std::thread thread;

  void Start(uint32_t fourcc, int requeue_delay_ms) {
    opt.codec = fourcc;
    opt.requeue_delay_ms = requeue_delay_ms;
    auto previous = opt.on_moment;
    opt.on_moment = [this, previous](Moment m) {
      if (m == Moment::kPicture) pictures++;
      if (previous) previous(m);
    };
    thread = std::thread([this] {
      Decoder d(g_dev);
      result = d.Run(stream.frames, stream.width, stream.height, opt);
    });
  }
  // The first picture dequeued after `t`, if any.
  std::optional<Clock::time_point> FirstPictureAfter(Clock::time_point t) const {
    for (auto p : result.picture_at) {
      if (p > t) return p;
    }
    return std::nullopt;
  }
};

// An x86-64 guest under QEMU's TCG, whose emulation of libdav1d's AVX2
// code gives other AV1 pictures than the reference, and not always the
// same ones (docs/testing.md).
bool EmulatedCpu() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.find("QEMU TCG") != std::string::npos) return true;
  }
  return false;
}

// The stream went on and ended as a stream should after `kills` kills.
// `pictures_unreliable`: AV1 under TCG, where only how the stream went on
// and ended is checked, and the pictures are reported.
// `tail_lost`: how many of the reference's last pictures may be missing
// (0: the stream must reach its end).
void CheckSurvived(const std::string& what, const Playback& p, int kills,
                   bool pictures_unreliable = false, size_t tail_lost = 0) {
  const Result& r = p.result;
  Match m = MatchReference(r.md5, p.stream.want);
  bool end = !p.stream.want.empty() && m.missing_at_end <= tail_lost;
  bool pictures = m.in_order && end && m.runs <= kills + 1;
  if (!pictures && pictures_unreliable) {
    std::printf(
        "note %s: pictures unlike the reference (%s) under TCG's AV1 emulation: "
        "checked that the stream went on and ended\n",
        what.c_str(), m.in_order ? "not to the end" : "out of order or other");
    pictures = r.md5.size() * 2 >= p.stream.want.size();
  }
  Check(r.error.empty() && !r.fatal && r.last && pictures,
        what + ": " + std::to_string(r.md5.size()) + "/" + std::to_string(p.stream.want.size()) +
            " pictures, " + (m.in_order ? "" : "NOT ") + "in the reference's order, " +
            std::to_string(m.runs) + " run(s), " +
            (m.to_the_end ? "to its end"
                          : std::to_string(m.missing_at_end) + " missing at the end (" +
                                std::to_string(tail_lost) + " may be)") +
            ", " + std::to_string(r.cap_errors) + " flagged ERROR" +
            (r.error.empty() ? "" : ", error: " + r.error) + (r.fatal ? " (EIO)" : "") +
            (r.last ? "" : ", no LAST"));
}

// Waits until `n` pictures came on every playback (or 60 s).
bool WaitForPictures(std::vector<Playback*> ps, int n) {
  for (int i = 0; i < 6000; i++) {
    bool all = true;
    for (Playback* p : ps) all = all && p->pictures >= n;
    if (all) return true;
    usleep(10000);
  }
  return false;
}

// One stream of every codec, the daemon killed once mid-stream.
void CheckEveryCodec() {
  const std::vector<std::pair<std::string, std::string>> clips = {{"h264", "recovery-h264.h264"},
                                                                  {"hevc", "recovery-hevc.hevc"},
                                                                  {"vp8", "recovery-vp8.ivf"},
                                                                  {"vp9", "recovery-vp9.ivf"},
                                                                  {"av1", "recovery-av1.ivf"}};
  std::vector<Playback> ps(clips.size());
  std::vector<Playback*> all;
  for (size_t i = 0; i < clips.size(); i++) {
    ps[i].stream = LoadClip(clips[i].second);
    all.push_back(&ps[i]);
  }
  for (size_t i = 0; i < clips.size(); i++) {
    ps[i].Start(daedalus::decode::CodecByName(clips[i].first)->fourcc, 60);
  }
  bool started = WaitForPictures(all, 12);
  uint64_t attaches = Attaches();
  std::optional<Clock::time_point> kill = started ? KillDaemon() : std::nullopt;
  Check(kill.has_value(), "five streams (one per codec) decoding; daedalusd killed (SIGKILL)");
  // The new daemon's attach splits the time to the next good picture into
  // the daemon's restart and the streams' resume.
  std::optional<Clock::time_point> attach = kill ? WaitForAttach(attaches, 30) : std::nullopt;
  for (auto& p : ps) p.thread.join();
  double resume = 0, total = 0;
  bool every = attach.has_value();
  for (size_t i = 0; i < clips.size(); i++) {
    CheckSurvived(clips[i].first + " survives a kill mid-stream", ps[i], 1,
                  clips[i].first == "av1" && EmulatedCpu());
    std::optional<Clock::time_point> next;
    if (attach) next = ps[i].FirstPictureAfter(*attach);
    every = every && next.has_value();
    if (!next) continue;
    resume = std::max(resume, Ms(*next - *attach));
    total = std::max(total, Ms(*next - *kill));
  }
  double restart = attach ? Ms(*attach - *kill) : -1;
  std::printf(
      "recovery: kill -9 to the next good picture of every stream: %.0f ms (the daemon's "
      "restart to its HELLO %.0f ms, then the streams' resume %.0f ms)\n",
      total, restart, resume);
  Check(every && resume < 2000,
        "from the new daemon's HELLO to the next good picture on every stream: " +
            std::to_string(static_cast<int>(resume)) + " ms (< 2000 ms)");
  // The restart is the daemon's own start (about 0.2 s on the host, some
  // 4 s in the emulated guest): within the module's window it must be.
  Check(every && restart < RecoveryWindowMs(),
        "the daemon was back within the module's recovery window (" +
            std::to_string(static_cast<int>(restart)) + " of " +
            std::to_string(RecoveryWindowMs()) + " ms); kill to next picture " +
            std::to_string(static_cast<int>(total)) + " ms (goal on a board: < 2000 ms)");
}

// Three streams, the daemon killed 20 times, each time once it is back
// and every stream has shown pictures again. Each kill costs a stream up
// to a key-frame interval of pictures, so the clips are played 12 times
// over (720 pictures): with 8 (480) the last kill once fell in a stream's
// last interval and its tail could not come back (CI, 2026-12-04).
void CheckRepeatedKills() {
  constexpr int kKills = 20;
  std::vector<Playback> ps(3);
  const char* names[] = {"recovery-h264.h264", "recovery-vp9.ivf", "recovery-hevc.hevc"};
  const char* codecs[] = {"h264", "vp9", "hevc"};
  std::vector<Playback*> all;
  for (int i = 0; i < 3; i++) {
    ps[i].stream = LoadClip(names[i], 12);
    all.push_back(&ps[i]);
  }
  for (int i = 0; i < 3; i++) ps[i].Start(daedalus::decode::CodecByName(codecs[i])->fourcc, 20);
  int kills = 0;
  std::vector<double> gaps;
  for (int k = 0; k < kKills; k++) {
    int seen = 1 << 30;
    for (Playback* p : all) seen = std::min(seen, p->pictures.load());
    if (!WaitForPictures(all, seen + 3)) break;
    uint64_t attaches = Attaches();
    auto kill = KillDaemon();
    if (!kill || !WaitForAttach(attaches, 30)) break;
    kills++;
  }
  for (auto& p : ps) p.thread.join();
  Check(kills == kKills, "daedalusd killed " + std::to_string(kills) + " times (of " +
                             std::to_string(kKills) + ") with three streams open");
  for (int i = 0; i < 3; i++) {
    CheckSurvived(std::string(codecs[i]) + " survives " + std::to_string(kills) + " kills", ps[i],
                  kills);
  }
}

// The pictures a daemon holds once every OUTPUT buffer is consumed: the
// last access unit, which the H.264 parser keeps until the drain, and the
// one picture a second frame thread holds back (the guest runs daedalusd
// with --decoder-threads 2; the clips have no B-frames). A kill during
// the drain loses them like any other a dead daemon held, and with no key
// frame after them they cannot come back: they are the stream's last.
constexpr size_t kHeldAtDrain = 2;

// The daemon killed at a moment of one stream's life: the drain, the
// resolution change. The stream ends normally either way; after a kill
// during the drain, it may end short by what the daemon held.
void CheckKillAt(Moment when, const std::string& what, const std::string& clip,
                 const std::string& codec) {
  Playback p;
  p.stream = LoadClip(clip);
  uint64_t attaches = Attaches();
  std::atomic<bool> killed{false};
  p.opt.on_moment = [&](Moment m) {
    if (m == when && !killed.exchange(true)) KillDaemon();
  };
  p.Start(daedalus::decode::CodecByName(codec)->fourcc, 20);
  p.thread.join();
  Check(killed && WaitForAttach(attaches, 30), "daedalusd killed " + what + ", and back");
  CheckSurvived(codec + " stream survives a kill " + what, p, 1, false,
                when == Moment::kDrainStarted ? kHeldAtDrain : 0);
}

// The daemon killed and the client closing at once: the close returns at
// once (the dead daemon's job is dropped), and the next stream decodes.
void CheckKillAtClose() {
  Playback p;
  p.stream = LoadClip("recovery-vp9.ivf");
  p.opt.close_after = 15;
  uint64_t attaches = Attaches();
  std::optional<Clock::time_point> kill;
  p.opt.on_moment = [&](Moment m) {
    if (m == Moment::kPicture && p.pictures == 14) kill = KillDaemon();
  };
  p.Start(daedalus::decode::CodecByName("vp9")->fourcc, 20);
  p.thread.join();  // Run() returns once its close is done
  double close_ms = kill ? Ms(Clock::now() - *kill) : -1;
  Check(kill && p.result.error.empty() && close_ms < 1000,
        "a client that closes as the daemon is killed: close returns in " +
            std::to_string(static_cast<int>(close_ms)) + " ms");
  WaitForAttach(attaches, 30);
  Playback next;
  next.stream = LoadClip("recovery-vp9.ivf");
  next.Start(daedalus::decode::CodecByName("vp9")->fourcc, 0);
  next.thread.join();
  Check(daedalus::testing::BitExact(next.result, next.stream),
        "the next stream after it is bit-exact: " +
            daedalus::testing::Describe(next.result, next.stream));
}

// A cgroup v2 file's number ("max" is none), or -1 if unreadable.
long long ReadCgroupValue(const std::string& cgroup, const std::string& file,
                          const std::string& key = "") {
  std::ifstream f(cgroup + "/" + file);
  std::string word;
  while (f >> word) {
    if (key.empty() || word == key) {
      if (!key.empty()) f >> word;
      return word == "max" ? std::numeric_limits<long long>::max() : std::atoll(word.c_str());
    }
  }
  return -1;
}

bool WriteCgroupValue(const std::string& cgroup, const std::string& file,
                      const std::string& value) {
  std::ofstream f(cgroup + "/" + file);
  f << value;
  f.flush();
  return static_cast<bool>(f);
}

std::string MiB(long long bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// What systemd's MemoryMax= does when the daemon reaches it: the daemon
// runs in CGROUP (the guest's stand-in for its unit's cgroup, memory.max
// as the unit sets it). With two streams decoding, the limit is lowered
// below what the daemon uses, as if its use had grown to the limit: the
// kernel's OOM killer must kill it (memory.events oom_kill), nothing
// else; the limit goes back, the supervisor restarts the daemon and both
// streams resume and end bit-exact, as after kill -9.
void CheckMemoryLimit(const std::string& cgroup) {
  long long limit = ReadCgroupValue(cgroup, "memory.max");
  long long ooms = ReadCgroupValue(cgroup, "memory.events", "oom_kill");
  Check(limit > 0 && ooms >= 0, "daedalusd's cgroup " + cgroup + " has memory.max " + MiB(limit) +
                                    " (the unit's MemoryMax=)");
  std::vector<Playback> ps(2);
  const char* names[] = {"recovery-h264.h264", "recovery-vp9.ivf"};
  const char* codecs[] = {"h264", "vp9"};
  std::vector<Playback*> all;
  for (int i = 0; i < 2; i++) {
    ps[i].stream = LoadClip(names[i], 2);
    all.push_back(&ps[i]);
  }
  for (int i = 0; i < 2; i++) ps[i].Start(daedalus::decode::CodecByName(codecs[i])->fourcc, 40);
  bool started = WaitForPictures(all, 12);
  long long used = ReadCgroupValue(cgroup, "memory.current");
  long long peak = ReadCgroupValue(cgroup, "memory.peak");
  uint64_t attaches = Attaches();
  pid_t victim = DaemonPid();
  auto lowered = Clock::now();
  // 1 MiB, far below its use: what it holds cannot all be reclaimed (no
  // swap), so the write itself ends in the cgroup's OOM killer.
  constexpr long long kTiny = 1 << 20;
  bool wrote = started && WriteCgroupValue(cgroup, "memory.max", std::to_string(kTiny));
  bool gone = false;
  for (int i = 0; i < 1000 && wrote && !gone; i++) {
    gone = kill(victim, 0) != 0;
    if (!gone) usleep(10000);
  }
  double kill_ms = Ms(Clock::now() - lowered);
  long long ooms_after = ReadCgroupValue(cgroup, "memory.events", "oom_kill");
  WriteCgroupValue(cgroup, "memory.max",
                   limit == std::numeric_limits<long long>::max() ? "max" : std::to_string(limit));
  std::printf(
      "memory: daedalusd used %s with two streams decoding (peak %s) of its %s; memory.max "
      "lowered to %s: %s after %.0f ms, oom_kill %lld -> %lld\n",
      MiB(used).c_str(), MiB(peak).c_str(), MiB(limit).c_str(), MiB(kTiny).c_str(),
      gone ? "killed" : "still running", kill_ms, ooms, ooms_after);
  Check(started && wrote && gone && ooms_after == ooms + 1,
        "at its memory limit daedalusd is killed by the OOM killer (oom_kill " +
            std::to_string(ooms) + " -> " + std::to_string(ooms_after) + "), nothing else");
  Check(used < limit / 2, "two streams use " + MiB(used) + ", under half the unit's " + MiB(limit));
  Check(WaitForAttach(attaches, 30).has_value(),
        "the supervisor restarted daedalusd under the unit's limit again");
  for (auto& p : ps) p.thread.join();
  for (int i = 0; i < 2; i++) {
    CheckSurvived(std::string(codecs[i]) + " survives its daemon's OOM kill", ps[i], 1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string cgroup;
  if (argc == 5 && std::string(argv[1]) == "--memory-limit") {
    cgroup = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: recovery_check [--memory-limit CGROUP] /dev/videoN CLIP_DIR\n");
    return 2;
  }
  g_dev = argv[1];
  g_clips = argv[2];
  Check(DaemonPid() > 0, "daedalusd runs (under the guest's supervisor)");
  if (!cgroup.empty()) {
    CheckMemoryLimit(cgroup);
    return g_checks.Summary("recovery_check");
  }
  CheckEveryCodec();
  CheckRepeatedKills();
  CheckKillAt(Moment::kDrainStarted, "during the drain", "recovery-h264.h264", "h264");
  CheckKillAt(Moment::kSourceChange, "during a resolution change", "recovery-resize.h264", "h264");
  CheckKillAtClose();
  return g_checks.Summary("recovery_check");
}
