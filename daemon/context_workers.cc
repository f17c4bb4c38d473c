// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/context_workers.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "daemon/chardev.h"
#include "daemon/log.h"

namespace daedalus {

ContextWorkers::ContextWorkers(DecodeJobs::Options options, DecodeStats& stats, int worker_nice)
    : options_(options), stats_(stats), worker_nice_(worker_nice), malformed_(options, stats) {}

ContextWorkers::~ContextWorkers() { LinkLost(); }

void ContextWorkers::SetLinkLostReporter(LinkLostReporter report) {
  absl::MutexLock lock(&report_mu_);
  report_ = std::move(report);
}

std::optional<uint32_t> ContextWorkers::ContextOf(const protocol::Message& msg) {
  if (msg.type == DDV_MSG_DECODE && msg.payload.size() == sizeof(ddv_decode)) {
    ddv_decode req;
    std::memcpy(&req, msg.payload.data(), sizeof(req));
    return req.ctx_id;
  }
  if ((msg.type == DDV_MSG_FLUSH || msg.type == DDV_MSG_CTX_CLOSE) &&
      msg.payload.size() == sizeof(ddv_ctx_msg)) {
    ddv_ctx_msg m;
    std::memcpy(&m, msg.payload.data(), sizeof(m));
    return m.ctx_id;
  }
  return std::nullopt;
}

absl::Status ContextWorkers::Handle(const protocol::Message& msg, JobIo& io) {
  std::optional<uint32_t> ctx = ContextOf(msg);
  if (!ctx) return malformed_.Handle(msg, io);
  absl::MutexLock lock(&mu_);
  Reap();
  auto it = workers_.find(*ctx);
  if (it == workers_.end()) {
    // Nothing to flush or close in a context that never sent a job here.
    if (msg.type != DDV_MSG_DECODE) return absl::OkStatus();
    auto w = std::make_unique<Worker>(options_, stats_);
    Worker* raw = w.get();
    w->thread = std::thread([this, raw, id = *ctx] { Run(raw, id); });
    it = workers_.emplace(*ctx, std::move(w)).first;
  }
  Worker& w = *it->second;
  {
    absl::MutexLock wlock(&w.mu);
    w.io = &io;
    w.queue.push_back(msg);
    w.wake.Signal();
  }
  // A closed context's thread ends after the close; the id may come back.
  if (msg.type == DDV_MSG_CTX_CLOSE) {
    closing_.push_back(std::move(it->second));
    workers_.erase(it);
  }
  return absl::OkStatus();
}

void ContextWorkers::Run(Worker* w, uint32_t ctx) {
  // Set before the context's decoder exists: its frame threads, started
  // from this thread, inherit the name and the nice value.
  std::string name = absl::StrFormat("ddv-ctx%u", ctx).substr(0, 15);
  pthread_setname_np(pthread_self(), name.c_str());
  if (worker_nice_ > 0) {
    // Nicer than the thread that started it (raising nice needs no
    // privilege); getpriority's -1 is a value, errno tells an error.
    errno = 0;
    int base = getpriority(PRIO_PROCESS, gettid());
    if ((errno != 0 && base == -1) ||
        setpriority(PRIO_PROCESS, gettid(), std::min(base + worker_nice_, 19)) != 0) {
      Log(Severity::kWarning, absl::StrFormat("context %u: decodes at the daemon's nice: %s", ctx,
                                              std::strerror(errno)));
    }
  }
  for (;;) {
    protocol::Message msg;
    JobIo* io;
    {
      absl::MutexLock lock(&w->mu);
      while (w->queue.empty() && !w->stop) w->wake.Wait(&w->mu);
      if (w->stop) break;
      msg = std::move(w->queue.front());
      w->queue.pop_front();
      io = w->io;
    }
    absl::Status st = w->jobs.Handle(msg, *io);
    if (IsLinkLost(st)) {
      absl::MutexLock lock(&report_mu_);
      if (report_) report_(st);
    }
    if (msg.type == DDV_MSG_CTX_CLOSE) break;
  }
  absl::MutexLock lock(&w->mu);
  w->ended = true;
}

void ContextWorkers::Reap() {
  for (auto it = closing_.begin(); it != closing_.end();) {
    bool ended;
    {
      absl::MutexLock lock(&(*it)->mu);
      ended = (*it)->ended;
    }
    if (!ended) {
      ++it;
      continue;
    }
    (*it)->thread.join();
    it = closing_.erase(it);
  }
}

void ContextWorkers::LinkLost() {
  std::vector<std::unique_ptr<Worker>> all;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, w] : workers_) all.push_back(std::move(w));
    workers_.clear();
    for (auto& w : closing_) all.push_back(std::move(w));
    closing_.clear();
  }
  for (auto& w : all) {
    absl::MutexLock lock(&w->mu);
    w->stop = true;
    w->wake.Signal();
  }
  for (auto& w : all) w->thread.join();
  stats_.AllContextsClosed();
}

size_t ContextWorkers::contexts() {
  absl::MutexLock lock(&mu_);
  return workers_.size();
}

}  // namespace daedalus
