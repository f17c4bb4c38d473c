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
  stats.PictureWritten(1, 152064, absl::Microseconds(900), /*kernel_copied=*/true);
  fake_now_ns += 7'000'000;  // answered 7 ms after the kernel's submit
  stats.JobAnswered(1, 1'000'000'000);
  stats.Error(2, DecodeError::kCorruptBitstream);
  stats.JobDropped(2);
  stats.Flushed(2, 3);

  control::DecodeFigures s = stats.Snapshot(true);
  EXPECT_EQ(s.totals.frames_in, 1u);
  EXPECT_EQ(s.totals.bytes_in, 1000u);
  EXPECT_EQ(s.totals.frames_out, 2u);
  EXPECT_EQ(s.totals.frames_out_kernel_copied, 1u);
  EXPECT_EQ(s.totals.bytes_out, 2 * 152064u);
  EXPECT_EQ(s.totals.jobs, 1u);
  EXPECT_EQ(s.totals.jobs_dropped, 1u);
  EXPECT_EQ(s.totals.errors.at("corrupt_bitstream"), 1u);
  EXPECT_EQ(s.totals.errors.at("decoder_setup"), 0u);  // present though zero
  EXPECT_EQ(s.totals.pictures_flushed, 3u);
  EXPECT_EQ(s.contexts_active, 2u);
  EXPECT_EQ(s.job_latency.count, 1u);
  EXPECT_NEAR(s.job_latency.sum_seconds, 0.007, 1e-9);
  EXPECT_EQ(s.decode_time.count, 1u);
  EXPECT_EQ(s.picture_write_time.count, 2u);
  EXPECT_EQ(s.picture_write_time.cumulative_counts[0], 1u);  // 0.3 ms <= 0.5 ms, 0.9 ms not
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
  EXPECT_EQ(after.totals.frames_out, 3u);
  stats.AllContextsClosed();
  control::DecodeFigures none = stats.Snapshot(true);
  EXPECT_EQ(none.contexts_active, 0u);
  EXPECT_EQ(none.contexts_closed, 2u);
}

TEST(DecodeStatsTest, CountsPerCodecAddingUpToTheTotals) {
  DecodeStats stats(&FakeClock);
  stats.ContextOpened(1, "vp9");
  stats.ContextOpened(2, "h264");
  stats.ContextOpened(3, "h264");
  stats.BitstreamDecoded(1, 100, absl::Milliseconds(4));
  stats.PictureWritten(1, 50, absl::Milliseconds(1));
  stats.BitstreamDecoded(2, 200, absl::Milliseconds(10));
  stats.BitstreamDecoded(3, 300, absl::Milliseconds(20));
  stats.Error(3, DecodeError::kCorruptBitstream);
  stats.JobDropped(2);
  stats.Flushed(3, 2);
  stats.ContextClosed(2);
  stats.BitstreamDecoded(2, 7, absl::Milliseconds(1));  // late: its codec is gone with it

  control::DecodeFigures s = stats.Snapshot(false);
  ASSERT_EQ(s.codecs.size(), 3u);  // h264, unknown, vp9
  const control::CodecFigures& h264 = s.codecs.at("h264");
  EXPECT_EQ(h264.counters.frames_in, 2u);
  EXPECT_EQ(h264.counters.bytes_in, 500u);
  EXPECT_EQ(h264.counters.errors.at("corrupt_bitstream"), 1u);
  EXPECT_EQ(h264.counters.jobs_dropped, 1u);
  EXPECT_EQ(h264.counters.pictures_flushed, 2u);
  EXPECT_NEAR(h264.counters.busy_seconds, 0.030, 1e-9);
  EXPECT_EQ(h264.sessions_opened, 2u);
  EXPECT_EQ(h264.sessions_closed, 1u);
  EXPECT_EQ(h264.sessions_active, 1u);
  const control::CodecFigures& vp9 = s.codecs.at("vp9");
  EXPECT_EQ(vp9.counters.frames_out, 1u);
  EXPECT_NEAR(vp9.counters.busy_seconds, 0.005, 1e-9);  // decoding and writing
  EXPECT_NEAR(vp9.utilisation, 0.005 / 3, 1e-9);        // over the last 3 s
  EXPECT_EQ(vp9.sessions_active, 1u);
  EXPECT_EQ(s.codecs.at("unknown").counters.frames_in, 1u);
  EXPECT_EQ(s.codecs.at("unknown").sessions_opened, 0u);
  uint64_t frames_in = 0;
  double busy = 0;
  for (const auto& [name, c] : s.codecs) {
    frames_in += c.counters.frames_in;
    busy += c.counters.busy_seconds;
  }
  EXPECT_EQ(frames_in, s.totals.frames_in);
  EXPECT_NEAR(busy, s.totals.busy_seconds, 1e-9);
}

TEST(DecodeStatsTest, AHandleThatChangesCodecEndsOneSessionAndStartsAnother) {
  DecodeStats stats(&FakeClock);
  stats.ContextOpened(1, "vp9");
  stats.ContextOpened(1, "vp9");  // the same stream: nothing new
  stats.ContextOpened(1, "av1");
  control::DecodeFigures s = stats.Snapshot(false);
  EXPECT_EQ(s.contexts_opened, 1u);  // one V4L2 handle
  EXPECT_EQ(s.codecs.at("vp9").sessions_opened, 1u);
  EXPECT_EQ(s.codecs.at("vp9").sessions_closed, 1u);
  EXPECT_EQ(s.codecs.at("vp9").sessions_active, 0u);
  EXPECT_EQ(s.codecs.at("av1").sessions_active, 1u);
  stats.AllContextsClosed();
  s = stats.Snapshot(false);
  EXPECT_EQ(s.codecs.at("av1").sessions_closed, 1u);
  EXPECT_EQ(s.codecs.at("av1").sessions_active, 0u);
}

}  // namespace
}  // namespace daedalus
