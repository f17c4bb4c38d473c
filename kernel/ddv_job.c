// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: decode jobs between the V4L2 node and the daemon.
 *
 * device_run() sends DECODE; the daemon reads the OUTPUT buffer with
 * DDV_IOC_READ_SRC, writes a picture into the CAPTURE buffer (through its
 * mapping of the buffer, DDV_IOC_EXPORT_DST, or with DDV_IOC_WRITE_PICTURE)
 * and answers DECODE_DONE, which returns the buffers and ends the job.
 * The buffers of a running job cannot go away: STREAMOFF and close wait
 * for the job, and everything here holds state_lock, which ends it. A
 * watchdog fails jobs the daemon does not answer in time, so no client
 * ever waits forever.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/fdtable.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <media/v4l2-event.h>

#include "ddv_compat.h"
#include "ddv_v4l2.h"

/* The OUTPUT buffer flags a picture inherits (as v4l2_m2m_buf_copy_metadata). */
#define DDV_META_FLAGS	(V4L2_BUF_FLAG_TIMECODE | V4L2_BUF_FLAG_TSTAMP_SRC_MASK | \
			 V4L2_BUF_FLAG_KEYFRAME | V4L2_BUF_FLAG_PFRAME | V4L2_BUF_FLAG_BFRAME)

static unsigned int job_timeout_ms = 5000;
module_param(job_timeout_ms, uint, 0644);
MODULE_PARM_DESC(job_timeout_ms, "milliseconds the daemon gets per decode job (default 5000)");

/**
 * ddv_ctx_send() - tell the daemon about a context (FLUSH, CTX_CLOSE)
 * @ctx: the context; nothing is sent if the daemon never saw it
 * @type: DDV_MSG_FLUSH or DDV_MSG_CTX_CLOSE
 *
 * Never lost to a full FIFO (ddv_bridge_send_ctx()); with no daemon there
 * is nothing to tell.
 */
void ddv_ctx_send(struct ddv_ctx *ctx, u32 type)
{
	struct ddv_ctx_msg m = { .ctx_id = ctx->id };
	bool seen;

	mutex_lock(&ctx->state_lock);
	seen = ctx->jobs_sent;
	mutex_unlock(&ctx->state_lock);
	if (seen)
		ddv_bridge_send_ctx(ctx->dev->br, type, &m);
}

/**
 * __ddv_ctx_fatal() - fail a context
 * @ctx: the context
 * @err: why, as an errno (for the log)
 * @why: why, in words
 *
 * Both queues return EIO from now on and wake everyone waiting on them.
 * Context: state_lock held.
 */
void __ddv_ctx_fatal(struct ddv_ctx *ctx, int err, const char *why)
{
	lockdep_assert_held(&ctx->state_lock);
	if (ctx->released)
		return;
	if (!ctx->fatal) {
		pr_warn_ratelimited("context %u failed (%d): %s\n", ctx->id, err, why);
		atomic64_inc(&ctx->dev->br->streams_failed);
	}
	WRITE_ONCE(ctx->fatal, true);
	vb2_queue_error(v4l2_m2m_get_src_vq(ctx->fh.m2m_ctx));
	vb2_queue_error(v4l2_m2m_get_dst_vq(ctx->fh.m2m_ctx));
}

/**
 * __ddv_job_fail() - end the running job and fail its context
 * @ctx: the context
 * @err: why, as an errno (for the log)
 * @why: why, in words
 *
 * Returns the job's unused buffers with an error, fails the context and
 * lets mem2mem go on. Context: state_lock held.
 *
 * Return: true if there was a job.
 */
bool __ddv_job_fail(struct ddv_ctx *ctx, int err, const char *why)
{
	lockdep_assert_held(&ctx->state_lock);
	if (!ctx->job_active)
		return false;
	/*
	 * The queues fail first: a client's DQBUF racing this on another CPU
	 * gets EIO, not the job's buffer flagged ERROR as if the stream went on.
	 */
	__ddv_ctx_fatal(ctx, err, why);
	__ddv_job_drop(ctx);
	return true;
}

/**
 * __ddv_job_drop() - end the running job, its buffers flagged ERROR
 * @ctx: the context, which goes on
 *
 * Context: state_lock held.
 *
 * Return: true if there was a job.
 */
bool __ddv_job_drop(struct ddv_ctx *ctx)
{
	struct v4l2_m2m_ctx *m2m = ctx->fh.m2m_ctx;

	lockdep_assert_held(&ctx->state_lock);
	if (!ctx->job_active)
		return false;
	if (ctx->job_src) {
		v4l2_m2m_src_buf_remove_by_buf(m2m, ctx->job_src);
		v4l2_m2m_buf_done(ctx->job_src, VB2_BUF_STATE_ERROR);
	}
	if (ctx->job_dst) {
		v4l2_m2m_dst_buf_remove_by_buf(m2m, ctx->job_dst);
		v4l2_m2m_buf_done(ctx->job_dst, VB2_BUF_STATE_ERROR);
	}
	WRITE_ONCE(ctx->job_active, false);
	ctx->job_src = NULL;
	ctx->job_dst = NULL;
	wake_up_all(&ctx->job_wq);
	return true;
}

