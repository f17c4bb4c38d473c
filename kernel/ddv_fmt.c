// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the formats of the decoder node's two queues: the codecs
 * on OUTPUT (what the daemon announced at HELLO), the CAPTURE pixel
 * formats for each bit depth and chroma layout, and the layout of a
 * CAPTURE buffer (the one place that rule is written: the daemon only
 * fills rows the kernel lays out).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sizes.h>

#include "ddv_v4l2.h"

/*
 * The entry for @fourcc of a table of @n entries of @size bytes, each
 * starting with its fourcc (both tables below), or NULL.
 */
static const void *ddv_table_find(const void *table, size_t n, size_t size, u32 fourcc)
{
	const u8 *e = table;
	size_t i;

	for (i = 0; i < n; i++, e += size)
		if (*(const u32 *)e == fourcc)
			return e;
	return NULL;
}

/*
 * CAPTURE formats, one plane each. For each kind of stream the first that
 * fits is the default: YUV420 and NV12 for 8-bit 4:2:0 as before, then
 * the layouts V4L2 has for 4:2:2, 4:4:4, and 10- and 12-bit 4:2:0 and
 * 4:2:2 (samples in the high bits of 16). V4L2 has none for 4:4:0 nor for
 * 10/12-bit 4:4:4: those streams fail with a log line naming what they are.
 * Last, 8-bit streams as RGB, which the daemon converts to: what a
 * renderer without a YUV import takes as it is (Chromium's GL path).
 */
static const struct ddv_dst_desc ddv_dst_descs[] = {
	{ V4L2_PIX_FMT_YUV420, 8, 1, 2, 2, DDV_PLANAR },
	{ V4L2_PIX_FMT_NV12, 8, 1, 2, 2, DDV_SEMI_PLANAR },
	{ V4L2_PIX_FMT_YUV422P, 8, 1, 2, 1, DDV_PLANAR },
	{ V4L2_PIX_FMT_NV16, 8, 1, 2, 1, DDV_SEMI_PLANAR },
	{ V4L2_PIX_FMT_NV24, 8, 1, 1, 1, DDV_SEMI_PLANAR },
	{ V4L2_PIX_FMT_P010, 10, 2, 2, 2, DDV_SEMI_PLANAR },
	/* Linux 6.3+: the V4L2 core of older kernels cannot describe these. */
#ifdef V4L2_PIX_FMT_P012
	{ V4L2_PIX_FMT_P012, 12, 2, 2, 2, DDV_SEMI_PLANAR },
#endif
#ifdef V4L2_PIX_FMT_Y210
	{ V4L2_PIX_FMT_Y210, 10, 2, 2, 1, DDV_PACKED },
#endif
#ifdef V4L2_PIX_FMT_Y212
	{ V4L2_PIX_FMT_Y212, 12, 2, 2, 1, DDV_PACKED },
#endif
	{ V4L2_PIX_FMT_ABGR32, 8, 4, 1, 1, DDV_RGB },
	{ V4L2_PIX_FMT_XBGR32, 8, 4, 1, 1, DDV_RGB },
};

/**
 * ddv_dst_desc() - what a CAPTURE format holds and how it is laid out
 * @fourcc: the pixel format
 *
 * Return: its description, or NULL if the node has no such format.
 */
const struct ddv_dst_desc *ddv_dst_desc(u32 fourcc)
{
	static_assert(offsetof(struct ddv_dst_desc, fourcc) == 0);
	return ddv_table_find(ddv_dst_descs, ARRAY_SIZE(ddv_dst_descs), sizeof(ddv_dst_descs[0]),
			      fourcc);
}

/*
 * Before a stream's first format every CAPTURE format may come (the spec's
 * "formats supported for the OUTPUT format"): clients that take their list
 * of formats then, as GStreamer's element registry does, can ask for any.
 */
