// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the stateful VP9 decoder node (/dev/videoN).
 *
 * Follows Documentation/userspace-api/media/v4l/dev-decoder.rst: VP9 on
 * the OUTPUT queue, NV12 or YUV420 on the CAPTURE queue (multi-planar API,
 * one plane), the format learnt from the stream and announced with
 * V4L2_EVENT_SOURCE_CHANGE, drain with DEC_CMD_STOP. The kernel parses no
 * bitstream: the daemon reports each stream's format.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/platform_device.h>
#include <linux/slab.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>
#include <media/videobuf2-vmalloc.h>

#include "ddv_compat.h"
#include "ddv_media.h"
#include "ddv_v4l2.h"

/* The two formats every client knows, first; YUV420 is the default. */
static const u32 ddv_dst_formats[] = { V4L2_PIX_FMT_YUV420, V4L2_PIX_FMT_NV12 };

static struct ddv_ctx *ddv_ctx_of(struct file *file)
{
	return container_of(file->private_data, struct ddv_ctx, fh);
}

static bool ddv_dst_format_ok(u32 fourcc)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ddv_dst_formats); i++)
		if (ddv_dst_formats[i] == fourcc)
			return true;
	return false;
}

/**
 * ddv_fill_dst_fmt() - a CAPTURE format for a picture size
 * @f: filled in; colorimetry fields are left alone
 * @fourcc: V4L2_PIX_FMT_NV12 or V4L2_PIX_FMT_YUV420
 * @width: picture width
 * @height: picture height
 *
 * Rows are padded to 64 bytes; the visible size is the picture size.
 */
void ddv_fill_dst_fmt(struct v4l2_pix_format_mplane *f, u32 fourcc, u32 width, u32 height)
{
	u32 bpl = ALIGN(width, 64);
	u32 chroma_rows = DIV_ROUND_UP(height, 2);

	f->pixelformat = fourcc;
	f->width = width;
	f->height = height;
	f->field = V4L2_FIELD_NONE;
	f->num_planes = 1;
	f->plane_fmt[0].bytesperline = bpl;
	if (fourcc == V4L2_PIX_FMT_NV12)
		f->plane_fmt[0].sizeimage = bpl * height + bpl * chroma_rows;
	else
		f->plane_fmt[0].sizeimage = bpl * height + 2 * (bpl / 2) * chroma_rows;
	memset(f->plane_fmt[0].reserved, 0, sizeof(f->plane_fmt[0].reserved));
	memset(f->reserved, 0, sizeof(f->reserved));
	f->flags = 0;
}

/* Keyframes of a large picture can be big; never less than 512 KiB. */
static u32 ddv_src_size(u32 width, u32 height)
{
	return max_t(u32, SZ_512K, width * height * 3 / 4);
}

static void ddv_clamp_size(u32 *width, u32 *height)
{
	*width = clamp_t(u32, *width, DDV_MIN_DIM, DDV_MAX_WIDTH);
	*height = clamp_t(u32, *height, DDV_MIN_DIM, DDV_MAX_HEIGHT);
}

static int ddv_querycap(struct file *file, void *priv, struct v4l2_capability *cap)
{
	strscpy(cap->driver, "daedalus-v4l2", sizeof(cap->driver));
	strscpy(cap->card, "daedalus VP9 decoder", sizeof(cap->card));
	strscpy(cap->bus_info, "platform:daedalus-v4l2", sizeof(cap->bus_info));
	return 0;
}

static int ddv_enum_fmt_cap(struct file *file, void *priv, struct v4l2_fmtdesc *f)
{
	if (f->index >= ARRAY_SIZE(ddv_dst_formats))
		return -EINVAL;
	f->pixelformat = ddv_dst_formats[f->index];
	return 0;
}

static int ddv_enum_fmt_out(struct file *file, void *priv, struct v4l2_fmtdesc *f)
{
	if (f->index)
		return -EINVAL;
	f->pixelformat = V4L2_PIX_FMT_VP9;
	f->flags = V4L2_FMT_FLAG_COMPRESSED | V4L2_FMT_FLAG_DYN_RESOLUTION;
	return 0;
}

static int ddv_enum_framesizes(struct file *file, void *priv, struct v4l2_frmsizeenum *fs)
{
	if (fs->index || fs->pixel_format != V4L2_PIX_FMT_VP9)
		return -EINVAL;
	fs->type = V4L2_FRMSIZE_TYPE_STEPWISE;
	fs->stepwise.min_width = DDV_MIN_DIM;
	fs->stepwise.max_width = DDV_MAX_WIDTH;
	fs->stepwise.step_width = 1;
	fs->stepwise.min_height = DDV_MIN_DIM;
	fs->stepwise.max_height = DDV_MAX_HEIGHT;
	fs->stepwise.step_height = 1;
	return 0;
}

