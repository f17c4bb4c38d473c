// SPDX-License-Identifier: BSD-2-Clause
//
// The daedalus.v1 services and ControlServer, in-process and over a real
// unix socket under $TEST_TMPDIR.

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "control/server.h"
#include "control/testing/fake_backend.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace daedalus::control {
namespace {

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ControlServer>(
        ControlServer::Options{TestSocketPath("d.sock"), "no-such-group", ""}, backend_, "1.2.3");
    ASSERT_TRUE(server_->Start().ok());
    channel_ =
        grpc::CreateChannel("unix:" + server_->socket_path(), grpc::InsecureChannelCredentials());
    status_ = daedalus::v1::Status::NewStub(channel_);
    diag_ = daedalus::v1::Diagnostics::NewStub(channel_);
  }
  void TearDown() override { server_->Shutdown(absl::Seconds(1)); }

  FakeBackend backend_;
  std::unique_ptr<ControlServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<daedalus::v1::Status::Stub> status_;
  std::unique_ptr<daedalus::v1::Diagnostics::Stub> diag_;
};

TEST_F(ServicesTest, GetStatusReportsLinkAndCounters) {
  grpc::ClientContext ctx;
  daedalus::v1::GetStatusResponse resp;
  ASSERT_TRUE(status_->GetStatus(&ctx, {}, &resp).ok());
  EXPECT_EQ(resp.daemon_version(), "1.2.3");
  EXPECT_GE(resp.uptime().seconds(), 0);
  EXPECT_EQ(resp.kernel().state(), daedalus::v1::KernelLink::UP);
  EXPECT_EQ(resp.kernel().protocol_version(), 1u);
  EXPECT_EQ(resp.kernel().module_version(), "0.1.0");
  ASSERT_TRUE(resp.has_kernel_counters());
  EXPECT_EQ(resp.kernel_counters().fifo_depth(), 2u);
  EXPECT_EQ(resp.kernel_counters().fifo_high_water(), 5u);
  EXPECT_EQ(resp.kernel_counters().errors().at("bad_magic"), 1u);
}

TEST_F(ServicesTest, GetStatusWhileLinkDown) {
  backend_.link = {false, "/dev/daedalus-v4l2", 0, "", "no such file: is the module loaded?"};
  grpc::ClientContext ctx;
  daedalus::v1::GetStatusResponse resp;
  ASSERT_TRUE(status_->GetStatus(&ctx, {}, &resp).ok());
  EXPECT_EQ(resp.kernel().state(), daedalus::v1::KernelLink::DOWN);
  EXPECT_EQ(resp.kernel().detail(), "no such file: is the module loaded?");
  EXPECT_FALSE(resp.has_kernel_counters());
}

TEST_F(ServicesTest, PingReturnsKernelRtt) {
  grpc::ClientContext ctx;
  daedalus::v1::PingResponse resp;
  ASSERT_TRUE(diag_->Ping(&ctx, {}, &resp).ok());
  EXPECT_EQ(resp.kernel_cookie(), 7u);
  EXPECT_EQ(resp.kernel_rtt().nanos(), 123000);
  EXPECT_EQ(resp.fifo_depth(), 2u);
  EXPECT_EQ(backend_.last_timeout, DiagnosticsService::kDefaultPingTimeout);
}

TEST_F(ServicesTest, PingTimeoutIsCappedByTheCallersDeadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  daedalus::v1::PingRequest req;
  req.mutable_timeout()->set_seconds(5);
  daedalus::v1::PingResponse resp;
  ASSERT_TRUE(diag_->Ping(&ctx, req, &resp).ok());
  EXPECT_LE(backend_.last_timeout, absl::Milliseconds(300));
}

TEST_F(ServicesTest, PingRejectsBadTimeouts) {
  for (auto [s, n] : {std::pair{-1, 0}, {0, 0}, {11, 0}, {0, -5}, {0, 1000000000}}) {
    grpc::ClientContext ctx;
    daedalus::v1::PingRequest req;
    req.mutable_timeout()->set_seconds(s);
    req.mutable_timeout()->set_nanos(n);
    daedalus::v1::PingResponse resp;
    EXPECT_EQ(diag_->Ping(&ctx, req, &resp).error_code(), grpc::INVALID_ARGUMENT)
        << s << "s " << n << "ns";
  }
}

