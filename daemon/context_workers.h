// SPDX-License-Identifier: BSD-2-Clause
//
// ContextWorkers: each decoding context's messages (DECODE, FLUSH,
// CTX_CLOSE) run on a thread of that context's own, in the order the
// kernel sent them, so that streams decode side by side on as many cores
// as there are streams. The kernel has one job per context with the daemon
// at a time and jobs of several contexts at once. A context's thread
// starts with its first message and ends after its CTX_CLOSE. It is
// named "ddv-ctx<id>" (top -H, /proc/PID/task/*/comm) and runs
// `worker_nice` nicer than the daemon, as do the libavcodec threads it
// starts: a busy decode leaves the CPU to the control plane first.
//
//   DecodeStats stats;
//   ContextWorkers jobs({.threads = 1}, stats);
//   KernelLink link(options, jobs);   // calls jobs.Handle(msg, chardev)

#ifndef DAEDALUS_DAEMON_CONTEXT_WORKERS_H_
#define DAEDALUS_DAEMON_CONTEXT_WORKERS_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "daemon/decode_jobs.h"
#include "daemon/decode_stats.h"
#include "daemon/job_dispatcher.h"
#include "daemon/kernel_link.h"

namespace daedalus {

class ContextWorkers final : public JobHandler {
 public:
  // `stats` must outlive the workers. `worker_nice`: how much nicer than
  // the daemon a context's decode runs, 0 to 19 (nice is capped at 19).
  ContextWorkers(DecodeJobs::Options options, DecodeStats& stats, int worker_nice = 0);
  ~ContextWorkers() override;
  ContextWorkers(const ContextWorkers&) = delete;
  ContextWorkers& operator=(const ContextWorkers&) = delete;

  // Queues the message for its context's thread and returns at once; a
  // message naming no context (a malformed one) is handled here.
  absl::Status Handle(const protocol::Message& msg, JobIo& io) override;
  // Stops every context's thread (after the message it is on) and forgets
  // the contexts; nothing uses the chardev after this returns.
  void LinkLost() override;
  void SetLinkLostReporter(LinkLostReporter report) override;

  // Contexts with a thread (closed ones whose thread has not ended aside).
  size_t contexts();

 private:
  struct Worker {
    Worker(DecodeJobs::Options options, DecodeStats& stats) : jobs(options, stats) {}
    JobDispatcher jobs;  // this context's decoder; used by its thread only
    absl::Mutex mu;
    absl::CondVar wake;
    std::deque<protocol::Message> queue ABSL_GUARDED_BY(mu);
    JobIo* io ABSL_GUARDED_BY(mu) = nullptr;
    bool stop ABSL_GUARDED_BY(mu) = false;
    bool ended ABSL_GUARDED_BY(mu) = false;
    std::thread thread;
  };

  void Run(Worker* w, uint32_t ctx);
  // Joins the threads of closed contexts that have ended.
  void Reap() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static std::optional<uint32_t> ContextOf(const protocol::Message& msg);

  const DecodeJobs::Options options_;
  DecodeStats& stats_;
  const int worker_nice_;
  JobDispatcher malformed_;  // logs and drops what names no context

  absl::Mutex report_mu_;
  LinkLostReporter report_ ABSL_GUARDED_BY(report_mu_);

  absl::Mutex mu_;
  std::map<uint32_t, std::unique_ptr<Worker>> workers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Worker>> closing_ ABSL_GUARDED_BY(mu_);
};

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_CONTEXT_WORKERS_H_