static int ddv_g_fmt(struct file *file, void *priv, struct v4l2_format *f)
{
	struct ddv_ctx *ctx = ddv_ctx_of(file);

	mutex_lock(&ctx->state_lock);
	f->fmt.pix_mp = V4L2_TYPE_IS_OUTPUT(f->type) ? ctx->src_fmt : ctx->dst_fmt;
	mutex_unlock(&ctx->state_lock);
	return 0;
}

static void ddv_try_src(struct v4l2_pix_format_mplane *f)
{
	ddv_clamp_size(&f->width, &f->height);
	f->pixelformat = V4L2_PIX_FMT_VP9;
	f->field = V4L2_FIELD_NONE;
	f->num_planes = 1;
	f->plane_fmt[0].bytesperline = 0;
	f->plane_fmt[0].sizeimage = clamp_t(u32, f->plane_fmt[0].sizeimage,
					    ddv_src_size(f->width, f->height), SZ_16M);
	memset(f->plane_fmt[0].reserved, 0, sizeof(f->plane_fmt[0].reserved));
	memset(f->reserved, 0, sizeof(f->reserved));
	f->flags = 0;
	if (f->colorspace == V4L2_COLORSPACE_DEFAULT)
		f->colorspace = V4L2_COLORSPACE_REC709;
}

static int ddv_try_fmt_out(struct file *file, void *priv, struct v4l2_format *f)
{
	ddv_try_src(&f->fmt.pix_mp);
	return 0;
}

/*
 * The size of the CAPTURE format is the stream's: the client may only
 * choose the pixel format. Colorimetry follows the OUTPUT format.
 */
static void ddv_try_dst(struct ddv_ctx *ctx, struct v4l2_pix_format_mplane *f)
{
	u32 fourcc = ddv_dst_format_ok(f->pixelformat) ? f->pixelformat : ddv_dst_formats[0];

	lockdep_assert_held(&ctx->state_lock);
	ddv_fill_dst_fmt(f, fourcc, ctx->dst_fmt.width, ctx->dst_fmt.height);
	f->colorspace = ctx->src_fmt.colorspace;
	f->xfer_func = ctx->src_fmt.xfer_func;
	f->ycbcr_enc = ctx->src_fmt.ycbcr_enc;
	f->quantization = ctx->src_fmt.quantization;
}

static int ddv_try_fmt_cap(struct file *file, void *priv, struct v4l2_format *f)
{
	struct ddv_ctx *ctx = ddv_ctx_of(file);

	mutex_lock(&ctx->state_lock);
	ddv_try_dst(ctx, &f->fmt.pix_mp);
	mutex_unlock(&ctx->state_lock);
	return 0;
}

static int ddv_s_fmt_out(struct file *file, void *priv, struct v4l2_format *f)
{
	struct ddv_ctx *ctx = ddv_ctx_of(file);
	struct vb2_queue *vq = v4l2_m2m_get_vq(ctx->fh.m2m_ctx, f->type);

	if (vb2_is_busy(vq))
		return -EBUSY;
	ddv_try_src(&f->fmt.pix_mp);
	mutex_lock(&ctx->state_lock);
	ctx->src_fmt = f->fmt.pix_mp;
	/* Until the stream says otherwise, CAPTURE follows the coded size. */
	if (ctx->state == DDV_STATE_HEADER && !vb2_is_busy(v4l2_m2m_get_dst_vq(ctx->fh.m2m_ctx))) {
		ddv_fill_dst_fmt(&ctx->dst_fmt, ctx->dst_fmt.pixelformat, f->fmt.pix_mp.width,
				 f->fmt.pix_mp.height);
		ctx->dst_fmt.colorspace = ctx->src_fmt.colorspace;
		ctx->dst_fmt.xfer_func = ctx->src_fmt.xfer_func;
		ctx->dst_fmt.ycbcr_enc = ctx->src_fmt.ycbcr_enc;
		ctx->dst_fmt.quantization = ctx->src_fmt.quantization;
	}
	mutex_unlock(&ctx->state_lock);
	return 0;
}