TEST_F(ServicesTest, PingErrorsKeepTheirCanonicalCode) {
  struct Case {
    absl::Status status;
    grpc::StatusCode code;
  } cases[] = {
      {absl::FailedPreconditionError("kernel link down"), grpc::FAILED_PRECONDITION},
      {absl::DeadlineExceededError("kernel silent"), grpc::DEADLINE_EXCEEDED},
      {absl::ResourceExhaustedError("fifo full"), grpc::RESOURCE_EXHAUSTED},
      {absl::UnavailableError("link lost"), grpc::UNAVAILABLE},
  };
  for (const Case& c : cases) {
    backend_.ping_reply = c.status;
    grpc::ClientContext ctx;
    daedalus::v1::PingResponse resp;
    grpc::Status st = diag_->Ping(&ctx, {}, &resp);
    EXPECT_EQ(st.error_code(), c.code);
    EXPECT_EQ(st.error_message(), std::string(c.status.message()));
  }
}

TEST_F(ServicesTest, HealthFollowsTheLink) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  auto check = [&] {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    EXPECT_TRUE(health->Check(&ctx, req, &resp).ok());
    return resp.status();
  };
  EXPECT_EQ(check(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  server_->SetServing(true);
  EXPECT_EQ(check(), grpc::health::v1::HealthCheckResponse::SERVING);
  server_->SetServing(false);
  EXPECT_EQ(check(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
}

TEST_F(ServicesTest, SocketIsNotWorldAccessible) {
  struct stat st;
  ASSERT_EQ(stat(server_->socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(ServicesTest, SecondServerRefusesTheSocket) {
  FakeBackend other;
  ControlServer second({server_->socket_path(), "no-such-group", ""}, other, "x");
  absl::Status st = second.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("another daedalusd (pid " + std::to_string(getpid())),
            std::string::npos)
      << st;
  // The first server still answers.
  grpc::ClientContext ctx;
  daedalus::v1::GetStatusResponse resp;
  EXPECT_TRUE(status_->GetStatus(&ctx, {}, &resp).ok());
}

TEST(ServerTest, StaleSocketOfADeadDaemonIsReplaced) {
  std::string path = TestSocketPath("stale.sock");
  FILE* f = std::fopen(path.c_str(), "w");  // leftover file, no lock holder
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  FakeBackend backend;
  ControlServer server({path, "no-such-group", ""}, backend, "x");
  ASSERT_TRUE(server.Start().ok());
  server.Shutdown(absl::ZeroDuration());
}

TEST(ServerTest, OverlongSocketPathIsRefusedClearly) {
  FakeBackend backend;
  ControlServer server({"/tmp/" + std::string(120, 'x') + ".sock", "g", ""}, backend, "x");
  absl::Status st = server.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("at most 107"), std::string::npos) << st;
}

TEST(ServerTest, PlaintextTcpOnlyOnLoopback) {
  FakeBackend backend;
  ControlServer open_tcp({TestSocketPath("tcp1.sock"), "g", "0.0.0.0:0"}, backend, "x");
  EXPECT_EQ(open_tcp.Start().code(), absl::StatusCode::kInvalidArgument);

  ControlServer loopback({TestSocketPath("tcp2.sock"), "g", "127.0.0.1:0"}, backend, "x");
  ASSERT_TRUE(loopback.Start().ok());
  EXPECT_GT(loopback.tcp_port(), 0);
  auto stub = daedalus::v1::Status::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(loopback.tcp_port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  daedalus::v1::GetStatusResponse resp;
  EXPECT_TRUE(stub->GetStatus(&ctx, {}, &resp).ok());
  EXPECT_TRUE(IsLoopbackAddress("[::1]:5"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:5"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1:5"));
}

}  // namespace
}  // namespace daedalus::control
