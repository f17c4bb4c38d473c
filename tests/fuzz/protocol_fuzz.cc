// SPDX-License-Identifier: BSD-2-Clause
//
// Fuzz target: one chardev message as the daemon reads it
// (protocol::Decode) and the typed payloads it parses. Whatever the bytes,
// decoding returns a value or an error; a message it accepts encodes back
// to exactly the same bytes, and its typed parses accept only payloads of
// their size.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<daedalus::protocol::Message> msg = daedalus::protocol::Decode(bytes);
  if (!msg.ok()) return 0;
  if (daedalus::protocol::Encode(*msg) != bytes) std::abort();  // not a round trip
  (void)daedalus::protocol::TypeName(msg->type);
  if (daedalus::protocol::ParseHelloAck(*msg).ok() &&
      (msg->type != DDV_MSG_HELLO_ACK || msg->payload.size() != sizeof(ddv_hello_ack)))
    std::abort();
  if (daedalus::protocol::ParsePingResult(*msg).ok() &&
      (msg->type != DDV_MSG_PING_RESULT || msg->payload.size() != sizeof(ddv_ping_result)))
    std::abort();
  return 0;
}