static bool ddv_dst_carries(const struct ddv_dst_desc *d, const struct ddv_stream_kind *k)
{
	if (!k->depth)
		return true;
	/* RGB for every 8-bit stream that has a YUV format too (not 4:4:0). */
	if (d->layout == DDV_RGB)
		return k->depth == 8 && k->hsub >= k->vsub;
	return d->depth == k->depth && d->hsub == k->hsub && d->vsub == k->vsub;
}

/**
 * ddv_stream_kind_of() - the subsampling of a stream format from the daemon
 * @f: the format
 * @k: filled in
 *
 * Return: false for a bit depth or chroma code the protocol does not define.
 */
bool ddv_stream_kind_of(const struct ddv_stream_format *f, struct ddv_stream_kind *k)
{
	if (f->bit_depth != 8 && f->bit_depth != 10 && f->bit_depth != 12)
		return false;
	k->depth = f->bit_depth;
	switch (f->chroma) {
	case 420:
		k->hsub = 2;
		k->vsub = 2;
		return true;
	case 422:
		k->hsub = 2;
		k->vsub = 1;
		return true;
	case 440:
		k->hsub = 1;
		k->vsub = 2;
		return true;
	case 444:
		k->hsub = 1;
		k->vsub = 1;
		return true;
	}
	return false;
}

/**
 * ddv_dst_format() - the CAPTURE formats for a kind of stream, in ENUM_FMT order
 * @k: the stream's bit depth and subsampling
 * @index: 0 for the default
 *
 * Return: the fourcc, or 0 past the last.
 */
u32 ddv_dst_format(const struct ddv_stream_kind *k, unsigned int index)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ddv_dst_descs); i++)
		if (ddv_dst_carries(&ddv_dst_descs[i], k) && !index--)
			return ddv_dst_descs[i].fourcc;
	return 0;
}

/**
 * ddv_dst_format_ok() - whether a CAPTURE format carries a kind of stream
 * @k: the stream's bit depth and subsampling
 * @fourcc: the pixel format
 *
 * Return: true if ENUM_FMT lists it for that stream.
 */
bool ddv_dst_format_ok(const struct ddv_stream_kind *k, u32 fourcc)
{
	const struct ddv_dst_desc *d = ddv_dst_desc(fourcc);

	return d && ddv_dst_carries(d, k);
}

/**
 * ddv_dst_chroma_stride() - bytes between chroma rows of a layout
 * @d: the format
 * @bytesperline: its luma stride
 *
 * Return: the stride of each chroma plane (planar) or of the CbCr plane;
 * 0 for a packed format.
 */
u32 ddv_dst_chroma_stride(const struct ddv_dst_desc *d, u32 bytesperline)
{
	switch (d->layout) {
	case DDV_SEMI_PLANAR:
		return bytesperline * 2 / d->hsub;
	case DDV_PLANAR:
		return bytesperline / d->hsub;
	}
	return 0;	/* packed or RGB: no chroma plane */
}

/*
 * A CAPTURE format's colorimetry is the OUTPUT format's, except that RGB
 * is always full range: the daemon expands limited-range YUV as it
 * converts.
 */
static void ddv_dst_colorimetry(struct v4l2_pix_format_mplane *dst,
				const struct v4l2_pix_format_mplane *src)
{
	const struct ddv_dst_desc *d = ddv_dst_desc(dst->pixelformat);

	dst->colorspace = src->colorspace;
	dst->xfer_func = src->xfer_func;
	dst->ycbcr_enc = src->ycbcr_enc;
	dst->quantization = d && d->layout == DDV_RGB ? V4L2_QUANTIZATION_FULL_RANGE :
			    src->quantization;
}

/**
 * ddv_fill_dst_fmt() - a CAPTURE format for a picture size
 * @f: filled in, colorimetry included
 * @fourcc: a format ddv_dst_desc() knows
 * @width: picture width
 * @height: picture height
 * @src: the OUTPUT format, whose colorimetry @f follows
 *
 * Luma rows are padded to 64 bytes, chroma rows in proportion; the
 * visible size is the picture size. Every CAPTURE format is filled here,
 * so none keeps the colorimetry of a pixel format it no longer has.
 */
