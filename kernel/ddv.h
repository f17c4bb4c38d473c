/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daedalus-v4l2: state shared by the module's parts.
 */
#ifndef _DDV_H
#define _DDV_H

#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/daedalus-v4l2.h>

struct ddv_dev;

#define DDV_MODULE_VERSION	"0.3.0"
#define DDV_DEVICE_NAME		"daedalus-v4l2"

/**
 * struct ddv_msg - one message waiting in the request FIFO
 * @node: link in &ddv_bridge.fifo
 * @len: bytes in @data, header included
 * @data: struct ddv_msg_header followed by the payload
 */
struct ddv_msg {
	struct list_head node;
	size_t len;
	u8 data[];
};

/**
 * struct ddv_bridge - the chardev and everything queued behind it
 * @misc: the /dev/daedalus-v4l2 misc device
 * @lock: protects every field below; may be held across user copies
 * @attach_lock: held across a daemon's close and taken by every open of
 *	the chardev, so a new daemon attaches only once the last one is gone
 * @readq: readers and pollers wait here for the FIFO to fill
 * @attached: a daemon holds the device open (there can be only one)
 * @version_warned: the attached daemon's protocol version was logged as
 *	not this module's
 * @fifo: &struct ddv_msg waiting to be read, oldest first
 * @depth: messages in @fifo
 * @reserved: FIFO slots promised to responses not yet enqueued
 * @pings: outstanding &struct ddv_ping, oldest first
 * @npings: entries in @pings
 * @next_cookie: cookie for the next kernel-originated PING
 * @ping_timeout: expires PINGs that got no PONG in time
 * @daemon_version: what the attached daemon announced in its HELLO
 * @stats: counters exported through DDV_IOC_GET_STATS
 * @recovery: the attached daemon announced DDV_HELLO_RECOVERY and the
 *	module resumes its streams should it die
 * @keeping: such a daemon has just gone and its contexts are not kept
 *	yet (ddv_release() until ddv_v4l2_daemon_gone() is done): a job sent
 *	meanwhile waits for the next daemon (-EAGAIN) instead of failing
 * @jobs_timed_out: decode jobs failed by their watchdog; atomic, as the
 *	contexts count under their own locks
 * @streams_failed: decoding contexts failed with EIO; atomic, as above
 * @streams_resumed: a dead daemon's contexts the next one resumed; atomic
 * @debugfs: this module's debugfs directory, or NULL
 * @test_release_delay_ms: test hook (debugfs release_delay_ms): how long
 *	the close of a context is held where its queues are freed; 0 normally
 * @test_watchdog_delay_ms: test hook (debugfs watchdog_delay_ms): how long a
 *	job watchdog that fired waits before it acts, as if its worker had
 *	been preempted; 0 normally
 * @test_detach_delay_ms: test hook (debugfs detach_delay_ms): how long the
 *	close of the chardev is held before the daemon's contexts are failed
 * @bench_skip_copy: benchmark hook (debugfs skip_picture_copy): when set,
 *	DDV_IOC_WRITE_PICTURE checks a picture but copies none of it, so that
 *	scripts/bench.sh can measure what the copy costs; 0 normally
 * @v4l2: the decoder node, or NULL on kernels without V4L2 mem2mem
 */
struct ddv_bridge {
	struct miscdevice misc;
	struct mutex lock; /* see the kerneldoc above */
	struct mutex attach_lock; /* see the kerneldoc above */
	wait_queue_head_t readq;
	bool attached;
	bool version_warned;
	struct list_head fifo;
	unsigned int depth;
	unsigned int reserved;
	struct list_head pings;
	unsigned int npings;
	u32 next_cookie;
	struct delayed_work ping_timeout;
	char daemon_version[DDV_VERSION_LEN];
	struct ddv_stats stats;
	bool recovery;
	bool keeping;
	atomic64_t jobs_timed_out;
	atomic64_t streams_failed;
	atomic64_t streams_resumed;
	struct dentry *debugfs;
	u32 test_release_delay_ms;
	u32 test_watchdog_delay_ms;
	u32 test_detach_delay_ms;
	u32 bench_skip_copy;
	struct ddv_dev *v4l2;
};

void ddv_bridge_init(struct ddv_bridge *br);
int ddv_bridge_register(struct ddv_bridge *br);
void ddv_bridge_unregister(struct ddv_bridge *br);
void ddv_bridge_exit(struct ddv_bridge *br);
struct ddv_msg *ddv_msg_alloc(u32 type, u32 cookie, const void *payload, u32 payload_len);
bool ddv_fifo_has_room(struct ddv_bridge *br, unsigned int slots);
void ddv_fifo_push(struct ddv_bridge *br, struct ddv_msg *msg);
int ddv_bridge_send(struct ddv_bridge *br, u32 type, u32 cookie, const void *payload, u32 len);
int ddv_bridge_send_ctx(struct ddv_bridge *br, u32 type, const struct ddv_ctx_msg *m);
void ddv_bridge_stats(struct ddv_bridge *br, struct ddv_stats *snap);

#endif /* _DDV_H */
