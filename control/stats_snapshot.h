// SPDX-License-Identifier: BSD-2-Clause
//
// One daedalus.v1.Stats snapshot of the whole daemon: the Backend's decode
// figures, the kernel's chardev counters and this process's CPU and
// memory, as messages. GetStats, WatchStats and /metrics all read through here, so they
// always agree.

#ifndef DAEDALUS_CONTROL_STATS_SNAPSHOT_H_
#define DAEDALUS_CONTROL_STATS_SNAPSHOT_H_

#include "absl/time/time.h"
#include "control/backend.h"
#include "daedalus/v1/stats.pb.h"

namespace daedalus::control {

// `started`: when the daemon started (for uptime).
daedalus::v1::Stats TakeStatsSnapshot(Backend& backend, absl::Time started, bool with_contexts);

// The Backend's decode figures as a message (everything but uptime,
// kernel and process).
void FillDecodeStats(const DecodeFigures& figures, daedalus::v1::Stats* out);

// One context's figures as a message.
void FillContextStats(const ContextFigures& figures, daedalus::v1::ContextStats* out);

// The kernel's DDV_IOC_GET_STATS counters as a message.
void FillKernelCounters(const ddv_stats& s, daedalus::v1::KernelCounters* out);

// CPU time, resident memory and threads of this process.
void FillProcessStats(daedalus::v1::ProcessStats* out);

}  // namespace daedalus::control

#endif  // DAEDALUS_CONTROL_STATS_SNAPSHOT_H_
