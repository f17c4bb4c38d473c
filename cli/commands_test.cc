// SPDX-License-Identifier: BSD-2-Clause
//
// daedalusctl's commands against real ControlServers on unix sockets: what
// they print, the JSON they emit, and the exit code for each failure, for
// one endpoint and for several.

#include "cli/commands.h"

#include <sstream>

#include "cli/exit_codes.h"
#include "cli/output.h"
#include "control/server.h"
#include "control/testing/fake_backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daedalus::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = control::TestSocketPath("cli.sock");
    options_.endpoints = {socket_};
    options_.dial_timeout = absl::Seconds(2);
    server_ = std::make_unique<control::ControlServer>(
        control::ControlServer::Options{socket_, "no-such-group"}, backend_,
        control::TestDaemonInfo("0.1.0", "Lavc-test", 2));
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(1));
  }

  control::FakeBackend backend_;
  std::unique_ptr<control::ControlServer> server_;
  std::string socket_;
  Options options_;
  std::ostringstream out_, err_;
};

TEST_F(CommandsTest, StatusPrintsLinkCountersAndBuild) {
  EXPECT_EQ(RunStatus(options_, out_, err_), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("daemon:        daedalusd 0.1.0 at unix:"));
  EXPECT_THAT(out_.str(),
              HasSubstr("kernel link:   up, /dev/daedalus-v4l2, protocol v1, module 0.1.0"));
  EXPECT_THAT(out_.str(), HasSubstr("fifo:          depth 2/64, high-water 5"));
  EXPECT_THAT(out_.str(), HasSubstr("kernel errors: bad_magic=1\n"));
  EXPECT_THAT(out_.str(),
              HasSubstr("device:        Fake Board Rev 1.0, kernel 6.12.0-fake, 4 CPUs\n"));
  EXPECT_THAT(
      out_.str(),
      HasSubstr("decodes:       H264,VP9 to NV12,P010,YUV420, up to 4096x2304, 2 thread(s)"));
  EXPECT_THAT(out_.str(), HasSubstr("  H264         profiles Main, High; YUV420,NV12,P010; up to "
                                    "4096x2304, 2 thread(s)\n"));
  EXPECT_THAT(out_.str(), HasSubstr("built with:    Lavc-test, "));
}

TEST_F(CommandsTest, StatusWithLinkDownExits4) {
  backend_.link = {false, "/dev/daedalus-v4l2", 0, "", "is the module loaded?"};
  EXPECT_EQ(RunStatus(options_, out_, err_), kExitKernelLinkDown);
  EXPECT_THAT(out_.str(),
              HasSubstr("kernel link:   DOWN, /dev/daedalus-v4l2: is the module loaded?"));
}

TEST_F(CommandsTest, FleetStatusHasARowPerEndpointAndFailsForTheDeadOne) {
  options_.endpoints = {socket_, "/nonexistent/d.sock", socket_};
  options_.dial_timeout = absl::Milliseconds(300);
  EXPECT_EQ(RunStatus(options_, out_, err_), kExitDaemonDown);
  std::string text = out_.str();
  EXPECT_THAT(text, MatchesRegex("ENDPOINT +VERSION +UPTIME +LINK +MODULE +FIFO +ARCH\n"
                                 ".*cli.sock +0.1.0 +[0-9]+s +up +0.1.0 +2/64 +[a-z0-9_]+\n"
                                 "/nonexistent/d.sock +ERROR: daedalusd is not running.*\n"
                                 ".*cli.sock +0.1.0 .*\n"));
  EXPECT_THAT(err_.str(), HasSubstr("/nonexistent/d.sock: daedalusd is not running"));
}

TEST_F(CommandsTest, JsonIsOneEnvelopeWithProtoFieldNames) {
  options_.endpoints = {socket_, "/nonexistent/d.sock"};
  options_.dial_timeout = absl::Milliseconds(300);
  options_.output = OutputFormat::kJson;
  EXPECT_EQ(RunStatus(options_, out_, err_), kExitDaemonDown);
  std::string text = out_.str();
  EXPECT_THAT(text, HasSubstr("{\"endpoints\": [\n  {\"endpoint\": \"" + socket_ +
                              "\", \"ok\": true, \"exit_code\": 0, \"result\": {"));
  EXPECT_THAT(text, HasSubstr("\"daemon_version\":\"0.1.0\""));
  EXPECT_THAT(text, HasSubstr("\"state\":\"UP\""));
  EXPECT_THAT(text, HasSubstr("{\"endpoint\": \"/nonexistent/d.sock\", \"ok\": false, "
                              "\"exit_code\": 3, \"error\": \"daedalusd is not running"));
  EXPECT_TRUE(err_.str().empty()) << err_.str();
}

