/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daedalus-v4l2: the stateful decoder node and its decoding contexts.
 *
 * Built only when the kernel has V4L2 mem2mem (CONFIG_V4L2_MEM2MEM_DEV);
 * otherwise these are no-ops and the module offers the chardev alone.
 */
#ifndef _DDV_V4L2_H
#define _DDV_V4L2_H

#include "ddv.h"

#if IS_ENABLED(CONFIG_V4L2_MEM2MEM_DEV)

#include <linux/idr.h>
#include <linux/kref.h>
#include <media/media-device.h>
#include <media/v4l2-ctrls.h>
#include <media/v4l2-device.h>
#include <media/v4l2-fh.h>
#include <media/v4l2-mem2mem.h>

#define DDV_MIN_DIM		8
#define DDV_DEFAULT_WIDTH	1280
#define DDV_DEFAULT_HEIGHT	720
/* OUTPUT buffers whose metadata is kept until their picture comes out. */
#define DDV_SRC_META		32

/**
 * struct ddv_dst_desc - a CAPTURE pixel format (one plane)
 * @fourcc: V4L2_PIX_FMT_*
 * @depth: bits per sample
 * @bytes: bytes per sample (per pixel for RGB)
 * @hsub: horizontal chroma subsampling (2: half width)
 * @vsub: vertical chroma subsampling
 * @layout: how the samples lie in the buffer: an enum ddv_dst_layout
 */
struct ddv_dst_desc {
	u32 fourcc;
	u8 depth;
	u8 bytes;
	u8 hsub;
	u8 vsub;
	u8 layout;
};

/**
 * enum ddv_dst_layout - the sample order of a CAPTURE format
 * @DDV_PLANAR: a luma plane, then a Cb plane, then a Cr plane
 * @DDV_SEMI_PLANAR: a luma plane, then Cb and Cr interleaved (NV12, P010)
 * @DDV_PACKED: Y0 Cb Y1 Cr for each pair of pixels, one plane (Y210)
 * @DDV_RGB: B G R and A (or X) bytes for each pixel, one plane, converted
 *	from YUV by the daemon
 */
enum ddv_dst_layout {
	DDV_PLANAR,
	DDV_SEMI_PLANAR,
	DDV_PACKED,
	DDV_RGB,
};

/**
 * struct ddv_stream_kind - what a stream's pictures are, for CAPTURE
 * @depth: bits per sample; 0 while unknown (before the stream's first
 *	format): then every CAPTURE format fits
 * @hsub: horizontal chroma subsampling
 * @vsub: vertical chroma subsampling
 */
struct ddv_stream_kind {
	u32 depth;
	u32 hsub;
	u32 vsub;
};

/**
 * struct ddv_codec_desc - an OUTPUT format the module knows
 * @fourcc: V4L2_PIX_FMT_*
 * @byte_stream: buffers may hold any part of the byte stream
 *	(V4L2_FMT_FLAG_CONTINUOUS_BYTESTREAM)
 * @profile_cid: its profile menu control, or 0
 * @profile_max: highest value of that menu
 * @usual: profiles offered before a daemon attached
 * @level_cid: its level menu control, or 0
 * @level_max: highest value of that menu
 */
struct ddv_codec_desc {
	u32 fourcc;
	bool byte_stream;
	u32 profile_cid;
	u32 profile_max;
	u32 usual;
	u32 level_cid;
	u32 level_max;
};

/**
 * struct ddv_src_meta - what a picture inherits from its OUTPUT buffer
 * @timestamp: the OUTPUT buffer's timestamp, which the picture carries
 * @flags: its TIMECODE, TSTAMP_SRC and KEY/P/BFRAME flags
 * @timecode: its timecode
 */
struct ddv_src_meta {
	u64 timestamp;
	u32 flags;
	struct v4l2_timecode timecode;
};

/**
 * enum ddv_state - where a context is in the stateful decoder sequence
 * @DDV_STATE_HEADER: waiting for the first picture to learn the format
 * @DDV_STATE_CAPTURE_SETUP: SOURCE_CHANGE sent; waiting for CAPTURE to
 *	stream (first format of the stream)
 * @DDV_STATE_DECODING: decoding into CAPTURE buffers
 * @DDV_STATE_DRAINED: a drain finished (LAST sent); waiting for
 *	DEC_CMD_START or a CAPTURE restart
 * @DDV_STATE_RES_CHANGE: the format changed mid-stream (LAST sent); waiting
 *	for a CAPTURE restart or DEC_CMD_START
 */
