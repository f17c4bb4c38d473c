// SPDX-License-Identifier: BSD-2-Clause

#include "control/server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

namespace daedalus::control {
namespace {

constexpr mode_t kSocketMode = 0660;

std::string ParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("cannot read the %s %s", what, path));
  }
  return text.str();
}

}  // namespace

bool IsLoopbackAddress(const std::string& host_port) {
  return absl::StartsWith(host_port, "127.") || absl::StartsWith(host_port, "[::1]:") ||
         absl::StartsWith(host_port, "localhost:");
}

ControlServer::ControlServer(Options options, Backend& backend, const DaemonInfo& info)
    : options_(std::move(options)),
      status_service_(backend, info),
      diagnostics_service_(backend, options_.diagnostics) {}

ControlServer::~ControlServer() {
  Shutdown(absl::ZeroDuration());
  if (lock_fd_ >= 0) close(lock_fd_);
}

// The lock is held for the daemon's lifetime and released by the kernel if
// the daemon dies, so a stale socket never blocks a restart, and a live
// daemon's socket is never unlinked by a second one.
absl::Status ControlServer::LockSocket() {
  const std::string& path = options_.socket_path;
  std::string dir = ParentDir(path);
  if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) {
    return absl::PermissionDeniedError(absl::StrFormat("mkdir %s: %s", dir, std::strerror(errno)));
  }
  std::string lock_path = path + ".lock";
  lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) {
    return absl::PermissionDeniedError(
        absl::StrFormat("open %s: %s", lock_path, std::strerror(errno)));
  }
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) < 0) {
    char pid[32] = {};
    ssize_t n = pread(lock_fd_, pid, sizeof(pid) - 1, 0);
    close(lock_fd_);
    lock_fd_ = -1;
    return absl::FailedPreconditionError(absl::StrFormat("another daedalusd (pid %s) owns %s",
                                                         n > 0 ? std::string(pid, n) : "?", path));
  }
  std::string pid = std::to_string(getpid());
  if (ftruncate(lock_fd_, 0) < 0 || pwrite(lock_fd_, pid.data(), pid.size(), 0) < 0) {
    return absl::InternalError(absl::StrFormat("write %s: %s", lock_path, std::strerror(errno)));
  }
  // We own the path now: whatever socket is there is a dead daemon's.
  if (unlink(path.c_str()) < 0 && errno != ENOENT) {
    return absl::PermissionDeniedError(
        absl::StrFormat("remove stale %s: %s", path, std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status ControlServer::SecureSocket() {
  const std::string& path = options_.socket_path;
  if (chmod(path.c_str(), kSocketMode) < 0) {
    return absl::InternalError(absl::StrFormat("chmod %s: %s", path, std::strerror(errno)));
  }
  if (group* gr = getgrnam(options_.socket_group.c_str())) {
    if (chown(path.c_str(), static_cast<uid_t>(-1), gr->gr_gid) < 0) {
      return absl::InternalError(absl::StrFormat("chown %s to group %s: %s", path,
                                                 options_.socket_group, std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ControlServer::TcpCredentials() const {
  const Options& o = options_;
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate and its key");
  }
  if (o.tls_cert_file.empty()) {
    if (!o.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError("a client CA needs a server certificate and key");
    }
    if (!o.insecure_loopback) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "TCP on %s needs TLS (a certificate and key); plaintext is only for loopback and "
          "only when asked for explicitly",
          o.tcp_address));
    }
    if (!IsLoopbackAddress(o.tcp_address)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "refusing plaintext TCP on %s: only loopback addresses are allowed", o.tcp_address));
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions ssl;
  absl::StatusOr<std::string> cert = ReadPem(o.tls_cert_file, "certificate");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(o.tls_key_file, "private key");
  if (!key.ok()) return key.status();
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  if (!o.tls_client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(o.tls_client_ca_file, "client CA");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

absl::Status ControlServer::Start() {
  std::shared_ptr<grpc::ServerCredentials> tcp_credentials;
  if (!options_.tcp_address.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds = TcpCredentials();
    if (!creds.ok()) return creds.status();
    tcp_credentials = *creds;
  }
  if (options_.socket_path.empty() || options_.socket_path[0] != '/') {
    // Abstract and relative sockets escape the file-mode checks.
    return absl::InvalidArgumentError(
        absl::StrFormat("socket path %s must be absolute", options_.socket_path));
  }
  if (options_.socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "socket path %s is %d bytes; unix sockets allow at most %d", options_.socket_path,
        options_.socket_path.size(), sizeof(sockaddr_un::sun_path) - 1));
  }
  if (absl::Status st = LockSocket(); !st.ok()) return st;

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // The socket is created 0777 & ~umask; the daemon's umask is 0117 (see
  // main), so it never exists with wider permissions than 0660.
  builder.AddListeningPort("unix:" + options_.socket_path, grpc::InsecureServerCredentials());
  if (!options_.tcp_address.empty()) {
    builder.AddListeningPort(options_.tcp_address, tcp_credentials, &tcp_port_);
  }
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams);
  builder.RegisterService(&status_service_);
  builder.RegisterService(&diagnostics_service_);
  server_ = builder.BuildAndStart();
  if (!server_) {
    return absl::UnavailableError(
        absl::StrFormat("cannot listen on unix:%s%s", options_.socket_path,
                        options_.tcp_address.empty() ? "" : " and " + options_.tcp_address));
  }
  if (!options_.tcp_address.empty() && tcp_port_ == 0) {
    return absl::UnavailableError("cannot listen on " + options_.tcp_address);
  }
  SetServing(false);
  return SecureSocket();
}

void ControlServer::SetServing(bool serving) {
  if (!server_) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (!health) return;
  health->SetServingStatus(serving);
}

void ControlServer::Shutdown(absl::Duration deadline) {
  if (!server_) return;
  SetServing(false);
  status_service_.StopWatchers();
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(deadline));
  server_.reset();
  unlink(options_.socket_path.c_str());
}

}  // namespace daedalus::control