/*
 * Fails the running job if it is past its deadline. A watchdog that fired
 * for a job answered meanwhile finds another job (or none) and a deadline
 * still ahead: it re-arms for that job instead of failing it.
 */
static void ddv_watchdog(struct work_struct *work)
{
	struct ddv_ctx *ctx = container_of(to_delayed_work(work), struct ddv_ctx, watchdog);
	u32 delay = READ_ONCE(ctx->dev->br->test_watchdog_delay_ms);
	bool finish = false;

	if (delay)
		msleep(delay);
	mutex_lock(&ctx->state_lock);
	if (ctx->orphaned) {
		/* Its daemon died: the recovery window bounds the wait now. */
		mutex_unlock(&ctx->state_lock);
		return;
	}
	if (ctx->job_active && time_before(jiffies, ctx->job_deadline))
		mod_delayed_work(system_wq, &ctx->watchdog, ctx->job_deadline - jiffies);
	else
		finish = __ddv_job_fail(ctx, -ETIMEDOUT,
					"the daemon did not answer a decode job in time");
	if (finish)
		atomic64_inc(&ctx->dev->br->jobs_timed_out);
	mutex_unlock(&ctx->state_lock);
}

/*
 * job_timeout_ms for each started 1920x1088 of the picture: a slow board
 * decoding a 4K frame is not a hung daemon.
 */
static unsigned long ddv_job_timeout(const struct ddv_ctx *ctx)
{
	u32 area = ctx->dst_fmt.width * ctx->dst_fmt.height;
	u32 units = max(1U, DIV_ROUND_UP(area, 1920 * 1088));

	return msecs_to_jiffies(READ_ONCE(job_timeout_ms)) * units;
}

/**
 * ddv_job_init() - set up the job state of a new context
 * @ctx: the context
 */
void ddv_job_init(struct ddv_ctx *ctx)
{
	init_waitqueue_head(&ctx->job_wq);
	INIT_DELAYED_WORK(&ctx->watchdog, ddv_watchdog);
	ddv_recovery_init_ctx(ctx);
}

/* Gives a CAPTURE buffer back to the client, next in sequence order. */
static void ddv_dst_return(struct ddv_ctx *ctx, struct vb2_v4l2_buffer *dst, u32 bytes,
			   u32 field, enum vb2_buffer_state state)
{
	v4l2_m2m_dst_buf_remove_by_buf(ctx->fh.m2m_ctx, dst);
	vb2_set_plane_payload(&dst->vb2_buf, 0, bytes);
	dst->field = field;
	dst->sequence = ctx->cap_seq++;
	v4l2_m2m_buf_done(dst, state);
}

/**
 * ddv_job_run() - mem2mem's device_run: send one DECODE to the daemon
 * @ctx: the context whose job_ready() said yes
 *
 * Context: process context (a queue ioctl with ctx->lock held, or the
 * mem2mem worker); may sleep.
 */
void ddv_job_run(struct ddv_ctx *ctx)
{
	struct v4l2_m2m_ctx *m2m = ctx->fh.m2m_ctx;
	struct vb2_v4l2_buffer *src, *dst = NULL;

	mutex_lock(&ctx->state_lock);
	src = v4l2_m2m_next_src_buf(m2m);
	if (ctx->state == DDV_STATE_DECODING)
		dst = v4l2_m2m_next_dst_buf(m2m);
	/* No job starts while a dead daemon's contexts wait for the next. */
	if (ctx->job_active || ctx->fatal || ctx->orphaned || READ_ONCE(ctx->dev->recovering) ||
	    (!src && !ctx->drain) || (ctx->state == DDV_STATE_DECODING && !dst)) {
		/* job_ready() saw a state that has changed since. */
	} else if (dst && vb2_plane_size(&dst->vb2_buf, 0) <
		   ctx->dst_fmt.plane_fmt[0].sizeimage) {
		/*
		 * Kept across a format change (DEC_CMD_START) but too small
		 * for the new one: give it back flagged; the picture waits
		 * for the next buffer.
		 */
		ddv_dst_return(ctx, dst, 0, V4L2_FIELD_NONE, VB2_BUF_STATE_ERROR);
	} else {
		__ddv_job_send(ctx, src, dst);
	}
	mutex_unlock(&ctx->state_lock);
	/*
	 * mem2mem's part ends here, whatever became of the job: the daemon
	 * decodes it while other contexts' jobs are sent. This context's
	 * next job waits for the end of this one (job_ready(), ddv_job_next()).
	 */
	v4l2_m2m_job_finish(ctx->dev->m2m_dev, m2m);
}

/**
 * ddv_job_next() - let mem2mem start the context's next job
 * @ctx: a context whose job ended, or that may start one again
 *
 * Jobs go on in the daemon after device_run() returned, one per context:
 * job_ready() refuses while one is with the daemon, so the end of each
 * schedules the context again here.
 *
 * Context: process context; no lock of the context held.
 */
void ddv_job_next(struct ddv_ctx *ctx)
{
	/* Under the queue lock a context that is not released keeps its queues. */
	mutex_lock(&ctx->lock);
	if (!READ_ONCE(ctx->released))
		v4l2_m2m_try_schedule(ctx->fh.m2m_ctx);
	mutex_unlock(&ctx->lock);
}