void ddv_fill_dst_fmt(struct v4l2_pix_format_mplane *f, u32 fourcc, u32 width, u32 height,
		      const struct v4l2_pix_format_mplane *src)
{
	const struct ddv_dst_desc *d = ddv_dst_desc(fourcc);
	u32 bpl, cs, chroma_rows;

	if (WARN_ON(!d))
		d = &ddv_dst_descs[0];
	/* Packed 4:2:2: two samples a pixel, pixels in pairs. */
	if (d->layout == DDV_PACKED)
		bpl = ALIGN(ALIGN(width, 2) * 2 * d->bytes, 64);
	else
		bpl = ALIGN(width * d->bytes, 64);
	cs = ddv_dst_chroma_stride(d, bpl);
	chroma_rows = DIV_ROUND_UP(height, d->vsub);
	f->pixelformat = d->fourcc;
	f->width = width;
	f->height = height;
	f->field = V4L2_FIELD_NONE;
	f->num_planes = 1;
	f->plane_fmt[0].bytesperline = bpl;
	f->plane_fmt[0].sizeimage = bpl * height +
				    cs * chroma_rows * (d->layout == DDV_PLANAR ? 2 : 1);
	memset(f->plane_fmt[0].reserved, 0, sizeof(f->plane_fmt[0].reserved));
	memset(f->reserved, 0, sizeof(f->reserved));
	f->flags = 0;
	ddv_dst_colorimetry(f, src);
}

/*
 * The codecs the module knows, with their V4L2 menu controls. @all is
 * every profile the menu may list; @usual is what the node offers for
 * the codec before any daemon has attached (see ddv_codecs_default()):
 * what daedalusd announces with Debian 12's libavcodec.
 */
static const struct ddv_codec_desc ddv_codec_descs[] = {
	{ V4L2_PIX_FMT_H264, true,
	  V4L2_CID_MPEG_VIDEO_H264_PROFILE, V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_HIGH,
	  BIT(V4L2_MPEG_VIDEO_H264_PROFILE_BASELINE) |
	  BIT(V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE) |
	  BIT(V4L2_MPEG_VIDEO_H264_PROFILE_MAIN) | BIT(V4L2_MPEG_VIDEO_H264_PROFILE_HIGH) |
	  BIT(V4L2_MPEG_VIDEO_H264_PROFILE_HIGH_10) |
	  BIT(V4L2_MPEG_VIDEO_H264_PROFILE_HIGH_422) |
	  BIT(V4L2_MPEG_VIDEO_H264_PROFILE_HIGH_444_PREDICTIVE) |
	  BIT(V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_HIGH),
	  V4L2_CID_MPEG_VIDEO_H264_LEVEL, V4L2_MPEG_VIDEO_H264_LEVEL_6_2 },
	{ V4L2_PIX_FMT_HEVC, true,
	  V4L2_CID_MPEG_VIDEO_HEVC_PROFILE, V4L2_MPEG_VIDEO_HEVC_PROFILE_MAIN_10,
	  BIT(V4L2_MPEG_VIDEO_HEVC_PROFILE_MAIN) |
	  BIT(V4L2_MPEG_VIDEO_HEVC_PROFILE_MAIN_STILL_PICTURE) |
	  BIT(V4L2_MPEG_VIDEO_HEVC_PROFILE_MAIN_10),
	  V4L2_CID_MPEG_VIDEO_HEVC_LEVEL, V4L2_MPEG_VIDEO_HEVC_LEVEL_6_2 },
	{ V4L2_PIX_FMT_VP8, false,
	  V4L2_CID_MPEG_VIDEO_VP8_PROFILE, V4L2_MPEG_VIDEO_VP8_PROFILE_3,
	  GENMASK(V4L2_MPEG_VIDEO_VP8_PROFILE_3, 0), 0, 0 },
	{ V4L2_PIX_FMT_VP9, false,
	  V4L2_CID_MPEG_VIDEO_VP9_PROFILE, V4L2_MPEG_VIDEO_VP9_PROFILE_3,
	  BIT(V4L2_MPEG_VIDEO_VP9_PROFILE_0) | BIT(V4L2_MPEG_VIDEO_VP9_PROFILE_1) |
	  BIT(V4L2_MPEG_VIDEO_VP9_PROFILE_2),
	  V4L2_CID_MPEG_VIDEO_VP9_LEVEL, V4L2_MPEG_VIDEO_VP9_LEVEL_6_2 },
#ifdef V4L2_CID_MPEG_VIDEO_AV1_PROFILE
	{ V4L2_PIX_FMT_AV1, false,
	  V4L2_CID_MPEG_VIDEO_AV1_PROFILE, V4L2_MPEG_VIDEO_AV1_PROFILE_PROFESSIONAL,
	  BIT(V4L2_MPEG_VIDEO_AV1_PROFILE_MAIN) | BIT(V4L2_MPEG_VIDEO_AV1_PROFILE_HIGH),
	  V4L2_CID_MPEG_VIDEO_AV1_LEVEL, V4L2_MPEG_VIDEO_AV1_LEVEL_7_3 },
#else
	/* Kernels before 6.5 have no AV1 controls: seq_profile and level idx. */
	{ V4L2_PIX_FMT_AV1, false, 0, 2, BIT(0) | BIT(1), 0, 23 },
#endif
};

