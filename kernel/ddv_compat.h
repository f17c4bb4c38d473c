/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daedalus-v4l2: differences between the kernels we build for (6.1, 6.12),
 * kept here so the driver itself has no feature checks.
 */
#ifndef _DDV_COMPAT_H
#define _DDV_COMPAT_H

#include <media/v4l2-mem2mem.h>

/*
 * Lets job_ready() run before CAPTURE streams, so the first picture (and
 * with it the stream's format) can be decoded before the client sets up
 * CAPTURE. Older kernels lack the flag: there, header parsing waits for
 * CAPTURE to stream. Kbuild probes for the flag.
 */
static inline void ddv_m2m_ignore_cap_streaming(struct v4l2_m2m_ctx *m2m_ctx)
{
#ifdef DDV_HAVE_IGNORE_CAP_STREAMING
	m2m_ctx->ignore_cap_streaming = true;
#endif
}

/*
 * VIDIOC_EXPBUF's core for one plane of @vb: Linux 6.8 names the buffer,
 * older kernels its index. Kbuild probes which.
 */
static inline int ddv_vb2_expbuf(struct vb2_queue *q, int *fd, struct vb2_buffer *vb,
				 unsigned int plane, unsigned int flags)
{
#ifdef DDV_HAVE_EXPBUF_BY_BUFFER
	return vb2_core_expbuf(q, fd, q->type, vb, plane, flags);
#else
	return vb2_core_expbuf(q, fd, q->type, vb->index, plane, flags);
#endif
}

#endif /* _DDV_COMPAT_H */
