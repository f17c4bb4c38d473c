// SPDX-License-Identifier: BSD-2-Clause

#include "control/services.h"

#include <google/protobuf/stubs/common.h>
#include <grpcpp/alarm.h>
#include <linux/daedalus-v4l2.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "control/grpc_status.h"
#include "control/proto_time.h"
#include "control/stats_snapshot.h"

namespace daedalus::control {
namespace {

absl::StatusOr<absl::Duration> ToDuration(const google::protobuf::Duration& d) {
  if (d.seconds() < 0 || d.nanos() < 0 || d.nanos() >= 1000000000) {
    return absl::InvalidArgumentError("durations must not be negative");
  }
  return FromProto(d);
}

std::string CompilerName() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return absl::StrFormat("gcc %d.%d.%d", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

// A stream that was refused before it started.
class RefusedWatch final : public grpc::ServerWriteReactor<daedalus::v1::Stats> {
 public:
  explicit RefusedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

// One WatchStats stream: write a snapshot, wait `interval` on an alarm,
// write again. Exactly one of {a write, an alarm} is pending at a time,
// and whichever completes decides what comes next, so Finish() is called
// exactly once.
class StatsWatcher final : public grpc::ServerWriteReactor<daedalus::v1::Stats> {
 public:
  StatsWatcher(StatusService& service, absl::Duration interval, uint32_t count, bool totals_only)
      : service_(service), interval_(interval), count_(count), totals_only_(totals_only) {}

  void Begin() { WriteNext(); }

  // From StopWatchers(): end the stream at its next step.
  void Stop() {
    grpc::Alarm* armed;
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      armed = armed_ ? alarms_[current_].get() : nullptr;
    }
    // Outside the lock: a cancelled alarm may run its callback right here.
    if (armed) armed->Cancel();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the watcher went away"));
      return;
    }
    if (count_ != 0 && ++sent_ >= count_) {
      Finish(grpc::Status::OK);
      return;
    }
    bool early;
    {
      absl::MutexLock lock(&mu_);
      early = stopping_ || cancelled_;
      if (!early) {
        // Alternate between two alarms: the one replaced here fired two
        // intervals ago and its callback has long returned.
        current_ ^= 1;
        alarms_[current_] = std::make_unique<grpc::Alarm>();
        armed_ = true;
        alarms_[current_]->Set(
            std::chrono::system_clock::now() + absl::ToChronoNanoseconds(interval_),
            [this](bool fired) { OnAlarm(fired); });
      }
    }
    if (early) FinishEarly();
  }

  void OnCancel() override {
    grpc::Alarm* armed;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      armed = armed_ ? alarms_[current_].get() : nullptr;
    }
    if (armed) armed->Cancel();
  }

  void OnDone() override {
    service_.WatcherDone(this);
    delete this;
  }

 private:
  void OnAlarm(bool fired) {
    bool early;
    {
      absl::MutexLock lock(&mu_);
      armed_ = false;
      early = !fired || stopping_ || cancelled_;
    }
    if (early) {
      FinishEarly();
      return;
    }
    WriteNext();
  }

  void FinishEarly() {
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      stopping = stopping_;
    }
    Finish(stopping ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "daedalusd is shutting down")
                    : grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void WriteNext() {
    snapshot_ = TakeStatsSnapshot(service_.backend_, service_.started(), !totals_only_);
    StartWrite(&snapshot_);
  }

  StatusService& service_;
  const absl::Duration interval_;
  const uint32_t count_;
  const bool totals_only_;
  uint32_t sent_ = 0;
  daedalus::v1::Stats snapshot_;  // alive until its write completes
  absl::Mutex mu_;
  std::array<std::unique_ptr<grpc::Alarm>, 2> alarms_ ABSL_GUARDED_BY(mu_);
  int current_ ABSL_GUARDED_BY(mu_) = 0;
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

namespace {

// What GetStatus says that never changes while the daemon runs, built
// once: versions, build, device and capabilities.
daedalus::v1::GetStatusResponse FixedStatus(const DaemonInfo& info) {
  daedalus::v1::GetStatusResponse fixed;
  fixed.set_daemon_version(info.version);
  daedalus::v1::BuildInfo* build = fixed.mutable_build();
  build->set_compiler(CompilerName());
  utsname u;
  build->set_architecture(uname(&u) == 0 ? u.machine : "unknown");
  build->set_grpc_version(grpc::Version());
  build->set_protobuf_version(google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION));
  fixed.set_ffmpeg_version(info.ffmpeg_version);
  daedalus::v1::Device* device = fixed.mutable_device();
  device->set_board(info.board);
  device->set_kernel_release(info.kernel_release);
  device->set_cpus(static_cast<uint32_t>(info.cpus));

