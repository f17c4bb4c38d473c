// SPDX-License-Identifier: BSD-2-Clause

#include "cli/commands.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "control/proto_time.h"
#include "daedalus/v1/diagnostics.grpc.pb.h"
#include "daedalus/v1/status.grpc.pb.h"

namespace daedalus::cli {
namespace {

std::string Ms3(absl::Duration d) { return absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(d)); }

std::string Uptime(const google::protobuf::Duration& d) { return Age(d.seconds()); }

std::string KernelCountersText(const daedalus::v1::KernelCounters& c) {
  std::string out;
  out += absl::StrFormat("fifo:          depth %d/%d, high-water %d\n", c.fifo_depth(),
                         c.fifo_capacity(), c.fifo_high_water());
  out += absl::StrFormat("messages:      %d to daemon (%d bytes), %d from daemon (%d bytes)\n",
                         c.msgs_to_daemon(), c.bytes_to_daemon(), c.msgs_from_daemon(),
                         c.bytes_from_daemon());
  out += absl::StrFormat("pings:         %d sent, %d answered, %d timed out\n", c.pings_sent(),
                         c.pongs_matched(), c.pings_timed_out());
  // Sorted, and only the kinds that happened.
  std::map<std::string, uint64_t> errors(c.errors().begin(), c.errors().end());
  std::vector<std::string> seen;
  for (const auto& [kind, n] : errors) {
    if (n) seen.push_back(absl::StrFormat("%s=%d", kind, n));
  }
  out += "kernel errors: " + (seen.empty() ? std::string("none") : absl::StrJoin(seen, " ")) + "\n";
  return out;
}

std::string ErrorsText(const daedalus::v1::DecodeCounters& c) {
  std::map<std::string, uint64_t> errors(c.errors().begin(), c.errors().end());
  std::vector<std::string> parts;
  for (const auto& [reason, n] : errors) parts.push_back(absl::StrFormat("%s=%d", reason, n));
  return parts.empty() ? "none" : absl::StrJoin(parts, " ");
}

std::string SizeText(const daedalus::v1::ContextStats& c) {
  if (c.width() == 0) return "-";
  return absl::StrFormat("%dx%d %s %d-bit", c.width(), c.height(), c.chroma(), c.bit_depth());
}

std::vector<std::string> ContextRow(const daedalus::v1::ContextStats& c) {
  return {absl::StrFormat("%d", c.id()),
          c.codec().empty() ? "-" : c.codec(),
          SizeText(c),
          absl::StrFormat("%.1f", c.frames_per_second()),
          absl::StrFormat("%d", c.output_queued()),
          absl::StrFormat("%d", c.capture_queued()),
          absl::StrFormat("%d", c.in_flight()),
          absl::StrFormat("%d", c.counters().frames_out()),
          absl::StrFormat("%d", ErrorSum(c.counters())),
          Age(c.age().seconds())};
}

// Decoders busy now: the codecs' utilisation summed.
double Utilisation(const daedalus::v1::Stats& s) {
  double u = 0;
  for (const auto& c : s.codecs()) u += c.utilisation();
  return u;
}

// One row per codec the daemon has seen.
std::string CodecTable(const daedalus::v1::Stats& s) {
  std::vector<Result> rows;
  for (const auto& c : s.codecs()) {
    const auto& n = c.counters();
    Result row;
    row.endpoint = c.codec();
    row.row = {
        absl::StrFormat("%d", c.sessions_active()),
        absl::StrFormat("%d", c.sessions_opened()),
        absl::StrFormat("%d", n.frames_in()),
        absl::StrFormat("%d", n.frames_out()),
        absl::StrFormat("%.1f", c.frames_per_second()),
        absl::StrFormat("%.2f", c.utilisation()),
        absl::StrFormat("%.1f", n.busy_seconds()),
        absl::StrFormat("%d", ErrorSum(n)),
        absl::StrFormat("%d", n.pictures_flushed() + n.jobs_dropped() + n.pictures_skipped())};
    rows.push_back(row);
  }
  std::ostringstream table;
  PrintTable({"CODEC", "SESSIONS", "OPENED", "FRAMES_IN", "FRAMES_OUT", "FPS", "UTIL", "BUSY_S",
              "ERRORS", "DROPPED"},
             rows, table);
  return table.str();
}

const std::vector<std::string> kContextHeader = {
    "ID", "CODEC", "FORMAT", "FPS", "OUT_Q", "CAP_Q", "IN_FLIGHT", "FRAMES_OUT", "ERRORS", "AGE"};

// One unary RPC of the Status service under the command's deadline: a failed
// call gives the Result that reports it, a good one nullopt.
//   daedalus::v1::Stats s;
//   if (auto failed = CallStatus(o, e, ch, "GetStats", &StatusStub::GetStats, {}, &s))
//     return *failed;
using StatusStub = daedalus::v1::Status::Stub;
template <typename Request, typename Response>
std::optional<Result> CallStatus(const Options& o, const Endpoint& e,
                                 const std::shared_ptr<grpc::Channel>& ch, const char* rpc,
                                 grpc::Status (StatusStub::*method)(grpc::ClientContext*,
                                                                    const Request&, Response*),
                                 const Request& request, Response* response) {
  std::unique_ptr<StatusStub> stub = daedalus::v1::Status::NewStub(ch);
  grpc::ClientContext ctx;
  SetDeadline(ctx, o.command_timeout);
  if (grpc::Status st = (stub.get()->*method)(&ctx, request, response); !st.ok()) {
    return RpcFailure(e.name, rpc, st);
  }
  return std::nullopt;
}

}  // namespace

