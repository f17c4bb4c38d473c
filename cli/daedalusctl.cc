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
    "behind the daedalus-v4l2 video decoder, on one board or a fleet.\n"
    "Endpoints are unix socket paths (default "
    "/run/daedalus/daedalusd.sock"
    ")\n"
    "or host:port of daemons serving TCP (TLS unless --insecure). With several\n"
    "endpoints every command runs on all of them at once and prints one row\n"
    "per endpoint.";

// The command line as typed; Convert() makes the commands' options of it.
struct Flags {
  daedalus::cli::Options options;
  std::string endpoints, output = "table";
  double dial_timeout_s = 2.0, command_timeout_s = 5.0;
  daedalus::cli::PingOptions ping;
  double ping_interval_s = 1.0, reply_timeout_s = 1.0;
  daedalus::cli::WatchOptions watch;
  double watch_interval_s = 1.0;
};

// Options every subcommand takes.
void AddGlobalOptions(CLI::App& app, Flags& f) {
  app.add_option("-e,--endpoints,--socket", f.endpoints,
                 "comma-separated socket paths and host:port endpoints")
      ->envname("DAEDALUS_ENDPOINTS");
  app.add_option("-o,--output", f.output, "table or json (json is stable, for scripts)")
      ->envname("DAEDALUS_OUTPUT")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--dial-timeout", f.dial_timeout_s, "seconds to connect to each endpoint")
      ->envname("DAEDALUS_DIAL_TIMEOUT")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_option("--command-timeout", f.command_timeout_s, "seconds for each call")
      ->envname("DAEDALUS_COMMAND_TIMEOUT")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_option("--tls-ca", f.options.tls.ca_file,
                 "PEM CA that signed the daemons' certificates (default: system roots)")
      ->envname("DAEDALUS_TLS_CA")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-cert", f.options.tls.cert_file, "PEM client certificate, for mutual TLS")
      ->envname("DAEDALUS_TLS_CERT")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", f.options.tls.key_file, "PEM key of --tls-cert")
      ->envname("DAEDALUS_TLS_KEY")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-server-name", f.options.tls.server_name,
                 "name to verify in the daemons' certificates instead of the host")
      ->envname("DAEDALUS_TLS_SERVER_NAME");
  app.add_flag("--insecure", f.options.insecure,
               "plaintext TCP, for daemons run with --insecure-loopback")
      ->envname("DAEDALUS_INSECURE");
}

struct Subcommands {
  CLI::App *status, *stats, *watch, *contexts, *ping, *version;
};

Subcommands AddSubcommands(CLI::App& app, Flags& f) {
  Subcommands c;
  auto add = [&app](const char* name, const char* help) {
    CLI::App* cmd = app.add_subcommand(name, help);
    cmd->footer(daedalus::cli::kExitCodesHelp);
    return cmd;
  };
  c.status = add("status",
                 "daemon version and uptime, kernel link, module version, FIFO, device\n"
                 "(board, kernel, CPUs), build and capabilities; exit 4 where the kernel\n"
                 "link is down");
  c.stats = add("stats",
                "decode statistics: frames and bytes in/out, decoder utilisation, errors\n"
                "by reason, latency, contexts, FIFO, kernel timeouts and failures, CPU and\n"
                "memory, a row per codec");
  CLI::App* watch_cmd = c.watch =
      add("watch",
          "stream statistics snapshots, one line per endpoint each: frames, rate,\n"
          "utilisation, errors, contexts, latency, FIFO, codecs decoding");
  watch_cmd->add_option("-i,--interval", f.watch_interval_s, "seconds between snapshots (>= 0.1)")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  watch_cmd
      ->add_option("-c,--count", f.watch.count, "snapshots per endpoint (0: until interrupted)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  c.contexts = add("contexts", "the streams decoding now: size, rate, queues");
  CLI::App* ping_cmd = c.ping =
      add("ping",
          "send test PINGs through the kernel's request FIFO and print the round\n"
          "trip the kernel measured, like ping(8)");
  ping_cmd->add_option("-c,--count", f.ping.count, "number of pings (0: until interrupted)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  ping_cmd->add_option("-i,--interval", f.ping_interval_s, "seconds between pings")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  ping_cmd
      ->add_option("-W,--reply-timeout", f.reply_timeout_s,
                   "seconds to wait for each reply (at most 10)")
      ->check(CLI::Range(0.001, 10.0))
      ->capture_default_str();
  c.version = add("version", "this tool's version and each daemon's, module's, FFmpeg's");
  return c;
}

// Seconds and strings into the commands' types.
void Convert(Flags& f) {
  using daedalus::cli::OutputFormat;
  if (!f.endpoints.empty()) {
    f.options.endpoints = absl::StrSplit(f.endpoints, ',', absl::SkipWhitespace());
  }
  f.options.output = f.output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
  f.options.dial_timeout = absl::Seconds(f.dial_timeout_s);
  f.options.command_timeout = absl::Seconds(f.command_timeout_s);
  f.ping.interval = absl::Seconds(f.ping_interval_s);
  f.ping.reply_timeout = absl::Seconds(f.reply_timeout_s);
  f.watch.interval = absl::Seconds(f.watch_interval_s);
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app(kDescription, "daedalusctl");
  app.footer(daedalus::cli::kExitCodesHelp);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("daedalusctl ") + daedalus::kVersion);
  AddGlobalOptions(app, f);
  Subcommands cmd = AddSubcommands(app, f);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? daedalus::cli::kExitOk : daedalus::cli::kExitUsage;
  }
  Convert(f);

  const daedalus::cli::Options& o = f.options;
  std::ostream& out = std::cout;
  std::ostream& err = std::cerr;
  if (*cmd.status) return daedalus::cli::RunStatus(o, out, err);
  if (*cmd.stats) return daedalus::cli::RunStats(o, out, err);
  if (*cmd.watch) return daedalus::cli::RunWatch(o, f.watch, out, err);
  if (*cmd.contexts) return daedalus::cli::RunContexts(o, out, err);
  if (*cmd.version) return daedalus::cli::RunVersion(o, daedalus::kVersion, out, err);
  return daedalus::cli::RunPing(o, f.ping, out, err);
}
