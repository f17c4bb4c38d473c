// SPDX-License-Identifier: BSD-2-Clause
//
// daedalusctl: look at and test one daedalusd or a fleet of them.

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "daemon/version.h"

namespace {

constexpr char kDescription[] =
    "daedalusctl: status, statistics and diagnostics of daedalusd, the daemon\n"
    "behind the daedalus-v4l2 VP9 decoder, on one board or a fleet.\n"
    "Endpoints are unix socket paths (default "
    "/run/daedalus/daedalusd.sock"
    ")\n"
    "or host:port of daemons serving TCP (TLS unless --insecure). With several\n"
    "endpoints every command runs on all of them at once and prints one row\n"
    "per endpoint.";

}  // namespace

int main(int argc, char** argv) {
  using daedalus::cli::OutputFormat;
  daedalus::cli::Options options;
  std::string endpoints, output = "table";
  double dial_timeout_s = 2.0, command_timeout_s = 5.0;
  daedalus::cli::PingOptions ping;
  double ping_interval_s = 1.0, reply_timeout_s = 1.0;
  daedalus::cli::WatchOptions watch;
  double watch_interval_s = 1.0;

  CLI::App app(kDescription, "daedalusctl");
  app.footer(daedalus::cli::kExitCodesHelp);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("daedalusctl ") + daedalus::kVersion);
  app.add_option("-e,--endpoints,--socket", endpoints,
                 "comma-separated socket paths and host:port endpoints")
      ->envname("DAEDALUS_ENDPOINTS");
  app.add_option("-o,--output", output, "table or json (json is stable, for scripts)")
      ->envname("DAEDALUS_OUTPUT")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--dial-timeout", dial_timeout_s, "seconds to connect to each endpoint")
      ->envname("DAEDALUS_DIAL_TIMEOUT")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_option("--command-timeout", command_timeout_s, "seconds for each call")
      ->envname("DAEDALUS_COMMAND_TIMEOUT")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_option("--tls-ca", options.tls.ca_file,
                 "PEM CA that signed the daemons' certificates (default: system roots)")
      ->envname("DAEDALUS_TLS_CA")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-cert", options.tls.cert_file, "PEM client certificate, for mutual TLS")
      ->envname("DAEDALUS_TLS_CERT")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", options.tls.key_file, "PEM key of --tls-cert")
      ->envname("DAEDALUS_TLS_KEY")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-server-name", options.tls.server_name,
                 "name to verify in the daemons' certificates instead of the host")
      ->envname("DAEDALUS_TLS_SERVER_NAME");
  app.add_flag("--insecure", options.insecure,
               "plaintext TCP, for daemons run with --insecure-loopback")
      ->envname("DAEDALUS_INSECURE");

  auto add = [&](const char* name, const char* help) {
    CLI::App* cmd = app.add_subcommand(name, help);
    cmd->footer(daedalus::cli::kExitCodesHelp);
    return cmd;
  };
  CLI::App* status = add("status",
                         "daemon version and uptime, kernel link, module version, FIFO, build and\n"
                         "capabilities; exit 4 where the kernel link is down");
  CLI::App* stats = add("stats",
                        "decode statistics: frames and bytes in/out, errors by reason, latency,\n"
                        "contexts, FIFO, CPU and memory");
  CLI::App* watch_cmd = add("watch", "stream statistics snapshots, one line per endpoint each");
  watch_cmd->add_option("-i,--interval", watch_interval_s, "seconds between snapshots (>= 0.1)")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  watch_cmd->add_option("-c,--count", watch.count, "snapshots per endpoint (0: until interrupted)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI::App* contexts = add("contexts", "the streams decoding now: size, rate, queues");
  CLI::App* ping_cmd = add("ping",
                           "send test PINGs through the kernel's request FIFO and print the round\n"
                           "trip the kernel measured, like ping(8)");
  ping_cmd->add_option("-c,--count", ping.count, "number of pings (0: until interrupted)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  ping_cmd->add_option("-i,--interval", ping_interval_s, "seconds between pings")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  ping_cmd
      ->add_option("-W,--reply-timeout", reply_timeout_s,
                   "seconds to wait for each reply (at most 10)")
      ->check(CLI::Range(0.001, 10.0))
      ->capture_default_str();
  CLI::App* version = add("version", "this tool's version and each daemon's, module's, FFmpeg's");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? daedalus::cli::kExitOk : daedalus::cli::kExitUsage;
  }
  if (!endpoints.empty()) {
    options.endpoints = absl::StrSplit(endpoints, ',', absl::SkipWhitespace());
  }
  options.output = output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
  options.dial_timeout = absl::Seconds(dial_timeout_s);
  options.command_timeout = absl::Seconds(command_timeout_s);
  ping.interval = absl::Seconds(ping_interval_s);
  ping.reply_timeout = absl::Seconds(reply_timeout_s);
  watch.interval = absl::Seconds(watch_interval_s);

  std::ostream& out = std::cout;
  std::ostream& err = std::cerr;
  if (*status) return daedalus::cli::RunStatus(options, out, err);
  if (*stats) return daedalus::cli::RunStats(options, out, err);
  if (*watch_cmd) return daedalus::cli::RunWatch(options, watch, out, err);
  if (*contexts) return daedalus::cli::RunContexts(options, out, err);
  if (*version) return daedalus::cli::RunVersion(options, daedalus::kVersion, out, err);
  return daedalus::cli::RunPing(options, ping, out, err);
}