int RunStatus(const Options& o, std::ostream& out, std::ostream& err) {
  auto results = FanOut(o, [&](const Endpoint& e, const std::shared_ptr<grpc::Channel>& ch) {
    daedalus::v1::GetStatusResponse resp;
    if (auto failed = CallStatus(o, e, ch, "GetStatus", &StatusStub::GetStatus, {}, &resp)) {
      return *failed;
    }
    const daedalus::v1::KernelLink& k = resp.kernel();
    bool up = k.state() == daedalus::v1::KernelLink::UP;
    Result r;
    r.json = ToJson(resp);
    if (!up) {
      r.exit_code = kExitKernelLinkDown;
      r.error = "no kernel link: " + k.detail();
    }
    const auto& kc = resp.kernel_counters();
    r.row = {resp.daemon_version(),
             Uptime(resp.uptime()),
             up ? "up" : "DOWN",
             up ? k.module_version() : "-",
             up ? absl::StrFormat("%d/%d", kc.fifo_depth(), kc.fifo_capacity()) : "-",
             resp.build().architecture()};
    std::string& d = r.detail;
    d += absl::StrFormat("daemon:        daedalusd %s at %s, up %s\n", resp.daemon_version(),
                         e.target, Uptime(resp.uptime()));
    if (up) {
      d += absl::StrFormat("kernel link:   up, %s, protocol v%d, module %s\n", k.device(),
                           k.protocol_version(), k.module_version());
    } else {
      d += absl::StrFormat("kernel link:   DOWN, %s: %s\n", k.device(), k.detail());
    }
    if (resp.has_kernel_counters()) d += KernelCountersText(resp.kernel_counters());
    if (resp.has_device()) {
      d += absl::StrFormat("device:        %s, kernel %s, %d CPUs\n", resp.device().board(),
                           resp.device().kernel_release(), resp.device().cpus());
    }
    const auto& caps = resp.capabilities();
    d +=
        absl::StrFormat("decodes:       %s to %s, up to %dx%d, %d thread(s) per stream\n",
                        absl::StrJoin(caps.codecs(), ","), absl::StrJoin(caps.pixel_formats(), ","),
                        caps.max_width(), caps.max_height(), caps.decoder_threads());
    for (const auto& c : caps.codec_details()) {
      d += absl::StrFormat("  %-5s        profiles %s; %s; up to %dx%d, %d thread(s)\n", c.codec(),
                           absl::StrJoin(c.profiles(), ", "), absl::StrJoin(c.pixel_formats(), ","),
                           c.max_width(), c.max_height(), c.frame_threads());
    }
    d += absl::StrFormat("built with:    %s, %s, gRPC %s, protobuf %s\n", resp.ffmpeg_version(),
                         resp.build().compiler(), resp.build().grpc_version(),
                         resp.build().protobuf_version());
    return r;
  });
  return PrintResults(o, {"ENDPOINT", "VERSION", "UPTIME", "LINK", "MODULE", "FIFO", "ARCH"},
                      results, out, err);
}

