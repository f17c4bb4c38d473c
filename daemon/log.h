// SPDX-License-Identifier: BSD-2-Clause
//
// Minimal leveled logging to stderr, which systemd's journal and the test
// harness both collect. One line per event; never per frame.
//
//   Log(Severity::kWarning, absl::StrFormat("link lost: %s", status.ToString()));

#ifndef DAEDALUS_DAEMON_LOG_H_
#define DAEDALUS_DAEMON_LOG_H_

#include <string_view>

namespace daedalus {

enum class Severity { kDebug, kInfo, kWarning, kError };

void SetLogVerbose(bool verbose);
void Log(Severity severity, std::string_view message);

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_LOG_H_
