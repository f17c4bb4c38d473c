#ifndef DAEDALUS_DAEMON_THREAD_SCHED_H_
#define DAEDALUS_DAEMON_THREAD_SCHED_H_

// How the kernel schedules the calling thread: its nice value and the
// slice it asks for. Threads it starts afterwards inherit both.
//
// The slice is what lets a thread that wakes up briefly (a status call, a
// ping, a scrape) run at once beside busy decoding threads: on Linux 6.12
// and later (EEVDF custom slices) a waking thread with a shorter slice than
// the running one may preempt it, where otherwise it waits until the
// running thread's slice ends at a tick (4 ms at 250 Hz). Asking for a
// slice needs no privilege; older kernels accept the request and ignore
// it, which ThreadSlice() shows.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace daedalus {

// The shortest and longest slice the kernel grants (it clamps to these).
inline constexpr absl::Duration kMinSlice = absl::Microseconds(100);
inline constexpr absl::Duration kMaxSlice = absl::Milliseconds(100);

// Sets the calling thread's nice value (raising it needs no privilege) and
// slice; a zero slice is the kernel's default. The thread keeps its
// policy's class: SCHED_OTHER.
absl::Status SetThreadSched(int nice, absl::Duration slice);

// The calling thread's nice value.
absl::StatusOr<int> ThreadNice();

// The calling thread's slice as the kernel reports it: the one it asked for
// where the kernel granted it; otherwise zero or, on some kernels (6.18),
// the default slice the thread runs with. Kernels before 6.12 report zero
// whatever was asked.
absl::StatusOr<absl::Duration> ThreadSlice();

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_THREAD_SCHED_H_
