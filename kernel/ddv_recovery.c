// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: streams that outlive their daemon.
 *
 * When a daemon that announced DDV_HELLO_RECOVERY goes away (it crashed,
 * was killed, was restarted), the contexts it served are kept instead of
 * failed: each is orphaned, its running job kept with its buffers, and no
 * job starts anywhere, for recovery_ms. A daemon that says HELLO with
 * DDV_HELLO_RECOVERY in that time gets every running job again, under a
 * new job id, and the first DECODE of each context flagged
 * DDV_DECODE_RESUME: its new decoder starts mid-stream and drops what it
 * cannot decode up to the next key frame (DDV_DONE_SKIPPED returns those
 * CAPTURE buffers empty, flagged ERROR). Past the window, or when the new
 * daemon cannot resume, the contexts fail with EIO, as without recovery.
 * Clients never wait longer than the window (plus a job's own timeout).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "ddv_v4l2.h"

static unsigned int recovery_ms = 3000;
module_param(recovery_ms, uint, 0644);
MODULE_PARM_DESC(recovery_ms,
		 "milliseconds a dead daemon's streams wait for the next daemon to resume them (0: they fail at once; default 3000)");

/**
 * ddv_recovery_window_ms() - how long a dead daemon's streams are kept
 *
 * Return: recovery_ms; 0 when recovery is off.
 */
u32 ddv_recovery_window_ms(void)
{
	return READ_ONCE(recovery_ms);
}

/* Lets mem2mem look at the context again: it refused jobs meanwhile. */
static void ddv_kick(struct work_struct *work)
{
	struct ddv_ctx *ctx = container_of(work, struct ddv_ctx, kick);

	ddv_job_next(ctx);
}

/**
 * ddv_recovery_init_ctx() - set up the recovery state of a new context
 * @ctx: the context
 */
void ddv_recovery_init_ctx(struct ddv_ctx *ctx)
{
	INIT_WORK(&ctx->kick, ddv_kick);
}

/* Context: state_lock held. Nothing is kicked once the file is closing. */
static void __ddv_kick(struct ddv_ctx *ctx)
{
	if (!ctx->released)
		queue_work(system_wq, &ctx->kick);
}

/* Fails a context of a daemon that is gone. Context: dev->lock held. */
static void ddv_ctx_daemon_gone(struct ddv_ctx *ctx)
{
	mutex_lock(&ctx->state_lock);
	__ddv_job_fail(ctx, -EPIPE, "the daemon went away");
	if (ctx->jobs_sent)
		__ddv_ctx_fatal(ctx, -EPIPE, "the daemon went away");
	mutex_unlock(&ctx->state_lock);
}

/*
 * Keeps a context of a daemon that is gone; a closing one (whose close
 * waits for its running job) has its job ended now instead. Context:
 * dev->lock held.
 */
static void ddv_ctx_orphan(struct ddv_ctx *ctx)
{
	mutex_lock(&ctx->state_lock);
	if (ctx->released) {
		__ddv_job_fail(ctx, -EPIPE, "the daemon went away");
	} else if (ctx->jobs_sent && !ctx->fatal) {
		ctx->orphaned = true;
		ctx->resume = true;
		/* The next daemon has seen nothing of it. */
		ctx->jobs_sent = false;
		cancel_delayed_work(&ctx->watchdog);
	}
	mutex_unlock(&ctx->state_lock);
}

/* The next daemon takes the context on. Context: dev->lock held. */
static void ddv_ctx_resume(struct ddv_ctx *ctx)
{
	mutex_lock(&ctx->state_lock);
	if (ctx->orphaned) {
		ctx->orphaned = false;
		atomic64_inc(&ctx->dev->br->streams_resumed);
		if (ctx->job_active)
			__ddv_job_send(ctx, ctx->job_src, ctx->job_dst);
	}
	__ddv_kick(ctx);
	mutex_unlock(&ctx->state_lock);
}

/* No daemon takes the context on: it fails. Context: dev->lock held. */
static void ddv_ctx_abandon(struct ddv_ctx *ctx)
{
	static const char why[] = "the daemon went away and no daemon resumed the stream";

	mutex_lock(&ctx->state_lock);
	if (ctx->orphaned) {
		ctx->orphaned = false;
		__ddv_job_fail(ctx, -EPIPE, why);
		__ddv_ctx_fatal(ctx, -EPIPE, why);
	}
	__ddv_kick(ctx);
	mutex_unlock(&ctx->state_lock);
}

/* Ends a recovery; true if one was going on. */
static bool ddv_recovery_end(struct ddv_dev *dev)
{
	bool was;

	mutex_lock(&dev->lock);
	was = dev->recovering;
	WRITE_ONCE(dev->recovering, false);
	mutex_unlock(&dev->lock);
	return was;
}

static void ddv_recovery_timeout(struct work_struct *work)
{
	struct ddv_dev *dev = container_of(to_delayed_work(work), struct ddv_dev,
					   recovery_timeout);

	if (!ddv_recovery_end(dev))
		return;
	pr_warn("no daemon resumed the streams within %u ms: they fail\n",
		ddv_recovery_window_ms());
	ddv_ctx_for_each(dev, ddv_ctx_abandon);
}

/**
 * ddv_recovery_init() - set up a device's recovery state
 * @dev: the device
 */
void ddv_recovery_init(struct ddv_dev *dev)
{
	INIT_DELAYED_WORK(&dev->recovery_timeout, ddv_recovery_timeout);
}

/**
 * ddv_recovery_exit() - stop a device's recovery timer
 * @dev: the device, about to go; no daemon is attached
 */
void ddv_recovery_exit(struct ddv_dev *dev)
{
	cancel_delayed_work_sync(&dev->recovery_timeout);
}

/**
 * ddv_recovery_abort() - end the job of an orphaned context
 * @ctx: the context whose queue is stopped or closed
 *
 * A running job of a dead daemon's context has no one to answer it: a
 * STREAMOFF or close during the window ends it at once, returning its
 * buffers flagged ERROR. The context itself goes on (it is resumed or
 * fails when the window ends).
 */
void ddv_recovery_abort(struct ddv_ctx *ctx)
{
	mutex_lock(&ctx->state_lock);
	if (ctx->orphaned)
		__ddv_job_drop(ctx);
	mutex_unlock(&ctx->state_lock);
}

/**
 * ddv_v4l2_daemon_gone() - the daemon closed the chardev or died
 * @br: the bridge
 * @keep: the daemon announced DDV_HELLO_RECOVERY: keep its contexts
 *
 * With @keep and a recovery window, every context the daemon served waits
 * for the next daemon (see the top of this file). Otherwise they lose
 * their decoder state: running jobs end with errors, and those contexts
 * fail (EIO), waking every waiter.
 *
 * Context: process context; bridge lock NOT held.
 */
void ddv_v4l2_daemon_gone(struct ddv_bridge *br, bool keep)
{
	struct ddv_dev *dev = br->v4l2;
	u32 ms = ddv_recovery_window_ms();

	if (!dev)
		return;
	if (!keep || !ms) {
		ddv_ctx_for_each(dev, ddv_ctx_daemon_gone);
		return;
	}
	mutex_lock(&dev->lock);
	WRITE_ONCE(dev->recovering, true);
	mutex_unlock(&dev->lock);
	ddv_ctx_for_each(dev, ddv_ctx_orphan);
	mod_delayed_work(system_wq, &dev->recovery_timeout, msecs_to_jiffies(ms));
	pr_info("the daemon went away: its streams wait %u ms for the next one\n", ms);
}

/**
 * ddv_v4l2_daemon_back() - a daemon said HELLO
 * @br: the bridge
 * @resume: it announced DDV_HELLO_RECOVERY (and the window is on)
 *
 * Ends a recovery that is going on: the new daemon resumes the waiting
 * contexts, or, if it cannot, they fail now rather than at the window's
 * end. Nothing happens when no recovery is going on.
 *
 * Context: process context (the daemon's write()); bridge lock NOT held.
 */
void ddv_v4l2_daemon_back(struct ddv_bridge *br, bool resume)
{
	struct ddv_dev *dev = br->v4l2;

	if (!dev || !ddv_recovery_end(dev))
		return;
	cancel_delayed_work(&dev->recovery_timeout);
	ddv_ctx_for_each(dev, resume ? ddv_ctx_resume : ddv_ctx_abandon);
}
