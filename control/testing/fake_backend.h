// SPDX-License-Identifier: BSD-2-Clause
//
// A Backend for tests of the control plane and the CLI: every answer is a
// public field the test sets. (The real one, DaemonBackend, is tested against
// a fake kernel in daemon/ and against the real module in the VM.)

#ifndef DAEDALUS_CONTROL_TESTING_FAKE_BACKEND_H_
#define DAEDALUS_CONTROL_TESTING_FAKE_BACKEND_H_

#include <stdlib.h>

#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "control/backend.h"
#include "control/server.h"

namespace daedalus::control {

// What a daemon with two codecs announces, for GetStatus and /metrics.
inline DaemonInfo TestDaemonInfo(std::string version, std::string ffmpeg, int threads) {
  DaemonInfo info{std::move(version), std::move(ffmpeg), threads, {}};
  info.codecs.push_back(
      {"H264", {"Main", "High"}, {"YUV420", "NV12", "P010"}, 4096, 2304, threads});
  info.codecs.push_back({"VP9", {"0", "2"}, {"YUV420", "NV12", "P010"}, 4096, 2304, threads});
  info.board = "Fake Board Rev 1.0";
  info.kernel_release = "6.12.0-fake";
  info.cpus = 4;
  return info;
}

class FakeBackend final : public Backend {
 public:
  LinkStatus link{true, "/dev/daedalus-v4l2", 1, "0.1.0", ""};
  absl::StatusOr<PingReply> ping_reply = PingReply{7, absl::Microseconds(123), 2};
  absl::Duration last_timeout;
  int pings = 0;
  // What GetDecodeStats() reports; tests change it between calls.
  DecodeFigures decode_stats = [] {
    DecodeFigures s;
    s.totals.frames_in = 10;
    s.totals.frames_out = 9;
    s.totals.frames_out_kernel_copied = 2;
    s.totals.errors["corrupt_bitstream"] = 1;
    s.totals.errors["decoder_setup"] = 0;
    s.totals.errors["buffer_io"] = 0;
    s.totals.busy_seconds = 2.5;
    s.totals.pictures_flushed = 3;
    // All of it H.264: two sessions, one still open.
    CodecFigures& h264 = s.codecs["h264"];
    h264.counters = s.totals;
    h264.sessions_opened = 2;
    h264.sessions_closed = 1;
    h264.sessions_active = 1;
    h264.utilisation = 0.5;
    s.contexts_opened = 2;
    s.contexts_closed = 1;
    s.contexts_active = 1;
    ContextFigures c;
    c.codec = "h264";
    c.id = 3;
    c.width = 352;
    c.height = 288;
    c.output_queued = 2;
    c.capture_queued = 4;
    c.counters.frames_out = 9;
    s.contexts.push_back(c);
    // Histograms as the daemon sends them: every bound, even when empty.
    for (LatencyFigures* h : {&s.job_latency, &s.decode_time, &s.picture_write_time}) {
      h->bounds_seconds = {0.0005, 0.005, 0.05};
      h->cumulative_counts = {0, 0, 0};
    }
    return s;
  }();

  LinkStatus GetLinkStatus() override { return link; }
  absl::StatusOr<ddv_stats> GetKernelStats() override {
    if (!link.up) return absl::UnavailableError("down");
    ddv_stats s = {};
    s.fifo_depth = 2;
    s.fifo_capacity = 64;
    s.fifo_high_water = 5;
    s.err_bad_magic = 1;
    s.daemon_attaches = 2;
    s.jobs_timed_out = 1;
    s.streams_failed = 1;
    s.streams_resumed = 1;
    return s;
  }
  absl::StatusOr<PingReply> Ping(absl::Duration timeout) override {
    absl::MutexLock lock(&mu);
    last_timeout = timeout;
    pings++;
    return ping_reply;
  }
  DecodeFigures GetDecodeStats(bool with_contexts) override {
    absl::MutexLock lock(&mu);
    DecodeFigures out = decode_stats;
    if (!with_contexts) out.contexts.clear();
    return out;
  }
  // Guards the fields tests change while a server runs.
  absl::Mutex mu;
};

// Server options for tests: the socket at `socket`, a group that does not
// exist (so no chown), TCP on `tcp` if given, plaintext loopback allowed.
inline ControlServer::Options TestServerOptions(std::string socket, std::string tcp = "") {
  ControlServer::Options o;
  o.socket_path = std::move(socket);
  o.socket_group = "no-such-group";
  o.tcp_address = std::move(tcp);
  o.insecure_loopback = true;
  return o;
}

// A fresh path for a unix socket: $TEST_TMPDIR is too deep for the 108-byte
// limit of sockaddr_un, so tests use a private directory under /tmp.
inline std::string TestSocketPath(const std::string& name) {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/daedalus-test-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir + "/" + name;
}

}  // namespace daedalus::control

#endif  // DAEDALUS_CONTROL_TESTING_FAKE_BACKEND_H_
