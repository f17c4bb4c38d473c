// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: debugfs files, for people and for the round-trip check of
 * tests/vm (a PING queued without a daemon request).
 *
 *   test_ping  write anything: queue a PING with cookie 0x1234 (the test trigger)
 *   stats      the counters of DDV_IOC_GET_STATS, one "name value" a line
 *   release_delay_ms  test hook: hold the close of a context the daemon
 *              has seen this long, just after its queues are freed
 *   watchdog_delay_ms  test hook: a job watchdog that fired waits this long
 *              before it acts (a preempted worker)
 *   detach_delay_ms  test hook: hold the daemon's close this long before
 *              its contexts are failed
 *   skip_picture_copy  benchmark hook: 1 and pictures are checked but not
 *              copied into CAPTURE buffers (their old contents stay), to
 *              measure what the copy costs (scripts/bench.sh BENCH_COPY_COST)
 *
 * Nothing in the daemon depends on these; they are absent without debugfs.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>

#include "ddv.h"
#include "ddv_debugfs.h"
#include "ddv_ping.h"

static ssize_t ddv_test_ping_write(struct file *file, const char __user *buf, size_t count,
				   loff_t *ppos)
{
	struct ddv_bridge *br = file->private_data;
	int ret;

	mutex_lock(&br->lock);
	if (br->attached)
		ret = ddv_ping_send(br, DDV_TEST_PING_COOKIE, false, 0);
	else
		ret = -ENOTCONN;
	mutex_unlock(&br->lock);
	return ret ? ret : count;
}

static const struct file_operations ddv_test_ping_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = ddv_test_ping_write,
};

static int ddv_stats_show(struct seq_file *s, void *unused)
{
	struct ddv_bridge *br = s->private;
	struct ddv_stats st;

	ddv_bridge_stats(br, &st);

	seq_printf(s, "fifo_depth %u\nfifo_high_water %u\nfifo_capacity %u\n",
		   st.fifo_depth, st.fifo_high_water, st.fifo_capacity);
	seq_printf(s, "msgs_to_daemon %llu\nmsgs_from_daemon %llu\n",
		   st.msgs_to_daemon, st.msgs_from_daemon);
	seq_printf(s, "bytes_to_daemon %llu\nbytes_from_daemon %llu\n",
		   st.bytes_to_daemon, st.bytes_from_daemon);
	seq_printf(s, "err_bad_magic %llu\nerr_bad_version %llu\nerr_bad_reserved %llu\n",
		   st.err_bad_magic, st.err_bad_version, st.err_bad_reserved);
	seq_printf(s, "err_too_big %llu\nerr_bad_length %llu\nerr_bad_type %llu\n",
		   st.err_too_big, st.err_bad_length, st.err_bad_type);
	seq_printf(s, "err_bad_payload %llu\nerr_short_read %llu\nerr_fifo_full %llu\n",
		   st.err_bad_payload, st.err_short_read, st.err_fifo_full);
	seq_printf(s, "err_unmatched_pong %llu\npings_sent %llu\npongs_matched %llu\n",
		   st.err_unmatched_pong, st.pings_sent, st.pongs_matched);
	seq_printf(s, "pings_timed_out %llu\nmsgs_dropped %llu\ndaemon_attaches %llu\n",
		   st.pings_timed_out, st.msgs_dropped, st.daemon_attaches);
	seq_printf(s, "jobs_timed_out %llu\nstreams_failed %llu\nstreams_resumed %llu\n",
		   st.jobs_timed_out, st.streams_failed, st.streams_resumed);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ddv_stats);

/**
 * ddv_debugfs_init() - create /sys/kernel/debug/daedalus_v4l2/
 * @br: the bridge the files act on
 *
 * Failure is not fatal: debugfs is a debugging aid only.
 */
void ddv_debugfs_init(struct ddv_bridge *br)
{
	br->debugfs = debugfs_create_dir("daedalus_v4l2", NULL);
	debugfs_create_file("test_ping", 0200, br->debugfs, br, &ddv_test_ping_fops);
	debugfs_create_file("stats", 0444, br->debugfs, br, &ddv_stats_fops);
	debugfs_create_u32("release_delay_ms", 0600, br->debugfs, &br->test_release_delay_ms);
	debugfs_create_u32("watchdog_delay_ms", 0600, br->debugfs, &br->test_watchdog_delay_ms);
	debugfs_create_u32("detach_delay_ms", 0600, br->debugfs, &br->test_detach_delay_ms);
	debugfs_create_u32("skip_picture_copy", 0600, br->debugfs, &br->bench_skip_copy);
}

/**
 * ddv_debugfs_exit() - remove the debugfs directory
 * @br: the bridge
 *
 * Context: may sleep; waits for open debugfs files to finish.
 */
void ddv_debugfs_exit(struct ddv_bridge *br)
{
	debugfs_remove_recursive(br->debugfs);
	br->debugfs = NULL;
}
