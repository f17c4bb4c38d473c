// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the OUTPUT and CAPTURE queues (videobuf2, vmalloc) and the
 * mem2mem callbacks that decide when a decode job can run.
 */
#include <linux/atomic.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <media/v4l2-event.h>
#include <media/videobuf2-vmalloc.h>

#include "ddv_v4l2.h"

static unsigned int max_buffer_mb;
module_param(max_buffer_mb, uint, 0644);
MODULE_PARM_DESC(max_buffer_mb,
		 "MiB of MMAP buffers all contexts may hold together (default 0: a quarter of RAM)");

/* Bytes of MMAP buffers allocated now, across every context. */
static atomic64_t ddv_buffer_bytes = ATOMIC64_INIT(0);

/*
 * Every buffer a client asks for is kernel memory: without a bound, one
 * unprivileged client (many handles, 64 buffers of the largest size each)
 * runs the board out of memory.
 */
static u64 ddv_buffer_budget(void)
{
	unsigned int mb = READ_ONCE(max_buffer_mb);

	if (mb)
		return (u64)mb << 20;
	return ((u64)totalram_pages() << PAGE_SHIFT) / 4;
}

/**
 * ddv_buffers_fit() - how many buffers of @size fit in what is left
 * @wanted: buffers asked for
 * @size: bytes each
 *
 * Checked before vb2 allocates; ddv_buf_init() counts what it did.
 *
 * Return: at most @wanted; 0 when not one fits (logged, rate-limited).
 */
static unsigned int ddv_buffers_fit(unsigned int wanted, u32 size)
{
	u64 budget = ddv_buffer_budget();
	u64 used = atomic64_read(&ddv_buffer_bytes);
	u64 room = used < budget ? budget - used : 0;
	u64 fit = size ? div64_u64(room, size) : wanted;

	if (fit == 0)
		pr_warn_ratelimited("buffers refused: %llu of %llu MiB in use (max_buffer_mb)\n",
				    used >> 20, budget >> 20);
	return min_t(u64, wanted, fit);
}

static int ddv_queue_setup(struct vb2_queue *vq, unsigned int *nbuffers,
			   unsigned int *nplanes, unsigned int sizes[],
			   struct device *alloc_devs[])
{
	struct ddv_ctx *ctx = vb2_get_drv_priv(vq);
	u32 size;

	mutex_lock(&ctx->state_lock);
	size = V4L2_TYPE_IS_OUTPUT(vq->type) ? ctx->src_fmt.plane_fmt[0].sizeimage
					     : ctx->dst_fmt.plane_fmt[0].sizeimage;
	mutex_unlock(&ctx->state_lock);

	if (*nplanes) {	/* VIDIOC_CREATE_BUFS: the client's size */
		if (*nplanes != 1 || sizes[0] < size)
			return -EINVAL;
		size = sizes[0];
	}
	if (vq->memory == VB2_MEMORY_MMAP) {
		*nbuffers = ddv_buffers_fit(*nbuffers, size);
		if (!*nbuffers)
			return -ENOMEM;
	}
	*nplanes = 1;
	sizes[0] = size;
	/* Buffers make a context one that decodes: counted, maybe refused. */
	return V4L2_TYPE_IS_OUTPUT(vq->type) ? ddv_ctx_claim(ctx) : 0;
}

/*
 * Counts an MMAP buffer against max_buffer_mb; the last one may not fit.
 * A CAPTURE buffer's memory gets a new generation, so that a daemon
 * holding a mapping of the index's old memory knows it is stale.
 */
static int ddv_buf_init(struct vb2_buffer *vb)
{
	struct ddv_ctx *ctx = vb2_get_drv_priv(vb->vb2_queue);
	struct ddv_buffer *buf = ddv_buffer_of(to_vb2_v4l2_buffer(vb));
	u64 size = vb2_plane_size(vb, 0);

	if (!V4L2_TYPE_IS_OUTPUT(vb->vb2_queue->type)) {
		mutex_lock(&ctx->state_lock);
		buf->generation = ++ctx->cap_generation;
		buf->exported = false;
		mutex_unlock(&ctx->state_lock);
	}
	if (vb->memory != VB2_MEMORY_MMAP)
		return 0;
	if (atomic64_add_return(size, &ddv_buffer_bytes) > ddv_buffer_budget()) {
		atomic64_sub(size, &ddv_buffer_bytes);
		return -ENOMEM;
	}
	return 0;
}

