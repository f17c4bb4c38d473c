// SPDX-License-Identifier: BSD-2-Clause
//
// The benchmarks' percentile: the sample nearest to rank p (0..1) of the
// sorted samples; 0 for none.
//
//   double p99 = Percentile(latency_ms, 0.99);

#ifndef DAEDALUS_TESTS_PERCENTILE_H_
#define DAEDALUS_TESTS_PERCENTILE_H_

#include <algorithm>
#include <cstddef>
#include <vector>

namespace daedalus::testing {

inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace daedalus::testing

#endif  // DAEDALUS_TESTS_PERCENTILE_H_
