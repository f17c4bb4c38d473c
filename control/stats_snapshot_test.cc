// SPDX-License-Identifier: BSD-2-Clause
//
// TakeStatsSnapshot and its parts: the Backend's decode figures, the
// kernel's counters and this process's figures become one daedalus.v1.Stats
// with nothing lost on the way.

#include "control/stats_snapshot.h"

#include <thread>

#include "absl/time/clock.h"
#include "control/testing/fake_backend.h"
#include "gtest/gtest.h"

namespace daedalus::control {
namespace {

TEST(StatsSnapshotTest, DecodeFiguresBecomeTheMessage) {
  DecodeFigures f;
  f.totals.jobs = 5;
  f.totals.jobs_dropped = 1;
  f.totals.frames_in = 6;
  f.totals.bytes_in = 600;
  f.totals.frames_out = 4;
  f.totals.bytes_out = 4000;
  f.totals.frames_out_kernel_copied = 1;
  f.totals.errors = {{"corrupt_bitstream", 2}, {"buffer_io", 0}};
  f.totals.flushes = 1;
  f.totals.pictures_flushed = 3;
  f.totals.format_changes = 2;
  f.totals.busy_seconds = 1.25;
  f.codecs["vp9"].counters = f.totals;
  f.codecs["vp9"].sessions_opened = 3;
  f.codecs["vp9"].sessions_closed = 2;
  f.codecs["vp9"].sessions_active = 1;
  f.codecs["vp9"].utilisation = 0.75;
  f.codecs["av1"].sessions_opened = 0;
  f.contexts_opened = 3;
  f.contexts_closed = 2;
  f.contexts_active = 1;
  f.job_latency = {{0.001, 0.01}, {1, 4}, 4, 0.02};
  f.decode_time = {{0.001}, {6}, 6, 0.003};
  ContextFigures c;
  c.id = 9;
  c.width = 1920;
  c.height = 1080;
  c.bit_depth = 8;
  c.chroma = "4:2:0";
  c.codec = "vp9";
  c.counters.frames_out = 4;
  c.output_queued = 2;
  c.capture_queued = 3;
  c.in_flight = 1;
  c.pictures_waiting = 1;
  c.frames_per_second = 29.5;
  c.age = absl::Milliseconds(2500);
  f.contexts.push_back(c);

  daedalus::v1::Stats s;
  FillDecodeStats(f, &s);
  EXPECT_EQ(s.totals().jobs(), 5u);
  EXPECT_EQ(s.totals().jobs_dropped(), 1u);
  EXPECT_EQ(s.totals().bytes_in(), 600u);
  EXPECT_EQ(s.totals().bytes_out(), 4000u);
  EXPECT_EQ(s.totals().frames_out_kernel_copied(), 1u);
  EXPECT_EQ(s.totals().errors().at("corrupt_bitstream"), 2u);
  EXPECT_EQ(s.totals().errors().at("buffer_io"), 0u);  // zero, yet present
  EXPECT_EQ(s.totals().pictures_flushed(), 3u);
  EXPECT_EQ(s.totals().format_changes(), 2u);
  EXPECT_EQ(s.contexts_opened(), 3u);
  EXPECT_EQ(s.contexts_closed(), 2u);
  EXPECT_EQ(s.contexts_active(), 1u);
  ASSERT_EQ(s.job_latency().bounds_seconds_size(), 2);
  EXPECT_EQ(s.job_latency().cumulative_counts(1), 4u);
  EXPECT_DOUBLE_EQ(s.job_latency().sum_seconds(), 0.02);
  EXPECT_EQ(s.decode_time().count(), 6u);
  EXPECT_EQ(s.picture_write_time().bounds_seconds_size(), 0);
  ASSERT_EQ(s.contexts_size(), 1);
  const daedalus::v1::ContextStats& m = s.contexts(0);
  EXPECT_EQ(m.id(), 9u);
  EXPECT_EQ(m.width(), 1920u);
  EXPECT_EQ(m.chroma(), "4:2:0");
  EXPECT_EQ(m.counters().frames_out(), 4u);
  EXPECT_EQ(m.in_flight(), 1u);
  EXPECT_EQ(m.pictures_waiting(), 1u);
  EXPECT_DOUBLE_EQ(m.frames_per_second(), 29.5);
  EXPECT_EQ(m.age().seconds(), 2);
  EXPECT_EQ(m.age().nanos(), 500000000);
  // By codec, sorted; the rate from the codec's contexts.
  EXPECT_DOUBLE_EQ(s.totals().busy_seconds(), 1.25);
  ASSERT_EQ(s.codecs_size(), 2);
  EXPECT_EQ(s.codecs(0).codec(), "av1");
  EXPECT_EQ(s.codecs(0).counters().frames_out(), 0u);
  EXPECT_DOUBLE_EQ(s.codecs(0).frames_per_second(), 0);
  const daedalus::v1::CodecStats& vp9 = s.codecs(1);
  EXPECT_EQ(vp9.codec(), "vp9");
  EXPECT_EQ(vp9.counters().frames_out(), 4u);
  EXPECT_DOUBLE_EQ(vp9.counters().busy_seconds(), 1.25);
  EXPECT_EQ(vp9.sessions_opened(), 3u);
  EXPECT_EQ(vp9.sessions_closed(), 2u);
  EXPECT_EQ(vp9.sessions_active(), 1u);
  EXPECT_DOUBLE_EQ(vp9.frames_per_second(), 29.5);
  EXPECT_DOUBLE_EQ(vp9.utilisation(), 0.75);
}

TEST(StatsSnapshotTest, ProcessFiguresAreThisProcesss) {
  std::thread busy([] { absl::SleepFor(absl::Milliseconds(200)); });
  daedalus::v1::ProcessStats p;
  FillProcessStats(&p);
  busy.join();
  EXPECT_GT(p.resident_bytes(), 1u << 20);  // a gtest binary is bigger than 1 MiB
  EXPECT_GE(p.threads(), 2u);               // this one and `busy`
  EXPECT_GE(p.cpu_user_seconds() + p.cpu_system_seconds(), 0.0);
}

TEST(StatsSnapshotTest, SnapshotHasUptimeKernelAndProcessAndHonoursContexts) {
  FakeBackend backend;
  absl::Time started = absl::Now() - absl::Seconds(90);
  daedalus::v1::Stats s = TakeStatsSnapshot(backend, started, /*with_contexts=*/true);
  EXPECT_GE(s.uptime().seconds(), 90);
  EXPECT_GT(s.taken_at().seconds(), 0);
  EXPECT_TRUE(s.has_kernel());
  EXPECT_EQ(s.kernel().fifo_depth(), 2u);
  EXPECT_EQ(s.kernel().fifo_high_water(), 5u);
  EXPECT_EQ(s.kernel().daemon_attaches(), 2u);
  EXPECT_EQ(s.kernel().jobs_timed_out(), 1u);
  EXPECT_EQ(s.kernel().streams_failed(), 1u);
  EXPECT_EQ(s.kernel().streams_resumed(), 1u);
  EXPECT_GT(s.process().resident_bytes(), 0u);
  EXPECT_EQ(s.totals().frames_in(), 10u);
  EXPECT_EQ(s.contexts_size(), 1);
  EXPECT_EQ(TakeStatsSnapshot(backend, started, false).contexts_size(), 0);

  // The link down: no kernel part, the rest still there.
  backend.link.up = false;
  s = TakeStatsSnapshot(backend, started, false);
  EXPECT_FALSE(s.has_kernel());
  EXPECT_EQ(s.totals().frames_out(), 9u);
}

}  // namespace
}  // namespace daedalus::control