static int ddv_s_fmt_cap(struct file *file, void *priv, struct v4l2_format *f)
{
	struct ddv_ctx *ctx = ddv_ctx_of(file);
	struct vb2_queue *vq = v4l2_m2m_get_vq(ctx->fh.m2m_ctx, f->type);

	if (vb2_is_busy(vq))
		return -EBUSY;
	mutex_lock(&ctx->state_lock);
	ddv_try_dst(ctx, &f->fmt.pix_mp);
	ctx->dst_fmt = f->fmt.pix_mp;
	mutex_unlock(&ctx->state_lock);
	return 0;
}

static int ddv_g_selection(struct file *file, void *priv, struct v4l2_selection *s)
{
	struct ddv_ctx *ctx = ddv_ctx_of(file);

	if (s->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
		return -EINVAL;
	switch (s->target) {
	case V4L2_SEL_TGT_CROP:
	case V4L2_SEL_TGT_CROP_DEFAULT:
	case V4L2_SEL_TGT_CROP_BOUNDS:
	case V4L2_SEL_TGT_COMPOSE:
	case V4L2_SEL_TGT_COMPOSE_DEFAULT:
	case V4L2_SEL_TGT_COMPOSE_BOUNDS:
	case V4L2_SEL_TGT_COMPOSE_PADDED:
		break;
	default:
		return -EINVAL;
	}
	mutex_lock(&ctx->state_lock);
	s->r.left = 0;
	s->r.top = 0;
	s->r.width = ctx->dst_fmt.width;
	s->r.height = ctx->dst_fmt.height;
	mutex_unlock(&ctx->state_lock);
	return 0;
}

static int ddv_decoder_cmd(struct file *file, void *priv, struct v4l2_decoder_cmd *dc)
{
	struct ddv_ctx *ctx = ddv_ctx_of(file);
	struct vb2_queue *dst_vq = v4l2_m2m_get_dst_vq(ctx->fh.m2m_ctx);
	int ret;

	ret = v4l2_m2m_ioctl_try_decoder_cmd(file, priv, dc);
	if (ret)
		return ret;

	mutex_lock(&ctx->state_lock);
	if (ctx->fatal) {
		ret = -EIO;
	} else if (dc->cmd == V4L2_DEC_CMD_STOP) {
		/* Nothing to drain before the stream started: done at once. */
		if (!vb2_is_streaming(v4l2_m2m_get_src_vq(ctx->fh.m2m_ctx)) ||
		    ctx->state == DDV_STATE_DRAINED) {
			mutex_unlock(&ctx->state_lock);
			return 0;
		}
		ctx->drain = true;
	} else {
		/* V4L2_DEC_CMD_START: resume after a drain or a format change. */
		if (ctx->drain && ctx->state != DDV_STATE_DRAINED) {
			ret = -EBUSY;
		} else if (ctx->state == DDV_STATE_DRAINED || ctx->state == DDV_STATE_RES_CHANGE) {
			ctx->state = DDV_STATE_DECODING;
			ctx->drain = false;
			/* Kept buffers must fit the new format from now on. */
			ctx->cap_sizeimage = ctx->dst_fmt.plane_fmt[0].sizeimage;
			vb2_clear_last_buffer_dequeued(dst_vq);
		}
	}
	mutex_unlock(&ctx->state_lock);
	if (!ret)
		v4l2_m2m_try_schedule(ctx->fh.m2m_ctx);
	return ret;
}

/*
 * After a first SOURCE_CHANGE that found fitting CAPTURE buffers streaming,
 * a client that waits for pictures (polls for input or dequeues CAPTURE)
 * once it has taken the event keeps its buffers: decoding resumes. A client
 * that restarts CAPTURE instead resumes it through start_streaming.
 */
static void ddv_resume_if_kept(struct ddv_ctx *ctx)
{
	bool resume = false;

	if (!READ_ONCE(ctx->resume_on_poll) || v4l2_event_pending(&ctx->fh))
		return;
	mutex_lock(&ctx->state_lock);
	if (ctx->resume_on_poll && ctx->state == DDV_STATE_CAPTURE_SETUP) {
		ctx->state = DDV_STATE_DECODING;
		resume = true;
	}
	ctx->resume_on_poll = false;
	mutex_unlock(&ctx->state_lock);
	if (resume)
		v4l2_m2m_try_schedule(ctx->fh.m2m_ctx);
}

static int ddv_dqbuf(struct file *file, void *priv, struct v4l2_buffer *buf)
{
	if (V4L2_TYPE_IS_CAPTURE(buf->type))
		ddv_resume_if_kept(ddv_ctx_of(file));
	return v4l2_m2m_ioctl_dqbuf(file, priv, buf);
}

static __poll_t ddv_poll(struct file *file, poll_table *wait)
{
	if (poll_requested_events(wait) & (EPOLLIN | EPOLLRDNORM))
		ddv_resume_if_kept(ddv_ctx_of(file));
	return v4l2_m2m_fop_poll(file, wait);
}

static int ddv_subscribe_event(struct v4l2_fh *fh, const struct v4l2_event_subscription *sub)
{
	switch (sub->type) {
	case V4L2_EVENT_EOS:
		return v4l2_event_subscribe(fh, sub, 2, NULL);
	case V4L2_EVENT_SOURCE_CHANGE:
		return v4l2_src_change_event_subscribe(fh, sub);
	default:
		return v4l2_ctrl_subscribe_event(fh, sub);
	}
}

static const struct v4l2_ioctl_ops ddv_ioctl_ops = {
	.vidioc_querycap = ddv_querycap,
	.vidioc_enum_fmt_vid_cap = ddv_enum_fmt_cap,
	.vidioc_enum_fmt_vid_out = ddv_enum_fmt_out,
	.vidioc_enum_framesizes = ddv_enum_framesizes,
	.vidioc_g_fmt_vid_cap_mplane = ddv_g_fmt,
	.vidioc_try_fmt_vid_cap_mplane = ddv_try_fmt_cap,
	.vidioc_s_fmt_vid_cap_mplane = ddv_s_fmt_cap,
	.vidioc_g_fmt_vid_out_mplane = ddv_g_fmt,
	.vidioc_try_fmt_vid_out_mplane = ddv_try_fmt_out,
	.vidioc_s_fmt_vid_out_mplane = ddv_s_fmt_out,
	.vidioc_g_selection = ddv_g_selection,
	.vidioc_reqbufs = v4l2_m2m_ioctl_reqbufs,
	.vidioc_querybuf = v4l2_m2m_ioctl_querybuf,
	.vidioc_qbuf = v4l2_m2m_ioctl_qbuf,
	.vidioc_dqbuf = ddv_dqbuf,
	.vidioc_prepare_buf = v4l2_m2m_ioctl_prepare_buf,
	.vidioc_create_bufs = v4l2_m2m_ioctl_create_bufs,
	.vidioc_expbuf = v4l2_m2m_ioctl_expbuf,
	.vidioc_streamon = v4l2_m2m_ioctl_streamon,
	.vidioc_streamoff = v4l2_m2m_ioctl_streamoff,
	.vidioc_try_decoder_cmd = v4l2_m2m_ioctl_try_decoder_cmd,
	.vidioc_decoder_cmd = ddv_decoder_cmd,
	.vidioc_subscribe_event = ddv_subscribe_event,
	.vidioc_unsubscribe_event = v4l2_event_unsubscribe,
};

static int ddv_ctrls_init(struct ddv_ctx *ctx)
{
	struct v4l2_ctrl_handler *hdl = &ctx->hdl;

	v4l2_ctrl_handler_init(hdl, 2);
	ctx->min_bufs_ctrl = v4l2_ctrl_new_std(hdl, NULL, V4L2_CID_MIN_BUFFERS_FOR_CAPTURE,
					       1, 32, 1, DDV_MIN_CAPTURE_BUFS);
	/* Only profile 0 (8-bit 4:2:0) has a CAPTURE format here. */
	v4l2_ctrl_new_std_menu(hdl, NULL, V4L2_CID_MPEG_VIDEO_VP9_PROFILE,
			       V4L2_MPEG_VIDEO_VP9_PROFILE_0, ~BIT(V4L2_MPEG_VIDEO_VP9_PROFILE_0),
			       V4L2_MPEG_VIDEO_VP9_PROFILE_0);
	if (hdl->error)
		return hdl->error;
	ctx->fh.ctrl_handler = hdl;
	return 0;
}

static int ddv_open(struct file *file)
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
	ddv_try_src(&ctx->src_fmt);
	ddv_fill_dst_fmt(&ctx->dst_fmt, ddv_dst_formats[0], DDV_DEFAULT_WIDTH,
			 DDV_DEFAULT_HEIGHT);
	ctx->dst_fmt.colorspace = ctx->src_fmt.colorspace;
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
	kfree(ctx);
	return ret;
}