enum ddv_state {
	DDV_STATE_HEADER,
	DDV_STATE_CAPTURE_SETUP,
	DDV_STATE_DECODING,
	DDV_STATE_DRAINED,
	DDV_STATE_RES_CHANGE,
};

/**
 * struct ddv_dev - the decoder device
 * @pdev: parent device of the V4L2 and media devices
 * @v4l2_dev: V4L2 device
 * @mdev: media controller device (with CONFIG_MEDIA_CONTROLLER)
 * @vfd: the /dev/videoN node
 * @m2m_dev: mem2mem job scheduler
 * @br: the chardev bridge that carries jobs to the daemon
 * @lock: protects @ctxs, @num_claimed, @claim_limit_logged and each
 *	context's &ddv_ctx.claimed
 * @codecs_lock: protects @codecs and @num_codecs; a leaf (taken under the
 *	bridge lock by HELLO, which contexts' locks nest outside of)
 * @ctxs: open contexts by id
 * @num_claimed: contexts decoding (ddv_ctx_claim()), at most max_contexts
 * @claim_limit_logged: the limit was reached and said so; reset by the
 *	next claim that fits
 * @codecs: the OUTPUT formats offered (ddv_v4l2_set_codecs())
 * @num_codecs: entries of @codecs
 * @recovering: a daemon died and its contexts wait for the next one
 *	(ddv_recovery.c); no job starts meanwhile. Written under @lock, read
 *	locklessly by the job scheduling
 * @recovery_timeout: ends the wait after recovery_ms
 */
struct ddv_dev {
	struct platform_device *pdev;
	struct v4l2_device v4l2_dev;
#ifdef CONFIG_MEDIA_CONTROLLER
	struct media_device mdev;
#endif
	struct video_device vfd;
	struct v4l2_m2m_dev *m2m_dev;
	struct ddv_bridge *br;
	struct mutex lock; /* see the kerneldoc above */
	struct mutex codecs_lock; /* see the kerneldoc above */
	struct idr ctxs;
	unsigned int num_claimed;
	bool claim_limit_logged;
	struct ddv_codec_caps codecs[DDV_MAX_CODECS];
	u32 num_codecs;
	bool recovering;
	struct delayed_work recovery_timeout;
};

/**
 * struct ddv_ctx - one open file handle of the decoder node
 * @fh: V4L2 file handle (its m2m_ctx holds the two queues)
 * @dev: the device
 * @ref: held by the file and by daemon answers in flight
 * @id: names the context on the chardev
 * @lock: serializes queue ioctls (vb2 and m2m lock)
 * @state_lock: protects everything below; never held while waiting for the
 *	daemon, so answers can always complete jobs
 * @hdl: controls
 * @min_bufs_ctrl: V4L2_CID_MIN_BUFFERS_FOR_CAPTURE
 * @src_fmt: OUTPUT format
 * @dst_fmt: CAPTURE format
 * @kind: what the stream's pictures are (unknown until the daemon
 *	says): the CAPTURE formats ENUM_FMT lists
 * @cap_sizeimage: the size CAPTURE buffers queued while CAPTURE streams
 *	must have: @dst_fmt's at STREAMON. A format change mid-stream updates
 *	@dst_fmt at once, but the client may still requeue old-size buffers
 *	until it has dequeued the LAST one and restarted CAPTURE
 * @state: an enum ddv_state
 * @drain: DEC_CMD_STOP received, drain not finished
 * @fatal: the context failed; queues are in error (EIO)
 * @resume_on_poll: the first SOURCE_CHANGE found CAPTURE streaming with
 *	buffers that fit: decoding resumes on the client's first CAPTURE poll
 *	or DQBUF after it dequeued the event, unless it restarts CAPTURE first
 * @claimed: counted against max_contexts (under &ddv_dev.lock)
 * @jobs_sent: the daemon has seen this context
 * @released: the file is closing: its queues are being freed or gone,
 *	nothing may touch them
 * @out_seq: sequence number of the next OUTPUT buffer done
 * @cap_seq: sequence number of the next CAPTURE buffer done
 * @cap_dequeued: CAPTURE buffers the client dequeued since STREAMON
 *	(done in sequence order, so sequences below it are gone)
 * @src_change_deferred: a mid-stream SOURCE_CHANGE waits until the client
 *	dequeued every picture of the old format (see ddv_new_format())
 * @src_change_seq: sequence of the LAST buffer that ends the old format
 * @next_job_id: id of the next job
 * @job_active: a job is with the daemon; mem2mem's part of it ends as it
 *	is sent, so that other contexts' jobs go to the daemon meanwhile,
 *	and job_ready() holds the context's next job back until this ends
 * @job_id: its id
 * @job_src: its OUTPUT buffer, or NULL
 * @job_dst: its CAPTURE buffer, or NULL
 * @job_layout: layout of @job_dst
 * @job_written: the daemon wrote the job's picture (DDV_IOC_WRITE_PICTURE)
 * @cap_generation: counts CAPTURE buffers set up (&ddv_buffer.generation)
 * @job_deadline: jiffies by which the daemon must answer the job
 * @src_meta: metadata of recent OUTPUT buffers, by job id
 * @job_wq: woken when the job ends (ddv_job_wait())
 * @watchdog: fails a job the daemon does not answer in time
 * @orphaned: the daemon that served this context died; it waits for the
 *	next one (ddv_recovery.c), its running job kept
 * @resume: the next DECODE sent is flagged DDV_DECODE_RESUME
 * @kick: lets mem2mem look at the context again once a recovery ends
 */