TEST_F(CommandsTest, StatsShowsTotalsLatencyAndContexts) {
  EXPECT_EQ(RunStats(options_, out_, err_), kExitOk) << err_.str();
  std::string text = out_.str();
  EXPECT_THAT(text, HasSubstr("frames:        10 in (0 B), 9 out (0 B)"));
  EXPECT_THAT(text, HasSubstr("decode errors: buffer_io=0 corrupt_bitstream=1 decoder_setup=0\n"));
  EXPECT_THAT(text, HasSubstr("contexts:      1 active, 2 opened, 1 closed"));
  EXPECT_THAT(text, HasSubstr("kernel fifo:   depth 2/64, high-water 5"));
  EXPECT_THAT(text, HasSubstr("kernel:        1 jobs timed out, 1 streams failed, 2 daemon "
                              "attaches, 1 streams resumed\n"));
  EXPECT_THAT(text, HasSubstr("utilisation:   0.50 decoders busy over the last seconds; 2.5 s "
                              "busy in all\n"));
  // A row per codec: sessions, frames, utilisation, errors, dropped.
  EXPECT_THAT(text,
              MatchesRegex("(.|\n)*\nCODEC +SESSIONS +OPENED +FRAMES_IN +FRAMES_OUT +FPS +UTIL "
                           "+BUSY_S +ERRORS +DROPPED\nh264 +1 +2 +10 +9 +[0-9.]+ +0.50 +2.5 "
                           "+1 +3\n(.|\n)*"));
  EXPECT_THAT(text,
              MatchesRegex("(.|\n)*\nID +CODEC +FORMAT +FPS +OUT_Q +CAP_Q +IN_FLIGHT +FRAMES_OUT "
                           "+ERRORS +AGE\n3 +h264 +352x288 .* 2 +4 +0 +9 +0 +0s\n"));
}

TEST_F(CommandsTest, ContextsListsEachContextWithItsEndpoint) {
  options_.endpoints = {socket_, socket_};
  EXPECT_EQ(RunContexts(options_, out_, err_), kExitOk) << err_.str();
  std::string text = out_.str();
  EXPECT_THAT(
      text, MatchesRegex("ENDPOINT +ID +CODEC +FORMAT .*\n(.*cli.sock +3 +h264 +352x288.*\n){2}"));
}

TEST_F(CommandsTest, WatchStreamsCountSnapshots) {
  WatchOptions w{absl::Milliseconds(100), 3};
  EXPECT_EQ(RunWatch(options_, w, out_, err_), kExitOk) << err_.str();
  std::string text = out_.str();
  int lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_EQ(lines, 4) << text;  // header + 3 snapshots
  EXPECT_THAT(text, HasSubstr("TIME      ENDPOINT"));
  // The first line has the daemon's own utilisation, later ones the rate
  // between snapshots (the fake's busy time does not grow).
  EXPECT_THAT(text, MatchesRegex("TIME .* UTIL .* BY_CODEC\n.*cli.sock +9 +0.0 +0.50 +1 +1 +- "
                                 "+2/5 +h264:1\n(.|\n)*cli.sock +9 +0.0 +0.00 +1 +1 +- +2/5 "
                                 "+h264:1\n"));
}

TEST_F(CommandsTest, WatchJsonIsOneObjectPerLine) {
  options_.output = OutputFormat::kJson;
  WatchOptions w{absl::Milliseconds(100), 2};
  EXPECT_EQ(RunWatch(options_, w, out_, err_), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), MatchesRegex("(\\{\"endpoint\": \".*cli.sock\", \"stats\": \\{.*"
                                       "\"frames_out\":\"9\".*\\}\\}\n){2}"));
}

