// SPDX-License-Identifier: BSD-2-Clause
//
// daedalusctl's exit codes, the one place they are defined. Documented in
// `daedalusctl --help` and docs/operations.md; scripts rely on them.

#ifndef DAEDALUS_CLI_EXIT_CODES_H_
#define DAEDALUS_CLI_EXIT_CODES_H_

namespace daedalus::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,           // anything not listed below
  kExitUsage = 2,           // bad command line
  kExitDaemonDown = 3,      // daedalusd not running or not reachable
  kExitKernelLinkDown = 4,  // daemon up, but no kernel link (module not loaded)
  kExitKernelSilent = 5,    // the kernel did not answer (ping lost), or a call timed out
  kExitDenied = 6,          // the daemon refused us (TLS identity, Diagnostics policy)
};

inline constexpr char kExitCodesHelp[] =
    "Exit status:\n"
    "  0  success\n"
    "  1  other error\n"
    "  2  bad command line\n"
    "  3  daedalusd is not running or not reachable\n"
    "  4  daedalusd runs but has no kernel link (is the module loaded?)\n"
    "  5  the kernel did not answer (a ping was lost) or a call timed out\n"
    "  6  the daemon refused the caller (certificate, Diagnostics policy)\n"
    "With several endpoints: the code of the first failing one, in the order\n"
    "given.\n";

}  // namespace daedalus::cli

#endif  // DAEDALUS_CLI_EXIT_CODES_H_
