// SPDX-License-Identifier: BSD-2-Clause
//
// ContextWorkers: contexts decode at the same time, each in the kernel's
// order; a close ends its context's thread; a broken chardev found on a
// context's thread is reported; a lost link stops every thread.

#include "daemon/context_workers.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/testing/job_messages.h"
#include "gtest/gtest.h"
#include "tests/test_stream.h"

namespace daedalus {
namespace {

// The chardev's job calls, thread-safe, with a meeting point: when
// `meet` is set, each job's ReadSrc waits (up to a bound) until that many
// jobs are reading at once, which they only do on separate threads.
class FakeJobIo final : public JobIo {
 public:
  explicit FakeJobIo(std::string src) : src_(std::move(src)) {}

  absl::StatusOr<size_t> ReadSrc(uint32_t, uint32_t, std::string& buf) override {
    absl::MutexLock lock(&mu_);
    reading_++;
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    reader_name_ = name;
    reader_nice_ = getpriority(PRIO_PROCESS, gettid());
    if (meet_ > 0) {
      met_ =
          mu_.AwaitWithTimeout(absl::Condition(this, &FakeJobIo::AllIn), absl::Seconds(10)) && met_;
    }
    buf.assign(src_);
    return src_.size();
  }
  absl::Status WritePicture(uint32_t, uint32_t, const PictureView&) override {
    return absl::OkStatus();
  }
  absl::StatusOr<int> ExportDst(uint32_t, uint32_t) override {
    return absl::FailedPreconditionError("no buffers to map here");
  }
  absl::Status Answer(uint32_t cookie, const ddv_decode_done& done) override {
    absl::MutexLock lock(&mu_);
    answers_.emplace_back(cookie, done);
    return answer_status_;
  }

  void Meet(int jobs) {
    absl::MutexLock lock(&mu_);
    meet_ = jobs;
  }
  void FailAnswers(absl::Status st) {
    absl::MutexLock lock(&mu_);
    answer_status_ = std::move(st);
  }
  bool met() {
    absl::MutexLock lock(&mu_);
    return met_;
  }
  // The name and nice value of the thread that read the last job.
  std::pair<std::string, int> LastReader() {
    absl::MutexLock lock(&mu_);
    return {reader_name_, reader_nice_};
  }
  // Waits up to 10 s for `n` answers; a copy of them.
  std::vector<std::pair<uint32_t, ddv_decode_done>> Answers(size_t n) {
    absl::MutexLock lock(&mu_);
    wanted_ = n;
    mu_.AwaitWithTimeout(absl::Condition(this, &FakeJobIo::Enough), absl::Seconds(10));
    return answers_;
  }

 private:
  bool AllIn() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return reading_ >= meet_; }
  bool Enough() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return answers_.size() >= wanted_; }

  const std::string src_;
  absl::Mutex mu_;
  int meet_ ABSL_GUARDED_BY(mu_) = 0;
  int reading_ ABSL_GUARDED_BY(mu_) = 0;
  size_t wanted_ ABSL_GUARDED_BY(mu_) = 0;
  bool met_ ABSL_GUARDED_BY(mu_) = true;
  std::string reader_name_ ABSL_GUARDED_BY(mu_);
  int reader_nice_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status answer_status_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<uint32_t, ddv_decode_done>> answers_ ABSL_GUARDED_BY(mu_);
};

std::string FirstFrame() {
  auto stream = testing::TestStream::Open(testing::CodecDir("vp9") +
                                          "/conformance/vp90-2-02-size-16x16.webm");
  if (!stream.ok()) return "";
  std::optional<testing::CompressedFrame> first = (*stream)->Next();
  return first ? first->data : "";
}

class ContextWorkersTest : public ::testing::Test {
 protected:
  // The frame comes from ../shared: missing data fails the test.
  void SetUp() override { ASSERT_FALSE(frame_.empty()) << "no VP9 test stream in ../shared"; }
  protocol::Message Decode(uint32_t ctx, uint32_t job) {
    return testing::Msg(DDV_MSG_DECODE, job,
                        testing::DecodeRequest(V4L2_PIX_FMT_VP9, ctx, job, frame_.size()));
  }
  protocol::Message Close(uint32_t ctx) {
    ddv_ctx_msg m = {ctx, 0};
    return testing::Msg(DDV_MSG_CTX_CLOSE, 0, m);
  }

  const std::string frame_ = FirstFrame();
  DecodeStats stats_;
  FakeJobIo io_{frame_};
  ContextWorkers workers_{{1}, stats_};
};

