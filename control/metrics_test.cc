// SPDX-License-Identifier: BSD-2-Clause
//
// /metrics over real HTTP: names, types, zero-initialised series, values
// from the backend's snapshot.

#include "control/metrics.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "control/testing/fake_backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daedalus::control {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  return resp;
}

TEST(MetricsTest, ServesEverySeriesWithConventionalNames) {
  FakeBackend backend;
  MetricsExporter metrics(backend, TestDaemonInfo("9.9.9", "Lavc-test", 2), absl::Now());
  ASSERT_TRUE(metrics.Start("127.0.0.1:0").ok());
  ASSERT_GT(metrics.port(), 0);
  std::string text = HttpGet(metrics.port(), "/metrics");
  EXPECT_THAT(text, HasSubstr("200 OK"));
  // Sessions by codec: the fake's one H.264 context, and VP9 at zero.
  EXPECT_THAT(text, HasSubstr("# TYPE daedalus_sessions gauge"));
  EXPECT_THAT(text, HasSubstr("daedalus_sessions{codec=\"h264\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_sessions{codec=\"vp9\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_sessions_opened_total{codec=\"h264\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_sessions_closed_total{codec=\"h264\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_stream_frames_per_second{codec=\"h264\"}"));
  EXPECT_THAT(text, HasSubstr("# TYPE daedalus_decode_busy_seconds_total counter"));
  EXPECT_THAT(text, HasSubstr("daedalus_decode_busy_seconds_total{codec=\"h264\"} 2.5\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_decode_busy_seconds_total{codec=\"vp9\"} 0\n"));
  EXPECT_THAT(text,
              HasSubstr("daedalus_frames_dropped_total{codec=\"h264\",reason=\"flushed\"} 3"));
  EXPECT_THAT(text,
              HasSubstr("daedalus_frames_dropped_total{codec=\"vp9\",reason=\"client_gone\"} 0"));
  EXPECT_THAT(text, HasSubstr("# TYPE daedalus_device_info gauge"));
  EXPECT_THAT(text,
              HasSubstr("daedalus_device_info{board=\"Fake Board Rev 1.0\",ffmpeg=\"Lavc-test\","
                        "kernel=\"6.12.0-fake\",module_version=\"0.1.0\",protocol=\"1\"} 1"));
  EXPECT_THAT(text, HasSubstr("daedalus_device_cpus 4\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_decode_parallelism 1\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_kernel_daemon_attaches_total 2\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_kernel_jobs_timed_out_total 1\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_kernel_streams_failed_total 1\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_kernel_streams_resumed_total 1\n"));
  EXPECT_THAT(text,
              HasSubstr("daedalus_frames_dropped_total{codec=\"h264\",reason=\"resumed\"} 0"));
  EXPECT_THAT(text, HasSubstr("# TYPE daedalus_build_info gauge"));
  EXPECT_THAT(text,
              HasSubstr("daedalus_build_info{ffmpeg_version=\"Lavc-test\",version=\"9.9.9\"} 1"));
  EXPECT_THAT(text, HasSubstr("# TYPE daedalus_frames_out_total counter"));
  EXPECT_THAT(text, HasSubstr("daedalus_frames_out_total{codec=\"h264\"} 9\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_frames_out_total{codec=\"vp9\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE daedalus_frames_out_kernel_copied_total counter"));
  EXPECT_THAT(text, HasSubstr("daedalus_frames_out_kernel_copied_total{codec=\"h264\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr("daedalus_decode_errors_total{codec=\"h264\",reason=\"corrupt_bitstream\"} 1"));
  // Every reason of every announced codec, from the start.
  EXPECT_THAT(text,
              HasSubstr("daedalus_decode_errors_total{codec=\"vp9\",reason=\"decoder_setup\"} 0"));
  EXPECT_THAT(text, HasSubstr("daedalus_kernel_link_up 1"));
  EXPECT_THAT(text, HasSubstr("daedalus_kernel_fifo_depth 2"));
  EXPECT_THAT(text, HasSubstr("daedalus_kernel_protocol_errors_total{kind=\"bad_magic\"} 1"));
  EXPECT_THAT(text, HasSubstr("daedalus_queued_buffers{queue=\"capture\"} 4"));
  // Histograms exist, zero, with every bucket, before any job.
  EXPECT_THAT(text, HasSubstr("# TYPE daedalus_job_latency_seconds histogram"));
  EXPECT_THAT(text, HasSubstr("daedalus_job_latency_seconds_bucket{le=\"0.0005\"} 0"));
  EXPECT_THAT(text, HasSubstr("daedalus_job_latency_seconds_bucket{le=\"+Inf\"} 0"));
  EXPECT_THAT(text, HasSubstr("daedalus_job_latency_seconds_count 0"));
  EXPECT_THAT(text, HasSubstr("daedalus_process_resident_memory_bytes"));
  EXPECT_THAT(text, Not(HasSubstr("_total_total")));
  EXPECT_THAT(text, Not(HasSubstr("host=")));
}

TEST(MetricsTest, KernelSeriesStayWhileTheLinkIsDown) {
  FakeBackend backend;
  backend.link = {false, "/dev/daedalus-v4l2", 0, "", "down"};
  MetricsExporter metrics(backend, {"9.9.9", "Lavc-test", 1}, absl::Now());
  ASSERT_TRUE(metrics.Start("127.0.0.1:0").ok());
  std::string text = HttpGet(metrics.port(), "/metrics");
  EXPECT_THAT(text, HasSubstr("daedalus_kernel_link_up 0"));
  EXPECT_THAT(text, HasSubstr("daedalus_kernel_fifo_depth 0"));
  EXPECT_THAT(text, HasSubstr("daedalus_kernel_protocol_errors_total{kind=\"fifo_full\"} 0"));
  EXPECT_THAT(text, HasSubstr("daedalus_kernel_jobs_timed_out_total 0"));
  EXPECT_THAT(text, HasSubstr("module_version=\"none\",protocol=\"none\"} 1"));
}

TEST(MetricsTest, ABusyPortIsAClearError) {
  FakeBackend backend;
  MetricsExporter first(backend, {}, absl::Now());
  ASSERT_TRUE(first.Start("127.0.0.1:0").ok());
  MetricsExporter second(backend, {}, absl::Now());
  absl::Status st = second.Start("127.0.0.1:" + std::to_string(first.port()));
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("cannot serve /metrics on 127.0.0.1:"));
}

}  // namespace
}  // namespace daedalus::control
