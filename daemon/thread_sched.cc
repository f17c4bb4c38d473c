#include "daemon/thread_sched.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_format.h"

namespace daedalus {
namespace {

// glibc 2.36 has no wrapper for sched_setattr(2) nor a struct for it: the
// kernel's struct sched_attr, first version (48 bytes, ABI since 3.14).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48, "SCHED_ATTR_SIZE_VER0");

absl::Status Errno(const char* what) {
  int err = errno;
  return absl::Status(absl::ErrnoToStatusCode(err),
                      absl::StrFormat("%s: %s", what, std::strerror(err)));
}

}  // namespace

absl::Status SetThreadSched(int nice, absl::Duration slice) {
  if (slice < absl::ZeroDuration()) return absl::InvalidArgumentError("negative slice");
  SchedAttr attr = {};
  attr.size = sizeof(attr);
  attr.sched_policy = SCHED_OTHER;
  attr.sched_nice = nice;
  attr.sched_runtime = static_cast<uint64_t>(absl::ToInt64Nanoseconds(slice));
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return Errno("sched_setattr");
  return absl::OkStatus();
}

absl::StatusOr<int> ThreadNice() {
  // -1 is a nice value too: errno tells an error.
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  if (nice == -1 && errno != 0) return Errno("getpriority");
  return nice;
}

absl::StatusOr<absl::Duration> ThreadSlice() {
  SchedAttr attr = {};
  if (syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) != 0) return Errno("sched_getattr");
  if (attr.sched_policy != SCHED_OTHER && attr.sched_policy != SCHED_BATCH) {
    return absl::ZeroDuration();
  }
  return absl::Nanoseconds(static_cast<int64_t>(attr.sched_runtime));
}

}  // namespace daedalus
