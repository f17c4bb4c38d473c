#include "daemon/thread_sched.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "gtest/gtest.h"

namespace daedalus {
namespace {

// Whether the running kernel grants SCHED_OTHER threads a slice of their
// own (EEVDF custom slices, Linux 6.12).
bool KernelHasCustomSlices() {
  utsname u;
  int major = 0, minor = 0;
  if (uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 12);
}

// Each test changes only a thread of its own, never the test runner's.
template <typename F>
void OnNewThread(F f) {
  std::thread t(f);
  t.join();
}

TEST(ThreadSchedTest, NiceIsRaisedAndSliceSetOnThisThreadOnly) {
  OnNewThread([] {
    absl::StatusOr<int> before = ThreadNice();
    ASSERT_TRUE(before.ok()) << before.status();
    const int nice = std::min(*before + 3, 19);
    ASSERT_TRUE(SetThreadSched(nice, absl::Microseconds(300)).ok());
    absl::StatusOr<int> after = ThreadNice();
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(*after, nice);
    absl::StatusOr<absl::Duration> slice = ThreadSlice();
    ASSERT_TRUE(slice.ok()) << slice.status();
    if (KernelHasCustomSlices()) {
      EXPECT_EQ(*slice, absl::Microseconds(300));
    } else {
      EXPECT_EQ(*slice, absl::ZeroDuration()) << "an older kernel ignores the slice";
    }
  });
  // The runner's thread kept its default slice.
  absl::StatusOr<absl::Duration> mine = ThreadSlice();
  ASSERT_TRUE(mine.ok());
  EXPECT_NE(*mine, absl::Microseconds(300));
}

TEST(ThreadSchedTest, ThreadsStartedAfterwardsInheritTheSliceAndCanDropIt) {
  if (!KernelHasCustomSlices()) GTEST_SKIP() << "kernel before 6.12: no custom slices";
  OnNewThread([] {
    ASSERT_TRUE(SetThreadSched(*ThreadNice(), kMinSlice).ok());
    OnNewThread([] {
      absl::StatusOr<absl::Duration> inherited = ThreadSlice();
      ASSERT_TRUE(inherited.ok());
      EXPECT_EQ(*inherited, kMinSlice);
      // What a decoding thread does: back to the kernel's default.
      ASSERT_TRUE(SetThreadSched(*ThreadNice(), absl::ZeroDuration()).ok());
      EXPECT_NE(*ThreadSlice(), kMinSlice);
    });
  });
}

TEST(ThreadSchedTest, SliceOutsideTheKernelsRangeIsClamped) {
  if (!KernelHasCustomSlices()) GTEST_SKIP() << "kernel before 6.12: no custom slices";
  OnNewThread([] {
    ASSERT_TRUE(SetThreadSched(*ThreadNice(), absl::Microseconds(1)).ok());
    EXPECT_EQ(*ThreadSlice(), kMinSlice);
    ASSERT_TRUE(SetThreadSched(*ThreadNice(), absl::Seconds(1)).ok());
    EXPECT_EQ(*ThreadSlice(), kMaxSlice);
  });
}

TEST(ThreadSchedTest, LoweringNiceWithoutPrivilegeIsAnError) {
  if (geteuid() == 0) GTEST_SKIP() << "root may lower nice";
  OnNewThread([] {
    ASSERT_TRUE(SetThreadSched(5, absl::ZeroDuration()).ok());
    absl::Status st = SetThreadSched(0, absl::ZeroDuration());
    EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << st;
    EXPECT_EQ(*ThreadNice(), 5);
  });
}

TEST(ThreadSchedTest, NegativeSliceIsRefused) {
  EXPECT_EQ(SetThreadSched(0, absl::Microseconds(-1)).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace daedalus
