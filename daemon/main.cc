// SPDX-License-Identifier: BSD-2-Clause
//
// daedalusd: owns /dev/daedalus-v4l2, answers the kernel, serves gRPC.

#include <malloc.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "control/metrics.h"
#include "control/server.h"
#include "daemon/codec_caps.h"
#include "daemon/context_workers.h"
#include "daemon/daemon_backend.h"
#include "daemon/decode/stream_decoder.h"
#include "daemon/decode_stats.h"
#include "daemon/device_identity.h"
#include "daemon/event_loop.h"
#include "daemon/kernel_link.h"
#include "daemon/log.h"
#include "daemon/systemd_notify.h"
#include "daemon/version.h"

namespace {

constexpr char kDescription[] =
    "daedalusd: the userspace half of the daedalus-v4l2 decoder (H.264,\n"
    "HEVC, VP8, VP9 and AV1 with libavcodec; the node offers the codecs\n"
    "this libavcodec decodes, logged at start).\n"
    "Holds /dev/daedalus-v4l2, answers the kernel module and serves the\n"
    "daedalus.v1 gRPC API (see `daedalusctl --help`) on a unix socket, and\n"
    "Prometheus metrics on http://127.0.0.1:9477/metrics. TCP for gRPC is\n"
    "opt-in (--listen) and needs TLS (--tls-cert/--tls-key; add\n"
    "--tls-client-ca for mutual TLS). Reconnects by itself when the module\n"
    "is (re)loaded. Stops cleanly on SIGTERM or SIGINT.\n"
    "Exit status: 0 clean stop, 1 could not start (reason on stderr),\n"
    "2 bad command line.";

// Signals are taken through a signalfd by the event loop; they are blocked
// before any thread starts so that every thread inherits the mask.
int BlockedSignalFd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return -1;
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

// Everything the command line sets.
struct Config {
  daedalus::KernelLink::Options link;
  daedalus::control::ControlServer::Options server;
  int decoder_threads = 1;
  int decode_nice = 5;
  std::vector<std::string> codec_threads_args;  // "h264=2"
  std::map<std::string, int> codec_threads;
  bool kernel_copies = false;
  std::vector<std::string> codecs;
  double reconnect_s = 1.0;
  double shutdown_grace_s = 5.0;
  bool verbose = false;
  std::string metrics_address = "127.0.0.1:9477";
};

void AddOptions(CLI::App& app, Config& c) {
  app.set_version_flag("--version", std::string("daedalusd ") + daedalus::kVersion);
  app.add_option("--device", c.link.device, "chardev of the kernel module")->capture_default_str();
  app.add_option("--socket", c.server.socket_path, "unix socket for the gRPC API (mode 0660)")
      ->capture_default_str();
  app.add_option("--socket-group", c.server.socket_group, "group given the socket, if it exists")
      ->capture_default_str();
  app.add_option("--listen", c.server.tcp_address,
                 "also serve gRPC on this TCP host:port; needs TLS or --insecure-loopback");
  app.add_option("--tls-cert", c.server.tls_cert_file, "PEM certificate (chain) for gRPC over TCP")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", c.server.tls_key_file, "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-client-ca", c.server.tls_client_ca_file,
                 "PEM CA: TCP clients must present a certificate it signed (mutual TLS)")
      ->check(CLI::ExistingFile);
  app.add_flag("--insecure-loopback", c.server.insecure_loopback,
               "allow --listen without TLS, on a loopback address only");
  app.add_option("--diagnostics-cn", c.server.diagnostics.tcp_common_names,
                 "over TCP, allow Diagnostics (ping) only to client certificates with this\n"
                 "common name (repeatable; default: every admitted client). The unix\n"
                 "socket is always allowed")
      ->take_all();
  app.add_option("--ping-rate", c.server.diagnostics.pings_per_second,
                 "Diagnostics pings per second before RESOURCE_EXHAUSTED (burst: the same)")
      ->check(CLI::Range(0.1, 1000.0))
      ->capture_default_str();
  app.add_option("--metrics-listen", c.metrics_address,
                 "host:port for Prometheus' /metrics; \"off\" disables it")
      ->capture_default_str();
  app.add_option("--reconnect-interval", c.reconnect_s,
                 "seconds between attempts to open the chardev while it is missing")
      ->check(CLI::Range(0.05, 60.0))
      ->capture_default_str();
  app.add_option("--shutdown-grace", c.shutdown_grace_s,
                 "seconds running RPCs get to finish on shutdown")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  app.add_option("--decoder-threads", c.decoder_threads,
                 "libavcodec frame threads per decoding context")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_option("--decode-nice", c.decode_nice,
                 "how much nicer than the daemon its decoding threads run (0-19): status "
                 "calls, pings and /metrics get a busy CPU before a frame does; they also "
                 "yield that much to the board's other work (0: decode at the daemon's "
                 "priority)")
      ->check(CLI::Range(0, 19))
      ->capture_default_str();
  app.add_option("--codec-threads", c.codec_threads_args,
                 "frame threads for one codec instead of --decoder-threads, e.g. "
                 "--codec-threads h264=2 --codec-threads av1=4 (codecs: h264 hevc vp8 vp9 av1)")
      ->check([](const std::string& s) -> std::string {
        size_t eq = s.find('=');
        int n = 0;
        if (eq == std::string::npos || !daedalus::decode::CodecByName(s.substr(0, eq)) ||
            !absl::SimpleAtoi(s.substr(eq + 1), &n) || n < 1 || n > 16) {
          return "want CODEC=N with CODEC one of h264 hevc vp8 vp9 av1 and N 1..16";
        }
        return "";
      });
  app.add_option("--codecs", c.codecs,
                 "announce only these codecs to the node, in this order (the first is its "
                 "default OUTPUT format), e.g. --codecs h264,vp9; default: every codec this "
                 "libavcodec decodes (h264 hevc vp8 vp9 av1)")
      ->delimiter(',');
  app.add_flag("--kernel-copies", c.kernel_copies,
               "have the kernel copy every picture into the client's CAPTURE buffer "
               "(DDV_IOC_WRITE_PICTURE) instead of writing it into the buffer mapped into the "
               "daemon; the kernel copies for buffers it cannot export (USERPTR, DMABUF) anyway");
  app.add_flag("-v,--verbose", c.verbose, "log debug messages");
}

