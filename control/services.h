// SPDX-License-Identifier: BSD-2-Clause
//
// The daedalus.v1 gRPC services. They validate requests and translate
// between protobuf and the Backend; all real work happens in the Backend.
// Status uses the callback API for every method: a unary call is answered
// on the thread that read it, and a watcher holds no thread while it waits
// for its next snapshot. (Served by gRPC's synchronous thread pool, a few
// status calls in a thousand waited about 100 ms, idle or not:
// docs/performance.md.) Diagnostics stays synchronous: a Ping blocks for
// the kernel's round trip, which a callback thread must not.
//
//   StatusService status(backend, info);
//   DiagnosticsService diagnostics(backend, {});
//   builder.RegisterService(&status);
//   builder.RegisterService(&diagnostics);
//   ...
//   status.StopWatchers();  // before server->Shutdown()

#ifndef DAEDALUS_CONTROL_SERVICES_H_
#define DAEDALUS_CONTROL_SERVICES_H_

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "control/backend.h"
#include "control/rate_limiter.h"
#include "daedalus/v1/diagnostics.grpc.pb.h"
#include "daedalus/v1/status.grpc.pb.h"

namespace daedalus::control {

class StatsWatcher;

class StatusService final : public daedalus::v1::Status::CallbackService {
 public:
  static constexpr absl::Duration kDefaultWatchInterval = absl::Seconds(1);
  static constexpr absl::Duration kMinWatchInterval = absl::Milliseconds(100);
  static constexpr absl::Duration kMaxWatchInterval = absl::Hours(1);
  static constexpr int kMaxWatchers = 32;

  StatusService(Backend& backend, const DaemonInfo& info);
  ~StatusService() override;

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const daedalus::v1::GetStatusRequest* request,
                                      daedalus::v1::GetStatusResponse* response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const daedalus::v1::GetStatsRequest* request,
                                     daedalus::v1::Stats* response) override;
  grpc::ServerWriteReactor<daedalus::v1::Stats>* WatchStats(
      grpc::CallbackServerContext* context,
      const daedalus::v1::WatchStatsRequest* request) override;
  grpc::ServerUnaryReactor* ListContexts(grpc::CallbackServerContext* context,
                                         const daedalus::v1::ListContextsRequest* request,
                                         daedalus::v1::ListContextsResponse* response) override;

  // Ends every watch stream (UNAVAILABLE) and refuses new ones, so that a
  // shutdown does not wait for streams that never end by themselves.
  void StopWatchers();

  absl::Time started() const { return started_; }

 private:
  friend class StatsWatcher;
  void FillStatus(daedalus::v1::GetStatusResponse* response);
  void WatcherDone(StatsWatcher* watcher);

  Backend& backend_;
  // GetStatus's answer but for uptime and the kernel link, built from the
  // DaemonInfo once.
  const daedalus::v1::GetStatusResponse fixed_status_;
  const absl::Time started_ = absl::Now();
  absl::Mutex mu_;
  std::set<StatsWatcher*> watchers_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

// Who may call Diagnostics. Calls over the unix socket are always allowed:
// the socket's mode and group decide who connects. Over TCP, an empty list
// admits every client the TLS layer admitted; otherwise the client
// certificate's common name must be in the list.
struct DiagnosticsPolicy {
  std::vector<std::string> tcp_common_names;
  double pings_per_second = 10;
  double ping_burst = 10;
};

class DiagnosticsService final : public daedalus::v1::Diagnostics::Service {
 public:
  static constexpr absl::Duration kDefaultPingTimeout = absl::Seconds(1);
  static constexpr absl::Duration kMaxPingTimeout = absl::Seconds(10);

  DiagnosticsService(Backend& backend, DiagnosticsPolicy policy);

  grpc::Status Ping(grpc::ServerContext* context, const daedalus::v1::PingRequest* request,
                    daedalus::v1::PingResponse* response) override;

 private:
  grpc::Status Authorize(grpc::ServerContext* context) const;

  Backend& backend_;
  const DiagnosticsPolicy policy_;
  RateLimiter ping_limiter_;
};

}  // namespace daedalus::control

#endif  // DAEDALUS_CONTROL_SERVICES_H_
