// SPDX-License-Identifier: BSD-2-Clause

#include "control/services.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "control/grpc_status.h"

namespace daedalus::control {
namespace {

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  int64_t ns = absl::ToInt64Nanoseconds(d);
  out->set_seconds(ns / 1000000000);
  out->set_nanos(static_cast<int32_t>(ns % 1000000000));
}

void FillCounters(const ddv_stats& s, daedalus::v1::KernelCounters* out) {
  out->set_fifo_depth(s.fifo_depth);
  out->set_fifo_high_water(s.fifo_high_water);
  out->set_fifo_capacity(s.fifo_capacity);
  out->set_msgs_to_daemon(s.msgs_to_daemon);
  out->set_msgs_from_daemon(s.msgs_from_daemon);
  out->set_bytes_to_daemon(s.bytes_to_daemon);
  out->set_bytes_from_daemon(s.bytes_from_daemon);
  auto& errors = *out->mutable_errors();
  errors["bad_magic"] = s.err_bad_magic;
  errors["bad_version"] = s.err_bad_version;
  errors["bad_reserved"] = s.err_bad_reserved;
  errors["too_big"] = s.err_too_big;
  errors["bad_length"] = s.err_bad_length;
  errors["bad_type"] = s.err_bad_type;
  errors["bad_payload"] = s.err_bad_payload;
  errors["short_read"] = s.err_short_read;
  errors["fifo_full"] = s.err_fifo_full;
  errors["unmatched_pong"] = s.err_unmatched_pong;
  out->set_pings_sent(s.pings_sent);
  out->set_pongs_matched(s.pongs_matched);
  out->set_pings_timed_out(s.pings_timed_out);
  out->set_msgs_dropped(s.msgs_dropped);
  out->set_daemon_attaches(s.daemon_attaches);
}

}  // namespace

grpc::Status StatusService::GetStatus(grpc::ServerContext*, const daedalus::v1::GetStatusRequest*,
                                      daedalus::v1::GetStatusResponse* response) {
  response->set_daemon_version(daemon_version_);
  SetDuration(absl::Now() - started_, response->mutable_uptime());

  LinkStatus link = backend_.GetLinkStatus();
  daedalus::v1::KernelLink* out = response->mutable_kernel();
  out->set_state(link.up ? daedalus::v1::KernelLink::UP : daedalus::v1::KernelLink::DOWN);
  out->set_device(link.device);
  out->set_protocol_version(link.protocol_version);
  out->set_module_version(link.module_version);
  out->set_detail(link.detail);
  if (link.up) {
    // The link may drop between the two calls; status still answers.
    absl::StatusOr<ddv_stats> stats = backend_.GetKernelStats();
    if (stats.ok()) FillCounters(*stats, response->mutable_kernel_counters());
  }
  return grpc::Status::OK;
}

grpc::Status DiagnosticsService::Ping(grpc::ServerContext* context,
                                      const daedalus::v1::PingRequest* request,
                                      daedalus::v1::PingResponse* response) {
  absl::Duration timeout = kDefaultPingTimeout;
  if (request->has_timeout()) {
    const google::protobuf::Duration& t = request->timeout();
    if (t.seconds() < 0 || t.nanos() < 0 || t.nanos() >= 1000000000 ||
        (t.seconds() == 0 && t.nanos() == 0)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "timeout must be a positive duration");
    }
    timeout = absl::Seconds(t.seconds()) + absl::Nanoseconds(t.nanos());
    if (timeout > kMaxPingTimeout) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrFormat("timeout must be at most %s", absl::FormatDuration(kMaxPingTimeout)));
    }
  }
  // Never wait past the caller's own deadline.
  absl::Duration left = absl::FromChrono(context->deadline() - std::chrono::system_clock::now());
  timeout = std::min(timeout, std::max(left, absl::ZeroDuration()));

  absl::StatusOr<PingReply> reply = backend_.Ping(timeout);
  if (!reply.ok()) return ToGrpcStatus(reply.status());
  response->set_kernel_cookie(reply->kernel_cookie);
  SetDuration(reply->kernel_rtt, response->mutable_kernel_rtt());
  response->set_fifo_depth(reply->fifo_depth);
  return grpc::Status::OK;
}

}  // namespace daedalus::control