struct ddv_ctx {
	struct v4l2_fh fh;
	struct ddv_dev *dev;
	struct kref ref;
	u32 id;
	struct mutex lock; /* see the kerneldoc above */
	struct mutex state_lock; /* see the kerneldoc above */
	struct v4l2_ctrl_handler hdl;
	struct v4l2_ctrl *min_bufs_ctrl;
	struct v4l2_pix_format_mplane src_fmt;
	struct v4l2_pix_format_mplane dst_fmt;
	struct ddv_stream_kind kind;
	u32 cap_sizeimage;
	enum ddv_state state;
	bool drain;
	bool fatal;
	bool resume_on_poll;
	bool claimed;
	bool jobs_sent;
	bool released;
	u32 out_seq;
	u32 cap_seq;
	u32 cap_dequeued;
	bool src_change_deferred;
	u32 src_change_seq;
	u32 next_job_id;
	bool job_active;
	u32 job_id;
	struct vb2_v4l2_buffer *job_src;
	struct vb2_v4l2_buffer *job_dst;
	struct ddv_layout job_layout;
	bool job_written;
	u32 cap_generation;
	unsigned long job_deadline;
	struct ddv_src_meta src_meta[DDV_SRC_META];
	wait_queue_head_t job_wq;
	struct delayed_work watchdog;
	bool orphaned;
	bool resume;
	struct work_struct kick;
};

/**
 * struct ddv_buffer - a buffer of either queue
 * @m2m: what mem2mem keeps of it; first, as mem2mem requires
 * @generation: CAPTURE: &ddv_ctx.cap_generation when its memory was set
 *	up, which names that memory to the daemon (&ddv_decode.dst_generation)
 * @exported: CAPTURE: the daemon mapped this memory (DDV_IOC_EXPORT_DST)
 */
struct ddv_buffer {
	struct v4l2_m2m_buffer m2m;
	u32 generation;
	bool exported;
};

static inline struct ddv_buffer *ddv_buffer_of(struct vb2_v4l2_buffer *vbuf)
{
	return container_of(vbuf, struct ddv_buffer, m2m.vb);
}

static inline struct ddv_ctx *ddv_ctx_of(struct file *file)
{
	return container_of(file->private_data, struct ddv_ctx, fh);
}

/* ddv_fmt.c: the formats of the two queues */
const struct ddv_dst_desc *ddv_dst_desc(u32 fourcc);
bool ddv_stream_kind_of(const struct ddv_stream_format *f, struct ddv_stream_kind *k);
u32 ddv_dst_format(const struct ddv_stream_kind *k, unsigned int index);
bool ddv_dst_format_ok(const struct ddv_stream_kind *k, u32 fourcc);
u32 ddv_dst_chroma_stride(const struct ddv_dst_desc *d, u32 bytesperline);
void ddv_fill_dst_fmt(struct v4l2_pix_format_mplane *f, u32 fourcc, u32 width, u32 height,
		      const struct v4l2_pix_format_mplane *src);
const struct ddv_codec_desc *ddv_codec_desc(u32 fourcc);
u32 ddv_codecs_default(struct ddv_codec_caps *caps);
int ddv_codec_caps_check(const struct ddv_codec_caps *c);
bool ddv_codec_offered_at(struct ddv_dev *dev, unsigned int index, struct ddv_codec_caps *c);
bool ddv_codec_offered(struct ddv_dev *dev, u32 fourcc, struct ddv_codec_caps *c);
void ddv_try_src(struct ddv_dev *dev, struct v4l2_pix_format_mplane *f);

