// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/protocol.h"

#include <cstring>

#include "gtest/gtest.h"

namespace daedalus::protocol {
namespace {

ddv_msg_header HeaderOf(const std::string& wire) {
  ddv_msg_header hdr;
  std::memcpy(&hdr, wire.data(), sizeof(hdr));
  return hdr;
}

std::string WithHeader(std::string wire, const ddv_msg_header& hdr) {
  std::memcpy(wire.data(), &hdr, sizeof(hdr));
  return wire;
}

TEST(ProtocolTest, EncodeWritesTheV6Header) {
  std::string wire = Encode({DDV_MSG_PONG, 0x1234, "abc"});
  ASSERT_EQ(wire.size(), 24u + 3u);
  ddv_msg_header hdr = HeaderOf(wire);
  EXPECT_EQ(hdr.magic, 0x44303456u);
  EXPECT_EQ(hdr.version, 6u);
  EXPECT_EQ(hdr.type, 0x80000001u);
  EXPECT_EQ(hdr.cookie, 0x1234u);
  EXPECT_EQ(hdr.payload_len, 3u);
  EXPECT_EQ(hdr.reserved, 0u);
  EXPECT_EQ(wire.substr(24), "abc");
}

TEST(ProtocolTest, DecodeRoundTrips) {
  std::string payload(DDV_MAX_PAYLOAD, 'x');
  absl::StatusOr<Message> msg = Decode(Encode({DDV_MSG_PING, 7, payload}));
  ASSERT_TRUE(msg.ok()) << msg.status();
  EXPECT_EQ(msg->type, static_cast<uint32_t>(DDV_MSG_PING));
  EXPECT_EQ(msg->cookie, 7u);
  EXPECT_EQ(msg->payload, payload);
}

TEST(ProtocolTest, DecodeRejectsShortBuffer) {
  std::string wire = Encode({DDV_MSG_PING, 1, ""});
  EXPECT_EQ(Decode(wire.substr(0, 23)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProtocolTest, DecodeRejectsBadMagic) {
  std::string wire = Encode({DDV_MSG_PING, 1, ""});
  ddv_msg_header hdr = HeaderOf(wire);
  hdr.magic = 0xdeadbeef;
  absl::Status st = Decode(WithHeader(wire, hdr)).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("0xdeadbeef"), std::string::npos);
}

TEST(ProtocolTest, DecodeRejectsOtherVersions) {
  std::string wire = Encode({DDV_MSG_PING, 1, ""});
  for (uint32_t version : {0u, 1u, 2u, 3u, 4u, 5u, 7u, 0xffffffffu}) {
    ddv_msg_header hdr = HeaderOf(wire);
    hdr.version = version;
    EXPECT_EQ(Decode(WithHeader(wire, hdr)).status().code(), absl::StatusCode::kFailedPrecondition)
        << version;
  }
}

TEST(ProtocolTest, DecodeRejectsNonZeroReserved) {
  std::string wire = Encode({DDV_MSG_PING, 1, ""});
  ddv_msg_header hdr = HeaderOf(wire);
  hdr.reserved = 1;
  EXPECT_EQ(Decode(WithHeader(wire, hdr)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProtocolTest, DecodeRejectsOversizedPayload) {
  std::string wire = Encode({DDV_MSG_PING, 1, ""});
  ddv_msg_header hdr = HeaderOf(wire);
  hdr.payload_len = DDV_MAX_PAYLOAD + 1;
  EXPECT_EQ(Decode(WithHeader(wire, hdr)).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(ProtocolTest, DecodeRejectsLengthMismatch) {
  std::string wire = Encode({DDV_MSG_PING, 1, "four"});
  EXPECT_EQ(Decode(wire.substr(0, wire.size() - 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode(wire + "!").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProtocolTest, TypeNames) {
  EXPECT_EQ(TypeName(DDV_MSG_PING_RESULT), "PING_RESULT");
  EXPECT_EQ(TypeName(0x42), "0x00000042");
}

TEST(ProtocolTest, HelloCarriesVersionAndTerminatedName) {
  Message hello = MakeHello(9, std::string(100, 'v'), {});
  ASSERT_EQ(hello.payload.size(), sizeof(ddv_hello));
  ddv_hello h;
  std::memcpy(&h, hello.payload.data(), sizeof(h));
  EXPECT_EQ(h.proto_version, 6u);
  EXPECT_EQ(h.flags, static_cast<uint32_t>(DDV_HELLO_RECOVERY));  // it resumes streams
  EXPECT_EQ(h.daemon_version[sizeof(h.daemon_version) - 1], '\0');
  EXPECT_EQ(std::string(h.daemon_version), std::string(31, 'v'));
}

TEST(ProtocolTest, ParsesHelloAckAndTerminatesItsString) {
  ddv_hello_ack ack;
  std::memset(&ack, 'A', sizeof(ack));
  ack.proto_version = 1;
  Message msg{DDV_MSG_HELLO_ACK, 1, std::string(reinterpret_cast<const char*>(&ack), sizeof(ack))};
  absl::StatusOr<ddv_hello_ack> parsed = ParseHelloAck(msg);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(std::strlen(parsed->module_version), sizeof(ack.module_version) - 1);
}

TEST(ProtocolTest, TypedParsersCheckTypeAndSize) {
  Message wrong_type{DDV_MSG_PING, 1, std::string(sizeof(ddv_ping_result), '\0')};
  EXPECT_FALSE(ParsePingResult(wrong_type).ok());
  Message wrong_size{DDV_MSG_PING_RESULT, 1, "short"};
  EXPECT_FALSE(ParsePingResult(wrong_size).ok());
  ddv_ping_result res = {42, 0, 123456};
  Message good{DDV_MSG_PING_RESULT, 1,
               std::string(reinterpret_cast<const char*>(&res), sizeof(res))};
  absl::StatusOr<ddv_ping_result> parsed = ParsePingResult(good);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->ping_cookie, 42u);
  EXPECT_EQ(parsed->rtt_ns, 123456u);
}

}  // namespace
}  // namespace daedalus::protocol