/**
 * ddv_job_wait() - wait until the context has no job with the daemon
 * @ctx: the context whose queue stops (STREAMOFF, close)
 *
 * A job's buffers are the daemon's until it answers or the watchdog fires;
 * the job of a dead daemon's context, which no one will answer, ends now.
 *
 * Context: the queue lock (ctx->lock) held; may sleep, bounded by the
 * job's timeout or the recovery window.
 */
void ddv_job_wait(struct ddv_ctx *ctx)
{
	ddv_recovery_abort(ctx);
	wait_event(ctx->job_wq, !READ_ONCE(ctx->job_active));
}

/**
 * __ddv_job_send() - send the DECODE of a job and make it the running one
 * @ctx: the context
 * @src: the job's OUTPUT buffer, or NULL for a drain
 * @dst: the job's CAPTURE buffer, or NULL
 *
 * Also sends a running job again to the daemon that resumes a dead
 * daemon's context (ddv_recovery.c), under a new job id. The first DECODE
 * after a daemon died is flagged DDV_DECODE_RESUME. A job that cannot be
 * queued fails (no daemon, or no memory). Context: state_lock held.
 */
void __ddv_job_send(struct ddv_ctx *ctx, struct vb2_v4l2_buffer *src,
		    struct vb2_v4l2_buffer *dst)
{
	struct v4l2_m2m_ctx *m2m = ctx->fh.m2m_ctx;
	struct ddv_decode req = {};
	int ret;

	lockdep_assert_held(&ctx->state_lock);
	req.ctx_id = ctx->id;
	req.job_id = ++ctx->next_job_id;
	if (ctx->resume)
		req.flags |= DDV_DECODE_RESUME;
	if (src) {
		struct ddv_src_meta *meta = &ctx->src_meta[req.job_id % DDV_SRC_META];

		req.flags |= DDV_DECODE_SRC;
		req.src_bytes = vb2_get_plane_payload(&src->vb2_buf, 0);
		req.src_timestamp = src->vb2_buf.timestamp;
		meta->timestamp = src->vb2_buf.timestamp;
		meta->flags = src->flags & DDV_META_FLAGS;
		meta->timecode = src->timecode;
	} else {
		req.flags |= DDV_DECODE_DRAIN;
	}
	if (dst) {
		req.flags |= DDV_DECODE_DST;
		req.dst.pixelformat = ctx->dst_fmt.pixelformat;
		req.dst.width = ctx->dst_fmt.width;
		req.dst.height = ctx->dst_fmt.height;
		req.dst.bytesperline = ctx->dst_fmt.plane_fmt[0].bytesperline;
		req.dst.sizeimage = ctx->dst_fmt.plane_fmt[0].sizeimage;
		req.dst_index = dst->vb2_buf.index;
		req.dst_generation = ddv_buffer_of(dst)->generation;
		if (dst->vb2_buf.memory == VB2_MEMORY_MMAP)
			req.flags |= DDV_DECODE_DST_EXPORT;
	}
	req.src_queued = v4l2_m2m_num_src_bufs_ready(m2m);
	req.dst_queued = v4l2_m2m_num_dst_bufs_ready(m2m);
	req.submit_ns = ktime_get_ns();
	req.codec = ctx->src_fmt.pixelformat;
	WRITE_ONCE(ctx->job_active, true);
	ctx->job_id = req.job_id;
	ctx->job_src = src;
	ctx->job_dst = dst;
	ctx->job_layout = req.dst;
	ctx->job_written = false;

	ret = ddv_bridge_send(ctx->dev->br, DDV_MSG_DECODE, req.job_id, &req, sizeof(req));
	if (ret == -EAGAIN) {
		/*
		 * Its daemon is going away and its contexts are about to be
		 * kept: the job stays, unsent, and goes to the next daemon
		 * with the context's others (ddv_ctx_orphan(), resume).
		 */
		ctx->jobs_sent = true;
		return;
	}
	if (ret) {
		__ddv_job_fail(ctx, ret, ret == -ENOTCONN ?
			       "no daemon: is daedalusd running?" :
			       "cannot queue a job for the daemon");
		return;
	}
	/* Only a daemon that got a DECODE has state to flush or close. */
	ctx->jobs_sent = true;
	ctx->resume = false;
	ctx->job_deadline = jiffies + ddv_job_timeout(ctx);
	mod_delayed_work(system_wq, &ctx->watchdog, ctx->job_deadline - jiffies);
}

static void ddv_queue_event(struct ddv_ctx *ctx, u32 type)
{
	struct v4l2_event ev = { .type = type };

	if (type == V4L2_EVENT_SOURCE_CHANGE)
		ev.u.src_change.changes = V4L2_EVENT_SRC_CH_RESOLUTION;
	v4l2_event_queue_fh(&ctx->fh, &ev);
}

/*
 * A picture inherits its OUTPUT buffer's flags and timecode, found by the
 * timestamp it carries (the newest OUTPUT buffer with it wins).
 */