static int ddv_release(struct file *file)
{
	struct ddv_ctx *ctx = ddv_ctx_of(file);
	struct ddv_dev *dev = ctx->dev;

	v4l2_fh_del(&ctx->fh);
	/* Waits for a running job: its answer or the watchdog ends it. */
	mutex_lock(&ctx->lock);
	v4l2_m2m_ctx_release(ctx->fh.m2m_ctx);
	mutex_unlock(&ctx->lock);
	mutex_lock(&ctx->state_lock);
	ctx->released = true;
	mutex_unlock(&ctx->state_lock);
	cancel_delayed_work_sync(&ctx->watchdog);

	mutex_lock(&dev->lock);
	idr_remove(&dev->ctxs, ctx->id);
	mutex_unlock(&dev->lock);
	ddv_ctx_send(ctx, DDV_MSG_CTX_CLOSE);

	v4l2_ctrl_handler_free(&ctx->hdl);
	v4l2_fh_exit(&ctx->fh);
	kref_put(&ctx->ref, ddv_ctx_release_ref);
	return 0;
}

static const struct v4l2_file_operations ddv_fops = {
	.owner = THIS_MODULE,
	.open = ddv_open,
	.release = ddv_release,
	.poll = ddv_poll,
	.unlocked_ioctl = video_ioctl2,
	.mmap = v4l2_m2m_fop_mmap,
};

