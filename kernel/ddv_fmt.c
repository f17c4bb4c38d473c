// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the formats of the decoder node's two queues: VP9 on
 * OUTPUT, the CAPTURE pixel formats and the layout of a CAPTURE buffer
 * (the one place that rule is written: the daemon only fills rows the
 * kernel lays out).
 */
#include <linux/sizes.h>

#include "ddv_v4l2.h"

/* The two formats every client knows, first; YUV420 is the default. */
static const u32 ddv_dst_formats[] = { V4L2_PIX_FMT_YUV420, V4L2_PIX_FMT_NV12 };

/**
 * ddv_dst_format() - the CAPTURE formats, in the order ENUM_FMT lists them
 * @index: 0 for the default
 *
 * Return: the fourcc, or 0 past the last.
 */
u32 ddv_dst_format(unsigned int index)
{
	return index < ARRAY_SIZE(ddv_dst_formats) ? ddv_dst_formats[index] : 0;
}

/**
 * ddv_dst_format_ok() - whether the node offers a CAPTURE format
 * @fourcc: the pixel format
 *
 * Return: true if ENUM_FMT lists it.
 */
bool ddv_dst_format_ok(u32 fourcc)
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

/**
 * ddv_try_src() - the OUTPUT format the node accepts closest to @f
 * @f: adjusted in place: size clamped, VP9, one plane big enough for a
 *	keyframe of that size
 */
void ddv_try_src(struct v4l2_pix_format_mplane *f)
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
