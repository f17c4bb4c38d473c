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

  MetricFamily& build =
      f.Add("daedalus_build_info", "Always 1; the labels say which daedalusd and FFmpeg run here.",
            MetricType::Gauge);
  build.metric.push_back(
      Families::GaugeOf(1, {{"ffmpeg_version", info_.ffmpeg_version}, {"version", info_.version}}));
  f.Gauge("daedalus_start_time_seconds", "When daedalusd started, in seconds since the epoch.",
          absl::ToDoubleSeconds(started_ - absl::UnixEpoch()));
  f.Gauge("daedalus_kernel_link_up",
          "1 while the daemon holds the chardev and the kernel answered.", link.up ? 1 : 0);

  f.Counter("daedalus_jobs_total", "DECODE jobs answered.", t.jobs());
  f.Counter("daedalus_jobs_dropped_total", "DECODE jobs whose client went away before the answer.",
            t.jobs_dropped());
  f.Counter("daedalus_frames_in_total", "Compressed frames (OUTPUT buffers) decoded.",
            t.frames_in());
  f.Counter("daedalus_input_bytes_total", "Bytes of VP9 bitstream decoded.", t.bytes_in());
  f.Counter("daedalus_frames_out_total", "Pictures written to CAPTURE buffers.", t.frames_out());
  f.Counter("daedalus_output_bytes_total", "Bytes of CAPTURE buffers filled.", t.bytes_out());
  MetricFamily& errors =
      f.Add("daedalus_decode_errors_total", "Decode errors by reason.", MetricType::Counter);
  for (const auto& [reason, n] : t.errors()) {
    errors.metric.push_back(Families::CounterOf(static_cast<double>(n), {{"reason", reason}}));
  }
  f.Counter("daedalus_flushes_total", "Seeks: FLUSH messages from the kernel.", t.flushes());
  f.Counter("daedalus_flushed_pictures_total", "Decoded pictures thrown away by seeks.",
            t.pictures_flushed());
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

  // Streams by codec: every codec the daemon announced has its series from
  // the start (zero when idle), so dashboards and alerts see no gaps.
  std::map<std::string, double> streams, codec_fps;
  for (const CodecCapability& c : info_.codecs) {
    std::string name = absl::AsciiStrToLower(c.codec);
    streams[name] = 0;
    codec_fps[name] = 0;
  }
  for (const daedalus::v1::ContextStats& c : s.contexts()) {
    if (c.codec().empty()) continue;
    streams[c.codec()] += 1;
    codec_fps[c.codec()] += c.frames_per_second();
  }
  MetricFamily& by_codec =
      f.Add("daedalus_streams", "Decoding contexts now, by codec.", MetricType::Gauge);
  for (const auto& [codec, n] : streams) {
    by_codec.metric.push_back(Families::GaugeOf(n, {{"codec", codec}}));
  }
  MetricFamily& fps_by_codec =
      f.Add("daedalus_stream_frames_per_second",
            "Pictures per second over the last seconds, summed over the streams of each codec.",
            MetricType::Gauge);
  for (const auto& [codec, n] : codec_fps) {
    fps_by_codec.metric.push_back(Families::GaugeOf(n, {{"codec", codec}}));
  }

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