static void ddv_copy_src_meta(struct ddv_ctx *ctx, struct vb2_v4l2_buffer *dst, u64 timestamp)
{
	unsigned int i;

	dst->flags &= ~DDV_META_FLAGS;
	for (i = 0; i < DDV_SRC_META; i++) {
		const struct ddv_src_meta *m =
			&ctx->src_meta[(ctx->job_id - i) % DDV_SRC_META];

		if (m->timestamp == timestamp) {
			dst->flags |= m->flags;
			dst->timecode = m->timecode;
			return;
		}
	}
}

/* Returns the job's CAPTURE buffer, with a picture or empty (LAST). */
static void ddv_dst_done(struct ddv_ctx *ctx, u32 bytes, u64 timestamp, u32 field, bool last)
{
	struct vb2_v4l2_buffer *dst = ctx->job_dst;

	dst->vb2_buf.timestamp = timestamp;
	if (bytes)
		ddv_copy_src_meta(ctx, dst, timestamp);
	if (last)
		dst->flags |= V4L2_BUF_FLAG_LAST;
	ddv_dst_return(ctx, dst, bytes, field, VB2_BUF_STATE_DONE);
	ctx->job_dst = NULL;
}

/**
 * ddv_cap_dequeued() - the client dequeued a CAPTURE buffer
 * @ctx: the context
 * @sequence: the buffer's sequence number
 *
 * Sends a deferred SOURCE_CHANGE once the last picture of the old format
 * is dequeued, so the event is pending before the LAST buffer is.
 *
 * Context: vb2's buf_finish of a streaming CAPTURE queue; takes state_lock.
 */
void ddv_cap_dequeued(struct ddv_ctx *ctx, u32 sequence)
{
	mutex_lock(&ctx->state_lock);
	ctx->cap_dequeued = sequence + 1;
	if (ctx->src_change_deferred && ctx->cap_dequeued >= ctx->src_change_seq) {
		ctx->src_change_deferred = false;
		ddv_queue_event(ctx, V4L2_EVENT_SOURCE_CHANGE);
	}
	mutex_unlock(&ctx->state_lock);
}

/**
 * ddv_cap_stopped() - CAPTURE streamed off
 * @ctx: the context
 *
 * The client gave up the old pictures: a deferred SOURCE_CHANGE goes now.
 * (The dequeue count restarts with CAPTURE, in ddv_start_streaming().)
 *
 * Context: vb2's stop_streaming; takes state_lock.
 */
void ddv_cap_stopped(struct ddv_ctx *ctx)
{
	mutex_lock(&ctx->state_lock);
	if (ctx->src_change_deferred) {
		ctx->src_change_deferred = false;
		ddv_queue_event(ctx, V4L2_EVENT_SOURCE_CHANGE);
	}
	mutex_unlock(&ctx->state_lock);
}

/*
 * A new stream format: a SOURCE_CHANGE, and a LAST buffer mid-stream.
 *
 * Mid-stream, the event waits until the client has dequeued every picture
 * of the old format (ddv_cap_dequeued()). dev-decoder.rst has clients
 * dequeue up to the LAST buffer either way; but some (GStreamer 1.22) stop
 * CAPTURE as soon as they see the event, and would lose the pictures still
 * waiting in the queue.
 */
static void ddv_new_format(struct ddv_ctx *ctx, const struct ddv_stream_format *f)
{
	u32 w = f->width;
	u32 h = f->height;
	struct ddv_stream_kind kind;
	u32 fourcc;
	/*
	 * A client may stream CAPTURE before the first SOURCE_CHANGE. If its
	 * buffers fit, it may keep them (FFmpeg does) or restart CAPTURE anyway
	 * (GStreamer does): see ddv_resume_if_kept().
	 */
	bool fits;

	if (!ddv_stream_kind_of(f, &kind) || !ddv_dst_format(&kind, 0)) {
		pr_warn_ratelimited("context %u: stream is %u-bit %u:%u:%u; no CAPTURE format carries it\n",
				    ctx->id, f->bit_depth, f->chroma / 100, f->chroma / 10 % 10,
				    f->chroma % 10);
		__ddv_ctx_fatal(ctx, -EOPNOTSUPP, "no CAPTURE format for the stream");
		return;
	}
	/*
	 * Never clamped: a CAPTURE format smaller than the pictures could
	 * never carry them, and the daemon would announce the size again for
	 * every job.
	 */
	if (!w || !h || w > DDV_MAX_WIDTH || h > DDV_MAX_HEIGHT) {
		pr_warn_ratelimited("context %u: stream is %ux%u, beyond the node's %ux%u\n",
				    ctx->id, w, h, DDV_MAX_WIDTH, DDV_MAX_HEIGHT);
		__ddv_ctx_fatal(ctx, -E2BIG, "stream larger than the node's maximum size");
		return;
	}
	/*
	 * The format the stream already has, announced again (by a new daemon
	 * resuming the stream): nothing changes, no second SOURCE_CHANGE.
	 */
	if (ctx->state != DDV_STATE_HEADER && w == ctx->dst_fmt.width &&
	    h == ctx->dst_fmt.height && !memcmp(&kind, &ctx->kind, sizeof(kind)) &&
	    ddv_dst_format_ok(&kind, ctx->dst_fmt.pixelformat))
		return;
	/* The client's CAPTURE format if it carries the stream, else the first. */
	ctx->kind = kind;
	fourcc = ddv_dst_format_ok(&kind, ctx->dst_fmt.pixelformat) ? ctx->dst_fmt.pixelformat :
		 ddv_dst_format(&kind, 0);
	fits = vb2_is_streaming(v4l2_m2m_get_dst_vq(ctx->fh.m2m_ctx)) &&
	       w == ctx->dst_fmt.width && h == ctx->dst_fmt.height &&
	       fourcc == ctx->dst_fmt.pixelformat;
	ddv_fill_dst_fmt(&ctx->dst_fmt, fourcc, w, h, &ctx->src_fmt);
	v4l2_ctrl_s_ctrl(ctx->min_bufs_ctrl,
			 clamp_t(u32, f->min_buffers, DDV_MIN_CAPTURE_BUFS, 32));
	if (ctx->state == DDV_STATE_HEADER) {
		ctx->state = DDV_STATE_CAPTURE_SETUP;
		WRITE_ONCE(ctx->resume_on_poll, fits);
		ddv_queue_event(ctx, V4L2_EVENT_SOURCE_CHANGE);
		return;
	}
	ctx->state = DDV_STATE_RES_CHANGE;
	/* Buffers are done in sequence order: the LAST one gets the next. */
	ctx->src_change_seq = ctx->cap_seq;
	if (ctx->cap_dequeued < ctx->src_change_seq)
		ctx->src_change_deferred = true;
	else
		ddv_queue_event(ctx, V4L2_EVENT_SOURCE_CHANGE);
	/*
	 * The event is pending before the LAST buffer is done, so a poller
	 * that sees the buffer sees the event too (v4l2_m2m_poll() checks the
	 * queues before the events).
	 */
	if (ctx->job_dst)
		ddv_dst_done(ctx, 0, 0, V4L2_FIELD_NONE, true);
}