// Runs the daemon until SIGTERM or SIGINT; the exit status.
int Serve(const Config& c, int stop_fd) {
  daedalus::DecodeStats stats;
  // Each decoding context on a thread of its own: streams use the cores.
  daedalus::ContextWorkers jobs({c.decoder_threads, c.codec_threads, !c.kernel_copies}, stats,
                                c.decode_nice);
  daedalus::KernelLink link(c.link, jobs);
  daedalus::DaemonBackend backend(link, stats);
  daedalus::EventLoop loop({absl::Seconds(c.reconnect_s)}, link);
  daedalus::control::DaemonInfo info{daedalus::kVersion, daedalus::decode::FfmpegVersion(),
                                     c.decoder_threads};
  const daedalus::DeviceIdentity device = daedalus::ReadDeviceIdentity();
  info.board = device.board;
  info.kernel_release = device.kernel_release;
  info.cpus = device.cpus;
  daedalus::DecodeJobs::Options decode_options{c.decoder_threads, c.codec_threads};
  for (const ddv_codec_caps& caps : c.link.codecs) {
    const daedalus::decode::CodecInfo* codec = daedalus::decode::CodecByFourcc(caps.fourcc);
    info.codecs.push_back(daedalus::CapabilityOf(
        caps, codec ? decode_options.ThreadsFor(*codec) : c.decoder_threads));
  }
  daedalus::control::ControlServer server(c.server, backend, info);
  loop.SetLinkObserver([&server](bool up) { server.SetServing(up); });
  // Under systemd (Type=notify): the watchdog is fed by the event loop, so
  // a loop stuck for WatchdogSec gets the daemon restarted.
  const daedalus::SystemdNotifier systemd = daedalus::SystemdNotifier::FromEnvironment();
  if (systemd.watchdog_interval() > absl::ZeroDuration()) {
    loop.SetHeartbeat(systemd.watchdog_interval(),
                      [&systemd] { (void)systemd.Notify("WATCHDOG=1"); });
  }
  if (absl::Status st = server.Start(); !st.ok()) {
    std::fprintf(stderr, "daedalusd: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  daedalus::control::MetricsExporter metrics(backend, info, absl::Now());
  if (c.metrics_address != "off") {
    if (absl::Status st = metrics.Start(c.metrics_address); !st.ok()) {
      std::fprintf(stderr, "daedalusd: %s\n", std::string(st.message()).c_str());
      return 1;
    }
  }
  daedalus::Log(daedalus::Severity::kInfo,
                absl::StrFormat("daedalusd %s serving on unix:%s%s%s", daedalus::kVersion,
                                c.server.socket_path,
                                c.server.tcp_address.empty() ? "" : " and " + c.server.tcp_address,
                                c.metrics_address == "off"
                                    ? ""
                                    : ", metrics on http://" + c.metrics_address + "/metrics"));

  if (absl::Status st = systemd.Notify("READY=1"); !st.ok()) {
    daedalus::Log(daedalus::Severity::kWarning, std::string(st.message()));
  }
  loop.Run(stop_fd);
  (void)systemd.Notify("STOPPING=1");

  daedalus::Log(daedalus::Severity::kInfo, "shutting down");
  server.Shutdown(absl::Seconds(c.shutdown_grace_s));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Pictures, packets and libavcodec's pools are large blocks that come and
  // go with streams. glibc raises its mmap threshold each time such a block
  // is freed, after which they come from the heaps of whichever threads
  // decoded, which keep the pages: under open/close churn the daemon's RSS
  // crept up by a fifth in minutes (scripts/soak.sh). A fixed threshold
  // (glibc's initial one) maps every large block and returns it at free;
  // that held the RSS flat and lowest of the settings tried
  // (docs/testing.md, "Recorded runs").
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  Config c;
  CLI::App app(kDescription, "daedalusd");
  AddOptions(app, c);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  daedalus::SetLogVerbose(c.verbose);
  for (const std::string& arg : c.codec_threads_args) {
    size_t eq = arg.find('=');
    (void)absl::SimpleAtoi(arg.substr(eq + 1), &c.codec_threads[arg.substr(0, eq)]);
  }
  c.server.diagnostics.ping_burst = std::max(1.0, c.server.diagnostics.pings_per_second);
  c.link.daemon_version = std::string("daedalusd ") + daedalus::kVersion;
  absl::StatusOr<std::vector<ddv_codec_caps>> codecs = daedalus::AnnouncedCodecs(c.codecs);
  if (!codecs.ok()) {
    std::fprintf(stderr, "daedalusd: --codecs: %s\n",
                 std::string(codecs.status().message()).c_str());
    return 2;
  }
  c.link.codecs = *std::move(codecs);
  if (c.link.codecs.empty()) {
    std::fprintf(stderr, "daedalusd: this libavcodec decodes none of h264 hevc vp8 vp9 av1\n");
    return 1;
  }
  for (const ddv_codec_caps& caps : c.link.codecs) {
    daedalus::Log(daedalus::Severity::kInfo, "decodes " + daedalus::DescribeCaps(caps));
  }

  signal(SIGPIPE, SIG_IGN);
  umask(0117);  // the socket must never be wider than 0660, even briefly
  int stop_fd = BlockedSignalFd();
  if (stop_fd < 0) {
    std::fprintf(stderr, "daedalusd: signalfd: %s\n", std::strerror(errno));
    return 1;
  }
  int rc = Serve(c, stop_fd);
  close(stop_fd);
  return rc;
}