int RunStats(const Options& o, std::ostream& out, std::ostream& err) {
  auto results = FanOut(o, [&](const Endpoint& e, const std::shared_ptr<grpc::Channel>& ch) {
    daedalus::v1::Stats s;
    if (auto failed = CallStatus(o, e, ch, "GetStats", &StatusStub::GetStats, {}, &s)) {
      return *failed;
    }
    const auto& t = s.totals();
    double fps = 0;
    for (const auto& c : s.contexts()) fps += c.frames_per_second();
    Result r;
    r.json = ToJson(s);
    r.row = {absl::StrFormat("%d", t.frames_in()),
             absl::StrFormat("%d", t.frames_out()),
             absl::StrFormat("%.1f", fps),
             absl::StrFormat("%.2f", Utilisation(s)),
             absl::StrFormat("%d", ErrorSum(t)),
             absl::StrFormat("%d", s.contexts_active()),
             Millis(HistogramQuantile(s.job_latency(), 0.5)),
             Millis(HistogramQuantile(s.job_latency(), 0.99)),
             s.has_kernel()
                 ? absl::StrFormat("%d/%d", s.kernel().fifo_depth(), s.kernel().fifo_high_water())
                 : "-",
             Bytes(s.process().resident_bytes())};
    std::string& d = r.detail;
    d += absl::StrFormat("frames:        %d in (%s), %d out (%s), %.1f/s now\n", t.frames_in(),
                         Bytes(t.bytes_in()), t.frames_out(), Bytes(t.bytes_out()), fps);
    d += absl::StrFormat(
        "utilisation:   %.2f decoders busy over the last seconds; %.1f s busy in all\n",
        Utilisation(s), t.busy_seconds());
    d += absl::StrFormat("jobs:          %d answered, %d dropped (client gone)\n", t.jobs(),
                         t.jobs_dropped());
    d += "decode errors: " + ErrorsText(t) + "\n";
    d += absl::StrFormat("seeks:         %d flushes, %d pictures dropped; %d format changes\n",
                         t.flushes(), t.pictures_flushed(), t.format_changes());
    d += absl::StrFormat("contexts:      %d active, %d opened, %d closed\n", s.contexts_active(),
                         s.contexts_opened(), s.contexts_closed());
    d += absl::StrFormat("job latency:   p50 %s, p99 %s (%d jobs; kernel submit -> done)\n",
                         Millis(HistogramQuantile(s.job_latency(), 0.5)),
                         Millis(HistogramQuantile(s.job_latency(), 0.99)), s.job_latency().count());
    d += absl::StrFormat("decode time:   p50 %s, p99 %s (libavcodec, per frame)\n",
                         Millis(HistogramQuantile(s.decode_time(), 0.5)),
                         Millis(HistogramQuantile(s.decode_time(), 0.99)));
    d += absl::StrFormat(
        "picture copy:  p50 %s, p99 %s (into the CAPTURE buffer; %d of %d pictures copied by the "
        "kernel)\n",
        Millis(HistogramQuantile(s.picture_write_time(), 0.5)),
        Millis(HistogramQuantile(s.picture_write_time(), 0.99)), t.frames_out_kernel_copied(),
        t.frames_out());
    if (s.has_kernel()) {
      d += absl::StrFormat("kernel fifo:   depth %d/%d, high-water %d\n", s.kernel().fifo_depth(),
                           s.kernel().fifo_capacity(), s.kernel().fifo_high_water());
      d += absl::StrFormat(
          "kernel:        %d jobs timed out, %d streams failed, %d daemon attaches, %d streams "
          "resumed\n",
          s.kernel().jobs_timed_out(), s.kernel().streams_failed(), s.kernel().daemon_attaches(),
          s.kernel().streams_resumed());
    } else {
      d += "kernel fifo:   - (kernel link down)\n";
    }
    d += absl::StrFormat("process:       cpu %.2fs user %.2fs system, rss %s, %d threads\n",
                         s.process().cpu_user_seconds(), s.process().cpu_system_seconds(),
                         Bytes(s.process().resident_bytes()), s.process().threads());
    if (s.codecs_size() > 0) d += "\n" + CodecTable(s);
    if (s.contexts_size() > 0) {
      std::vector<Result> rows;
      for (const auto& c : s.contexts()) {
        Result row;
        std::vector<std::string> cells = ContextRow(c);
        row.endpoint = cells[0];
        row.row.assign(cells.begin() + 1, cells.end());
        rows.push_back(row);
      }
      std::ostringstream table;
      PrintTable(kContextHeader, rows, table);
      d += "\n" + table.str();
    }
    return r;
  });
  return PrintResults(o,
                      {"ENDPOINT", "FRAMES_IN", "FRAMES_OUT", "FPS", "UTIL", "ERRORS", "CONTEXTS",
                       "LAT_P50", "LAT_P99", "FIFO/HWM", "RSS"},
                      results, out, err);
}