/*
 * A drain that ended before the stream had a format (a corrupt stream that
 * never gave a picture). Some clients (FFmpeg 5.1) stream CAPTURE with
 * buffers of a guessed format from the start and, draining, wait for a
 * LAST buffer rather than the EOS event: give them one, empty. Context:
 * state_lock held.
 */
static void ddv_drained_before_format(struct ddv_ctx *ctx)
{
	struct v4l2_m2m_ctx *m2m = ctx->fh.m2m_ctx;
	struct vb2_v4l2_buffer *dst;

	if (!vb2_is_streaming(v4l2_m2m_get_dst_vq(m2m)))
		return;
	dst = v4l2_m2m_next_dst_buf(m2m);
	if (!dst)
		return;
	dst->flags |= V4L2_BUF_FLAG_LAST;
	ddv_dst_return(ctx, dst, 0, V4L2_FIELD_NONE, VB2_BUF_STATE_DONE);
}

static int ddv_job_complete(struct ddv_ctx *ctx, const struct ddv_decode_done *done)
{
	struct v4l2_m2m_ctx *m2m = ctx->fh.m2m_ctx;
	u32 flags = done->flags;

	if (!ctx->job_active || ctx->job_id != done->job_id || ctx->orphaned)
		return -ENOENT;
	/* A dropped picture is not a picture, nor the end, nor a format. */
	if ((flags & DDV_DONE_SKIPPED) &&
	    (flags & (DDV_DONE_PICTURE | DDV_DONE_LAST | DDV_DONE_FORMAT)))
		return -EINVAL;
	/*
	 * A picture the daemon never wrote would show the buffer's old bytes:
	 * it wrote it with DDV_IOC_WRITE_PICTURE, or through its mapping of
	 * the buffer's memory, which it must have asked for.
	 */
	if ((flags & DDV_DONE_MAPPED) && (!(flags & DDV_DONE_PICTURE) || !ctx->job_dst ||
					  !ddv_buffer_of(ctx->job_dst)->exported))
		return -EINVAL;
	if ((flags & DDV_DONE_PICTURE) && ctx->job_dst && !ctx->job_written &&
	    !(flags & DDV_DONE_MAPPED))
		return -EINVAL;
	cancel_delayed_work(&ctx->watchdog);

	if (flags & DDV_DONE_FATAL) {
		__ddv_job_fail(ctx, done->status, "the daemon cannot decode this stream");
		return 0;
	}
	if ((flags & DDV_DONE_SRC_CONSUMED) && ctx->job_src) {
		struct vb2_v4l2_buffer *src = ctx->job_src;

		v4l2_m2m_src_buf_remove_by_buf(m2m, src);
		src->sequence = ctx->out_seq++;
		v4l2_m2m_buf_done(src, (flags & DDV_DONE_ERROR) ? VB2_BUF_STATE_ERROR
								: VB2_BUF_STATE_DONE);
		ctx->job_src = NULL;
	}
	if (flags & DDV_DONE_FORMAT) {
		ddv_new_format(ctx, &done->format);
	} else {
		/*
		 * EOS before the LAST buffer (as for SOURCE_CHANGE in
		 * ddv_new_format()); without a CAPTURE buffer it is a stream
		 * that showed nothing.
		 */
		if (flags & DDV_DONE_LAST) {
			bool no_format = ctx->state == DDV_STATE_HEADER;

			ctx->drain = false;
			ctx->state = DDV_STATE_DRAINED;
			ddv_queue_event(ctx, V4L2_EVENT_EOS);
			if (no_format)
				ddv_drained_before_format(ctx);
		}
		if (ctx->job_dst && (flags & (DDV_DONE_PICTURE | DDV_DONE_LAST)))
			ddv_dst_done(ctx, (flags & DDV_DONE_PICTURE) ?
				     ctx->job_layout.sizeimage : 0,
				     done->timestamp, (flags & DDV_DONE_PICTURE) ?
				     done->field : V4L2_FIELD_NONE, flags & DDV_DONE_LAST);
		/* A resumed stream's picture before its key frame: flagged. */
		if (ctx->job_dst && (flags & DDV_DONE_SKIPPED)) {
			ddv_dst_return(ctx, ctx->job_dst, 0, V4L2_FIELD_NONE,
				       VB2_BUF_STATE_ERROR);
			ctx->job_dst = NULL;
		}
	}
	WRITE_ONCE(ctx->job_active, false);
	ctx->job_src = NULL;
	ctx->job_dst = NULL;
	wake_up_all(&ctx->job_wq);
	return 0;
}

