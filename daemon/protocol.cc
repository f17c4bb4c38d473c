// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/protocol.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace daedalus::protocol {
namespace {

// Copies a fixed-size payload struct out of `msg`, checking its type and size.
template <typename T>
absl::StatusOr<T> ParsePayload(const Message& msg, uint32_t type) {
  if (msg.type != type) {
    return absl::InvalidArgumentError(
        absl::StrFormat("expected %s, got %s", TypeName(type), TypeName(msg.type)));
  }
  if (msg.payload.size() != sizeof(T)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s payload is %d bytes, expected %d", TypeName(type), msg.payload.size(), sizeof(T)));
  }
  T out;
  std::memcpy(&out, msg.payload.data(), sizeof(T));
  return out;
}

}  // namespace

std::string Encode(const Message& msg) {
  ddv_msg_header hdr = {};
  hdr.magic = DDV_MAGIC;
  hdr.version = DDV_PROTO_VERSION;
  hdr.type = msg.type;
  hdr.cookie = msg.cookie;
  hdr.payload_len = static_cast<uint32_t>(msg.payload.size());
  std::string out(reinterpret_cast<const char*>(&hdr), sizeof(hdr));
  out += msg.payload;
  return out;
}

absl::StatusOr<Message> Decode(std::string_view bytes) {
  if (bytes.size() < kHeaderSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "message of %d bytes is shorter than the %d-byte header", bytes.size(), kHeaderSize));
  }
  ddv_msg_header hdr;
  std::memcpy(&hdr, bytes.data(), sizeof(hdr));
  if (hdr.magic != DDV_MAGIC) {
    return absl::DataLossError(
        absl::StrFormat("bad magic 0x%08x (want 0x%08x)", hdr.magic, DDV_MAGIC));
  }
  if (hdr.version != DDV_PROTO_VERSION) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "protocol version %d, this daemon speaks %d", hdr.version, DDV_PROTO_VERSION));
  }
  if (hdr.reserved != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("reserved field is 0x%08x, must be 0", hdr.reserved));
  }
  if (hdr.payload_len > DDV_MAX_PAYLOAD) {
    return absl::OutOfRangeError(
        absl::StrFormat("payload of %d bytes exceeds %d", hdr.payload_len, DDV_MAX_PAYLOAD));
  }
  if (bytes.size() != kHeaderSize + hdr.payload_len) {
    return absl::InvalidArgumentError(absl::StrFormat("message is %d bytes but its header says %d",
                                                      bytes.size(), kHeaderSize + hdr.payload_len));
  }
  Message msg;
  msg.type = hdr.type;
  msg.cookie = hdr.cookie;
  msg.payload.assign(bytes.substr(kHeaderSize));
  return msg;
}

std::string TypeName(uint32_t type) {
  switch (type) {
    case DDV_MSG_PING:
      return "PING";
    case DDV_MSG_PONG:
      return "PONG";
    case DDV_MSG_HELLO:
      return "HELLO";
    case DDV_MSG_HELLO_ACK:
      return "HELLO_ACK";
    case DDV_MSG_PING_INJECT:
      return "PING_INJECT";
    case DDV_MSG_PING_RESULT:
      return "PING_RESULT";
    case DDV_MSG_DECODE:
      return "DECODE";
    case DDV_MSG_DECODE_DONE:
      return "DECODE_DONE";
    case DDV_MSG_FLUSH:
      return "FLUSH";
    case DDV_MSG_CTX_CLOSE:
      return "CTX_CLOSE";
  }
  return absl::StrFormat("0x%08x", type);
}

Message MakeHello(uint32_t cookie, std::string_view daemon_version,
                  const std::vector<ddv_codec_caps>& codecs) {
  ddv_hello hello = {};
  hello.proto_version = DDV_PROTO_VERSION;
  // This daemon resumes streams a dead daemon left (DecodeJobs).
  hello.flags = DDV_HELLO_RECOVERY;
  for (const ddv_codec_caps& c : codecs) {
    if (hello.num_codecs == DDV_MAX_CODECS) break;
    hello.codecs[hello.num_codecs++] = c;
  }
  // Truncated to fit, always NUL-terminated (the kernel checks).
  std::string_view v = daemon_version.substr(0, sizeof(hello.daemon_version) - 1);
  std::memcpy(hello.daemon_version, v.data(), v.size());
  return Message{DDV_MSG_HELLO, cookie,
                 std::string(reinterpret_cast<const char*>(&hello), sizeof(hello))};
}

absl::StatusOr<ddv_hello_ack> ParseHelloAck(const Message& msg) {
  absl::StatusOr<ddv_hello_ack> ack = ParsePayload<ddv_hello_ack>(msg, DDV_MSG_HELLO_ACK);
  if (ack.ok()) {
    // Never trust the kernel's string to be terminated.
    ack->module_version[sizeof(ack->module_version) - 1] = '\0';
  }
  return ack;
}

absl::StatusOr<ddv_ping_result> ParsePingResult(const Message& msg) {
  return ParsePayload<ddv_ping_result>(msg, DDV_MSG_PING_RESULT);
}

}  // namespace daedalus::protocol