  daedalus::v1::Capabilities* caps = fixed.mutable_capabilities();
  std::set<std::string> formats;
  for (const CodecCapability& c : info.codecs) {
    caps->add_codecs(c.codec);
    daedalus::v1::CodecCapability* d = caps->add_codec_details();
    d->set_codec(c.codec);
    for (const std::string& p : c.profiles) d->add_profiles(p);
    for (const std::string& f : c.pixel_formats) {
      d->add_pixel_formats(f);
      formats.insert(f);
    }
    d->set_max_width(c.max_width);
    d->set_max_height(c.max_height);
    d->set_frame_threads(static_cast<uint32_t>(c.frame_threads));
  }
  for (const std::string& f : formats) caps->add_pixel_formats(f);
  caps->set_max_width(DDV_MAX_WIDTH);
  caps->set_max_height(DDV_MAX_HEIGHT);
  caps->set_decoder_threads(static_cast<uint32_t>(info.decoder_threads));
  return fixed;
}

}  // namespace

StatusService::StatusService(Backend& backend, const DaemonInfo& info)
    : backend_(backend), fixed_status_(FixedStatus(info)) {}

StatusService::~StatusService() { StopWatchers(); }

grpc::ServerUnaryReactor* StatusService::GetStatus(grpc::CallbackServerContext* context,
                                                   const daedalus::v1::GetStatusRequest*,
                                                   daedalus::v1::GetStatusResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  FillStatus(response);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

void StatusService::FillStatus(daedalus::v1::GetStatusResponse* response) {
  *response = fixed_status_;
  ToProto(absl::Now() - started_, response->mutable_uptime());

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
    if (stats.ok()) FillKernelCounters(*stats, response->mutable_kernel_counters());
  }
}

grpc::ServerUnaryReactor* StatusService::GetStats(grpc::CallbackServerContext* context,
                                                  const daedalus::v1::GetStatsRequest* request,
                                                  daedalus::v1::Stats* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  *response = TakeStatsSnapshot(backend_, started_, !request->totals_only());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* StatusService::ListContexts(
    grpc::CallbackServerContext* context, const daedalus::v1::ListContextsRequest*,
    daedalus::v1::ListContextsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  for (const ContextFigures& c : backend_.GetDecodeStats(true).contexts) {
    FillContextStats(c, response->add_contexts());
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<daedalus::v1::Stats>* StatusService::WatchStats(
    grpc::CallbackServerContext*, const daedalus::v1::WatchStatsRequest* request) {
  absl::Duration interval = kDefaultWatchInterval;
  if (request->has_interval()) {
    absl::StatusOr<absl::Duration> d = ToDuration(request->interval());
    if (!d.ok() || *d < kMinWatchInterval || *d > kMaxWatchInterval) {
      return new RefusedWatch(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       absl::StrFormat("interval must be between %s and %s",
                                       absl::FormatDuration(kMinWatchInterval),
                                       absl::FormatDuration(kMaxWatchInterval))));
    }
    interval = *d;
  }
  StatsWatcher* watcher;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      return new RefusedWatch(
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "daedalusd is shutting down"));
    }
    if (watchers_.size() >= kMaxWatchers) {
      return new RefusedWatch(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       absl::StrFormat("at most %d WatchStats streams at once", kMaxWatchers)));
    }
    watcher = new StatsWatcher(*this, interval, request->count(), request->totals_only());
    watchers_.insert(watcher);
  }
  watcher->Begin();
  return watcher;
}

void StatusService::WatcherDone(StatsWatcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watcher);
}

void StatusService::StopWatchers() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  for (StatsWatcher* w : watchers_) w->Stop();
}

DiagnosticsService::DiagnosticsService(Backend& backend, DiagnosticsPolicy policy)
    : backend_(backend),
      policy_(std::move(policy)),
      ping_limiter_(policy_.pings_per_second, policy_.ping_burst) {}

grpc::Status DiagnosticsService::Authorize(grpc::ServerContext* context) const {
  if (absl::StartsWith(context->peer(), "unix:")) return grpc::Status::OK;
  if (policy_.tcp_common_names.empty()) return grpc::Status::OK;
  std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  if (auth) {
    for (const grpc::string_ref& cn : auth->FindPropertyValues("x509_common_name")) {
      std::string name(cn.data(), cn.size());
      for (const std::string& allowed : policy_.tcp_common_names) {
        if (name == allowed) return grpc::Status::OK;
      }
    }
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrFormat("Diagnostics over TCP is limited to client certificates "
                                      "named %s",
                                      absl::StrJoin(policy_.tcp_common_names, ", ")));
}

grpc::Status DiagnosticsService::Ping(grpc::ServerContext* context,
                                      const daedalus::v1::PingRequest* request,
                                      daedalus::v1::PingResponse* response) {
  if (grpc::Status st = Authorize(context); !st.ok()) return st;
  absl::Duration timeout = kDefaultPingTimeout;
  if (request->has_timeout()) {
    absl::StatusOr<absl::Duration> t = ToDuration(request->timeout());
    if (!t.ok() || *t == absl::ZeroDuration()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "timeout must be a positive duration");
    }
    timeout = *t;
    if (timeout > kMaxPingTimeout) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrFormat("timeout must be at most %s", absl::FormatDuration(kMaxPingTimeout)));
    }
  }
  if (!ping_limiter_.TryAcquire()) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        absl::StrFormat("at most %g pings per second; try again later",
                                        ping_limiter_.per_second()));
  }
  // Never wait past the caller's own deadline.
  absl::Duration left = absl::FromChrono(context->deadline() - std::chrono::system_clock::now());
  timeout = std::min(timeout, std::max(left, absl::ZeroDuration()));

  absl::StatusOr<PingReply> reply = backend_.Ping(timeout);
  if (!reply.ok()) return ToGrpcStatus(reply.status());
  response->set_kernel_cookie(reply->kernel_cookie);
  ToProto(reply->kernel_rtt, response->mutable_kernel_rtt());
  response->set_fifo_depth(reply->fifo_depth);
  return grpc::Status::OK;
}

}  // namespace daedalus::control
