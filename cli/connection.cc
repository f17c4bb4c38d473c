// SPDX-License-Identifier: BSD-2-Clause

#include "cli/connection.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/exit_codes.h"

namespace daedalus::cli {
namespace {

// Enough to reach a fleet quickly without a thread per board at once.
constexpr size_t kMaxParallel = 32;

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("cannot read %s %s", what, path));
  }
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TcpCredentials(const Options& o) {
  if (o.insecure) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!o.tls.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadFile(o.tls.ca_file, "the CA file");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
  }
  if (o.tls.cert_file.empty() != o.tls.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!o.tls.cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadFile(o.tls.cert_file, "the client certificate");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile(o.tls.key_file, "the client key");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::SslCredentials(ssl);
}

Result Failure(const std::string& endpoint, int code, std::string error) {
  Result r;
  r.endpoint = endpoint;
  r.exit_code = code;
  r.error = std::move(error);
  return r;
}

}  // namespace

absl::StatusOr<Endpoint> ParseEndpoint(const std::string& text) {
  Endpoint e;
  e.name = text;
  std::string path = absl::StartsWith(text, "unix:") ? text.substr(5) : text;
  if (absl::StartsWith(path, "/")) {
    e.target = "unix:" + path;
    e.unix_socket = true;
    return e;
  }
  size_t colon = text.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(text.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrFormat("endpoint \"%s\" is neither a socket path (/...) nor host:port", text));
  }
  e.target = text;
  return e;
}

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const Options& o, const Endpoint& e,
                                                       Result* failure) {
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments args;
  if (!e.unix_socket) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tcp = TcpCredentials(o);
    if (!tcp.ok()) {
      *failure = Failure(e.name, kExitUsage, std::string(tcp.status().message()));
      return tcp.status();
    }
    creds = *tcp;
    if (!o.tls.server_name.empty()) {
      args.SetSslTargetNameOverride(o.tls.server_name);
    }
  }
  auto channel = grpc::CreateCustomChannel(e.target, creds, args);
  if (channel->WaitForConnected(absl::ToChronoTime(absl::Now() + o.dial_timeout))) {
    return channel;
  }
  struct stat st;
  std::string why;
  if (e.unix_socket && stat(e.target.substr(5).c_str(), &st) != 0) {
    why = absl::StrFormat(
        "daedalusd is not running (no socket at %s); start it with `systemctl start daedalusd` "
        "or `daedalusd`",
        e.target.substr(5));
  } else {
    why = absl::StrFormat(
        "cannot reach daedalusd at %s within %s%s", e.target, absl::FormatDuration(o.dial_timeout),
        e.unix_socket || o.insecure ? "" : " (TLS: check --tls-ca, --tls-cert, --tls-server-name)");
  }
  *failure = Failure(e.name, kExitDaemonDown, why);
  return absl::UnavailableError(why);
}

Result RpcFailure(const std::string& endpoint, const char* what, const grpc::Status& st) {
  int code = kExitError;
  switch (st.error_code()) {
    case grpc::UNAVAILABLE:
      code = kExitDaemonDown;
      break;
    case grpc::FAILED_PRECONDITION:
      code = kExitKernelLinkDown;
      break;
    case grpc::DEADLINE_EXCEEDED:
      code = kExitKernelSilent;
      break;
    case grpc::PERMISSION_DENIED:
    case grpc::UNAUTHENTICATED:
      code = kExitDenied;
      break;
    default:
      break;
  }
  return Failure(endpoint, code, absl::StrFormat("%s: %s", what, st.error_message()));
}

std::vector<Result> FanOut(const Options& o, const EndpointCommand& command) {
  std::vector<std::string> names = o.endpoints;
  if (names.empty()) names.push_back(kDefaultSocket);
  std::vector<Result> results(names.size());
  auto run_one = [&](size_t i) {
    absl::StatusOr<Endpoint> e = ParseEndpoint(names[i]);
    if (!e.ok()) {
      results[i] = Failure(names[i], kExitUsage, std::string(e.status().message()));
      return;
    }
    Result failure;
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = Connect(o, *e, &failure);
    if (!channel.ok()) {
      results[i] = failure;
      return;
    }
    results[i] = command(*e, *channel);
    results[i].endpoint = e->name;
  };
  for (size_t start = 0; start < names.size(); start += kMaxParallel) {
    std::vector<std::thread> threads;
    for (size_t i = start; i < std::min(names.size(), start + kMaxParallel); i++) {
      threads.emplace_back(run_one, i);
    }
    for (std::thread& t : threads) t.join();
  }
  return results;
}

int CombinedExitCode(const std::vector<Result>& results) {
  for (const Result& r : results) {
    if (r.exit_code != 0) return r.exit_code;
  }
  return 0;
}

}  // namespace daedalus::cli