/**
 * ddv_codec_desc() - what the module knows of an OUTPUT format
 * @fourcc: the pixel format
 *
 * Return: its description, or NULL.
 */
const struct ddv_codec_desc *ddv_codec_desc(u32 fourcc)
{
	static_assert(offsetof(struct ddv_codec_desc, fourcc) == 0);
	return ddv_table_find(ddv_codec_descs, ARRAY_SIZE(ddv_codec_descs),
			      sizeof(ddv_codec_descs[0]), fourcc);
}

/**
 * ddv_codecs_default() - what the node offers before a daemon attached
 * @caps: filled in, DDV_MAX_CODECS entries
 *
 * Every codec the module knows, with the profiles daedalusd announces
 * with Debian 12's libavcodec: clients that probe the node at start-up
 * (a browser, GStreamer's registry) see a decoder even if they run before
 * the daemon, and a job without a daemon fails with a log line saying so.
 *
 * Return: the number of entries.
 */
u32 ddv_codecs_default(struct ddv_codec_caps *caps)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ddv_codec_descs); i++) {
		const struct ddv_codec_desc *d = &ddv_codec_descs[i];

		caps[i] = (struct ddv_codec_caps) {
			.fourcc = d->fourcc,
			.profiles = d->usual,
			.max_level = d->level_max,
			.max_width = DDV_MAX_WIDTH,
			.max_height = DDV_MAX_HEIGHT,
		};
	}
	return i;
}

/**
 * ddv_codec_caps_check() - whether a daemon's codec entry is one to offer
 * @c: from the daemon's HELLO: trusted for nothing
 *
 * Return: 0, or -EINVAL naming the problem in the log.
 */
int ddv_codec_caps_check(const struct ddv_codec_caps *c)
{
	const struct ddv_codec_desc *d = ddv_codec_desc(c->fourcc);

	if (!d) {
		pr_warn("HELLO: unknown codec %p4cc\n", &c->fourcc);
		return -EINVAL;
	}
	if (!c->profiles || (c->profiles & ~GENMASK(d->profile_max, 0)) ||
	    c->max_level > d->level_max || !c->max_width || !c->max_height || c->reserved) {
		pr_warn("HELLO: malformed entry for %p4cc\n", &c->fourcc);
		return -EINVAL;
	}
	return 0;
}