int RunContexts(const Options& o, std::ostream& out, std::ostream& err) {
  std::vector<std::string> header = {"ENDPOINT"};
  header.insert(header.end(), kContextHeader.begin(), kContextHeader.end());
  // One row per context: the per-endpoint results are expanded below.
  std::vector<daedalus::v1::ListContextsResponse> lists(std::max<size_t>(1, o.endpoints.size()));
  auto results = FanOut(o, [&](const Endpoint& e, const std::shared_ptr<grpc::Channel>& ch) {
    daedalus::v1::ListContextsResponse resp;
    if (auto failed = CallStatus(o, e, ch, "ListContexts", &StatusStub::ListContexts, {}, &resp)) {
      return *failed;
    }
    Result r;
    r.json = ToJson(resp);
    for (const auto& c : resp.contexts()) {
      std::vector<std::string> cells = ContextRow(c);
      r.detail += absl::StrJoin(cells, "\t") + "\n";  // carried to the table below
    }
    return r;
  });
  if (o.output == OutputFormat::kJson) {
    PrintJson(results, out);
    return CombinedExitCode(results);
  }
  std::vector<Result> rows;
  for (const Result& r : results) {
    if (r.exit_code != 0) {
      rows.push_back(r);
      continue;
    }
    std::istringstream lines(r.detail);
    std::string line;
    while (std::getline(lines, line)) {
      Result row;
      row.endpoint = r.endpoint;
      std::istringstream cells(line);
      std::string cell;
      while (std::getline(cells, cell, '\t')) row.row.push_back(cell);
      rows.push_back(row);
    }
  }
  PrintTable(header, rows, out);
  for (const Result& r : results) {
    if (!r.error.empty()) err << "daedalusctl: " << r.endpoint << ": " << r.error << "\n";
  }
  return CombinedExitCode(results);
}

