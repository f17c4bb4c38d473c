// SPDX-License-Identifier: BSD-2-Clause
//
// What the guest checks of the decoder node (v4l2_check, codec_check)
// share: counted pass/fail lines, a stream read into OUTPUT buffers with
// the MD5s its pictures must have, and the comparison of a decode with
// them.
//
//   NodeStream s = LoadNodeStream(path, reference_md5s);
//   Result r = Decoder(dev).Run(s.frames, s.width, s.height);
//   checks.Check(BitExact(r, s), "bit-exact: " + Describe(r, s));
//   return checks.Summary("v4l2_check");

#ifndef DAEDALUS_TESTS_NODE_CHECK_H_
#define DAEDALUS_TESTS_NODE_CHECK_H_

#include <dirent.h>
#include <sys/types.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/test_stream.h"
#include "tests/v4l2_decoder.h"

namespace daedalus::testing {

// Prints "ok   WHAT" or "FAIL WHAT" per check and counts them.
class CheckCounter {
 public:
  void Check(bool ok, const std::string& what) {
    (ok ? passed_ : failed_)++;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    std::fflush(stdout);
  }
  // The summary line the guest scripts look for; the exit code.
  int Summary(const char* program) const {
    std::printf("%s: %d checks passed, %d failed\n", program, passed_, failed_);
    return failed_ ? 1 : 0;
  }

 private:
  int passed_ = 0, failed_ = 0;
};

// A stream as OUTPUT buffers, with the MD5 each picture must have.
// The running daedalusd's pid, from /proc (0 while none runs).
inline pid_t DaemonPid() {
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

struct NodeStream {
  std::string name;
  std::vector<CompressedFrame> frames;
  std::vector<std::string> want;
  int width = 0, height = 0;
};

// Reads `path` (no frames if it cannot); `want` is the caller's reference.
inline NodeStream LoadNodeStream(const std::string& path, std::vector<std::string> want,
                                 const TestStream::Options& options = {}) {
  NodeStream s;
  s.name = path.substr(path.rfind('/') + 1);
  s.want = std::move(want);
  auto in = TestStream::Open(path, options);
  if (!in.ok()) return s;
  s.width = (*in)->width();
  s.height = (*in)->height();
  while (auto f = (*in)->Next()) s.frames.push_back(*std::move(f));
  return s;
}

// Never true for an empty reference: a check that cannot fail is no check.
inline bool BitExact(const Result& r, const NodeStream& s) {
  return !s.want.empty() && r.error.empty() && !r.fatal && r.md5 == s.want;
}

// "N/M pictures[, error][, which differ]" for a check's line.
inline std::string Describe(const Result& r, const NodeStream& s) {
  size_t differ = 0, first = 0;
  for (size_t i = 0; i < r.md5.size() && i < s.want.size(); i++) {
    if (r.md5[i] != s.want[i] && !differ++) first = i;
  }
  char buf[400];
  std::snprintf(buf, sizeof(buf), "%zu/%zu pictures%s%s%s", r.md5.size(), s.want.size(),
                r.error.empty() ? "" : ", ", r.error.c_str(),
                r.fatal ? ", context failed (EIO)" : "");
  std::string out = buf;
  if (differ) {
    out += ", " + std::to_string(differ) + " differ from picture " + std::to_string(first) + " (" +
           r.md5[first] + ", want " + s.want[first] + ")";
  }
  return out;
}

}  // namespace daedalus::testing

#endif  // DAEDALUS_TESTS_NODE_CHECK_H_