/* ddv_ctx.c: a context's life */
int ddv_ctx_open(struct file *file);
int ddv_ctx_release(struct file *file);
int ddv_ctx_claim(struct ddv_ctx *ctx);
struct ddv_ctx *ddv_ctx_get(struct ddv_dev *dev, u32 id);
void ddv_ctx_put(struct ddv_ctx *ctx);
void ddv_ctx_for_each(struct ddv_dev *dev, void (*fn)(struct ddv_ctx *ctx));

/* ddv_queue.c: vb2 queues and mem2mem jobs */
extern const struct v4l2_m2m_ops ddv_m2m_ops;
int ddv_queue_init(void *priv, struct vb2_queue *src_vq, struct vb2_queue *dst_vq);

/* ddv_job.c: jobs with the daemon */
void ddv_job_run(struct ddv_ctx *ctx);
void ddv_job_next(struct ddv_ctx *ctx);
void ddv_job_wait(struct ddv_ctx *ctx);
void ddv_job_init(struct ddv_ctx *ctx);
void __ddv_job_send(struct ddv_ctx *ctx, struct vb2_v4l2_buffer *src,
		    struct vb2_v4l2_buffer *dst);
bool __ddv_job_fail(struct ddv_ctx *ctx, int err, const char *why);
bool __ddv_job_drop(struct ddv_ctx *ctx);
void __ddv_ctx_fatal(struct ddv_ctx *ctx, int err, const char *why);
void ddv_ctx_send(struct ddv_ctx *ctx, u32 type);
void ddv_cap_dequeued(struct ddv_ctx *ctx, u32 sequence);
void ddv_cap_stopped(struct ddv_ctx *ctx);

int ddv_v4l2_init(struct ddv_bridge *br);
void ddv_v4l2_exit(struct ddv_bridge *br);
/* ddv_recovery.c: streams that outlive their daemon */
u32 ddv_recovery_window_ms(void);
void ddv_v4l2_daemon_gone(struct ddv_bridge *br, bool keep);
void ddv_v4l2_daemon_back(struct ddv_bridge *br, bool resume);
void ddv_recovery_init(struct ddv_dev *dev);
void ddv_recovery_exit(struct ddv_dev *dev);
void ddv_recovery_init_ctx(struct ddv_ctx *ctx);
void ddv_recovery_abort(struct ddv_ctx *ctx);
int ddv_v4l2_job_done(struct ddv_bridge *br, const void *payload, u32 len);
long ddv_v4l2_read_src(struct ddv_bridge *br, void __user *arg);
long ddv_v4l2_write_picture(struct ddv_bridge *br, void __user *arg);
long ddv_v4l2_export_dst(struct ddv_bridge *br, void __user *arg);
void ddv_v4l2_set_codecs(struct ddv_bridge *br, const struct ddv_codec_caps *caps, u32 n);

#else /* !CONFIG_V4L2_MEM2MEM_DEV */

static inline int ddv_v4l2_init(struct ddv_bridge *br)
{
	pr_info("kernel without V4L2 mem2mem: chardev only, no decoder node\n");
	return 0;
}

static inline void ddv_v4l2_exit(struct ddv_bridge *br) { }

static inline int ddv_v4l2_job_done(struct ddv_bridge *br, const void *payload, u32 len)
{
	return -ENOENT;
}

static inline long ddv_v4l2_read_src(struct ddv_bridge *br, void __user *arg)
{
	return -ENOENT;
}

static inline long ddv_v4l2_write_picture(struct ddv_bridge *br, void __user *arg)
{
	return -ENOENT;
}

static inline long ddv_v4l2_export_dst(struct ddv_bridge *br, void __user *arg)
{
	return -ENOENT;
}

static inline void ddv_v4l2_daemon_gone(struct ddv_bridge *br, bool keep) { }
static inline void ddv_v4l2_daemon_back(struct ddv_bridge *br, bool resume) { }
static inline u32 ddv_recovery_window_ms(void)
{
	return 0;
}

static inline void ddv_v4l2_set_codecs(struct ddv_bridge *br,
				       const struct ddv_codec_caps *caps, u32 n) { }

static inline int ddv_codec_caps_check(const struct ddv_codec_caps *c)
{
	return 0;
}

#endif /* CONFIG_V4L2_MEM2MEM_DEV */

#endif /* _DDV_V4L2_H */
