// SPDX-License-Identifier: BSD-2-Clause
//
// RateLimiter: a token bucket. `burst` calls may come at once; after that,
// `per_second` calls per second. Thread-safe.
//
//   RateLimiter limiter(/*per_second=*/10, /*burst=*/10);
//   if (!limiter.TryAcquire()) return RESOURCE_EXHAUSTED;

#ifndef DAEDALUS_CONTROL_RATE_LIMITER_H_
#define DAEDALUS_CONTROL_RATE_LIMITER_H_

#include <algorithm>
#include <functional>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace daedalus::control {

class RateLimiter {
 public:
  using Clock = std::function<absl::Time()>;

  RateLimiter(double per_second, double burst, Clock clock = absl::Now)
      : per_second_(per_second),
        burst_(burst),
        clock_(std::move(clock)),
        tokens_(burst),
        last_(clock_()) {}

  bool TryAcquire() {
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_();
    tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * per_second_);
    last_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

  double per_second() const { return per_second_; }

 private:
  const double per_second_;
  const double burst_;
  const Clock clock_;
  absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace daedalus::control

#endif  // DAEDALUS_CONTROL_RATE_LIMITER_H_