/**
 * ddv_v4l2_job_done() - the daemon answered a DECODE
 * @br: the bridge
 * @payload: struct ddv_decode_done
 * @len: payload length
 *
 * Context: process context (the daemon's write()), bridge lock NOT held.
 * Return: 0; -EINVAL for a malformed answer; -ENOENT for a context or job
 * that is no longer there (it was closed or timed out).
 */
int ddv_v4l2_job_done(struct ddv_bridge *br, const void *payload, u32 len)
{
	const struct ddv_decode_done *done = payload;
	struct ddv_ctx *ctx;
	int ret;

	if (len != sizeof(*done) || !br->v4l2 || done->reserved)
		return -EINVAL;
	if ((done->flags & DDV_DONE_PICTURE) && done->field != V4L2_FIELD_NONE &&
	    done->field != V4L2_FIELD_INTERLACED_TB && done->field != V4L2_FIELD_INTERLACED_BT)
		return -EINVAL;
	ctx = ddv_ctx_get(br->v4l2, done->ctx_id);
	if (!ctx)
		return -ENOENT;
	mutex_lock(&ctx->state_lock);
	ret = ddv_job_complete(ctx, done);
	mutex_unlock(&ctx->state_lock);
	if (!ret)
		ddv_job_next(ctx);
	ddv_ctx_put(ctx);
	return ret;
}

/*
 * Finds the running job named by (ctx_id, job_id) and returns its context
 * with state_lock held and a reference taken, or an ERR_PTR.
 */
static struct ddv_ctx *ddv_job_lock(struct ddv_bridge *br, u32 ctx_id, u32 job_id)
{
	struct ddv_ctx *ctx;

	if (!br->v4l2)
		return ERR_PTR(-ENOENT);
	ctx = ddv_ctx_get(br->v4l2, ctx_id);
	if (!ctx)
		return ERR_PTR(-ENOENT);
	mutex_lock(&ctx->state_lock);
	if (!ctx->job_active || ctx->job_id != job_id || ctx->orphaned) {
		mutex_unlock(&ctx->state_lock);
		ddv_ctx_put(ctx);
		return ERR_PTR(-ESTALE);
	}
	return ctx;
}

static void ddv_job_unlock(struct ddv_ctx *ctx)
{
	mutex_unlock(&ctx->state_lock);
	ddv_ctx_put(ctx);
}

/**
 * ddv_v4l2_read_src() - DDV_IOC_READ_SRC: copy a job's bitstream out
 * @br: the bridge
 * @arg: struct ddv_src_io in user memory
 *
 * Return: bytes copied, or -ENOENT/-ESTALE (no such job), -ENODATA (the job
 * has no OUTPUT buffer), -EFAULT.
 */
long ddv_v4l2_read_src(struct ddv_bridge *br, void __user *arg)
{
	struct ddv_src_io io;
	struct ddv_ctx *ctx;
	long ret;
	u32 n;

	if (copy_from_user(&io, arg, sizeof(io)))
		return -EFAULT;
	if (io.reserved)
		return -EINVAL;
	ctx = ddv_job_lock(br, io.ctx_id, io.job_id);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	if (!ctx->job_src) {
		ret = -ENODATA;
	} else {
		struct vb2_buffer *vb = &ctx->job_src->vb2_buf;
		/* NULL for memory the kernel cannot map (e.g. a PFN-mapped USERPTR). */
		void *src = vb2_plane_vaddr(vb, 0);

		n = min_t(u32, io.len, vb2_get_plane_payload(vb, 0));
		ret = src && !copy_to_user(u64_to_user_ptr(io.addr), src, n) ? n : -EFAULT;
	}
	ddv_job_unlock(ctx);
	return ret;
}

/*
 * One block of a picture, with non-temporal stores where the architecture
 * has them (x86; elsewhere a plain copy): the picture is for the client,
 * not for this CPU's caches, which hold the decoder's reference frames.
 * In steps of DDV_COPY_STEP with a reschedule point after each: a 4K RGB
 * picture is 33 MB, and on a kernel without full preemption the daemon's
 * control plane (a status call, a metrics scrape) must not wait for all
 * of it on this CPU.
 */
#define DDV_COPY_STEP	SZ_256K