static void ddv_buf_cleanup(struct vb2_buffer *vb)
{
	if (vb->memory == VB2_MEMORY_MMAP)
		atomic64_sub(vb2_plane_size(vb, 0), &ddv_buffer_bytes);
}

static int ddv_buf_out_validate(struct vb2_buffer *vb)
{
	struct vb2_v4l2_buffer *vbuf = to_vb2_v4l2_buffer(vb);

	if (vbuf->field == V4L2_FIELD_ANY)
		vbuf->field = V4L2_FIELD_NONE;
	return vbuf->field == V4L2_FIELD_NONE ? 0 : -EINVAL;
}

static int ddv_buf_prepare(struct vb2_buffer *vb)
{
	struct ddv_ctx *ctx = vb2_get_drv_priv(vb->vb2_queue);
	u32 size;

	if (V4L2_TYPE_IS_OUTPUT(vb->vb2_queue->type))
		return 0;
	mutex_lock(&ctx->state_lock);
	size = vb2_is_streaming(vb->vb2_queue) ? ctx->cap_sizeimage
					       : ctx->dst_fmt.plane_fmt[0].sizeimage;
	mutex_unlock(&ctx->state_lock);
	if (vb2_plane_size(vb, 0) < size)
		return -EINVAL;
	return 0;
}

static void ddv_buf_finish(struct vb2_buffer *vb)
{
	/* Only a DQBUF: a queue being cancelled is no longer streaming. */
	if (!V4L2_TYPE_IS_OUTPUT(vb->vb2_queue->type) && vb2_is_streaming(vb->vb2_queue))
		ddv_cap_dequeued(vb2_get_drv_priv(vb->vb2_queue), to_vb2_v4l2_buffer(vb)->sequence);
}

static void ddv_buf_queue(struct vb2_buffer *vb)
{
	struct ddv_ctx *ctx = vb2_get_drv_priv(vb->vb2_queue);

	v4l2_m2m_buf_queue(ctx->fh.m2m_ctx, to_vb2_v4l2_buffer(vb));
}

static int ddv_start_streaming(struct vb2_queue *q, unsigned int count)
{
	struct ddv_ctx *ctx = vb2_get_drv_priv(q);

	mutex_lock(&ctx->state_lock);
	if (V4L2_TYPE_IS_OUTPUT(q->type)) {
		ctx->out_seq = 0;
	} else {
		ctx->cap_seq = 0;
		ctx->cap_dequeued = 0;
		ctx->cap_sizeimage = ctx->dst_fmt.plane_fmt[0].sizeimage;
		/*
		 * CAPTURE (re)starts after the format became known or changed;
		 * a drain asked for meanwhile goes on. After a finished drain,
		 * a restart means decoding resumes.
		 */
		if (ctx->state == DDV_STATE_DRAINED)
			ctx->drain = false;
		WRITE_ONCE(ctx->resume_on_poll, false);
		if (ctx->state != DDV_STATE_HEADER)
			ctx->state = DDV_STATE_DECODING;
	}
	mutex_unlock(&ctx->state_lock);
	return 0;
}

/*
 * Once the context's job with the daemon has ended (it holds buffers of
 * both queues), every buffer of the queue is ours to return.
 */
