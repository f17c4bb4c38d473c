// SPDX-License-Identifier: BSD-2-Clause
//
// absl::Status to grpc::Status: the canonical codes are the same numbers.

#ifndef DAEDALUS_CONTROL_GRPC_STATUS_H_
#define DAEDALUS_CONTROL_GRPC_STATUS_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"

namespace daedalus::control {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace daedalus::control

#endif  // DAEDALUS_CONTROL_GRPC_STATUS_H_