static int ddv_copy_block(u8 *dst, u64 src, size_t len)
{
	void __user *from = u64_to_user_ptr(src);
	struct iov_iter iter;
	size_t done = 0;

	if (!access_ok(from, len))
		return -EFAULT;
	iov_iter_ubuf(&iter, ITER_SOURCE, from, len);
	while (done < len) {
		size_t step = min_t(size_t, len - done, DDV_COPY_STEP);

		if (copy_from_iter_nocache(dst + done, step, &iter) != step)
			return -EFAULT;
		done += step;
		cond_resched();
	}
	return 0;
}

static int ddv_copy_rows(u8 *dst, u32 dst_stride, u64 src, u32 src_stride, u32 width, u32 rows)
{
	u32 y;
	int ret;

	if (!rows)
		return 0;
	/* Same strides (the usual case): the plane is one block. */
	if (dst_stride == src_stride)
		return ddv_copy_block(dst, src, (size_t)(rows - 1) * dst_stride + width);
	for (y = 0; y < rows; y++) {
		ret = ddv_copy_block(dst + (size_t)y * dst_stride,
				     src + (u64)y * src_stride, width);
		if (ret)
			return ret;
	}
	return 0;
}

/* The four bytes of @w, each followed by a zero byte, as they lie in memory. */
static u64 ddv_spread_bytes(u32 w)
{
	u64 x = w;

	x = (x | (x << 16)) & 0x0000ffff0000ffffULL;
	return (x | (x << 8)) & 0x00ff00ff00ff00ffULL;
}

/*
 * An 8-bit NV chroma plane from the daemon's U and V planes. Four pixel pairs
 * per step: eight times fewer stores than a byte loop, which matters most
 * where every store is instrumented (KASAN) or emulated.
 */
static int ddv_interleave_rows(u8 *dst, u32 dst_stride, const struct ddv_picture_io *io,
			       u32 width, u32 rows)
{
	u32 v_off = round_up(width, 8);
	u8 *line;
	u32 x, y;
	int ret = 0;

	line = kmalloc(2 * v_off, GFP_KERNEL);
	if (!line)
		return -ENOMEM;
	for (y = 0; y < rows; y++) {
		u8 *d = dst + (size_t)y * dst_stride;

		if (copy_from_user(line, u64_to_user_ptr(io->plane[1] + (u64)y * io->stride[1]),
				   width) ||
		    copy_from_user(line + v_off,
				   u64_to_user_ptr(io->plane[2] + (u64)y * io->stride[2]), width)) {
			ret = -EFAULT;
			break;
		}
		for (x = 0; x + 4 <= width; x += 4) {
			__le64 pairs;
			__le32 u, v;

			memcpy(&u, line + x, 4);
			memcpy(&v, line + v_off + x, 4);
			pairs = cpu_to_le64(ddv_spread_bytes(le32_to_cpu(u)) |
					    ddv_spread_bytes(le32_to_cpu(v)) << 8);
			memcpy(d + 2 * x, &pairs, 8);
		}
		for (; x < width; x++) {
			d[2 * x] = line[x];
			d[2 * x + 1] = line[v_off + x];
		}
		cond_resched();
	}
	kfree(line);
	return ret;
}

/* Bytes of a row of the first plane: luma, or every sample if packed. */
static u32 ddv_row_bytes(const struct ddv_layout *l, const struct ddv_dst_desc *d)
{
	if (d->layout == DDV_PACKED)
		return ALIGN(l->width, 2) * 2 * d->bytes;
	return l->width * d->bytes;
}

/*
 * Whether the daemon's planes cover the layout: each row it names must
 * hold the bytes the kernel copies from it.
 */
static bool ddv_picture_fits(const struct ddv_picture_io *io, const struct ddv_layout *l,
			     const struct ddv_dst_desc *d)
{
	u32 cw = DIV_ROUND_UP(l->width, d->hsub) * d->bytes;

	if (io->width != l->width || io->height != l->height ||
	    io->stride[0] < ddv_row_bytes(l, d))
		return false;
	switch (io->num_planes) {
	case 1:	/* already packed (or RGB) as the layout has it */
		return d->layout == DDV_PACKED || d->layout == DDV_RGB;
	case 2:	/* Y, and CbCr already interleaved */
		return d->layout == DDV_SEMI_PLANAR && io->stride[1] >= 2 * cw;
	case 3:	/* copied as they are, or interleaved (8-bit only) */
		return (d->layout == DDV_PLANAR ||
			(d->layout == DDV_SEMI_PLANAR && d->bytes == 1)) &&
		       io->stride[1] >= cw && io->stride[2] >= cw;
	}
	return false;
}

