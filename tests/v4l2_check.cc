// SPDX-License-Identifier: BSD-2-Clause
//
// v4l2_check: our own client of the decoder node, on the raw V4L2 API, for
// what real players cannot show: drain (LAST, EPIPE, EOS), USERPTR and
// DMABUF memory, seek, resolution changes with CAPTURE reconfiguration,
// concurrent contexts, a client
// closing mid-stream, and corrupt streams followed by good ones. Pictures
// are compared with the reference MD5s. Run in the test VM with daedalusd.
//
//   usage: v4l2_check /dev/videoN

#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/node_check.h"
#include "tests/test_stream.h"
#include "tests/v4l2_decoder.h"

namespace {

using daedalus::testing::BitExact;
using daedalus::testing::CompressedFrame;
using daedalus::testing::Decoder;
using daedalus::testing::Describe;
using daedalus::testing::MemoryName;
using daedalus::testing::NodeStream;
using daedalus::testing::Options;
using daedalus::testing::Result;

daedalus::testing::CheckCounter g_checks;
const char* g_dev = nullptr;

void Check(bool ok, const std::string& what) { g_checks.Check(ok, what); }

// A VP9 stream of `dir` with its .md5 beside it.
NodeStream Load(const std::string& dir, const std::string& name) {
  std::vector<std::string> want;
  auto md5 = daedalus::testing::ReadFrameMd5s(dir + "/" + name + ".md5");
  if (md5.ok()) {
    for (const auto& m : *md5) want.push_back(m.md5);
  }
  return daedalus::testing::LoadNodeStream(dir + "/" + name, std::move(want));
}

// Drain and timestamps on a plain stream.
void CheckDrain(const NodeStream& plain) {
  Decoder d(g_dev);
  Result r = d.Run(plain.frames, plain.width, plain.height);
  Check(BitExact(r, plain), "decode and drain bit-exact: " + Describe(r, plain));
  Check(r.last && r.epipe_after_last, "drain ends with LAST, then DQBUF gives EPIPE");
  Check(r.eos_event, "V4L2_EVENT_EOS after the drain");
  Check(r.source_changes == 1, "one initial SOURCE_CHANGE");
  bool ts = r.timestamps.size() == plain.frames.size();
  for (size_t i = 0; ts && i < r.timestamps.size(); i++) ts = r.timestamps[i] == (i + 1) * 1000000;
  Check(ts, "CAPTURE timestamps copied exactly from OUTPUT");
}

// Every memory type on each queue: USERPTR and DMABUF (exported by a
// second handle with EXPBUF) on one, the other on the other; a resolution
// change reallocates CAPTURE in that memory.
void CheckMemoryTypes(const std::string& conf) {
  struct Case {
    uint32_t out, cap;
    const char* name;
  } cases[] = {
      {V4L2_MEMORY_USERPTR, V4L2_MEMORY_DMABUF, "vp90-2-09-lf_deltas.webm"},
      {V4L2_MEMORY_DMABUF, V4L2_MEMORY_USERPTR, "vp90-2-09-lf_deltas.webm"},
      {V4L2_MEMORY_MMAP, V4L2_MEMORY_DMABUF, "vp90-2-21-resize_inter_320x180_5_1-2.webm"},
      {V4L2_MEMORY_MMAP, V4L2_MEMORY_USERPTR, "vp90-2-21-resize_inter_320x180_5_1-2.webm"},
  };
  for (const Case& c : cases) {
    NodeStream s = Load(conf, c.name);
    Options opt;
    opt.out_memory = c.out;
    opt.cap_memory = c.cap;
    Decoder d(g_dev);
    Result r = d.Run(s.frames, s.width, s.height, opt);
    Check(BitExact(r, s) && r.last, std::string("OUTPUT ") + MemoryName(c.out) + ", CAPTURE " +
                                        MemoryName(c.cap) + ", " + c.name + ": " + Describe(r, s));
  }
}

// Resolution changes mid-stream; then a client slow to give buffers back,
// which requeues pictures of the old size after the decoder has already
// seen the new one (up to the LAST buffer that is allowed).
void CheckResolutionChanges(const std::string& conf) {
  for (int delay_ms : {0, 150}) {
    for (const char* name : {"vp90-2-21-resize_inter_320x180_5_1-2.webm", "vp90-2-05-resize.ivf"}) {
      NodeStream s = Load(conf, name);
      Options opt;
      opt.requeue_delay_ms = delay_ms;
      Decoder d(g_dev);
      Result r = d.Run(s.frames, s.width, s.height, opt);
      std::string client = delay_ms ? " (requeue after " + std::to_string(delay_ms) + " ms)" : "";
      Check(BitExact(r, s) && r.source_changes >= 2,
            std::string("resolution change ") + name + client + ": " + Describe(r, s) + ", " +
                std::to_string(r.source_changes) + " source changes");
    }
  }
}

// Seek back to the start after 10 pictures: the tail is the whole stream.
// Seek to a non-resume point: no crash; the context and daemon go on.
void CheckSeeks(const NodeStream& plain) {
  {
    Decoder d(g_dev);
    Result r = d.Run(plain.frames, plain.width, plain.height, {-1, 10, 0});
    bool tail = r.md5.size() >= plain.want.size() &&
                std::equal(plain.want.begin(), plain.want.end(), r.md5.end() - plain.want.size());
    Check(r.error.empty() && r.last && tail, "seek to the start: decoding restarts bit-exact (" +
                                                 std::to_string(r.md5.size()) + " pictures)");
  }
  Decoder d(g_dev);
  Result r = d.Run(plain.frames, plain.width, plain.height, {-1, 5, 17});
  Check(r.last || r.fatal || !r.error.empty(),
        "seek to a non-keyframe ends (" + std::to_string(r.md5.size()) + " pictures)");
}

// Four contexts at once, each bit-exact.
void CheckConcurrentContexts(const std::string& conf) {
  const char* names[] = {"vp90-2-02-size-66x66.webm", "vp90-2-08-tile-4x4.webm",
                         "vp90-2-10-show-existing-frame.webm", "vp90-2-22-svc_1280x720_3.ivf"};
  NodeStream streams[4];
  Result results[4];
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++) {
    streams[i] = Load(conf, names[i]);
    threads.emplace_back([&, i] {
      Decoder d(g_dev);
      results[i] = d.Run(streams[i].frames, streams[i].width, streams[i].height);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; i++) {
    Check(BitExact(results[i], streams[i]),
          std::string("concurrent ") + names[i] + ": " + Describe(results[i], streams[i]));
  }
}

// A client that vanishes mid-stream, then a clean decode.
void CheckVanishingClient(const NodeStream& plain) {
  Decoder d(g_dev);
  d.Run(plain.frames, plain.width, plain.height, {3, -1, 0});
  Decoder again(g_dev);
  Result r = again.Run(plain.frames, plain.width, plain.height);
  Check(BitExact(r, plain), "after a client closed mid-stream: " + Describe(r, plain));
}

// Every corrupt stream: errors flagged or the context failed, never a
// hang; the next stream decodes bit-exact.
void CheckCorruptStreams(const std::string& conf, const std::string& invalid) {
  NodeStream good = Load(conf, "vp90-2-03-size-226x226.webm");
  std::vector<std::string> corrupt = daedalus::testing::InvalidStreams("vp9");
  Check(corrupt.size() >= 8,
        "corrupt streams found in " + invalid + ": " + std::to_string(corrupt.size()));
  for (const std::string& path : corrupt) {
    std::string name = path.substr(path.rfind('/') + 1);
    NodeStream bad = Load(invalid, name);
    {
      Decoder d(g_dev);
      Result r = d.Run(bad.frames, bad.width ? bad.width : 352, bad.height ? bad.height : 288);
      Check(r.last || r.eos_event || r.fatal || r.out_errors > 0,
            "corrupt " + name + ": ends (" + std::to_string(r.out_errors) + " OUTPUT errors" +
                (r.fatal ? ", context failed" : "") + ")");
    }
    Decoder next(g_dev);
    Result r = next.Run(good.frames, good.width, good.height);
    Check(BitExact(r, good), "  next stream after it: " + Describe(r, good));
  }
}

// A stream whose pictures are larger than the node's maximum, announced
// by the daemon to a client that set a small OUTPUT size: the context
// fails (EIO), it is never clamped to a size its pictures do not fit.
void CheckOversized(const std::string& path) {
  size_t slash = path.rfind('/');
  NodeStream s = Load(path.substr(0, slash), path.substr(slash + 1));
  Check(!s.frames.empty(), "oversized stream " + path + " read");
  Decoder d(g_dev);
  Result r = d.Run(s.frames, 352, 288);
  Check(r.fatal && r.md5.empty(), "oversized stream: the context fails, no picture (" +
                                      std::to_string(r.md5.size()) + " pictures" +
                                      (r.error.empty() ? "" : ", " + r.error) + ")");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[2]) == "--oversized") {
    g_dev = argv[1];
    CheckOversized(argv[3]);
    return g_checks.Summary("v4l2_check");
  }
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: v4l2_check /dev/videoN\n"
                 "       v4l2_check /dev/videoN --oversized STREAM\n");
    return 2;
  }
  g_dev = argv[1];
  std::string conf = daedalus::testing::CodecDir("vp9") + "/conformance";
  std::string invalid = daedalus::testing::CodecDir("vp9") + "/invalid";
  NodeStream plain = Load(conf, "vp90-2-09-lf_deltas.webm");
  if (plain.frames.empty() || plain.want.empty()) {
    std::printf("FAIL no VP9 vectors in %s (set DAEDALUS_SHARED_DIR)\n", conf.c_str());
    return 1;
  }
  CheckDrain(plain);
  CheckMemoryTypes(conf);
  CheckResolutionChanges(conf);
  CheckSeeks(plain);
  CheckConcurrentContexts(conf);
  CheckVanishingClient(plain);
  CheckCorruptStreams(conf, invalid);
  return g_checks.Summary("v4l2_check");
}
