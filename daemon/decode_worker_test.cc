// SPDX-License-Identifier: BSD-2-Clause
//
// DecodeWorker on the shared VP9 vectors: decoding ahead gives the same
// pictures, in the same order, as decoding in line; Collect bounds how far
// it runs ahead; Reset and destruction with packets queued lose nothing
// they should keep and never hang.

#include "daemon/decode_worker.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/vp9_stream.h"

namespace daedalus {
namespace {

std::vector<testing::CompressedFrame> Frames(const std::string& name) {
  std::vector<testing::CompressedFrame> frames;
  auto s = testing::Vp9Stream::Open(testing::Vp9Dir() + "/conformance/" + name);
  EXPECT_TRUE(s.ok()) << s.status();
  if (s.ok()) {
    while (auto f = (*s)->Next()) frames.push_back(*std::move(f));
  }
  return frames;
}

std::vector<std::string> Md5s(const std::deque<decode::Picture>& pictures) {
  std::vector<std::string> out;
  for (const auto& p : pictures) out.push_back(testing::PlanarMd5(*p.frame));
  return out;
}

class DecodeWorkerTest : public ::testing::TestWithParam<int> {};

TEST_P(DecodeWorkerTest, DecodingOneAheadMatchesTheReference) {
  const std::string name = "vp90-2-08-tile-4x4.webm";
  auto want = testing::ReadFrameMd5s(testing::Vp9Dir() + "/conformance/" + name + ".md5");
  ASSERT_TRUE(want.ok());
  auto frames = Frames(name);
  ASSERT_EQ(frames.size(), want->size());
  auto worker = DecodeWorker::Create({GetParam()});
  ASSERT_TRUE(worker.ok()) << worker.status();

  std::deque<decode::Picture> pictures;
  size_t decoded = 0;
  for (size_t i = 0; i < frames.size(); i++) {
    (*worker)->Submit(frames[i].data, static_cast<int64_t>(i) * 10);
    for (const auto& d : (*worker)->Collect(1, &pictures)) {
      EXPECT_TRUE(d.status.ok()) << d.status;
      EXPECT_GT(d.bytes, 0u);
      decoded++;
    }
    // At most the newest packet may still be decoding.
    EXPECT_GE(decoded + 1, i + 1);
  }
  std::vector<DecodeWorker::Decoded> finished;
  ASSERT_TRUE((*worker)->Drain(&finished, &pictures).ok());
  decoded += finished.size();
  EXPECT_EQ(decoded, frames.size());
  ASSERT_EQ(pictures.size(), want->size());
  std::vector<std::string> got = Md5s(pictures);
  for (size_t i = 0; i < want->size(); i++) {
    EXPECT_EQ(got[i], (*want)[i].md5) << "picture " << i;
    EXPECT_EQ(pictures[i].timestamp, static_cast<int64_t>(i) * 10);
  }
}

TEST_P(DecodeWorkerTest, CollectZeroWaitsForEverything) {
  auto frames = Frames("vp90-2-02-size-66x66.webm");
  ASSERT_GT(frames.size(), 5u);
  auto worker = DecodeWorker::Create({GetParam()});
  ASSERT_TRUE(worker.ok());
  for (size_t i = 0; i < 5; i++) (*worker)->Submit(frames[i].data, static_cast<int64_t>(i));
  std::deque<decode::Picture> pictures;
  EXPECT_EQ((*worker)->Collect(0, &pictures).size(), 5u);
  // Frame threads hold the last threads-1 pictures until more input or a drain.
  EXPECT_EQ(pictures.size(), 5u - static_cast<size_t>(GetParam() - 1));
}

TEST_P(DecodeWorkerTest, CorruptPacketsAreReportedInOrder) {
  auto frames = Frames("vp90-2-09-lf_deltas.webm");
  ASSERT_GT(frames.size(), 6u);
  frames[3].data.assign(frames[3].data.size(), '\x5a');
  auto worker = DecodeWorker::Create({GetParam()});
  ASSERT_TRUE(worker.ok());
  std::deque<decode::Picture> pictures;
  std::vector<DecodeWorker::Decoded> all;
  for (size_t i = 0; i < frames.size(); i++) {
    (*worker)->Submit(frames[i].data, static_cast<int64_t>(i));
    for (auto& d : (*worker)->Collect(1, &pictures)) all.push_back(std::move(d));
  }
  std::vector<DecodeWorker::Decoded> finished;
  (void)(*worker)->Drain(&finished, &pictures);
  for (auto& d : finished) all.push_back(std::move(d));
  ASSERT_EQ(all.size(), frames.size());
  int errors = 0;
  for (const auto& d : all) errors += !d.status.ok();
  EXPECT_GE(errors, 1);
  // A corrupt frame shows nothing; the stream goes on.
  EXPECT_LT(pictures.size(), frames.size());
  EXPECT_GT(pictures.size(), 3u);
}

TEST_P(DecodeWorkerTest, ResetDropsQueuedWorkAndDecodesOnAtAKeyframe) {
  auto frames = Frames("vp90-2-09-lf_deltas.webm");
  ASSERT_GT(frames.size(), 10u);
  auto worker = DecodeWorker::Create({GetParam()});
  ASSERT_TRUE(worker.ok());
  for (size_t i = 0; i < 10; i++) (*worker)->Submit(frames[i].data, static_cast<int64_t>(i));
  std::vector<DecodeWorker::Decoded> finished;
  (void)(*worker)->Reset(&finished);
  EXPECT_LE(finished.size(), 10u);  // the queued rest were dropped
  std::deque<decode::Picture> pictures;
  EXPECT_TRUE((*worker)->Collect(0, &pictures).empty());
  EXPECT_TRUE(pictures.empty());
  // From the keyframe again: the whole stream, bit-exact.
  auto want =
      testing::ReadFrameMd5s(testing::Vp9Dir() + "/conformance/vp90-2-09-lf_deltas.webm.md5");
  ASSERT_TRUE(want.ok());
  for (size_t i = 0; i < frames.size(); i++) {
    (*worker)->Submit(frames[i].data, static_cast<int64_t>(i));
  }
  (void)(*worker)->Collect(0, &pictures);
  (void)(*worker)->Drain(&finished, &pictures);
  ASSERT_EQ(pictures.size(), want->size());
  EXPECT_EQ(Md5s(pictures).back(), want->back().md5);
}

TEST_P(DecodeWorkerTest, DestroyedWithPacketsQueued) {
  auto frames = Frames("vp90-2-08-tile-4x4.webm");
  auto worker = DecodeWorker::Create({GetParam()});
  ASSERT_TRUE(worker.ok());
  for (const auto& f : frames) (*worker)->Submit(f.data, 0);
  worker->reset();  // must join promptly, not decode everything or hang
  SUCCEED();
}

INSTANTIATE_TEST_SUITE_P(Threads, DecodeWorkerTest, ::testing::Values(1, 2));

}  // namespace
}  // namespace daedalus
