// SPDX-License-Identifier: BSD-2-Clause

#include "cli/commands.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/exit_codes.h"
#include "daedalus/v1/diagnostics.grpc.pb.h"
#include "daedalus/v1/status.grpc.pb.h"

namespace daedalus::cli {
namespace {

std::string Address(const Target& t) {
  return t.endpoint.empty() ? "unix:" + t.socket : t.endpoint;
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

std::string Millis(absl::Duration d) {
  return absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(d));
}

// A channel that is connected, or a message saying why not.
struct Connection {
  std::shared_ptr<grpc::Channel> channel;
  int exit_code = kExitOk;
};

Connection Connect(const Target& t, std::ostream& err) {
  auto channel = grpc::CreateChannel(Address(t), grpc::InsecureChannelCredentials());
  if (channel->WaitForConnected(absl::ToChronoTime(absl::Now() + t.timeout))) {
    return {channel, kExitOk};
  }
  struct stat st;
  if (t.endpoint.empty() && stat(t.socket.c_str(), &st) != 0) {
    err << "daedalusctl: daedalusd is not running (no socket at " << t.socket
        << "); start it with `systemctl start daedalusd` or `daedalusd`\n";
  } else {
    err << "daedalusctl: cannot reach daedalusd at " << Address(t) << " within "
        << absl::FormatDuration(t.timeout) << "\n";
  }
  return {nullptr, kExitDaemonDown};
}

void SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

// Exit code and message for an RPC that failed after connecting.
int RpcFailed(const char* what, const grpc::Status& st, std::ostream& err) {
  err << "daedalusctl: " << what << ": " << st.error_message() << "\n";
  switch (st.error_code()) {
    case grpc::UNAVAILABLE:
      return kExitDaemonDown;
    case grpc::FAILED_PRECONDITION:
      return kExitKernelLinkDown;
    case grpc::DEADLINE_EXCEEDED:
      return kExitKernelSilent;
    default:
      return kExitError;
  }
}

void PrintCounters(const daedalus::v1::KernelCounters& c, std::ostream& out) {
  out << absl::StrFormat("fifo:          depth %d/%d, high-water %d\n", c.fifo_depth(),
                         c.fifo_capacity(), c.fifo_high_water());
  out << absl::StrFormat("messages:      %d to daemon (%d bytes), %d from daemon (%d bytes)\n",
                         c.msgs_to_daemon(), c.bytes_to_daemon(), c.msgs_from_daemon(),
                         c.bytes_from_daemon());
  out << absl::StrFormat("pings:         %d sent, %d answered, %d timed out\n", c.pings_sent(),
                         c.pongs_matched(), c.pings_timed_out());
  // Sorted, and only the kinds that happened.
  std::map<std::string, uint64_t> errors(c.errors().begin(), c.errors().end());
  std::vector<std::string> seen;
  for (const auto& [kind, n] : errors) {
    if (n) seen.push_back(absl::StrFormat("%s=%d", kind, n));
  }
  out << "kernel errors: " << (seen.empty() ? "none" : absl::StrJoin(seen, " ")) << "\n";
}

}  // namespace

int RunStatus(const Target& target, std::ostream& out, std::ostream& err) {
  Connection conn = Connect(target, err);
  if (!conn.channel) return conn.exit_code;
  auto stub = daedalus::v1::Status::NewStub(conn.channel);
  grpc::ClientContext ctx;
  SetDeadline(ctx, target.timeout);
  daedalus::v1::GetStatusResponse resp;
  if (grpc::Status st = stub->GetStatus(&ctx, {}, &resp); !st.ok()) {
    return RpcFailed("GetStatus", st, err);
  }
  const daedalus::v1::KernelLink& k = resp.kernel();
  bool up = k.state() == daedalus::v1::KernelLink::UP;
  out << "daemon:        daedalusd " << resp.daemon_version() << " at " << Address(target)
      << ", up " << absl::FormatDuration(absl::Trunc(FromProto(resp.uptime()), absl::Seconds(1)))
      << "\n";
  if (up) {
    out << "kernel link:   up, " << k.device() << ", protocol v" << k.protocol_version()
        << ", module " << k.module_version() << "\n";
  } else {
    out << "kernel link:   DOWN, " << k.device() << ": " << k.detail() << "\n";
  }
  if (resp.has_kernel_counters()) PrintCounters(resp.kernel_counters(), out);
  return up ? kExitOk : kExitKernelLinkDown;
}

int RunPing(const Target& target, const PingOptions& options, std::ostream& out,
            std::ostream& err) {
  Connection conn = Connect(target, err);
  if (!conn.channel) return conn.exit_code;
  auto diag = daedalus::v1::Diagnostics::NewStub(conn.channel);

  out << "PING kernel through daedalusd at " << Address(target) << "\n";
  int sent = 0, received = 0;
  absl::Duration min = absl::InfiniteDuration(), max = absl::ZeroDuration(),
                 sum = absl::ZeroDuration();
  int exit_code = kExitOk;
  for (int seq = 1; options.count <= 0 || seq <= options.count; seq++) {
    if (seq > 1) absl::SleepFor(options.interval);
    grpc::ClientContext ctx;
    // The daemon waits reply_timeout for the kernel; allow for the RPC itself.
    SetDeadline(ctx, options.reply_timeout + target.timeout);
    daedalus::v1::PingRequest req;
    int64_t ns = absl::ToInt64Nanoseconds(options.reply_timeout);
    req.mutable_timeout()->set_seconds(ns / 1000000000);
    req.mutable_timeout()->set_nanos(static_cast<int32_t>(ns % 1000000000));
    daedalus::v1::PingResponse resp;
    sent++;
    grpc::Status st = diag->Ping(&ctx, req, &resp);
    if (!st.ok()) {
      int rc = RpcFailed(absl::StrFormat("seq=%d", seq).c_str(), st, err);
      // Without a daemon or a kernel link, more pings cannot help.
      if (rc == kExitDaemonDown || rc == kExitKernelLinkDown) return rc;
      if (exit_code == kExitOk) exit_code = rc;
      continue;
    }
    absl::Duration rtt = FromProto(resp.kernel_rtt());
    received++;
    min = std::min(min, rtt);
    max = std::max(max, rtt);
    sum += rtt;
    out << absl::StrFormat("reply from kernel: seq=%d cookie=0x%08x fifo=%d time=%s ms\n", seq,
                           resp.kernel_cookie(), resp.fifo_depth(), Millis(rtt));
  }
  out << "--- kernel ping statistics ---\n";
  out << absl::StrFormat("%d sent, %d received, %d%% lost\n", sent, received,
                         sent ? (sent - received) * 100 / sent : 0);
  if (received) {
    out << "rtt min/avg/max = " << Millis(min) << "/" << Millis(sum / received) << "/"
        << Millis(max) << " ms (measured in the kernel)\n";
  }
  return exit_code;
}

}  // namespace daedalus::cli