static const struct video_device ddv_videodev = {
	.name = "daedalus-vp9-dec",
	.vfl_dir = VFL_DIR_M2M,
	.fops = &ddv_fops,
	.ioctl_ops = &ddv_ioctl_ops,
	.minor = -1,
	.release = video_device_release_empty,
	.device_caps = V4L2_CAP_VIDEO_M2M_MPLANE | V4L2_CAP_STREAMING,
};

static void ddv_v4l2_dev_release(struct v4l2_device *v4l2_dev)
{
	struct ddv_dev *dev = container_of(v4l2_dev, struct ddv_dev, v4l2_dev);

	v4l2_m2m_release(dev->m2m_dev);
	platform_device_unregister(dev->pdev);
	idr_destroy(&dev->ctxs);
	mutex_destroy(&dev->lock);
	kfree(dev);
}

/**
 * ddv_v4l2_init() - register the decoder node
 * @br: the bridge that carries its jobs
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno; on error nothing is left registered.
 */
int ddv_v4l2_init(struct ddv_bridge *br)
{
	struct ddv_dev *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	mutex_init(&dev->lock);
	idr_init(&dev->ctxs);
	dev->br = br;
	/* Named here: the parent has no driver to take a name from. */
	strscpy(dev->v4l2_dev.name, "daedalus-v4l2", sizeof(dev->v4l2_dev.name));
	dev->pdev = platform_device_register_simple("daedalus-v4l2", PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(dev->pdev)) {
		ret = PTR_ERR(dev->pdev);
		goto err_free_dev;
	}
	ret = v4l2_device_register(&dev->pdev->dev, &dev->v4l2_dev);
	if (ret)
		goto err_unregister_pdev;

	dev->m2m_dev = v4l2_m2m_init(&ddv_m2m_ops);
	if (IS_ERR(dev->m2m_dev)) {
		ret = PTR_ERR(dev->m2m_dev);
		goto err_unregister_v4l2;
	}

	dev->vfd = ddv_videodev;
	dev->vfd.lock = NULL;	/* queue ioctls take the context's lock */
	dev->vfd.v4l2_dev = &dev->v4l2_dev;
	video_set_drvdata(&dev->vfd, dev);
	ret = video_register_device(&dev->vfd, VFL_TYPE_VIDEO, -1);
	if (ret)
		goto err_release_m2m;
	ret = ddv_media_init(dev);
	if (ret)
		goto err_unregister_video;

	dev->v4l2_dev.release = ddv_v4l2_dev_release;
	br->v4l2 = dev;
	pr_info("VP9 decoder at /dev/video%d\n", dev->vfd.num);
	return 0;

err_unregister_video:
	video_unregister_device(&dev->vfd);
err_release_m2m:
	v4l2_m2m_release(dev->m2m_dev);
err_unregister_v4l2:
	v4l2_device_unregister(&dev->v4l2_dev);
err_unregister_pdev:
	platform_device_unregister(dev->pdev);
err_free_dev:
	mutex_destroy(&dev->lock);
	kfree(dev);
	return ret;
}

/**
 * ddv_v4l2_exit() - unregister the decoder node
 * @br: the bridge
 *
 * The device is freed when its last file handle is closed.
 *
 * Context: process context, may sleep.
 */
void ddv_v4l2_exit(struct ddv_bridge *br)
{
	struct ddv_dev *dev = br->v4l2;

	if (!dev)
		return;
	br->v4l2 = NULL;
	ddv_media_exit(dev);
	video_unregister_device(&dev->vfd);
	v4l2_device_unregister(&dev->v4l2_dev);
	v4l2_device_put(&dev->v4l2_dev);
}
