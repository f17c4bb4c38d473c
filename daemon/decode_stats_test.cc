// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/decode_stats.h"

#include "gtest/gtest.h"

namespace daedalus {
namespace {

int64_t fake_now_ns = 0;
int64_t FakeClock() { return fake_now_ns; }

TEST(LatencyHistogramTest, BucketsAreCumulativeAndComplete) {
  LatencyHistogram h;
  h.Observe(absl::Microseconds(100));  // <= 0.5 ms
  h.Observe(absl::Milliseconds(3));    // <= 5 ms
  h.Observe(absl::Milliseconds(5));    // exactly on a bound: that bucket
  h.Observe(absl::Seconds(60));        // above every bound: +Inf only
  control::LatencyFigures out = h.Snapshot();
  ASSERT_EQ(out.bounds_seconds.size(), LatencyHistogram::kBoundsSeconds.size());
  ASSERT_EQ(out.cumulative_counts.size(), out.bounds_seconds.size());
  EXPECT_EQ(out.cumulative_counts[0], 1u);                                 // 0.5 ms
  EXPECT_EQ(out.cumulative_counts[2], 1u);                                 // 2.5 ms
  EXPECT_EQ(out.cumulative_counts[3], 3u);                                 // 5 ms
  EXPECT_EQ(out.cumulative_counts[out.cumulative_counts.size() - 1], 3u);  // 10 s
  EXPECT_EQ(out.count, 4u);
  EXPECT_NEAR(out.sum_seconds, 60.0081, 1e-9);
}

TEST(DecodeStatsTest, CountsPerContextAndInTotal) {
  fake_now_ns = 1'000'000'000;
  DecodeStats stats(&FakeClock);
  stats.ContextOpened(1, "vp9");
  stats.ContextOpened(2, "h264");
  stats.JobStarted(1, 3, 5);
  stats.BitstreamDecoded(1, 1000, absl::Milliseconds(4));
  decode::PictureFormat f;
  f.width = 352;
  f.height = 288;
  stats.FormatAnnounced(1, f);
  stats.PictureWritten(1, 152064, absl::Microseconds(300));
  fake_now_ns += 7'000'000;  // answered 7 ms after the kernel's submit
  stats.JobAnswered(1, 1'000'000'000);
  stats.Error(2, DecodeError::kCorruptBitstream);
  stats.JobDropped(2);
  stats.Flushed(2, 3);

  control::DecodeFigures s = stats.Snapshot(true);
  EXPECT_EQ(s.totals.frames_in, 1u);
  EXPECT_EQ(s.totals.bytes_in, 1000u);
  EXPECT_EQ(s.totals.frames_out, 1u);
  EXPECT_EQ(s.totals.bytes_out, 152064u);
  EXPECT_EQ(s.totals.jobs, 1u);
  EXPECT_EQ(s.totals.jobs_dropped, 1u);
  EXPECT_EQ(s.totals.errors.at("corrupt_bitstream"), 1u);
  EXPECT_EQ(s.totals.errors.at("decoder_setup"), 0u);  // present though zero
  EXPECT_EQ(s.totals.pictures_flushed, 3u);
  EXPECT_EQ(s.contexts_active, 2u);
  EXPECT_EQ(s.job_latency.count, 1u);
  EXPECT_NEAR(s.job_latency.sum_seconds, 0.007, 1e-9);
  EXPECT_EQ(s.decode_time.count, 1u);
  EXPECT_EQ(s.picture_write_time.count, 1u);
  EXPECT_EQ(s.picture_write_time.cumulative_counts[0], 1u);  // 0.3 ms <= 0.5 ms
  ASSERT_EQ(s.contexts.size(), 2u);
  const auto& c1 = s.contexts[0];
  EXPECT_EQ(c1.id, 1u);
  EXPECT_EQ(c1.width, 352u);
  EXPECT_EQ(c1.chroma, "4:2:0");
  EXPECT_EQ(c1.output_queued, 3u);
  EXPECT_EQ(c1.capture_queued, 5u);
  EXPECT_EQ(c1.in_flight, 0u);
  EXPECT_GT(c1.frames_per_second, 0);
  EXPECT_EQ(s.contexts[1].counters.errors.at("corrupt_bitstream"), 1u);

  stats.ContextClosed(1);
  stats.PictureWritten(1, 10, absl::Microseconds(1));  // late: counted in total, no resurrection
  control::DecodeFigures after = stats.Snapshot(false);
  EXPECT_EQ(after.contexts.size(), 0u);  // not asked for
  EXPECT_EQ(after.contexts_active, 1u);
  EXPECT_EQ(after.contexts_closed, 1u);
  EXPECT_EQ(after.totals.frames_out, 2u);
  stats.AllContextsClosed();
  control::DecodeFigures none = stats.Snapshot(true);
  EXPECT_EQ(none.contexts_active, 0u);
  EXPECT_EQ(none.contexts_closed, 2u);
}

}  // namespace
}  // namespace daedalus
