// SPDX-License-Identifier: BSD-2-Clause

#include "control/metrics.h"

#include <exception>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "control/stats_snapshot.h"

namespace daedalus::control {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

class Families {
 public:
  MetricFamily& Add(std::string name, std::string help, MetricType type) {
    out_.push_back({std::move(name), std::move(help), type, {}});
    return out_.back();
  }
  void Counter(std::string name, std::string help, double value) {
    Add(std::move(name), std::move(help), MetricType::Counter).metric.push_back(CounterOf(value));
  }
  void Gauge(std::string name, std::string help, double value) {
    Add(std::move(name), std::move(help), MetricType::Gauge).metric.push_back(GaugeOf(value));
  }
  void Histogram(std::string name, std::string help, const daedalus::v1::Histogram& h) {
    ClientMetric m;
    m.histogram.sample_count = h.count();
    m.histogram.sample_sum = h.sum_seconds();
    for (int i = 0; i < h.bounds_seconds_size(); i++) {
      m.histogram.bucket.push_back({h.cumulative_counts(i), h.bounds_seconds(i)});
    }
    m.histogram.bucket.push_back({h.count(), std::numeric_limits<double>::infinity()});
    Add(std::move(name), std::move(help), MetricType::Histogram).metric.push_back(std::move(m));
  }
  std::vector<MetricFamily> Take() { return std::move(out_); }

  static ClientMetric CounterOf(double v, std::vector<ClientMetric::Label> labels = {}) {
    ClientMetric m;
    m.counter.value = v;
    m.label = std::move(labels);
    return m;
  }
  static ClientMetric GaugeOf(double v, std::vector<ClientMetric::Label> labels = {}) {
    ClientMetric m;
    m.gauge.value = v;
    m.label = std::move(labels);
    return m;
  }

 private:
  std::vector<MetricFamily> out_;
};

}  // namespace

