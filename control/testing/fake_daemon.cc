// SPDX-License-Identifier: BSD-2-Clause
//
// fake_daemon: the real ControlServer and /metrics in front of a
// FakeBackend, for tests that need several daemons without a kernel (the
// fleet test). Never installed; the real daemon is daemon/daedalusd.
// Prints "ready grpc=<port> metrics=<port>" once both listen, runs until
// SIGTERM or SIGINT.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "control/metrics.h"
#include "control/server.h"
#include "control/testing/fake_backend.h"

int main(int argc, char** argv) {
  daedalus::control::ControlServer::Options options;
  std::string metrics_address = "127.0.0.1:0";
  bool link_down = false;
  CLI::App app("fake_daemon: daedalusd's control plane over a fake kernel (tests only)");
  app.add_option("--socket", options.socket_path)->required();
  app.add_option("--listen", options.tcp_address);
  app.add_option("--tls-cert", options.tls_cert_file);
  app.add_option("--tls-key", options.tls_key_file);
  app.add_option("--tls-client-ca", options.tls_client_ca_file);
  app.add_flag("--insecure-loopback", options.insecure_loopback);
  app.add_option("--diagnostics-cn", options.diagnostics.tcp_common_names);
  app.add_option("--metrics-listen", metrics_address);
  app.add_flag("--link-down", link_down, "report the kernel link as down");
  CLI11_PARSE(app, argc, argv);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  daedalus::control::FakeBackend backend;
  if (link_down) backend.link = {false, "/dev/daedalus-v4l2", 0, "", "fake: link down"};
  daedalus::control::DaemonInfo info =
      daedalus::control::TestDaemonInfo("0.0.0-fake", "Lavc-fake", 1);
  daedalus::control::ControlServer server(options, backend, info);
  if (absl::Status st = server.Start(); !st.ok()) {
    std::fprintf(stderr, "fake_daemon: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  server.SetServing(!link_down);
  daedalus::control::MetricsExporter metrics(backend, info, absl::Now());
  if (absl::Status st = metrics.Start(metrics_address); !st.ok()) {
    std::fprintf(stderr, "fake_daemon: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::printf("ready grpc=%d metrics=%d\n", server.tcp_port(), metrics.port());
  std::fflush(stdout);
  int sig;
  sigwait(&set, &sig);
  server.Shutdown(absl::Seconds(1));
  return 0;
}
