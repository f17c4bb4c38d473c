// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/job_dispatcher.h"

#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/str_format.h"
#include "daemon/log.h"

namespace daedalus {

absl::Status JobDispatcher::Handle(const protocol::Message& msg, JobIo& io) {
  switch (msg.type) {
    case DDV_MSG_DECODE:
      return OnDecode(msg, io);
    case DDV_MSG_FLUSH:
    case DDV_MSG_CTX_CLOSE:
      OnContextMessage(msg);
      return absl::OkStatus();
    default:
      Log(Severity::kWarning, absl::StrFormat("job dispatcher: ignored %s (cookie 0x%08x)",
                                              protocol::TypeName(msg.type), msg.cookie));
      return absl::OkStatus();
  }
}

absl::Status JobDispatcher::OnDecode(const protocol::Message& msg, JobIo& io) {
  ddv_decode req;
  if (msg.payload.size() != sizeof(req)) {
    Log(Severity::kError, absl::StrFormat("DECODE with a %d-byte payload", msg.payload.size()));
    return absl::OkStatus();
  }
  std::memcpy(&req, msg.payload.data(), sizeof(req));
  std::optional<ddv_decode_done> done = jobs_.Run(req, io);
  if (!done) return absl::OkStatus();  // the job is gone: nothing to answer
  absl::Status st = io.Answer(msg.cookie, *done);
  if (st.ok()) {
    stats_.JobAnswered(req.ctx_id, req.submit_ns);
    return st;
  }
  stats_.JobDropped(req.ctx_id);
  // NotFound: the kernel ended the job meanwhile (timeout, close).
  if (!absl::IsNotFound(st)) Log(Severity::kError, std::string(st.message()));
  return st;
}

void JobDispatcher::OnContextMessage(const protocol::Message& msg) {
  ddv_ctx_msg m;
  if (msg.payload.size() != sizeof(m)) {
    Log(Severity::kError, absl::StrFormat("%s with a %d-byte payload", protocol::TypeName(msg.type),
                                          msg.payload.size()));
    return;
  }
  std::memcpy(&m, msg.payload.data(), sizeof(m));
  if (msg.type == DDV_MSG_FLUSH) {
    jobs_.Flush(m.ctx_id);
  } else {
    jobs_.Close(m.ctx_id);
  }
}

}  // namespace daedalus
