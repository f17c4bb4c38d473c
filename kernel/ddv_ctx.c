// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the life of a decoding context, one per open file of the
 * decoder node: created on open(), named by an id in the device's idr so
 * that daemon answers can find it, referenced by every answer in flight,
 * and torn down on close in the one order that is safe (see
 * ddv_ctx_release()). Nothing else allocates, looks up or frees one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <media/v4l2-event.h>

#include "ddv_compat.h"
#include "ddv_v4l2.h"

static void ddv_ctx_free(struct ddv_ctx *ctx)
{
	mutex_destroy(&ctx->state_lock);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
}

static void ddv_ctx_release_ref(struct kref *ref)
{
	ddv_ctx_free(container_of(ref, struct ddv_ctx, ref));
}

/**
 * ddv_ctx_get() - look a context up by id and take a reference
 * @dev: the device
 * @id: &ddv_ctx.id, as the daemon names it
 *
 * Return: the context, or NULL if no open file has that id (any more).
 */
struct ddv_ctx *ddv_ctx_get(struct ddv_dev *dev, u32 id)
{
	struct ddv_ctx *ctx;

	mutex_lock(&dev->lock);
	ctx = idr_find(&dev->ctxs, id);
	if (ctx)
		kref_get(&ctx->ref);
	mutex_unlock(&dev->lock);
	return ctx;
}

/**
 * ddv_ctx_put() - drop a reference from ddv_ctx_get()
 * @ctx: the context; freed with its last reference
 */
void ddv_ctx_put(struct ddv_ctx *ctx)
{
	kref_put(&ctx->ref, ddv_ctx_release_ref);
}

/**
 * ddv_ctx_for_each() - call @fn for every open context
 * @dev: the device
 * @fn: called with dev->lock held, so a context cannot be closed meanwhile
 *	(its queues may be gone already: see &ddv_ctx.released)
 */
void ddv_ctx_for_each(struct ddv_dev *dev, void (*fn)(struct ddv_ctx *ctx))
{
	struct ddv_ctx *ctx;
	int id;

	mutex_lock(&dev->lock);
	idr_for_each_entry(&dev->ctxs, ctx, id)
		fn(ctx);
	mutex_unlock(&dev->lock);
}

/* The profile and level menus of one codec: QUERYMENU lists what decodes. */
static void ddv_codec_ctrls(struct v4l2_ctrl_handler *hdl, const struct ddv_codec_caps *c)
{
	const struct ddv_codec_desc *d = ddv_codec_desc(c->fourcc);

	if (!d)
		return;
	if (d->profile_cid)
		v4l2_ctrl_new_std_menu(hdl, NULL, d->profile_cid, fls(c->profiles) - 1,
				       ~c->profiles, ffs(c->profiles) - 1);
	if (d->level_cid)
		v4l2_ctrl_new_std_menu(hdl, NULL, d->level_cid, c->max_level, 0, c->max_level);
}

static int ddv_ctrls_init(struct ddv_ctx *ctx)
{
	struct v4l2_ctrl_handler *hdl = &ctx->hdl;
	struct ddv_codec_caps c;
	unsigned int i;

	v4l2_ctrl_handler_init(hdl, 1 + 2 * DDV_MAX_CODECS);
	ctx->min_bufs_ctrl = v4l2_ctrl_new_std(hdl, NULL, V4L2_CID_MIN_BUFFERS_FOR_CAPTURE,
					       1, 32, 1, DDV_MIN_CAPTURE_BUFS);
	for (i = 0; ddv_codec_offered_at(ctx->dev, i, &c); i++)
		ddv_codec_ctrls(hdl, &c);
	if (hdl->error)
		return hdl->error;
	ctx->fh.ctrl_handler = hdl;
	return 0;
}

/*
 * Test hook (debugfs release_delay_ms): holds the close of a context the
 * daemon has seen at the point where its queues are freed, so that a test
 * can make the daemon go away right then. Zero (the default, and always
 * without debugfs) costs one read.
 */
static void ddv_ctx_test_hold(struct ddv_ctx *ctx)
{
	u32 ms = READ_ONCE(ctx->dev->br->test_release_delay_ms);
	bool seen;

	if (!ms)
		return;
	mutex_lock(&ctx->state_lock);
	seen = ctx->jobs_sent;
	mutex_unlock(&ctx->state_lock);
	if (!seen)
		return;
	pr_info("close of context %u held %u ms (debugfs release_delay_ms)\n", ctx->id, ms);
	msleep(ms);
}

static unsigned int max_contexts = 32;
module_param(max_contexts, uint, 0644);
MODULE_PARM_DESC(max_contexts, "contexts decoding at once (with OUTPUT buffers) at most; one more gets EBUSY (default 32)");

/**
 * ddv_ctx_claim() - count a context as decoding, or refuse it at the limit
 * @ctx: the context, allocating its first OUTPUT buffers
 *
 * The limit is taken where a context starts to cost (its buffers, a decoder
 * in the daemon), not at open(): V4L2 clients and v4l2-compliance expect
 * any number of opens. The refusal is logged once each time the limit is
 * reached, not for every retry. A claimed context counts until closed.
 *
 * Context: the OUTPUT queue's queue_setup (ctx->lock held).
 * Return: 0, or -EBUSY with max_contexts contexts decoding.
 */
