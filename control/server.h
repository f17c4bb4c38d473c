// SPDX-License-Identifier: BSD-2-Clause
//
// ControlServer: the daemon's gRPC endpoint.
//
// By default it listens on a unix socket only (mode 0660, group `daedalus`
// when that group exists). A lock file beside the socket makes a second
// daemon refuse to start instead of stealing the socket. TCP is opt-in and
// needs TLS (mutual when a client CA is given); plaintext TCP is allowed
// only on loopback and only when asked for explicitly. The standard
// grpc.health.v1 service and server reflection are always registered;
// health is SERVING only while the kernel link is up and the server is not
// shutting down.
//
//   ControlServer server(options, backend, {.version = "0.3.0"});
//   absl::Status st = server.Start();
//   ...
//   server.SetServing(link_up);
//   server.Shutdown(absl::Seconds(5));

#ifndef DAEDALUS_CONTROL_SERVER_H_
#define DAEDALUS_CONTROL_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "control/backend.h"
#include "control/services.h"

namespace daedalus::control {

class ControlServer {
 public:
  struct Options {
    std::string socket_path = "/run/daedalus/daedalusd.sock";
    std::string socket_group = "daedalus";  // used when it exists
    std::string tcp_address;                // empty: no TCP
    // PEM files. Certificate and key turn on TLS for TCP; a client CA
    // also requires every TCP client to present a certificate it signed.
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_client_ca_file;
    // Plaintext TCP, loopback addresses only (tests, local tools).
    bool insecure_loopback = false;
    DiagnosticsPolicy diagnostics;
  };

  // Bounds on what one client can make the server hold.
  static constexpr int kMaxMessageBytes = 1 << 20;
  static constexpr int kMaxConcurrentStreams = 64;

  ControlServer(Options options, Backend& backend, const DaemonInfo& info);
  ~ControlServer();

  // FailedPrecondition if another daemon owns the socket; InvalidArgument
  // for TCP without TLS on a non-loopback address, or unreadable PEM files.
  absl::Status Start();
  // Health of the whole server and of both services.
  void SetServing(bool serving);
  // Health NOT_SERVING, watch streams ended, new calls refused; running
  // calls get until `deadline` to finish.
  void Shutdown(absl::Duration deadline);

  const std::string& socket_path() const { return options_.socket_path; }
  int tcp_port() const { return tcp_port_; }

 private:
  absl::Status LockSocket();
  absl::Status SecureSocket();
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TcpCredentials() const;

  const Options options_;
  StatusService status_service_;
  DiagnosticsService diagnostics_service_;
  std::unique_ptr<grpc::Server> server_;
  int lock_fd_ = -1;
  int tcp_port_ = 0;
};

// True for 127.0.0.0/8, [::1] and "localhost" host:port addresses.
bool IsLoopbackAddress(const std::string& host_port);

}  // namespace daedalus::control

#endif  // DAEDALUS_CONTROL_SERVER_H_