/* The chroma plane(s) after the luma plane, in the layout of @d. */
static int ddv_write_chroma(u8 *dst, const struct ddv_picture_io *io,
			    const struct ddv_layout *l, const struct ddv_dst_desc *d)
{
	u32 cw = DIV_ROUND_UP(l->width, d->hsub);
	u32 ch = DIV_ROUND_UP(l->height, d->vsub);
	u32 cs = ddv_dst_chroma_stride(d, l->bytesperline);
	int ret;

	if (d->layout == DDV_PACKED || d->layout == DDV_RGB)
		return 0;
	if (d->layout == DDV_SEMI_PLANAR && io->num_planes == 2)
		return ddv_copy_rows(dst, cs, io->plane[1], io->stride[1], 2 * cw * d->bytes, ch);
	if (d->layout == DDV_SEMI_PLANAR)
		return ddv_interleave_rows(dst, cs, io, cw, ch);
	ret = ddv_copy_rows(dst, cs, io->plane[1], io->stride[1], cw * d->bytes, ch);
	if (!ret)
		ret = ddv_copy_rows(dst + (size_t)cs * ch, cs, io->plane[2], io->stride[2],
				    cw * d->bytes, ch);
	return ret;
}

/* Every plane of the daemon's picture into @dst, in the layout @l. */
static int ddv_write_planes(u8 *dst, const struct ddv_picture_io *io,
			    const struct ddv_layout *l, const struct ddv_dst_desc *d)
{
	int ret = ddv_copy_rows(dst, l->bytesperline, io->plane[0], io->stride[0],
				ddv_row_bytes(l, d), l->height);

	return ret ? ret : ddv_write_chroma(dst + (size_t)l->bytesperline * l->height, io, l, d);
}

/**
 * ddv_v4l2_write_picture() - DDV_IOC_WRITE_PICTURE: the picture into CAPTURE
 * @br: the bridge
 * @arg: struct ddv_picture_io in user memory
 *
 * Writes a picture from the daemon's memory into the job's CAPTURE buffer
 * in the job's layout, interleaving 8-bit chroma planes for NV formats.
 *
 * Return: 0, or -ENOENT/-ESTALE (no such job), -ENODATA (the job has no
 * CAPTURE buffer), -EINVAL (planes that do not fit the layout), -EFAULT,
 * -ENOMEM.
 */
long ddv_v4l2_write_picture(struct ddv_bridge *br, void __user *arg)
{
	const struct ddv_dst_desc *d;
	const struct ddv_layout *l;
	struct ddv_picture_io io;
	struct ddv_ctx *ctx;
	u8 *dst;
	long ret;

	if (copy_from_user(&io, arg, sizeof(io)))
		return -EFAULT;
	if (io.reserved[0] || io.reserved[1])
		return -EINVAL;
	ctx = ddv_job_lock(br, io.ctx_id, io.job_id);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	l = &ctx->job_layout;
	d = ddv_dst_desc(l->pixelformat);
	if (!ctx->job_dst) {
		ret = -ENODATA;
		goto out;
	}
	if (!d || !ddv_picture_fits(&io, l, d) ||
	    vb2_plane_size(&ctx->job_dst->vb2_buf, 0) < l->sizeimage) {
		ret = -EINVAL;
		goto out;
	}
	dst = vb2_plane_vaddr(&ctx->job_dst->vb2_buf, 0);
	if (!dst) {
		ret = -EFAULT;
		goto out;
	}
	/* The benchmark's measure of the copy: the buffer keeps what it had. */
	ret = READ_ONCE(br->bench_skip_copy) ? 0 : ddv_write_planes(dst, &io, l, d);
	ctx->job_written = !ret;
out:
	ddv_job_unlock(ctx);
	return ret;
}

/**
 * ddv_v4l2_export_dst() - DDV_IOC_EXPORT_DST: the job's CAPTURE buffer as a DMA-BUF
 * @br: the bridge
 * @arg: struct ddv_export_io in user memory; @fd is filled in
 *
 * The daemon maps the buffer and writes pictures straight into it, the
 * way a client maps it (VIDIOC_EXPBUF): the DMA-BUF holds the memory for
 * as long as the daemon keeps it, so a client that frees its buffers never
 * pulls memory from under a mapping. Only MMAP buffers can be exported;
 * the kernel copies into the others (DDV_IOC_WRITE_PICTURE).
 *
 * Return: 0, or -ENOENT/-ESTALE (no such job), -ENODATA (the job has no
 * CAPTURE buffer), -EOPNOTSUPP (not MMAP memory), -EINVAL, -EFAULT, or the
 * export's error (-EMFILE, -ENOMEM).
 */
long ddv_v4l2_export_dst(struct ddv_bridge *br, void __user *arg)
{
	struct ddv_export_io io;
	struct vb2_buffer *vb;
	struct ddv_ctx *ctx;
	long ret;
	int fd;

	if (copy_from_user(&io, arg, sizeof(io)))
		return -EFAULT;
	if (io.reserved)
		return -EINVAL;
	ctx = ddv_job_lock(br, io.ctx_id, io.job_id);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	if (!ctx->job_dst) {
		ret = -ENODATA;
		goto out;
	}
	vb = &ctx->job_dst->vb2_buf;
	if (vb->memory != VB2_MEMORY_MMAP) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	ret = ddv_vb2_expbuf(vb->vb2_queue, &fd, vb, 0, O_RDWR | O_CLOEXEC);
	if (ret)
		goto out;
	io.fd = fd;
	if (copy_to_user(arg, &io, sizeof(io))) {
		/* Nobody learnt the number: take the descriptor back. */
		close_fd(fd);
		ret = -EFAULT;
		goto out;
	}
	ddv_buffer_of(ctx->job_dst)->exported = true;
out:
	ddv_job_unlock(ctx);
	return ret;
}
