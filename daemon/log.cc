// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/log.h"

#include <atomic>
#include <cstdio>

namespace daedalus {
namespace {

std::atomic<bool> verbose{false};

// sd-daemon(3) priority prefixes: the journal turns them into levels.
const char* Prefix(Severity s) {
  switch (s) {
    case Severity::kDebug:
      return "<7>debug";
    case Severity::kInfo:
      return "<6>info";
    case Severity::kWarning:
      return "<4>warning";
    case Severity::kError:
      return "<3>error";
  }
  return "<6>info";
}

}  // namespace

void SetLogVerbose(bool v) { verbose = v; }

void Log(Severity severity, std::string_view message) {
  if (severity == Severity::kDebug && !verbose) return;
  std::fprintf(stderr, "%s: %.*s\n", Prefix(severity), static_cast<int>(message.size()),
               message.data());
}

}  // namespace daedalus