/* Keyframes of a large picture can be big; never less than 512 KiB. */
static u32 ddv_src_size(u32 width, u32 height)
{
	return max_t(u32, SZ_512K, width * height * 3 / 4);
}

/**
 * ddv_try_src() - the OUTPUT format the node accepts closest to @f
 * @dev: the device, for the codecs it offers
 * @f: adjusted in place: an offered codec (the first if @f's is not),
 *	size clamped to the codec's, one plane big enough for a keyframe
 */
void ddv_try_src(struct ddv_dev *dev, struct v4l2_pix_format_mplane *f)
{
	struct ddv_codec_caps c;

	if (!ddv_codec_offered(dev, f->pixelformat, &c))
		ddv_codec_offered_at(dev, 0, &c);
	f->pixelformat = c.fourcc;
	f->width = clamp_t(u32, f->width, DDV_MIN_DIM, c.max_width);
	f->height = clamp_t(u32, f->height, DDV_MIN_DIM, c.max_height);
	f->field = V4L2_FIELD_NONE;
	f->num_planes = 1;
	f->plane_fmt[0].bytesperline = 0;
	f->plane_fmt[0].sizeimage = clamp_t(u32, f->plane_fmt[0].sizeimage,
					    ddv_src_size(f->width, f->height),
					    DDV_MAX_SRC_BYTES);
	memset(f->plane_fmt[0].reserved, 0, sizeof(f->plane_fmt[0].reserved));
	memset(f->reserved, 0, sizeof(f->reserved));
	f->flags = 0;
	if (f->colorspace == V4L2_COLORSPACE_DEFAULT)
		f->colorspace = V4L2_COLORSPACE_REC709;
}

/**
 * ddv_codec_offered_at() - the codecs the node offers, in ENUM_FMT order
 * @dev: the device
 * @index: 0 for the first
 * @c: filled in if there is one
 *
 * Return: false past the last.
 */
bool ddv_codec_offered_at(struct ddv_dev *dev, unsigned int index, struct ddv_codec_caps *c)
{
	bool ok;

	mutex_lock(&dev->codecs_lock);
	ok = index < dev->num_codecs;
	if (ok)
		*c = dev->codecs[index];
	mutex_unlock(&dev->codecs_lock);
	return ok;
}

/**
 * ddv_codec_offered() - whether the node offers an OUTPUT format
 * @dev: the device
 * @fourcc: the pixel format
 * @c: filled in if it does
 *
 * Return: true if ENUM_FMT lists it.
 */
bool ddv_codec_offered(struct ddv_dev *dev, u32 fourcc, struct ddv_codec_caps *c)
{
	struct ddv_codec_caps e;
	unsigned int i;

	for (i = 0; ddv_codec_offered_at(dev, i, &e); i++) {
		if (e.fourcc == fourcc) {
			*c = e;
			return true;
		}
	}
	return false;
}

/**
 * ddv_v4l2_set_codecs() - the codecs an attaching daemon announced
 * @br: the bridge
 * @caps: entries that passed ddv_codec_caps_check()
 * @n: how many, 1..DDV_MAX_CODECS
 *
 * Contexts opened from now on offer these; the node keeps offering them
 * after the daemon detaches, until the next one attaches.
 */
void ddv_v4l2_set_codecs(struct ddv_bridge *br, const struct ddv_codec_caps *caps, u32 n)
{
	struct ddv_dev *dev = br->v4l2;
	unsigned int i;

	if (!dev || WARN_ON(!n || n > DDV_MAX_CODECS))
		return;
	mutex_lock(&dev->codecs_lock);
	for (i = 0; i < n; i++) {
		dev->codecs[i] = caps[i];
		dev->codecs[i].max_width = min_t(u32, caps[i].max_width, DDV_MAX_WIDTH);
		dev->codecs[i].max_height = min_t(u32, caps[i].max_height, DDV_MAX_HEIGHT);
	}
	dev->num_codecs = n;
	mutex_unlock(&dev->codecs_lock);
}
