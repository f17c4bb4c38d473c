// SPDX-License-Identifier: BSD-2-Clause
//
// daedalusctl: look at and test a running daedalusd.

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/exit_codes.h"

int main(int argc, char** argv) {
  daedalus::cli::Target target;
  double timeout_s = 2.0;
  daedalus::cli::PingOptions ping;
  double interval_s = 1.0, reply_timeout_s = 1.0;

  CLI::App app(
      "daedalusctl: status and diagnostics of daedalusd, the daemon behind the\n"
      "daedalus-v4l2 VP9 decoder.",
      "daedalusctl");
  app.footer(daedalus::cli::kExitCodesHelp);
  app.require_subcommand(1);
  app.add_option("--socket", target.socket, "daedalusd's unix socket")
      ->envname("DAEDALUS_SOCKET")
      ->capture_default_str();
  app.add_option("--endpoint", target.endpoint,
                 "host:port of a daemon serving TCP (instead of --socket)")
      ->envname("DAEDALUS_ENDPOINT");
  app.add_option("--timeout", timeout_s, "seconds to connect and for each call")
      ->envname("DAEDALUS_TIMEOUT")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();

  CLI::App* status = app.add_subcommand(
      "status", "daemon version and uptime, kernel link, module version, FIFO and counters");
  status->footer(daedalus::cli::kExitCodesHelp);

  CLI::App* ping_cmd =
      app.add_subcommand("ping",
                         "send test PINGs through the kernel's request FIFO and print the round\n"
                         "trip the kernel measured, like ping(8)");
  ping_cmd->footer(daedalus::cli::kExitCodesHelp);
  ping_cmd->add_option("-c,--count", ping.count, "number of pings (0: until interrupted)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  ping_cmd->add_option("-i,--interval", interval_s, "seconds between pings")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  ping_cmd
      ->add_option("-W,--reply-timeout", reply_timeout_s,
                   "seconds to wait for each reply (at most 10)")
      ->check(CLI::Range(0.001, 10.0))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? daedalus::cli::kExitOk : daedalus::cli::kExitUsage;
  }
  target.timeout = absl::Seconds(timeout_s);
  ping.interval = absl::Seconds(interval_s);
  ping.reply_timeout = absl::Seconds(reply_timeout_s);

  if (*status) return daedalus::cli::RunStatus(target, std::cout, std::cerr);
  return daedalus::cli::RunPing(target, ping, std::cout, std::cerr);
}
