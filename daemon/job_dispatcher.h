// SPDX-License-Identifier: BSD-2-Clause
//
// JobDispatcher: the decode path's messages from the kernel, turned into
// DecodeJobs calls. A DECODE is run and its DECODE_DONE sent back; FLUSH
// and CTX_CLOSE reach the context's decoder; every answer is counted in
// the DecodeStats.
//
//   DecodeStats stats;
//   JobDispatcher jobs({.threads = 2}, stats);
//   KernelLink link(options, jobs);   // calls jobs.Handle(msg, chardev)

#ifndef DAEDALUS_DAEMON_JOB_DISPATCHER_H_
#define DAEDALUS_DAEMON_JOB_DISPATCHER_H_

#include <cstddef>

#include "absl/status/status.h"
#include "daemon/decode_jobs.h"
#include "daemon/decode_stats.h"
#include "daemon/job_io.h"
#include "daemon/kernel_link.h"
#include "daemon/protocol.h"

namespace daedalus {

class JobDispatcher final : public JobHandler {
 public:
  // `stats` must outlive the dispatcher.
  JobDispatcher(DecodeJobs::Options options, DecodeStats& stats)
      : stats_(stats), jobs_(options, stats) {}

  absl::Status Handle(const protocol::Message& msg, JobIo& io) override;
  void LinkLost() override { jobs_.Clear(); }

  size_t contexts() const { return jobs_.contexts(); }

 private:
  absl::Status OnDecode(const protocol::Message& msg, JobIo& io);
  void OnContextMessage(const protocol::Message& msg);

  DecodeStats& stats_;
  DecodeJobs jobs_;
};

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_JOB_DISPATCHER_H_
