// SPDX-License-Identifier: BSD-2-Clause
//
// Encoding, decoding and validation of chardev messages (the protocol of
// DDV_PROTO_VERSION in the UAPI header).
//
// The kernel validates what the daemon writes; this library validates what
// the daemon reads, with the same rules, so a corrupt or foreign message is
// an error value, never undefined behaviour.
//
//   std::string wire = protocol::Encode({DDV_MSG_PONG, ping.cookie, ping.payload});
//   absl::StatusOr<protocol::Message> msg = protocol::Decode(bytes);

#ifndef DAEDALUS_DAEMON_PROTOCOL_H_
#define DAEDALUS_DAEMON_PROTOCOL_H_

#include <linux/daedalus-v4l2.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace daedalus::protocol {

inline constexpr size_t kHeaderSize = sizeof(ddv_msg_header);
inline constexpr size_t kMaxMessageSize = kHeaderSize + DDV_MAX_PAYLOAD;
static_assert(kHeaderSize == 24, "the header is 24 bytes on the wire");

struct Message {
  uint32_t type = 0;
  uint32_t cookie = 0;
  std::string payload;
};

// Frames `msg` for write(). The payload must be at most DDV_MAX_PAYLOAD.
std::string Encode(const Message& msg);

// Parses exactly one message; `bytes` must hold nothing else.
// InvalidArgument for a short buffer, a length mismatch, or a non-zero
// reserved field; DataLoss for a bad magic; FailedPrecondition for another
// protocol version; OutOfRange for an oversized payload.
absl::StatusOr<Message> Decode(std::string_view bytes);

// Human-readable name of a message type, e.g. "PING" or "0x00000042".
std::string TypeName(uint32_t type);

// Typed payloads.
// At most DDV_MAX_CODECS of `codecs` go; the kernel refuses a HELLO
// with none.
Message MakeHello(uint32_t cookie, std::string_view daemon_version,
                  const std::vector<ddv_codec_caps>& codecs);
absl::StatusOr<ddv_hello_ack> ParseHelloAck(const Message& msg);
absl::StatusOr<ddv_ping_result> ParsePingResult(const Message& msg);

}  // namespace daedalus::protocol

#endif  // DAEDALUS_DAEMON_PROTOCOL_H_
