// SPDX-License-Identifier: BSD-2-Clause
//
// gRPC over TCP with TLS and mutual TLS, with certificates made by openssl
// for this test: who is served, who is refused, and the Diagnostics policy
// by client certificate name.

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "control/server.h"
#include "control/testing/fake_backend.h"
#include "gtest/gtest.h"

namespace daedalus::control {
namespace {

std::string pki;  // directory of the test PKI

std::string Read(const std::string& name) {
  std::ifstream in(pki + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki = std::string(std::getenv("TEST_TMPDIR")) + "/pki";
    std::string cmd = "bash control/testing/make_test_pki.sh " + pki + " >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make the test PKI";
  }

  void StartServer(bool mutual) {
    ControlServer::Options o;
    o.socket_path = TestSocketPath(mutual ? "mtls.sock" : "tls.sock");
    o.socket_group = "no-such-group";
    o.tcp_address = "127.0.0.1:0";
    o.tls_cert_file = pki + "/server.pem";
    o.tls_key_file = pki + "/server-key.pem";
    if (mutual) o.tls_client_ca_file = pki + "/ca.pem";
    o.diagnostics.tcp_common_names = {"operator"};
    server_ = std::make_unique<ControlServer>(o, backend_, DaemonInfo{"1.0", "Lavc", 1});
    absl::Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st;
  }

  // A channel to the TCP port presenting `client` ("" for none) and
  // trusting `ca`.
  std::shared_ptr<grpc::Channel> Channel(const std::string& client,
                                         const std::string& ca = "ca.pem") {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Read(ca);
    if (!client.empty()) {
      ssl.pem_cert_chain = Read(client + ".pem");
      ssl.pem_private_key = Read(client + "-key.pem");
    }
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->tcp_port()),
                               grpc::SslCredentials(ssl));
  }

  static grpc::StatusCode StatusCall(const std::shared_ptr<grpc::Channel>& ch) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    daedalus::v1::GetStatusResponse resp;
    return daedalus::v1::Status::NewStub(ch)->GetStatus(&ctx, {}, &resp).error_code();
  }
  static grpc::StatusCode PingCall(const std::shared_ptr<grpc::Channel>& ch) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    daedalus::v1::PingResponse resp;
    return daedalus::v1::Diagnostics::NewStub(ch)->Ping(&ctx, {}, &resp).error_code();
  }

  FakeBackend backend_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(TlsTest, MutualTlsRefusesClientsWithoutATrustedCertificate) {
  StartServer(/*mutual=*/true);
  EXPECT_EQ(StatusCall(Channel("")), grpc::UNAVAILABLE);
  EXPECT_EQ(StatusCall(Channel("rogue")), grpc::UNAVAILABLE);
  EXPECT_EQ(StatusCall(Channel("viewer")), grpc::OK);
  EXPECT_EQ(StatusCall(Channel("operator")), grpc::OK);
}

TEST_F(TlsTest, ClientsVerifyTheServer) {
  StartServer(/*mutual=*/true);
  EXPECT_EQ(StatusCall(Channel("operator", "rogue-ca.pem")), grpc::UNAVAILABLE);
}

TEST_F(TlsTest, DiagnosticsOnlyForTheNamedCertificates) {
  StartServer(/*mutual=*/true);
  EXPECT_EQ(PingCall(Channel("viewer")), grpc::PERMISSION_DENIED);
  EXPECT_EQ(PingCall(Channel("operator")), grpc::OK);
  EXPECT_EQ(backend_.pings, 1);
  // The unix socket is governed by its file mode, not by the policy.
  auto local =
      grpc::CreateChannel("unix:" + server_->socket_path(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(PingCall(local), grpc::OK);
}

TEST_F(TlsTest, ServerOnlyTlsServesClientsWithoutCertificates) {
  StartServer(/*mutual=*/false);
  EXPECT_EQ(StatusCall(Channel("")), grpc::OK);
  // Without a certificate there is no name to allow Diagnostics to.
  EXPECT_EQ(PingCall(Channel("")), grpc::PERMISSION_DENIED);
  // A plaintext client cannot talk to the TLS port.
  auto plain = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->tcp_port()),
                                   grpc::InsecureChannelCredentials());
  EXPECT_EQ(StatusCall(plain), grpc::UNAVAILABLE);
}

TEST(TlsConfigTest, IncompleteTlsSettingsAreRefused) {
  FakeBackend backend;
  ControlServer::Options o;
  o.socket_path = TestSocketPath("cfg.sock");
  o.tcp_address = "0.0.0.0:0";
  o.tls_cert_file = "/nonexistent/server.pem";
  ControlServer no_key(o, backend, {});
  EXPECT_EQ(no_key.Start().code(), absl::StatusCode::kInvalidArgument);
  o.tls_key_file = "/nonexistent/key.pem";
  ControlServer unreadable(o, backend, {});
  absl::Status st = unreadable.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("cannot read the certificate"), std::string::npos) << st;
}

}  // namespace
}  // namespace daedalus::control
