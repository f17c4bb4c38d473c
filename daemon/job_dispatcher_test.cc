// SPDX-License-Identifier: BSD-2-Clause
//
// JobDispatcher: decode-path messages in, DecodeJobs calls and answers out,
// every answer counted. Bad payloads are dropped with the link kept; an
// answer the kernel refuses is counted as dropped and its status returned
// for the link to judge.

#include "daemon/job_dispatcher.h"

#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/testing/job_messages.h"
#include "gtest/gtest.h"
#include "tests/test_stream.h"

namespace daedalus {
namespace {

class FakeJobIo final : public JobIo {
 public:
  std::string src;
  absl::Status answer_status = absl::OkStatus();
  std::vector<std::pair<uint32_t, ddv_decode_done>> answers;

  absl::StatusOr<size_t> ReadSrc(uint32_t, uint32_t, std::string& buf) override {
    buf.assign(src);
    return src.size();
  }
  absl::Status WritePicture(uint32_t, uint32_t, const PictureView&) override {
    return absl::OkStatus();
  }
  absl::StatusOr<int> ExportDst(uint32_t, uint32_t) override {
    return absl::FailedPreconditionError("no buffers to map here");
  }
  absl::Status Answer(uint32_t cookie, const ddv_decode_done& done) override {
    answers.emplace_back(cookie, done);
    return answer_status;
  }
};

class JobDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stream = testing::TestStream::Open(testing::CodecDir("vp9") +
                                            "/conformance/vp90-2-02-size-16x16.webm");
    ASSERT_TRUE(stream.ok()) << stream.status();
    std::optional<testing::CompressedFrame> first = (*stream)->Next();
    ASSERT_TRUE(first.has_value());
    io_.src = first->data;
  }
  // A DECODE of the first frame for context `ctx`.
  protocol::Message Decode(uint32_t ctx, uint32_t cookie) {
    return testing::Msg(DDV_MSG_DECODE, cookie,
                        testing::DecodeRequest(V4L2_PIX_FMT_VP9, ctx, cookie, io_.src.size()));
  }
  control::DecodeFigures Snapshot() { return stats_.Snapshot(false); }

  DecodeStats stats_;
  JobDispatcher jobs_{{1}, stats_};
  FakeJobIo io_;
};

TEST_F(JobDispatcherTest, DecodeIsRunAndAnsweredWithItsCookie) {
  EXPECT_TRUE(jobs_.Handle(Decode(1, 0x77), io_).ok());
  ASSERT_EQ(io_.answers.size(), 1u);
  EXPECT_EQ(io_.answers[0].first, 0x77u);
  // The stream's first picture is announced before it is written.
  EXPECT_TRUE(io_.answers[0].second.flags & DDV_DONE_FORMAT);
  EXPECT_EQ(io_.answers[0].second.format.width, 16u);
  EXPECT_EQ(jobs_.contexts(), 1u);
  EXPECT_EQ(Snapshot().totals.jobs, 1u);
}

TEST_F(JobDispatcherTest, MalformedPayloadsAreDroppedAndTheLinkKept) {
  EXPECT_TRUE(jobs_.Handle({DDV_MSG_DECODE, 1, "short"}, io_).ok());
  EXPECT_TRUE(jobs_.Handle({DDV_MSG_FLUSH, 2, "x"}, io_).ok());
  EXPECT_TRUE(jobs_.Handle({DDV_MSG_CTX_CLOSE, 3, std::string(100, '\0')}, io_).ok());
  EXPECT_TRUE(jobs_.Handle({DDV_MSG_PING, 4, ""}, io_).ok());  // not the dispatcher's
  EXPECT_TRUE(io_.answers.empty());
  EXPECT_EQ(jobs_.contexts(), 0u);
}

TEST_F(JobDispatcherTest, RefusedAnswersAreCountedAsDroppedAndReturned) {
  io_.answer_status = absl::NotFoundError("job gone");  // the kernel timed it out
  absl::Status st = jobs_.Handle(Decode(1, 1), io_);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  io_.answer_status = absl::UnavailableError("chardev closed");
  st = jobs_.Handle(Decode(1, 2), io_);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);  // the link judges it lost
  control::DecodeFigures s = Snapshot();
  EXPECT_EQ(s.totals.jobs, 0u);
  EXPECT_EQ(s.totals.jobs_dropped, 2u);
}

TEST_F(JobDispatcherTest, CloseAndLinkLossFreeContexts) {
  ASSERT_TRUE(jobs_.Handle(Decode(1, 1), io_).ok());
  ASSERT_TRUE(jobs_.Handle(Decode(2, 2), io_).ok());
  EXPECT_EQ(jobs_.contexts(), 2u);
  ddv_ctx_msg close_1 = {1, 0};
  EXPECT_TRUE(jobs_.Handle(testing::Msg(DDV_MSG_FLUSH, 3, close_1), io_).ok());
  EXPECT_EQ(jobs_.contexts(), 2u);  // a flush keeps the context
  EXPECT_TRUE(jobs_.Handle(testing::Msg(DDV_MSG_CTX_CLOSE, 4, close_1), io_).ok());
  EXPECT_EQ(jobs_.contexts(), 1u);
  jobs_.LinkLost();
  EXPECT_EQ(jobs_.contexts(), 0u);
}

}  // namespace
}  // namespace daedalus