int RunWatch(const Options& o, const WatchOptions& w, std::ostream& out, std::ostream& err) {
  absl::Mutex out_mu;
  bool json = o.output == OutputFormat::kJson;
  if (!json) {
    out << absl::StrFormat("%-8s  %-24s  %10s  %7s  %5s  %6s  %8s  %9s  %9s  %s\n", "TIME",
                           "ENDPOINT", "FRAMES_OUT", "FPS", "UTIL", "ERRORS", "CONTEXTS", "LAT_P50",
                           "FIFO/HWM", "BY_CODEC");
    out.flush();
  }
  auto results = FanOut(o, [&](const Endpoint& e, const std::shared_ptr<grpc::Channel>& ch) {
    auto stub = daedalus::v1::Status::NewStub(ch);
    grpc::ClientContext ctx;
    if (w.count > 0) {
      // The stream ends by itself: bound it by what it needs, plus margin.
      SetDeadline(ctx, w.interval * w.count + o.command_timeout);
    }
    daedalus::v1::WatchStatsRequest req;
    control::ToProto(w.interval, req.mutable_interval());
    req.set_count(static_cast<uint32_t>(w.count));
    auto reader = stub->WatchStats(&ctx, req);
    daedalus::v1::Stats s;
    uint64_t last_frames = 0;
    double last_busy = 0;
    absl::Time last_time;
    bool first = true;
    while (reader->Read(&s)) {
      absl::Time taken = control::FromProto(s.taken_at());
      // Both rates over the interval between two snapshots; the first
      // snapshot has the daemon's own recent utilisation.
      double fps = 0, util = Utilisation(s);
      if (!first && taken > last_time) {
        double seconds = absl::ToDoubleSeconds(taken - last_time);
        fps = static_cast<double>(s.totals().frames_out() - last_frames) / seconds;
        util = (s.totals().busy_seconds() - last_busy) / seconds;
      }
      first = false;
      last_frames = s.totals().frames_out();
      last_busy = s.totals().busy_seconds();
      last_time = taken;
      // The codecs with open sessions: "h264:2 vp9:1".
      std::vector<std::string> by_codec;
      for (const auto& c : s.codecs()) {
        if (c.sessions_active() > 0)
          by_codec.push_back(absl::StrFormat("%s:%d", c.codec(), c.sessions_active()));
      }
      absl::MutexLock lock(&out_mu);
      if (json) {
        out << "{\"endpoint\": " << JsonString(e.name) << ", \"stats\": " << ToJson(s) << "}\n";
      } else {
        out << absl::StrFormat("%-8s  %-24s  %10d  %7.1f  %5.2f  %6d  %8d  %9s  %9s  %s\n",
                               absl::FormatTime("%H:%M:%S", taken, absl::LocalTimeZone()), e.name,
                               s.totals().frames_out(), fps, util, ErrorSum(s.totals()),
                               s.contexts_active(), Millis(HistogramQuantile(s.job_latency(), 0.5)),
                               s.has_kernel() ? absl::StrFormat("%d/%d", s.kernel().fifo_depth(),
                                                                s.kernel().fifo_high_water())
                                              : "-",
                               by_codec.empty() ? "-" : absl::StrJoin(by_codec, " "));
      }
      out.flush();
    }
    grpc::Status st = reader->Finish();
    if (!st.ok()) return RpcFailure(e.name, "WatchStats", st);
    return Result{};
  });
  for (const Result& r : results) {
    if (!r.error.empty()) err << "daedalusctl: " << r.endpoint << ": " << r.error << "\n";
  }
  return CombinedExitCode(results);
}