std::vector<MetricFamily> StatsCollector::Collect() const {
  daedalus::v1::Stats s = TakeStatsSnapshot(backend_, started_, /*with_contexts=*/true);
  LinkStatus link = backend_.GetLinkStatus();
  const daedalus::v1::DecodeCounters& t = s.totals();
  // While the link is down the snapshot has no kernel counters; export
  // every kernel series at zero then, so none ever disappears.
  daedalus::v1::KernelCounters zero;
  FillKernelCounters(ddv_stats{}, &zero);
  const daedalus::v1::KernelCounters& k = s.has_kernel() ? s.kernel() : zero;
  Families f;

  // Which board this is: every label an operator groups a fleet by.
  MetricFamily& device =
      f.Add("daedalus_device_info",
            "Always 1; the labels say which board, kernel, module, protocol and FFmpeg this is.",
            MetricType::Gauge);
  device.metric.push_back(Families::GaugeOf(
      1, {{"board", info_.board.empty() ? "unknown" : info_.board},
          {"ffmpeg", info_.ffmpeg_version},
          {"kernel", info_.kernel_release.empty() ? "unknown" : info_.kernel_release},
          {"module_version", link.up ? link.module_version : "none"},
          {"protocol", link.up ? std::to_string(link.protocol_version) : "none"}}));
  f.Gauge("daedalus_device_cpus", "CPUs the daemon may run on.", info_.cpus);
  f.Gauge("daedalus_decode_parallelism",
          "Jobs the daemon decodes at the same time: the most that "
          "daedalus_decode_busy_seconds_total can grow per second (saturation at 1 per job).",
          info_.parallel_decodes);
  MetricFamily& build =
      f.Add("daedalus_build_info", "Always 1; the labels say which daedalusd and FFmpeg run here.",
            MetricType::Gauge);
  build.metric.push_back(
      Families::GaugeOf(1, {{"ffmpeg_version", info_.ffmpeg_version}, {"version", info_.version}}));
  f.Gauge("daedalus_start_time_seconds", "When daedalusd started, in seconds since the epoch.",
          absl::ToDoubleSeconds(started_ - absl::UnixEpoch()));
  f.Gauge("daedalus_kernel_link_up",
          "1 while the daemon holds the chardev and the kernel answered.", link.up ? 1 : 0);

  // Per codec: every codec the daemon announced has its series from the
  // start (zero when idle), so dashboards and alerts see no gaps; a codec
  // seen without being announced ("unknown") joins once it has counts.
  std::map<std::string, daedalus::v1::CodecStats> codecs;
  for (const CodecCapability& c : info_.codecs) {
    std::string name = absl::AsciiStrToLower(c.codec);
    codecs[name].set_codec(name);
    // Every error reason is present, zero or not, as in the totals.
    for (const auto& [reason, n] : t.errors())
      (*codecs[name].mutable_counters()->mutable_errors())[reason] = 0;
  }
  for (const daedalus::v1::CodecStats& c : s.codecs()) codecs[c.codec()] = c;
  auto per_codec = [&](std::string name, std::string help, MetricType type,
                       double (*value)(const daedalus::v1::CodecStats&)) {
    MetricFamily& family = f.Add(std::move(name), std::move(help), type);
    for (const auto& [codec, c] : codecs) {
      ClientMetric m = type == MetricType::Counter
                           ? Families::CounterOf(value(c), {{"codec", codec}})
                           : Families::GaugeOf(value(c), {{"codec", codec}});
      family.metric.push_back(std::move(m));
    }
  };
  using CS = daedalus::v1::CodecStats;
  per_codec("daedalus_jobs_total", "DECODE jobs answered, by codec.", MetricType::Counter,
            [](const CS& c) { return static_cast<double>(c.counters().jobs()); });
  per_codec("daedalus_frames_in_total", "Compressed frames (OUTPUT buffers) decoded, by codec.",
            MetricType::Counter,
            [](const CS& c) { return static_cast<double>(c.counters().frames_in()); });
  per_codec("daedalus_input_bytes_total", "Bytes of bitstream decoded, by codec.",
            MetricType::Counter,
            [](const CS& c) { return static_cast<double>(c.counters().bytes_in()); });
  per_codec("daedalus_frames_out_total", "Pictures written to CAPTURE buffers, by codec.",
            MetricType::Counter,
            [](const CS& c) { return static_cast<double>(c.counters().frames_out()); });
  per_codec("daedalus_frames_out_kernel_copied_total",
            "Of the pictures written, those the kernel copied into the client's buffer (USERPTR "
            "or DMABUF buffers, --kernel-copies, or a buffer the daemon could not map), by codec.",
            MetricType::Counter, [](const CS& c) {
              return static_cast<double>(c.counters().frames_out_kernel_copied());
            });
  per_codec("daedalus_output_bytes_total", "Bytes of CAPTURE buffers filled, by codec.",
            MetricType::Counter,
            [](const CS& c) { return static_cast<double>(c.counters().bytes_out()); });
  per_codec("daedalus_decode_busy_seconds_total",
            "Wall time the decoders spent decoding (inside libavcodec and writing pictures), by "
            "codec. Its rate is the utilisation in decoders busy (1 = one busy all the time).",
            MetricType::Counter, [](const CS& c) { return c.counters().busy_seconds(); });
  per_codec("daedalus_sessions", "Decoding sessions (V4L2 contexts) open now, by codec.",
            MetricType::Gauge,
            [](const CS& c) { return static_cast<double>(c.sessions_active()); });
  per_codec("daedalus_sessions_opened_total", "Decoding sessions started, by codec.",
            MetricType::Counter,
            [](const CS& c) { return static_cast<double>(c.sessions_opened()); });
  per_codec("daedalus_sessions_closed_total", "Decoding sessions ended, by codec.",
            MetricType::Counter,
            [](const CS& c) { return static_cast<double>(c.sessions_closed()); });
  per_codec("daedalus_stream_frames_per_second",
            "Pictures per second over the last seconds, summed over the sessions of each codec.",
            MetricType::Gauge, [](const CS& c) { return c.frames_per_second(); });
  MetricFamily& errors =
      f.Add("daedalus_decode_errors_total", "Frames returned in error, by codec and reason.",
            MetricType::Counter);
  MetricFamily& dropped =
      f.Add("daedalus_frames_dropped_total",
            "Frames that never reached a client, by codec and reason: flushed (decoded pictures a "
            "seek threw away), client_gone (jobs whose client left before the answer), resumed "
            "(pictures before the key frame where a stream resumed after a daemon restart).",
            MetricType::Counter);
  for (const auto& [codec, c] : codecs) {
    std::map<std::string, uint64_t> reasons(c.counters().errors().begin(),
                                            c.counters().errors().end());
    for (const auto& [reason, n] : reasons) {
      errors.metric.push_back(
          Families::CounterOf(static_cast<double>(n), {{"codec", codec}, {"reason", reason}}));
    }
    dropped.metric.push_back(
        Families::CounterOf(static_cast<double>(c.counters().pictures_flushed()),
                            {{"codec", codec}, {"reason", "flushed"}}));
    dropped.metric.push_back(Families::CounterOf(static_cast<double>(c.counters().jobs_dropped()),
                                                 {{"codec", codec}, {"reason", "client_gone"}}));
    dropped.metric.push_back(
        Families::CounterOf(static_cast<double>(c.counters().pictures_skipped()),
                            {{"codec", codec}, {"reason", "resumed"}}));
  }
  f.Counter("daedalus_flushes_total", "Seeks: FLUSH messages from the kernel.", t.flushes());
  f.Counter("daedalus_format_changes_total",
            "Stream formats announced: each stream's first and every resolution change.",
            t.format_changes());
  f.Counter("daedalus_contexts_opened_total", "Decoding contexts (V4L2 file handles) started.",
            s.contexts_opened());
  f.Counter("daedalus_contexts_closed_total", "Decoding contexts ended.", s.contexts_closed());
  f.Gauge("daedalus_contexts_active", "Decoding contexts now.", s.contexts_active());

  double output_queued = 0, capture_queued = 0, in_flight = 0, fps = 0;
  for (const daedalus::v1::ContextStats& c : s.contexts()) {
    output_queued += c.output_queued();
    capture_queued += c.capture_queued();
    in_flight += c.in_flight();
    fps += c.frames_per_second();
  }
  MetricFamily& queued =
      f.Add("daedalus_queued_buffers",
            "Buffers clients have queued, summed over contexts, by queue.", MetricType::Gauge);
  queued.metric.push_back(Families::GaugeOf(output_queued, {{"queue", "output"}}));
  queued.metric.push_back(Families::GaugeOf(capture_queued, {{"queue", "capture"}}));
  f.Gauge("daedalus_jobs_in_flight", "Jobs inside the daemon now.", in_flight);

  f.Histogram("daedalus_job_latency_seconds",
              "From the kernel submitting a DECODE job to the daemon answering it.",
              s.job_latency());
  f.Histogram("daedalus_decode_duration_seconds", "Time inside libavcodec per compressed frame.",
              s.decode_time());
  f.Histogram("daedalus_picture_write_duration_seconds",
              "Time to copy one picture into its CAPTURE buffer.", s.picture_write_time());

  f.Gauge("daedalus_kernel_fifo_depth", "Messages waiting in the kernel's request FIFO.",
          k.fifo_depth());
  f.Gauge("daedalus_kernel_fifo_high_water", "Deepest the kernel's request FIFO has been.",
          k.fifo_high_water());
  f.Gauge("daedalus_kernel_fifo_capacity", "Size of the kernel's request FIFO.", k.fifo_capacity());
  MetricFamily& msgs = f.Add("daedalus_kernel_messages_total", "Chardev messages, by direction.",
                             MetricType::Counter);
  msgs.metric.push_back(Families::CounterOf(k.msgs_to_daemon(), {{"direction", "to_daemon"}}));
  msgs.metric.push_back(Families::CounterOf(k.msgs_from_daemon(), {{"direction", "from_daemon"}}));
  MetricFamily& bytes = f.Add("daedalus_kernel_message_bytes_total",
                              "Chardev message bytes, by direction.", MetricType::Counter);
  bytes.metric.push_back(Families::CounterOf(k.bytes_to_daemon(), {{"direction", "to_daemon"}}));
  bytes.metric.push_back(
      Families::CounterOf(k.bytes_from_daemon(), {{"direction", "from_daemon"}}));
  MetricFamily& kerr = f.Add("daedalus_kernel_protocol_errors_total",
                             "Messages the kernel refused, by kind.", MetricType::Counter);
  for (const auto& [kind, n] : k.errors()) {
    kerr.metric.push_back(Families::CounterOf(static_cast<double>(n), {{"kind", kind}}));
  }
  f.Counter("daedalus_kernel_pings_total", "PINGs the kernel sent to the daemon.", k.pings_sent());
  f.Counter("daedalus_kernel_pings_timed_out_total", "Kernel PINGs the daemon never answered.",
            k.pings_timed_out());
  f.Counter("daedalus_kernel_daemon_attaches_total",
            "Daemons that opened the chardev since the module loaded (more than one: restarts).",
            k.daemon_attaches());
  f.Counter("daedalus_kernel_jobs_timed_out_total",
            "Decode jobs the daemon did not answer within the kernel's timeout.",
            k.jobs_timed_out());
  f.Counter("daedalus_kernel_streams_resumed_total",
            "A dead daemon's decoding sessions that the next daemon resumed (recoveries).",
            k.streams_resumed());
  f.Counter("daedalus_kernel_streams_failed_total",
            "Decoding sessions the kernel failed with EIO (daemon gone, job timed out, no format).",
            k.streams_failed());

  MetricFamily& cpu = f.Add("daedalus_process_cpu_seconds_total",
                            "CPU time daedalusd used, by mode.", MetricType::Counter);
  cpu.metric.push_back(Families::CounterOf(s.process().cpu_user_seconds(), {{"mode", "user"}}));
  cpu.metric.push_back(Families::CounterOf(s.process().cpu_system_seconds(), {{"mode", "system"}}));
  f.Gauge("daedalus_process_resident_memory_bytes", "Resident memory of daedalusd.",
          static_cast<double>(s.process().resident_bytes()));
  f.Gauge("daedalus_process_threads", "Threads of daedalusd.", s.process().threads());
  f.Gauge("daedalus_decode_frames_per_second",
          "Pictures per second over the last seconds, summed over contexts.", fps);
  return f.Take();
}

MetricsExporter::MetricsExporter(Backend& backend, DaemonInfo info, absl::Time started)
    : collector_(std::make_shared<StatsCollector>(backend, std::move(info), started)) {}

MetricsExporter::~MetricsExporter() = default;

absl::Status MetricsExporter::Start(const std::string& address) {
  try {
    // One thread: scrapes are rare and cheap; never a pool a scraper fills.
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrFormat("cannot serve /metrics on %s: %s", address, e.what()));
  }
  exposer_->RegisterCollectable(collector_);
  std::vector<int> ports = exposer_->GetListeningPorts();
  port_ = ports.empty() ? 0 : ports[0];
  return absl::OkStatus();
}

}  // namespace daedalus::control
