// SPDX-License-Identifier: BSD-2-Clause

#include "control/rate_limiter.h"

#include "gtest/gtest.h"

namespace daedalus::control {
namespace {

TEST(RateLimiterTest, BurstThenSteadyRate) {
  absl::Time now = absl::UnixEpoch();
  RateLimiter limiter(/*per_second=*/2, /*burst=*/3, [&now] { return now; });
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());  // burst spent
  now += absl::Milliseconds(499);
  EXPECT_FALSE(limiter.TryAcquire());  // not yet one token
  now += absl::Milliseconds(2);
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
  now += absl::Hours(1);  // a long idle refills only up to the burst
  for (int i = 0; i < 3; i++) EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
}

}  // namespace
}  // namespace daedalus::control
