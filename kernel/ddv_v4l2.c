// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the stateful decoder node (/dev/videoN).
 *
 * Follows Documentation/userspace-api/media/v4l/dev-decoder.rst: H.264,
 * HEVC, VP8, VP9 or AV1 (what the daemon decodes) on the OUTPUT queue, a
 * YUV format fitting the stream on the CAPTURE queue (multi-planar API,
 * one plane; ddv_fmt.c), the format learnt from the stream and announced with
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

static int ddv_querycap(struct file *file, void *priv, struct v4l2_capability *cap)
{
	strscpy(cap->driver, "daedalus-v4l2", sizeof(cap->driver));
	strscpy(cap->card, "daedalus decoder", sizeof(cap->card));
	strscpy(cap->bus_info, "platform:daedalus-v4l2", sizeof(cap->bus_info));
	return 0;
}

static int ddv_enum_fmt_cap(struct file *file, void *priv, struct v4l2_fmtdesc *f)
{
	struct ddv_ctx *ctx = ddv_ctx_of(file);
	u32 fourcc;

	mutex_lock(&ctx->state_lock);
	fourcc = ddv_dst_format(&ctx->kind, f->index);
	mutex_unlock(&ctx->state_lock);
	if (!fourcc)
		return -EINVAL;
	f->pixelformat = fourcc;
	return 0;
}

static int ddv_enum_fmt_out(struct file *file, void *priv, struct v4l2_fmtdesc *f)
{
	struct ddv_ctx *ctx = ddv_ctx_of(file);
	const struct ddv_codec_desc *d;
	struct ddv_codec_caps c;

	if (!ddv_codec_offered_at(ctx->dev, f->index, &c))
		return -EINVAL;
	d = ddv_codec_desc(c.fourcc);
	f->pixelformat = c.fourcc;
	f->flags = V4L2_FMT_FLAG_COMPRESSED | V4L2_FMT_FLAG_DYN_RESOLUTION;
	if (d && d->byte_stream)
		f->flags |= V4L2_FMT_FLAG_CONTINUOUS_BYTESTREAM;
	/* The V4L2 core has no description for this fourcc, and warns without one. */
	if (c.fourcc == V4L2_PIX_FMT_AV1)
		strscpy(f->description, "AV1", sizeof(f->description));
	return 0;
}

static int ddv_enum_framesizes(struct file *file, void *priv, struct v4l2_frmsizeenum *fs)
{
	struct ddv_ctx *ctx = ddv_ctx_of(file);
	struct ddv_codec_caps c;

	if (fs->index || !ddv_codec_offered(ctx->dev, fs->pixel_format, &c))
		return -EINVAL;
	fs->type = V4L2_FRMSIZE_TYPE_STEPWISE;
	fs->stepwise.min_width = DDV_MIN_DIM;
	fs->stepwise.max_width = c.max_width;
	fs->stepwise.step_width = 1;
	fs->stepwise.min_height = DDV_MIN_DIM;
	fs->stepwise.max_height = c.max_height;
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

static int ddv_try_fmt_out(struct file *file, void *priv, struct v4l2_format *f)
{
	ddv_try_src(ddv_ctx_of(file)->dev, &f->fmt.pix_mp);
	return 0;
}

/*
 * The size of the CAPTURE format is the stream's: the client may only
 * choose the pixel format. Colorimetry follows the OUTPUT format.
 */
static void ddv_try_dst(struct ddv_ctx *ctx, struct v4l2_pix_format_mplane *f)
{
	u32 fourcc = ddv_dst_format_ok(&ctx->kind, f->pixelformat) ? f->pixelformat :
		     ddv_dst_format(&ctx->kind, 0);

	lockdep_assert_held(&ctx->state_lock);
	ddv_fill_dst_fmt(f, fourcc, ctx->dst_fmt.width, ctx->dst_fmt.height, &ctx->src_fmt);
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
	ddv_try_src(ctx->dev, &f->fmt.pix_mp);
	mutex_lock(&ctx->state_lock);
	ctx->src_fmt = f->fmt.pix_mp;
	/* Until the stream says otherwise, CAPTURE follows the coded size. */
	if (ctx->state == DDV_STATE_HEADER && !vb2_is_busy(v4l2_m2m_get_dst_vq(ctx->fh.m2m_ctx))) {
		ddv_fill_dst_fmt(&ctx->dst_fmt, ctx->dst_fmt.pixelformat, f->fmt.pix_mp.width,
				 f->fmt.pix_mp.height, &ctx->src_fmt);
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
	/*
	 * Looked at again under state_lock: ddv_new_format() sets
	 * resume_on_poll and then queues the event in one section, and a poll
	 * that read between the two must not resume for a client that has not
	 * taken the event (GStreamer 1.22 then restarts CAPTURE and loses the
	 * first picture with the old buffers).
	 */
	mutex_lock(&ctx->state_lock);
	if (ctx->state != DDV_STATE_CAPTURE_SETUP) {
		ctx->resume_on_poll = false;
	} else if (ctx->resume_on_poll && !v4l2_event_pending(&ctx->fh)) {
		ctx->state = DDV_STATE_DECODING;
		ctx->resume_on_poll = false;
		resume = true;
	}
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

static const struct v4l2_file_operations ddv_fops = {
	.owner = THIS_MODULE,
	.open = ddv_ctx_open,
	.release = ddv_ctx_release,
	.poll = ddv_poll,
	.unlocked_ioctl = video_ioctl2,
	.mmap = v4l2_m2m_fop_mmap,
};

static int video_nr = -1;
module_param(video_nr, int, 0444);
MODULE_PARM_DESC(video_nr,
		 "number of the decoder node: 10 makes it /dev/video10, which Raspberry Pi OS's Chromium opens (default -1: the first free)");

static const struct video_device ddv_videodev = {
	.name = "daedalus-dec",
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
	mutex_destroy(&dev->codecs_lock);
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
	mutex_init(&dev->codecs_lock);
	idr_init(&dev->ctxs);
	ddv_recovery_init(dev);
	dev->num_codecs = ddv_codecs_default(dev->codecs);
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
	ret = video_register_device(&dev->vfd, VFL_TYPE_VIDEO, video_nr);
	if (ret)
		goto err_release_m2m;
	if (video_nr >= 0 && dev->vfd.num != video_nr)
		pr_warn("/dev/video%d is taken: video_nr=%d not honoured, the decoder is /dev/video%d\n",
			video_nr, video_nr, dev->vfd.num);
	ret = ddv_media_init(dev);
	if (ret)
		goto err_unregister_video;

	dev->v4l2_dev.release = ddv_v4l2_dev_release;
	br->v4l2 = dev;
	pr_info("decoder at /dev/video%d\n", dev->vfd.num);
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
	mutex_destroy(&dev->codecs_lock);
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
	ddv_recovery_exit(dev);
	ddv_media_exit(dev);
	video_unregister_device(&dev->vfd);
	v4l2_device_unregister(&dev->v4l2_dev);
	v4l2_device_put(&dev->v4l2_dev);
}
