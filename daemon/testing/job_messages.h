// SPDX-License-Identifier: BSD-2-Clause
//
// The kernel's decode-job messages as the daemon's tests build them: a
// DECODE request and a protocol message around any payload struct.
//
//   ddv_decode req = DecodeRequest(V4L2_PIX_FMT_VP9, /*ctx=*/1, /*job=*/7, frame.size());
//   jobs.Handle(Msg(DDV_MSG_DECODE, 7, req), io);

#ifndef DAEDALUS_DAEMON_TESTING_JOB_MESSAGES_H_
#define DAEDALUS_DAEMON_TESTING_JOB_MESSAGES_H_

#include <linux/daedalus-v4l2.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/protocol.h"

namespace daedalus::testing {

// A message of `type` whose payload is `payload`'s bytes, as the chardev
// delivers it.
template <typename T>
protocol::Message Msg(uint32_t type, uint32_t cookie, const T& payload) {
  return {type, cookie, std::string(reinterpret_cast<const char*>(&payload), sizeof(payload))};
}

// A DECODE of `src_bytes` bytes of bitstream (no CAPTURE buffer) for
// context `ctx`; the caller adds flags, a timestamp or a layout.
inline ddv_decode DecodeRequest(uint32_t codec, uint32_t ctx, uint32_t job, size_t src_bytes) {
  ddv_decode req = {};
  req.codec = codec;
  req.ctx_id = ctx;
  req.job_id = job;
  req.flags = DDV_DECODE_SRC;
  req.src_bytes = static_cast<uint32_t>(src_bytes);
  return req;
}

}  // namespace daedalus::testing

#endif  // DAEDALUS_DAEMON_TESTING_JOB_MESSAGES_H_