TEST_F(CommandsTest, VersionNamesClientAndDaemons) {
  EXPECT_EQ(RunVersion(options_, "7.7.7", out_, err_), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("daedalusctl 7.7.7\n"));
  EXPECT_THAT(out_.str(), MatchesRegex("(.|\n)*cli.sock +0.1.0 +0.1.0 +1 +Lavc-test\n"));
}

TEST_F(CommandsTest, PingPrintsRepliesAndSummary) {
  PingOptions opts{3, absl::ZeroDuration(), absl::Seconds(1)};
  EXPECT_EQ(RunPing(options_, opts, out_, err_), kExitOk) << err_.str();
  EXPECT_EQ(backend_.pings, 3);
  std::string text = out_.str();
  EXPECT_THAT(text, HasSubstr("reply from kernel: seq=1 cookie=0x00000007 fifo=2 time=0.123 ms\n"));
  EXPECT_THAT(text, HasSubstr("reply from kernel: seq=3 "));
  EXPECT_THAT(text, HasSubstr("3 sent, 3 received, 0% lost\n"));
  EXPECT_THAT(text, HasSubstr("rtt min/avg/max = 0.123/0.123/0.123 ms"));
}

TEST_F(CommandsTest, FleetPingIsARowPerEndpoint) {
  options_.endpoints = {socket_, socket_};
  PingOptions opts{2, absl::ZeroDuration(), absl::Seconds(1)};
  EXPECT_EQ(RunPing(options_, opts, out_, err_), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), MatchesRegex("ENDPOINT +SENT +RECEIVED +LOSS +MIN_MS +AVG_MS +MAX_MS\n"
                                       "(.*cli.sock +2 +2 +0% +0.123 +0.123 +0.123\n){2}"));
}

TEST_F(CommandsTest, PingWithLinkDownExits4AtOnce) {
  backend_.ping_reply = absl::FailedPreconditionError("kernel link down: module not loaded");
  PingOptions opts{3, absl::ZeroDuration(), absl::Seconds(1)};
  EXPECT_EQ(RunPing(options_, opts, out_, err_), kExitKernelLinkDown);
  EXPECT_EQ(backend_.pings, 1);
  EXPECT_THAT(err_.str(), HasSubstr("kernel link down: module not loaded"));
}

TEST_F(CommandsTest, SilentKernelExits5WithLoss) {
  backend_.ping_reply = absl::DeadlineExceededError("the kernel did not report");
  PingOptions opts{2, absl::ZeroDuration(), absl::Milliseconds(50)};
  EXPECT_EQ(RunPing(options_, opts, out_, err_), kExitKernelSilent);
  EXPECT_THAT(out_.str(), HasSubstr("2 sent, 0 received, 100% lost\n"));
  EXPECT_THAT(err_.str(), HasSubstr("seq=1: the kernel did not report"));
}

TEST_F(CommandsTest, NoDaemonExits3) {
  server_->Shutdown(absl::ZeroDuration());
  server_.reset();
  options_.dial_timeout = absl::Milliseconds(200);
  EXPECT_EQ(RunStatus(options_, out_, err_), kExitDaemonDown);
  EXPECT_THAT(err_.str(),
              MatchesRegex(".*daedalusd is not running \\(no socket at .*cli.sock\\).*\n"));
  PingOptions opts{1, absl::ZeroDuration(), absl::Seconds(1)};
  EXPECT_EQ(RunPing(options_, opts, out_, err_), kExitDaemonDown);
}

TEST_F(CommandsTest, BadEndpointIsAUsageError) {
  options_.endpoints = {"no-port-here"};
  EXPECT_EQ(RunStatus(options_, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("neither a socket path"));
}

TEST(HistogramQuantileTest, InterpolatesInsideTheBucket) {
  daedalus::v1::Histogram h;
  for (double b : {0.01, 0.02, 0.04}) h.add_bounds_seconds(b);
  for (uint64_t c : {0u, 10u, 10u}) h.add_cumulative_counts(c);
  h.set_count(10);
  EXPECT_NEAR(HistogramQuantile(h, 0.5), 0.015, 1e-12);
  EXPECT_NEAR(HistogramQuantile(h, 1.0), 0.02, 1e-12);
  h.set_count(0);
  EXPECT_TRUE(std::isnan(HistogramQuantile(h, 0.5)));
}

}  // namespace
}  // namespace daedalus::cli
