// SPDX-License-Identifier: BSD-2-Clause
//
// ControlServer: the unix socket (mode 0660, one daemon per socket, stale
// sockets replaced, paths refused clearly), gRPC health following the
// kernel link, and plaintext TCP only on loopback and only when asked.

#include "control/server.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "control/testing/fake_backend.h"
#include "daedalus/v1/status.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace daedalus::control {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ControlServer>(TestServerOptions(TestSocketPath("s.sock")), backend_,
                                              TestDaemonInfo("1.2.3", "Lavc-test", 2));
    ASSERT_TRUE(server_->Start().ok());
    channel_ =
        grpc::CreateChannel("unix:" + server_->socket_path(), grpc::InsecureChannelCredentials());
    status_ = daedalus::v1::Status::NewStub(channel_);
  }
  void TearDown() override { server_->Shutdown(absl::Seconds(1)); }

  FakeBackend backend_;
  std::unique_ptr<ControlServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<daedalus::v1::Status::Stub> status_;
};

TEST_F(ServerTest, HealthFollowsTheLink) {
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

TEST_F(ServerTest, SocketIsNotWorldAccessible) {
  struct stat st;
  ASSERT_EQ(stat(server_->socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(ServerTest, SecondServerRefusesTheSocket) {
  FakeBackend other;
  ControlServer second(TestServerOptions(server_->socket_path()), other, {});
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

TEST(ServerStartTest, StaleSocketOfADeadDaemonIsReplaced) {
  std::string path = TestSocketPath("stale.sock");
  FILE* f = std::fopen(path.c_str(), "w");  // leftover file, no lock holder
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  FakeBackend backend;
  ControlServer server(TestServerOptions(path), backend, {});
  ASSERT_TRUE(server.Start().ok());
  server.Shutdown(absl::ZeroDuration());
}

TEST(ServerStartTest, RelativeOrAbstractSocketPathsAreRefused) {
  FakeBackend backend;
  for (const char* path : {"@daedalus", "relative.sock", ""}) {
    ControlServer server(TestServerOptions(path), backend, {});
    EXPECT_EQ(server.Start().code(), absl::StatusCode::kInvalidArgument) << path;
  }
}

TEST(ServerStartTest, OverlongSocketPathIsRefusedClearly) {
  FakeBackend backend;
  ControlServer server(TestServerOptions("/tmp/" + std::string(120, 'x') + ".sock"), backend, {});
  absl::Status st = server.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("at most 107"), std::string::npos) << st;
}

TEST(ServerStartTest, PlaintextTcpOnlyOnLoopback) {
  FakeBackend backend;
  ControlServer open_tcp(TestServerOptions(TestSocketPath("tcp1.sock"), "0.0.0.0:0"), backend, {});
  EXPECT_EQ(open_tcp.Start().code(), absl::StatusCode::kInvalidArgument);
  // Loopback still needs the explicit opt-in.
  ControlServer::Options implicit = TestServerOptions(TestSocketPath("tcp3.sock"), "127.0.0.1:0");
  implicit.insecure_loopback = false;
  ControlServer no_opt_in(implicit, backend, {});
  absl::Status st = no_opt_in.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("needs TLS"), std::string::npos) << st;

  ControlServer loopback(TestServerOptions(TestSocketPath("tcp2.sock"), "127.0.0.1:0"), backend,
                         {});
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
