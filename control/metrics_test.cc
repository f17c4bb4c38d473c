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
  // Streams by codec: the fake's one H.264 context, and VP9 at zero.
  EXPECT_THAT(text, HasSubstr("daedalus_streams{codec=\"h264\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_streams{codec=\"vp9\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_stream_frames_per_second{codec=\"h264\"}"));
  EXPECT_THAT(text, HasSubstr("# TYPE daedalus_build_info gauge"));
  EXPECT_THAT(text,
              HasSubstr("daedalus_build_info{ffmpeg_version=\"Lavc-test\",version=\"9.9.9\"} 1"));
  EXPECT_THAT(text, HasSubstr("# TYPE daedalus_frames_out_total counter"));
  EXPECT_THAT(text, HasSubstr("daedalus_frames_out_total 9\n"));
  EXPECT_THAT(text, HasSubstr("daedalus_decode_errors_total{reason=\"corrupt_bitstream\"} 1"));
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
