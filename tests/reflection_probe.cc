// SPDX-License-Identifier: BSD-2-Clause
//
// reflection_probe: what a generic gRPC client (grpcurl, a health checker)
// sees of a daedalusd. Prints the services server reflection lists, one
// per line as "service NAME", then "health STATUS" for the whole server.
//
//   usage: reflection_probe unix:/run/daedalus/daedalusd.sock

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace {

std::chrono::system_clock::time_point InFiveSeconds() {
  return std::chrono::system_clock::now() + std::chrono::seconds(5);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: reflection_probe ADDRESS\n");
    return 2;
  }
  auto channel = grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials());

  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(InFiveSeconds());
  auto stream = reflection->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  if (!stream->Write(req) || !stream->Read(&resp)) {
    std::fprintf(stderr, "reflection: no answer\n");
    return 1;
  }
  stream->WritesDone();
  for (const auto& service : resp.list_services_response().service()) {
    std::printf("service %s\n", service.name().c_str());
  }
  grpc::Status st = stream->Finish();
  if (!st.ok()) {
    std::fprintf(stderr, "reflection: %s\n", st.error_message().c_str());
    return 1;
  }

  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext hctx;
  hctx.set_deadline(InFiveSeconds());
  grpc::health::v1::HealthCheckResponse hresp;
  st = health->Check(&hctx, {}, &hresp);
  if (!st.ok()) {
    std::fprintf(stderr, "health: %s\n", st.error_message().c_str());
    return 1;
  }
  std::printf("health %s\n",
              grpc::health::v1::HealthCheckResponse::ServingStatus_Name(hresp.status()).c_str());
  return 0;
}