static void ddv_stop_streaming(struct vb2_queue *q)
{
	struct ddv_ctx *ctx = vb2_get_drv_priv(q);
	struct vb2_v4l2_buffer *vbuf;
	bool output = V4L2_TYPE_IS_OUTPUT(q->type);

	ddv_job_wait(ctx);
	for (;;) {
		vbuf = output ? v4l2_m2m_src_buf_remove(ctx->fh.m2m_ctx)
			      : v4l2_m2m_dst_buf_remove(ctx->fh.m2m_ctx);
		if (!vbuf)
			break;
		v4l2_m2m_buf_done(vbuf, VB2_BUF_STATE_ERROR);
	}
	if (!output) {
		ddv_cap_stopped(ctx);
		return;
	}
	/* A seek: the daemon drops what it buffered for the old position. */
	mutex_lock(&ctx->state_lock);
	ctx->drain = false;
	mutex_unlock(&ctx->state_lock);
	ddv_ctx_send(ctx, DDV_MSG_FLUSH);
}

static const struct vb2_ops ddv_qops = {
	.queue_setup = ddv_queue_setup,
	.buf_init = ddv_buf_init,
	.buf_cleanup = ddv_buf_cleanup,
	.buf_out_validate = ddv_buf_out_validate,
	.buf_prepare = ddv_buf_prepare,
	.buf_finish = ddv_buf_finish,
	.buf_queue = ddv_buf_queue,
	.start_streaming = ddv_start_streaming,
	.stop_streaming = ddv_stop_streaming,
	.wait_prepare = vb2_ops_wait_prepare,
	.wait_finish = vb2_ops_wait_finish,
};

static void ddv_init_vq(struct ddv_ctx *ctx, struct vb2_queue *vq, enum v4l2_buf_type type)
{
	vq->type = type;
	vq->io_modes = VB2_MMAP | VB2_USERPTR | VB2_DMABUF;
	vq->drv_priv = ctx;
	vq->buf_struct_size = sizeof(struct ddv_buffer);
	vq->ops = &ddv_qops;
	vq->mem_ops = &vb2_vmalloc_memops;
	vq->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_COPY;
	vq->lock = &ctx->lock;
}

/**
 * ddv_queue_init() - set up the two queues of a new context
 * @priv: the &struct ddv_ctx
 * @src_vq: OUTPUT queue (VP9)
 * @dst_vq: CAPTURE queue (pictures)
 *
 * Context: v4l2_m2m_ctx_init() during open; may sleep.
 * Return: 0 or a negative errno.
 */
int ddv_queue_init(void *priv, struct vb2_queue *src_vq, struct vb2_queue *dst_vq)
{
	struct ddv_ctx *ctx = priv;
	int ret;

	ddv_init_vq(ctx, src_vq, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE);
	ret = vb2_queue_init(src_vq);
	if (ret)
		return ret;
	ddv_init_vq(ctx, dst_vq, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);
	return vb2_queue_init(dst_vq);
}

/*
 * Can a job run? Called by mem2mem with its job spinlock held: must not
 * sleep, so it reads the state without state_lock; a stale answer only
 * makes device_run() find nothing to do.
 */
static int ddv_job_ready(void *priv)
{
	struct ddv_ctx *ctx = priv;
	struct v4l2_m2m_ctx *m2m = ctx->fh.m2m_ctx;
	bool src = v4l2_m2m_num_src_bufs_ready(m2m) > 0;
	bool dst = v4l2_m2m_num_dst_bufs_ready(m2m) > 0;

	/*
	 * One job per context at a time, in order. No job starts while a
	 * dead daemon's contexts wait for the next.
	 */
	if (READ_ONCE(ctx->job_active) || READ_ONCE(ctx->fatal) || READ_ONCE(ctx->orphaned) ||
	    READ_ONCE(ctx->dev->recovering))
		return 0;
	switch (READ_ONCE(ctx->state)) {
	case DDV_STATE_HEADER:
		/* A short stream may show its first picture only when drained. */
		return src || READ_ONCE(ctx->drain);
	case DDV_STATE_DECODING:
		return vb2_is_streaming(v4l2_m2m_get_dst_vq(m2m)) && dst &&
		       (src || READ_ONCE(ctx->drain));
	default:
		return 0;
	}
}

static void ddv_device_run(void *priv)
{
	ddv_job_run(priv);
}

const struct v4l2_m2m_ops ddv_m2m_ops = {
	.device_run = ddv_device_run,
	.job_ready = ddv_job_ready,
};
