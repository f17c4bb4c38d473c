// SPDX-License-Identifier: BSD-2-Clause
//
// daedalusctl's subcommands. Each runs on every endpoint concurrently,
// writes what a person reads (or JSON) to `out`, problems to `err`, and
// returns an ExitCode: the first failing endpoint's, in the order given.
//
//   Options o;
//   o.endpoints = {"board1:7443", "board2:7443"};
//   int rc = RunStatus(o, std::cout, std::cerr);

#ifndef DAEDALUS_CLI_COMMANDS_H_
#define DAEDALUS_CLI_COMMANDS_H_

#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "cli/connection.h"

namespace daedalus::cli {

struct PingOptions {
  int count = 4;
  absl::Duration interval = absl::Seconds(1);
  absl::Duration reply_timeout = absl::Seconds(1);
};

struct WatchOptions {
  absl::Duration interval = absl::Seconds(1);
  int count = 0;  // snapshots per endpoint; 0: until interrupted
};

int RunStatus(const Options& options, std::ostream& out, std::ostream& err);
int RunStats(const Options& options, std::ostream& out, std::ostream& err);
int RunWatch(const Options& options, const WatchOptions& watch, std::ostream& out,
             std::ostream& err);
int RunContexts(const Options& options, std::ostream& out, std::ostream& err);
int RunPing(const Options& options, const PingOptions& ping, std::ostream& out, std::ostream& err);
int RunVersion(const Options& options, const std::string& client_version, std::ostream& out,
               std::ostream& err);

}  // namespace daedalus::cli

#endif  // DAEDALUS_CLI_COMMANDS_H_
