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
// is bit-exact again. Prints, and checks against 2 s, the time from a kill
// to the next good picture.
//
//   usage: recovery_check /dev/videoN CLIP_DIR
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
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/decode/codec.h"
#include "tests/node_check.h"
#include "tests/test_stream.h"
#include "tests/v4l2_decoder.h"

namespace {

using Clock = std::chrono::steady_clock;
using daedalus::testing::Decoder;
using daedalus::testing::Moment;
using daedalus::testing::NodeStream;
using daedalus::testing::Options;
using daedalus::testing::Result;

daedalus::testing::CheckCounter g_checks;
const char* g_dev = nullptr;
std::string g_clips;

void Check(bool ok, const std::string& what) { g_checks.Check(ok, what); }

// The daemon's pid, from /proc (0 while none runs).
pid_t DaemonPid() {
  DIR* proc = opendir("/proc");
  pid_t found = 0;
  while (dirent* e = proc ? readdir(proc) : nullptr) {
    pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    if (pid <= 0) continue;
    std::ifstream comm("/proc/" + std::string(e->d_name) + "/comm");
    std::string name;
    if (std::getline(comm, name) && name == "daedalusd") found = pid;
  }
  if (proc) closedir(proc);
  return found;
}

// Kills the daemon; the time of the kill, or nullopt if none ran.
std::optional<Clock::time_point> KillDaemon() {
  pid_t pid = DaemonPid();
  if (pid <= 0 || kill(pid, SIGKILL) != 0) return std::nullopt;
  return Clock::now();
}

// Waits up to `seconds` for a daemon other than `old` to run.
bool WaitForNewDaemon(pid_t old, int seconds) {
  for (int i = 0; i < seconds * 100; i++) {
    pid_t pid = DaemonPid();
    if (pid > 0 && pid != old) return true;
    usleep(10000);
  }
  return false;
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
  // How long after `kill` the first picture came, in ms (-1: none did).
  double FirstPictureAfter(Clock::time_point kill) const {
    for (auto t : result.picture_at) {
      if (t > kill) return std::chrono::duration<double, std::milli>(t - kill).count();
    }
    return -1;
  }
};

// The stream went on and ended as a stream should after `kills` kills.
void CheckSurvived(const std::string& what, const Playback& p, int kills) {
  const Result& r = p.result;
  Match m = MatchReference(r.md5, p.stream.want);
  Check(r.error.empty() && !r.fatal && r.last && m.in_order && m.to_the_end && m.runs <= kills + 1,
        what + ": " + std::to_string(r.md5.size()) + "/" + std::to_string(p.stream.want.size()) +
            " pictures, bit-exact in " + std::to_string(m.runs) + " run(s) to the end, " +
            std::to_string(r.cap_errors) + " flagged ERROR" +
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
  std::optional<Clock::time_point> kill = started ? KillDaemon() : std::nullopt;
  Check(kill.has_value(), "five streams (one per codec) decoding; daedalusd killed (SIGKILL)");
  for (auto& p : ps) p.thread.join();
  double worst = 0;
  for (size_t i = 0; i < clips.size(); i++) {
    CheckSurvived(clips[i].first + " survives a kill mid-stream", ps[i], 1);
    if (kill) worst = std::max(worst, ps[i].FirstPictureAfter(*kill));
  }
  std::printf("recovery: kill -9 to the next good picture of every stream: %.0f ms\n", worst);
  Check(kill && worst > 0 && worst < 2000,
        "from the kill to the next good picture on every stream: " +
            std::to_string(static_cast<int>(worst)) + " ms (goal < 2000 ms)");
}

// Three streams, the daemon killed 20 times, each time once it is back
// and every stream has shown pictures again.
void CheckRepeatedKills() {
  constexpr int kKills = 20;
  std::vector<Playback> ps(3);
  const char* names[] = {"recovery-h264.h264", "recovery-vp9.ivf", "recovery-hevc.hevc"};
  const char* codecs[] = {"h264", "vp9", "hevc"};
  std::vector<Playback*> all;
  for (int i = 0; i < 3; i++) {
    ps[i].stream = LoadClip(names[i], 8);
    all.push_back(&ps[i]);
  }
  for (int i = 0; i < 3; i++) ps[i].Start(daedalus::decode::CodecByName(codecs[i])->fourcc, 20);
  int kills = 0;
  std::vector<double> gaps;
  for (int k = 0; k < kKills; k++) {
    int seen = 1 << 30;
    for (Playback* p : all) seen = std::min(seen, p->pictures.load());
    if (!WaitForPictures(all, seen + 3)) break;
    pid_t old = DaemonPid();
    auto kill = KillDaemon();
    if (!kill || !WaitForNewDaemon(old, 10)) break;
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

// The daemon killed at a moment of one stream's life: the drain, the
// resolution change.
void CheckKillAt(Moment when, const std::string& what, const std::string& clip,
                 const std::string& codec) {
  Playback p;
  p.stream = LoadClip(clip);
  std::atomic<bool> killed{false};
  p.opt.on_moment = [&](Moment m) {
    if (m == when && !killed.exchange(true)) KillDaemon();
  };
  p.Start(daedalus::decode::CodecByName(codec)->fourcc, 20);
  p.thread.join();
  Check(killed, "daedalusd killed " + what);
  CheckSurvived(codec + " stream survives a kill " + what, p, 1);
}

// The daemon killed and the client closing at once: the close returns at
// once (the dead daemon's job is dropped), and the next stream decodes.
void CheckKillAtClose() {
  Playback p;
  p.stream = LoadClip("recovery-vp9.ivf");
  p.opt.close_after = 15;
  Clock::time_point closed_at;
  p.opt.on_moment = [&](Moment m) {
    if (m == Moment::kPicture && p.pictures == 14) KillDaemon();
  };
  p.Start(daedalus::decode::CodecByName("vp9")->fourcc, 20);
  p.thread.join();
  closed_at = Clock::now();
  double close_ms =
      std::chrono::duration<double, std::milli>(closed_at - p.result.last_picture_at).count();
  Check(p.result.error.empty() && close_ms < 1000,
        "a client that closes as the daemon is killed: close returns in " +
            std::to_string(static_cast<int>(close_ms)) + " ms");
  WaitForNewDaemon(0, 10);
  Playback next;
  next.stream = LoadClip("recovery-vp9.ivf");
  next.Start(daedalus::decode::CodecByName("vp9")->fourcc, 0);
  next.thread.join();
  Check(daedalus::testing::BitExact(next.result, next.stream),
        "the next stream after it is bit-exact: " +
            daedalus::testing::Describe(next.result, next.stream));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: recovery_check /dev/videoN CLIP_DIR\n");
    return 2;
  }
  g_dev = argv[1];
  g_clips = argv[2];
  Check(DaemonPid() > 0, "daedalusd runs (under the guest's supervisor)");
  CheckEveryCodec();
  WaitForNewDaemon(0, 10);
  CheckRepeatedKills();
  WaitForNewDaemon(0, 10);
  CheckKillAt(Moment::kDrainStarted, "during the drain", "recovery-h264.h264", "h264");
  WaitForNewDaemon(0, 10);
  CheckKillAt(Moment::kSourceChange, "during a resolution change", "recovery-resize.h264", "h264");
  WaitForNewDaemon(0, 10);
  CheckKillAtClose();
  return g_checks.Summary("recovery_check");
}