// Each job waits in ReadSrc until the other context's job reads too: one
// thread for all contexts would never get there (the wait times out).
TEST_F(ContextWorkersTest, TwoContextsDecodeAtTheSameTime) {
  io_.Meet(2);
  ASSERT_TRUE(workers_.Handle(Decode(1, 11), io_).ok());
  ASSERT_TRUE(workers_.Handle(Decode(2, 21), io_).ok());
  EXPECT_EQ(io_.Answers(2).size(), 2u);
  EXPECT_TRUE(io_.met()) << "the second context's job waited for the first's";
  EXPECT_EQ(workers_.contexts(), 2u);
}

// A context's decode runs on a thread named after it, at the nice value
// asked for, which the decoder's own threads inherit; the daemon's own
// threads (this one) keep theirs.
TEST_F(ContextWorkersTest, AContextsThreadIsNamedAndRunsAtTheWorkersNice) {
  int mine = getpriority(PRIO_PROCESS, gettid());
  ContextWorkers nicer({1}, stats_, 7);
  ASSERT_TRUE(nicer.Handle(Decode(42, 1), io_).ok());
  ASSERT_EQ(io_.Answers(1).size(), 1u);
  auto [name, nice] = io_.LastReader();
  EXPECT_EQ(name, "ddv-ctx42");
  EXPECT_EQ(nice, std::min(mine + 7, 19));
  EXPECT_EQ(getpriority(PRIO_PROCESS, gettid()), mine);
}

TEST_F(ContextWorkersTest, EachContextsJobsAreAnsweredInOrder) {
  for (uint32_t job = 1; job <= 6; job++) {
    ASSERT_TRUE(workers_.Handle(Decode(1 + job % 2, job), io_).ok());
  }
  auto answers = io_.Answers(6);
  ASSERT_EQ(answers.size(), 6u);
  uint32_t last[3] = {};
  for (const auto& [cookie, done] : answers) {
    EXPECT_GT(done.job_id, last[done.ctx_id]) << "context " << done.ctx_id;
    last[done.ctx_id] = done.job_id;
  }
}

TEST_F(ContextWorkersTest, ACloseEndsTheContextAndItsStatistics) {
  ASSERT_TRUE(workers_.Handle(Decode(1, 1), io_).ok());
  ASSERT_TRUE(workers_.Handle(Close(1), io_).ok());
  EXPECT_EQ(workers_.contexts(), 0u);
  ASSERT_EQ(io_.Answers(1).size(), 1u);
  for (int i = 0; i < 100 && stats_.Snapshot(false).contexts_closed == 0; i++) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(stats_.Snapshot(false).contexts_closed, 1u);
  // A close of a context that never sent a job here is nothing to do.
  EXPECT_TRUE(workers_.Handle(Close(9), io_).ok());
  EXPECT_EQ(workers_.contexts(), 0u);
}

TEST_F(ContextWorkersTest, ABrokenChardevOnAContextsThreadIsReported) {
  absl::Mutex mu;
  std::optional<absl::Status> reported;
  workers_.SetLinkLostReporter([&](const absl::Status& st) {
    absl::MutexLock lock(&mu);
    reported = st;
  });
  io_.FailAnswers(absl::UnavailableError("chardev closed"));
  ASSERT_TRUE(workers_.Handle(Decode(1, 1), io_).ok());
  absl::MutexLock lock(&mu);
  auto seen = [&reported] { return reported.has_value(); };
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&seen), absl::Seconds(10)));
  EXPECT_EQ(reported->code(), absl::StatusCode::kUnavailable);
}

TEST_F(ContextWorkersTest, ALostLinkStopsEveryContext) {
  ASSERT_TRUE(workers_.Handle(Decode(1, 1), io_).ok());
  ASSERT_TRUE(workers_.Handle(Decode(2, 2), io_).ok());
  io_.Answers(2);
  workers_.LinkLost();
  EXPECT_EQ(workers_.contexts(), 0u);
  control::DecodeFigures s = stats_.Snapshot(false);
  EXPECT_EQ(s.contexts_active, 0u);
  EXPECT_EQ(s.contexts_closed, 2u);
}

TEST_F(ContextWorkersTest, MalformedMessagesAreDroppedHere) {
  EXPECT_TRUE(workers_.Handle({DDV_MSG_DECODE, 1, "short"}, io_).ok());
  EXPECT_TRUE(workers_.Handle({DDV_MSG_CTX_CLOSE, 3, std::string(100, '\0')}, io_).ok());
  EXPECT_EQ(workers_.contexts(), 0u);
}

}  // namespace
}  // namespace daedalus