int ddv_ctx_claim(struct ddv_ctx *ctx)
{
	struct ddv_dev *dev = ctx->dev;
	unsigned int limit = READ_ONCE(max_contexts);
	int ret = 0;

	mutex_lock(&dev->lock);
	if (ctx->claimed) {
		/* counted already */
	} else if (dev->num_claimed < limit) {
		dev->num_claimed++;
		ctx->claimed = true;
		dev->claim_limit_logged = false;
	} else {
		ret = -EBUSY;
		if (!dev->claim_limit_logged)
			pr_warn("%u contexts decoding, the limit (max_contexts): more get EBUSY\n",
				dev->num_claimed);
		dev->claim_limit_logged = true;
	}
	mutex_unlock(&dev->lock);
	return ret;
}

/**
 * ddv_ctx_open() - open() of the decoder node: a new context
 * @file: the file being opened
 *
 * Return: 0, or a negative errno with nothing left allocated.
 */
int ddv_ctx_open(struct file *file)
{
	struct ddv_dev *dev = video_drvdata(file);
	struct ddv_ctx *ctx;
	int ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->dev = dev;
	kref_init(&ctx->ref);
	mutex_init(&ctx->lock);
	mutex_init(&ctx->state_lock);
	ddv_job_init(ctx);
	v4l2_fh_init(&ctx->fh, video_devdata(file));
	file->private_data = &ctx->fh;

	ret = ddv_ctrls_init(ctx);
	if (ret)
		goto err_free_ctrls;

	ctx->src_fmt.width = DDV_DEFAULT_WIDTH;
	ctx->src_fmt.height = DDV_DEFAULT_HEIGHT;
	ddv_try_src(dev, &ctx->src_fmt);
	ctx->kind = (struct ddv_stream_kind) {};	/* unknown until the stream's format */
	ddv_fill_dst_fmt(&ctx->dst_fmt, ddv_dst_format(&ctx->kind, 0), DDV_DEFAULT_WIDTH,
			 DDV_DEFAULT_HEIGHT, &ctx->src_fmt);
	ctx->state = DDV_STATE_HEADER;

	ctx->fh.m2m_ctx = v4l2_m2m_ctx_init(dev->m2m_dev, ctx, ddv_queue_init);
	if (IS_ERR(ctx->fh.m2m_ctx)) {
		ret = PTR_ERR(ctx->fh.m2m_ctx);
		goto err_free_ctrls;
	}
	/* job_ready() decides; buffers may be missing on either side. */
	v4l2_m2m_set_src_buffered(ctx->fh.m2m_ctx, true);
	v4l2_m2m_set_dst_buffered(ctx->fh.m2m_ctx, true);
	ddv_m2m_ignore_cap_streaming(ctx->fh.m2m_ctx);

	mutex_lock(&dev->lock);
	ret = idr_alloc_cyclic(&dev->ctxs, ctx, 1, 0, GFP_KERNEL);
	mutex_unlock(&dev->lock);
	if (ret < 0)
		goto err_release_m2m;
	ctx->id = ret;
	v4l2_fh_add(&ctx->fh);
	return 0;

err_release_m2m:
	v4l2_m2m_ctx_release(ctx->fh.m2m_ctx);
err_free_ctrls:
	v4l2_ctrl_handler_free(&ctx->hdl);
	v4l2_fh_exit(&ctx->fh);
	ddv_ctx_free(ctx);
	return ret;
}

/**
 * ddv_ctx_release() - close() of the decoder node: tear the context down
 * @file: the file being released
 *
 * The context is marked released before its queues are freed: from then
 * on nothing may fail them (__ddv_ctx_fatal() checks), while a running job
 * can still end normally, which v4l2_m2m_ctx_release() waits for. The
 * daemon's last answers may still look the context up until it leaves the
 * idr; they find no job and hold a reference, so the memory outlives them.
 *
 * Return: 0.
 */
int ddv_ctx_release(struct file *file)
{
	struct ddv_ctx *ctx = ddv_ctx_of(file);
	struct ddv_dev *dev = ctx->dev;

	v4l2_fh_del(&ctx->fh);
	/* First: from here on nothing may fail the queues being freed. */
	mutex_lock(&ctx->state_lock);
	ctx->released = true;
	mutex_unlock(&ctx->state_lock);
	/* Waits for a running job: its answer or the watchdog ends it. */
	mutex_lock(&ctx->lock);
	v4l2_m2m_ctx_release(ctx->fh.m2m_ctx);
	mutex_unlock(&ctx->lock);
	ddv_ctx_test_hold(ctx);
	cancel_delayed_work_sync(&ctx->watchdog);
	cancel_work_sync(&ctx->kick);

	mutex_lock(&dev->lock);
	idr_remove(&dev->ctxs, ctx->id);
	if (ctx->claimed)
		dev->num_claimed--;
	mutex_unlock(&dev->lock);
	ddv_ctx_send(ctx, DDV_MSG_CTX_CLOSE);

	v4l2_ctrl_handler_free(&ctx->hdl);
	v4l2_fh_exit(&ctx->fh);
	ddv_ctx_put(ctx);
	return 0;
}