int RunPing(const Options& o, const PingOptions& p, std::ostream& out, std::ostream& err) {
  bool single = o.endpoints.size() <= 1 && o.output == OutputFormat::kTable;
  auto results = FanOut(o, [&](const Endpoint& e, const std::shared_ptr<grpc::Channel>& ch) {
    auto diag = daedalus::v1::Diagnostics::NewStub(ch);
    if (single) out << "PING kernel through daedalusd at " << e.target << "\n";
    int sent = 0, received = 0;
    absl::Duration min = absl::InfiniteDuration(), max = absl::ZeroDuration(),
                   sum = absl::ZeroDuration();
    std::vector<std::string> rtts_ms;
    Result r;
    for (int seq = 1; p.count <= 0 || seq <= p.count; seq++) {
      if (seq > 1) absl::SleepFor(p.interval);
      grpc::ClientContext ctx;
      // The daemon waits reply_timeout for the kernel; allow for the RPC itself.
      SetDeadline(ctx, p.reply_timeout + o.command_timeout);
      daedalus::v1::PingRequest req;
      control::ToProto(p.reply_timeout, req.mutable_timeout());
      daedalus::v1::PingResponse resp;
      sent++;
      grpc::Status st = diag->Ping(&ctx, req, &resp);
      if (!st.ok()) {
        Result f = RpcFailure(e.name, absl::StrFormat("seq=%d", seq).c_str(), st);
        if (single) err << "daedalusctl: " << f.error << "\n";
        if (r.exit_code == kExitOk) r = f;
        // Without a daemon, a kernel link or permission, more pings cannot help.
        if (f.exit_code == kExitDaemonDown || f.exit_code == kExitKernelLinkDown ||
            f.exit_code == kExitDenied) {
          break;
        }
        continue;
      }
      absl::Duration rtt = control::FromProto(resp.kernel_rtt());
      received++;
      min = std::min(min, rtt);
      max = std::max(max, rtt);
      sum += rtt;
      rtts_ms.push_back(Ms3(rtt));
      if (single) {
        out << absl::StrFormat("reply from kernel: seq=%d cookie=0x%08x fifo=%d time=%s ms\n", seq,
                               resp.kernel_cookie(), resp.fifo_depth(), Ms3(rtt));
        out.flush();
      }
    }
    std::string avg = received ? Ms3(sum / received) : "-";
    r.json = absl::StrFormat(
        "{\"sent\": %d, \"received\": %d, \"rtt_ms\": [%s], \"min_ms\": %s, \"avg_ms\": %s, "
        "\"max_ms\": %s}",
        sent, received, absl::StrJoin(rtts_ms, ", "), received ? Ms3(min) : "null",
        received ? avg : "null", received ? Ms3(max) : "null");
    r.row = {absl::StrFormat("%d", sent),
             absl::StrFormat("%d", received),
             absl::StrFormat("%d%%", sent ? (sent - received) * 100 / sent : 0),
             received ? Ms3(min) : "-",
             avg,
             received ? Ms3(max) : "-"};
    if (!r.error.empty() && !single) r.row.push_back(r.error);
    std::string& d = r.detail;
    d += "--- kernel ping statistics ---\n";
    d += absl::StrFormat("%d sent, %d received, %d%% lost\n", sent, received,
                         sent ? (sent - received) * 100 / sent : 0);
    if (received) {
      d += "rtt min/avg/max = " + Ms3(min) + "/" + avg + "/" + Ms3(max) +
           " ms (measured in the kernel)\n";
    }
    if (single) r.error.clear();  // already printed per ping
    return r;
  });
  if (single && results[0].detail.empty()) {
    err << "daedalusctl: " << results[0].error << "\n";
    return results[0].exit_code;
  }
  if (single) {
    out << results[0].detail;
    return results[0].exit_code;
  }
  return PrintResults(o, {"ENDPOINT", "SENT", "RECEIVED", "LOSS", "MIN_MS", "AVG_MS", "MAX_MS"},
                      results, out, err);
}

int RunVersion(const Options& o, const std::string& client_version, std::ostream& out,
               std::ostream& err) {
  auto results = FanOut(o, [&](const Endpoint& e, const std::shared_ptr<grpc::Channel>& ch) {
    daedalus::v1::GetStatusResponse resp;
    if (auto failed = CallStatus(o, e, ch, "GetStatus", &StatusStub::GetStatus, {}, &resp)) {
      return *failed;
    }
    const auto& k = resp.kernel();
    Result r;
    r.json = absl::StrFormat(
        "{\"daemon\": %s, \"module\": %s, \"protocol\": %d, \"ffmpeg\": %s, \"grpc\": %s}",
        JsonString(resp.daemon_version()), JsonString(k.module_version()), k.protocol_version(),
        JsonString(resp.ffmpeg_version()), JsonString(resp.build().grpc_version()));
    r.row = {resp.daemon_version(), k.module_version().empty() ? "-" : k.module_version(),
             k.protocol_version() ? absl::StrFormat("%d", k.protocol_version()) : "-",
             resp.ffmpeg_version()};
    return r;
  });
  if (o.output == OutputFormat::kTable) out << "daedalusctl " << client_version << "\n";
  return PrintResults(o, {"ENDPOINT", "DAEMON", "MODULE", "PROTOCOL", "FFMPEG"}, results, out, err);
}

}  // namespace daedalus::cli
