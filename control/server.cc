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

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

namespace daedalus::control {
namespace {

constexpr mode_t kSocketMode = 0660;
constexpr size_t kMaxMessageBytes = 1 << 20;

std::string ParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

bool IsLoopbackAddress(const std::string& host_port) {
  return absl::StartsWith(host_port, "127.") || absl::StartsWith(host_port, "[::1]:") ||
         absl::StartsWith(host_port, "localhost:");
}

ControlServer::ControlServer(Options options, Backend& backend, std::string daemon_version)
    : options_(std::move(options)),
      status_service_(backend, std::move(daemon_version)),
      diagnostics_service_(backend) {}

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

absl::Status ControlServer::Start() {
  if (!options_.tcp_address.empty() && !IsLoopbackAddress(options_.tcp_address)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "refusing plaintext TCP on %s: only loopback addresses are allowed", options_.tcp_address));
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
    builder.AddListeningPort(options_.tcp_address, grpc::InsecureServerCredentials(), &tcp_port_);
  }
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
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
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(deadline));
  server_.reset();
  unlink(options_.socket_path.c_str());
}

}  // namespace daedalus::control
