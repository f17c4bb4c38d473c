// SPDX-License-Identifier: BSD-2-Clause
//
// How daedalusctl reaches daemons: endpoint parsing, TLS credentials, a
// connect bounded by the dial timeout, gRPC errors mapped to exit codes,
// and the concurrent fan-out over every endpoint.
//
//   Options o;  // endpoints, timeouts, TLS
//   std::vector<Result> r = FanOut(o, [](const Endpoint& e, grpc::Channel& ch) {...});

#ifndef DAEDALUS_CLI_CONNECTION_H_
#define DAEDALUS_CLI_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace daedalus::cli {

inline constexpr char kDefaultSocket[] = "/run/daedalus/daedalusd.sock";

enum class OutputFormat { kTable, kJson };

struct TlsOptions {
  std::string ca_file;      // CA that signed the daemons' certificates (default: system roots)
  std::string cert_file;    // client certificate, for mutual TLS
  std::string key_file;     // its key
  std::string server_name;  // name to verify instead of the endpoint's host
};

// What every subcommand shares.
struct Options {
  std::vector<std::string> endpoints;  // empty: the local socket
  absl::Duration dial_timeout = absl::Seconds(2);
  absl::Duration command_timeout = absl::Seconds(5);
  TlsOptions tls;
  bool insecure = false;  // plaintext TCP (daemons run with --insecure-loopback)
  OutputFormat output = OutputFormat::kTable;
};

struct Endpoint {
  std::string name;    // as the user wrote it
  std::string target;  // gRPC target: "unix:/path" or "host:port"
  bool unix_socket = false;
};

// "/path", "unix:/path": a unix socket; "host:port": TCP. InvalidArgument
// otherwise.
absl::StatusOr<Endpoint> ParseEndpoint(const std::string& text);

// The outcome of one subcommand on one endpoint.
struct Result {
  std::string endpoint;
  int exit_code = 0;             // an ExitCode
  std::string error;             // set when exit_code != 0
  std::string json;              // the result as a JSON object ("" when none)
  std::vector<std::string> row;  // table cells after the endpoint column
  std::string detail;            // the single-endpoint human form
};

using EndpointCommand =
    std::function<Result(const Endpoint& endpoint, const std::shared_ptr<grpc::Channel>& channel)>;

// Connects to every endpoint concurrently (each within the dial timeout)
// and runs `command` on each connected one. Results keep the order of
// the endpoints. Unparsable endpoints or unreadable TLS files fail their
// row with kExitUsage.
std::vector<Result> FanOut(const Options& options, const EndpointCommand& command);

// A channel to `endpoint`, connected within the dial timeout, or a Result
// explaining why not.
absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const Options& options,
                                                       const Endpoint& endpoint, Result* failure);

// Deadline for one call: the command timeout from now.
void SetDeadline(grpc::ClientContext& context, absl::Duration timeout);

// Exit code and message for a failed call.
Result RpcFailure(const std::string& endpoint, const char* what, const grpc::Status& status);

// The first non-zero exit code in endpoint order, or 0.
int CombinedExitCode(const std::vector<Result>& results);

}  // namespace daedalus::cli

#endif  // DAEDALUS_CLI_CONNECTION_H_
