// SPDX-License-Identifier: BSD-2-Clause
//
// daedalusctl's subcommands. Each writes what a person reads to `out`,
// problems to `err`, and returns an ExitCode.
//
//   Target target{.socket = "/run/daedalus/daedalusd.sock"};
//   int rc = RunPing(target, {.count = 3}, std::cout, std::cerr);

#ifndef DAEDALUS_CLI_COMMANDS_H_
#define DAEDALUS_CLI_COMMANDS_H_

#include <ostream>
#include <string>

#include "absl/time/time.h"

namespace daedalus::cli {

struct Target {
  std::string socket = "/run/daedalus/daedalusd.sock";
  std::string endpoint;                       // host:port; when set, used instead of `socket`
  absl::Duration timeout = absl::Seconds(2);  // per RPC, connecting included
};

struct PingOptions {
  int count = 4;
  absl::Duration interval = absl::Seconds(1);
  absl::Duration reply_timeout = absl::Seconds(1);
};

int RunStatus(const Target& target, std::ostream& out, std::ostream& err);
int RunPing(const Target& target, const PingOptions& options, std::ostream& out, std::ostream& err);

}  // namespace daedalus::cli

#endif  // DAEDALUS_CLI_COMMANDS_H_
