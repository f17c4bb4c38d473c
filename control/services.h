// SPDX-License-Identifier: BSD-2-Clause
//
// The daedalus.v1 gRPC services. They validate requests and translate
// between protobuf and the Backend; all real work happens in the Backend.
//
//   StatusService status(backend, "0.1.0");
//   DiagnosticsService diagnostics(backend);
//   builder.RegisterService(&status);
//   builder.RegisterService(&diagnostics);

#ifndef DAEDALUS_CONTROL_SERVICES_H_
#define DAEDALUS_CONTROL_SERVICES_H_

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "control/backend.h"
#include "daedalus/v1/diagnostics.grpc.pb.h"
#include "daedalus/v1/status.grpc.pb.h"

namespace daedalus::control {

class StatusService final : public daedalus::v1::Status::Service {
 public:
  StatusService(Backend& backend, std::string daemon_version)
      : backend_(backend), daemon_version_(std::move(daemon_version)) {}

  grpc::Status GetStatus(grpc::ServerContext* context,
                         const daedalus::v1::GetStatusRequest* request,
                         daedalus::v1::GetStatusResponse* response) override;

 private:
  Backend& backend_;
  const std::string daemon_version_;
  const absl::Time started_ = absl::Now();
};

class DiagnosticsService final : public daedalus::v1::Diagnostics::Service {
 public:
  static constexpr absl::Duration kDefaultPingTimeout = absl::Seconds(1);
  static constexpr absl::Duration kMaxPingTimeout = absl::Seconds(10);

  explicit DiagnosticsService(Backend& backend) : backend_(backend) {}

  grpc::Status Ping(grpc::ServerContext* context, const daedalus::v1::PingRequest* request,
                    daedalus::v1::PingResponse* response) override;

 private:
  Backend& backend_;
};

}  // namespace daedalus::control

#endif  // DAEDALUS_CONTROL_SERVICES_H_
