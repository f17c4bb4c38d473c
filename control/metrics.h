// SPDX-License-Identifier: BSD-2-Clause
//
// The daemon's Prometheus face: a pull endpoint (/metrics) whose every
// scrape turns one stats snapshot into the text format. Names follow
// Prometheus conventions (daedalus_ prefix, _total, _seconds, _bytes);
// every series exists from the first scrape, zero or not; no host label
// (Prometheus adds `instance`). Per-context figures stay in gRPC: contexts
// come and go, and a label per context would churn series.
//
//   MetricsExporter metrics(backend, info, started);
//   absl::Status st = metrics.Start("127.0.0.1:9477");

#ifndef DAEDALUS_CONTROL_METRICS_H_
#define DAEDALUS_CONTROL_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "control/backend.h"

namespace daedalus::control {

// Snapshot -> metric families; separate from the HTTP side for tests.
class StatsCollector final : public prometheus::Collectable {
 public:
  StatsCollector(Backend& backend, DaemonInfo info, absl::Time started)
      : backend_(backend), info_(std::move(info)), started_(started) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Backend& backend_;
  const DaemonInfo info_;
  const absl::Time started_;
};

class MetricsExporter {
 public:
  MetricsExporter(Backend& backend, DaemonInfo info, absl::Time started);
  ~MetricsExporter();

  // Serves GET /metrics on `address` (host:port; port 0 picks one).
  absl::Status Start(const std::string& address);
  int port() const { return port_; }

 private:
  std::shared_ptr<StatsCollector> collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace daedalus::control

#endif  // DAEDALUS_CONTROL_METRICS_H_
