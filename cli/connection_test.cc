// SPDX-License-Identifier: BSD-2-Clause
//
// How daedalusctl reaches daemons, on its own: endpoint parsing, gRPC
// errors to exit codes, and the fan-out (order kept, a bad endpoint or a
// missing daemon failing only its own row, with a message that says what
// to do).

#include "cli/connection.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "cli/exit_codes.h"
#include "gtest/gtest.h"

namespace daedalus::cli {
namespace {

TEST(ConnectionTest, EndpointsAreSocketsOrHostPorts) {
  absl::StatusOr<Endpoint> e = ParseEndpoint("/run/daedalus/daedalusd.sock");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->unix_socket);
  EXPECT_EQ(e->target, "unix:/run/daedalus/daedalusd.sock");
  e = ParseEndpoint("unix:/tmp/x.sock");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->target, "unix:/tmp/x.sock");
  EXPECT_EQ(e->name, "unix:/tmp/x.sock");  // as the user wrote it
  e = ParseEndpoint("board-7.lan:7443");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->unix_socket);
  EXPECT_EQ(e->target, "board-7.lan:7443");
  EXPECT_TRUE(ParseEndpoint("[::1]:7443").ok());
  for (const char* bad : {"board", "board:", ":7443", "board:0", "board:70000", "board:x", ""}) {
    absl::StatusOr<Endpoint> r = ParseEndpoint(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseEndpoint("board").status().message().find("neither a socket path"),
            std::string::npos);
}

TEST(ConnectionTest, RpcErrorsBecomeTheDocumentedExitCodes) {
  struct Case {
    grpc::StatusCode code;
    int exit;
  } cases[] = {{grpc::UNAVAILABLE, kExitDaemonDown},
               {grpc::FAILED_PRECONDITION, kExitKernelLinkDown},
               {grpc::DEADLINE_EXCEEDED, kExitKernelSilent},
               {grpc::PERMISSION_DENIED, kExitDenied},
               {grpc::UNAUTHENTICATED, kExitDenied},
               {grpc::INTERNAL, kExitError}};
  for (const Case& c : cases) {
    Result r = RpcFailure("a:1", "GetStatus", grpc::Status(c.code, "why"));
    EXPECT_EQ(r.exit_code, c.exit) << c.code;
    EXPECT_EQ(r.endpoint, "a:1");
    EXPECT_EQ(r.error, "GetStatus: why");
  }
}

TEST(ConnectionTest, CombinedExitCodeIsTheFirstFailureInOrder) {
  Result ok, down, silent;
  down.exit_code = kExitDaemonDown;
  silent.exit_code = kExitKernelSilent;
  EXPECT_EQ(CombinedExitCode({}), 0);
  EXPECT_EQ(CombinedExitCode({ok, ok}), 0);
  EXPECT_EQ(CombinedExitCode({ok, silent, down}), kExitKernelSilent);
}

TEST(ConnectionTest, FanOutKeepsOrderAndFailsOnlyTheBadRows) {
  Options o;
  std::string missing = "/tmp/daedalus-no-such-" + std::to_string(getpid()) + ".sock";
  o.endpoints = {"not an endpoint", missing};
  o.dial_timeout = absl::Milliseconds(200);
  std::atomic<int> ran{0};
  std::vector<Result> r = FanOut(o, [&](const Endpoint&, const std::shared_ptr<grpc::Channel>&) {
    ran++;
    return Result{};
  });
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(ran, 0);  // nothing reachable, so the command never ran
  EXPECT_EQ(r[0].endpoint, "not an endpoint");
  EXPECT_EQ(r[0].exit_code, kExitUsage);
  EXPECT_EQ(r[1].endpoint, missing);
  EXPECT_EQ(r[1].exit_code, kExitDaemonDown);
  EXPECT_NE(r[1].error.find("daedalusd is not running (no socket at " + missing + ")"),
            std::string::npos)
      << r[1].error;
  EXPECT_NE(r[1].error.find("systemctl start daedalusd"), std::string::npos);
}

TEST(ConnectionTest, TlsFilesThatCannotBeReadFailTheRowAsUsage) {
  Options o;
  o.endpoints = {"127.0.0.1:1"};
  o.tls.ca_file = "/nonexistent/ca.pem";
  o.dial_timeout = absl::Milliseconds(100);
  std::vector<Result> r =
      FanOut(o, [](const Endpoint&, const std::shared_ptr<grpc::Channel>&) { return Result{}; });
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].exit_code, kExitUsage);
  EXPECT_NE(r[0].error.find("cannot read the CA file /nonexistent/ca.pem"), std::string::npos)
      << r[0].error;

  o.tls.ca_file.clear();
  o.tls.cert_file = "/etc/hostname";  // a key is missing
  r = FanOut(o, [](const Endpoint&, const std::shared_ptr<grpc::Channel>&) { return Result{}; });
  EXPECT_EQ(r[0].exit_code, kExitUsage);
  EXPECT_NE(r[0].error.find("--tls-cert and --tls-key go together"), std::string::npos);
}

TEST(ConnectionTest, AnUnreachableTcpDaemonSaysHowLongItWaited) {
  Options o;
  o.endpoints = {"127.0.0.1:1"};  // nothing listens on port 1
  o.insecure = true;
  o.dial_timeout = absl::Milliseconds(200);
  std::vector<Result> r =
      FanOut(o, [](const Endpoint&, const std::shared_ptr<grpc::Channel>&) { return Result{}; });
  EXPECT_EQ(r[0].exit_code, kExitDaemonDown);
  EXPECT_NE(r[0].error.find("cannot reach daedalusd at 127.0.0.1:1 within 200ms"),
            std::string::npos)
      << r[0].error;
}

}  // namespace
}  // namespace daedalus::cli
