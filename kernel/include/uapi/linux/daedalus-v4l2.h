/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * daedalus-v4l2: the wire protocol between the kernel module and daedalusd.
 *
 * The daemon opens /dev/daedalus-v4l2 and exchanges messages with the
 * kernel: one read() returns exactly one message, one write() carries
 * exactly one message. Every message is a 24-byte header followed by
 * payload_len bytes. Counters and module facts are read with ioctl().
 * docs/protocol.md describes the semantics; this file is the layout.
 */
#ifndef _UAPI_LINUX_DAEDALUS_V4L2_H
#define _UAPI_LINUX_DAEDALUS_V4L2_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/videodev2.h>

/*
 * A stateful decoder's AV1 bitstream (OBUs, one temporal unit per buffer).
 * Not in 6.12's videodev2.h; this is the fourcc Chromium's V4L2 decoder
 * uses for it (media/gpu/v4l2, "AV01") and later kernels define.
 */
#ifndef V4L2_PIX_FMT_AV1
#define V4L2_PIX_FMT_AV1	v4l2_fourcc('A', 'V', '0', '1')
#endif

#ifndef __KERNEL__
/*
 * CAPTURE formats of struct ddv_layout that Debian 12's userspace headers
 * (6.1) lack: defined in videodev2.h since Linux 6.3; the fourccs are ABI.
 * The module offers them only on kernels whose V4L2 core knows them.
 */
#ifndef V4L2_PIX_FMT_P012
#define V4L2_PIX_FMT_P012	v4l2_fourcc('P', '0', '1', '2')
#endif
#ifndef V4L2_PIX_FMT_Y210
#define V4L2_PIX_FMT_Y210	v4l2_fourcc('Y', '2', '1', '0')
#endif
#ifndef V4L2_PIX_FMT_Y212
#define V4L2_PIX_FMT_Y212	v4l2_fourcc('Y', '2', '1', '2')
#endif
#endif /* !__KERNEL__ */

#define DDV_MAGIC		0x44303456	/* 'D04V' */
#define DDV_PROTO_VERSION	6
#define DDV_MAX_PAYLOAD		65536
#define DDV_FIFO_CAPACITY	64
#define DDV_VERSION_LEN		32

/* Largest coded size the V4L2 decoder node accepts. */
#define DDV_MAX_WIDTH		4096
#define DDV_MAX_HEIGHT		2304
/* Largest OUTPUT buffer, so the most bitstream one DECODE carries. */
#define DDV_MAX_SRC_BYTES	(16 << 20)
/*
 * Fewest CAPTURE buffers a stream gets (V4L2_CID_MIN_BUFFERS_FOR_CAPTURE):
 * the daemon's decoder keeps its own references, so a CAPTURE buffer only
 * carries a finished picture, one being filled while the client holds the
 * other. A daemon may ask for more in ddv_stream_format.min_buffers.
 */
#define DDV_MIN_CAPTURE_BUFS	2

/* Types with this bit set answer a message that travelled the other way. */
#define DDV_MSG_RESPONSE	0x80000000u

/**
 * enum ddv_msg_type - message types of the chardev protocol (DDV_PROTO_VERSION)
 * @DDV_MSG_PING: kernel to daemon; the daemon answers with a PONG that
 *	carries the same cookie and the same payload.
 * @DDV_MSG_PONG: daemon to kernel; answer to a PING.
 * @DDV_MSG_HELLO: daemon to kernel; the daemon announces itself
 *	(struct ddv_hello). The kernel answers with HELLO_ACK.
 * @DDV_MSG_HELLO_ACK: kernel to daemon; struct ddv_hello_ack.
 * @DDV_MSG_PING_INJECT: daemon to kernel; asks the kernel to enqueue a test
 *	PING in its request FIFO, behind any real work. No payload.
 * @DDV_MSG_PING_RESULT: kernel to daemon; carries the cookie of the
 *	PING_INJECT it answers and a struct ddv_ping_result, sent once the
 *	PING's PONG has been written back.
 * @DDV_MSG_DECODE: kernel to daemon; struct ddv_decode: run one decode job.
 * @DDV_MSG_DECODE_DONE: daemon to kernel; struct ddv_decode_done: the job's
 *	outcome. Exactly one per DECODE.
 * @DDV_MSG_FLUSH: kernel to daemon; struct ddv_ctx_msg: drop everything
 *	buffered for the context (the client seeks). No answer.
 * @DDV_MSG_CTX_CLOSE: kernel to daemon; struct ddv_ctx_msg: the context is
 *	gone, free its decoder. No answer.
 */
enum ddv_msg_type {
	DDV_MSG_PING		= 0x00000001,
	DDV_MSG_PONG		= DDV_MSG_RESPONSE | DDV_MSG_PING,
	DDV_MSG_HELLO		= 0x00000002,
	DDV_MSG_HELLO_ACK	= DDV_MSG_RESPONSE | DDV_MSG_HELLO,
	DDV_MSG_PING_INJECT	= 0x00000003,
	DDV_MSG_PING_RESULT	= DDV_MSG_RESPONSE | DDV_MSG_PING_INJECT,
	DDV_MSG_DECODE		= 0x00000010,
	DDV_MSG_DECODE_DONE	= DDV_MSG_RESPONSE | DDV_MSG_DECODE,
	DDV_MSG_FLUSH		= 0x00000011,
	DDV_MSG_CTX_CLOSE	= 0x00000012,
};

/**
 * struct ddv_msg_header - the 24 bytes in front of every message
 * @magic: DDV_MAGIC
 * @version: DDV_PROTO_VERSION
 * @type: an enum ddv_msg_type
 * @cookie: correlates a request with its response
 * @payload_len: bytes that follow the header, at most DDV_MAX_PAYLOAD
 * @reserved: must be zero
 */
struct ddv_msg_header {
	__u32 magic;
	__u32 version;
	__u32 type;
	__u32 cookie;
	__u32 payload_len;
	__u32 reserved;
};

/* Codecs a daemon may announce in one HELLO. */
#define DDV_MAX_CODECS		8

/**
 * struct ddv_codec_caps - one codec the daemon decodes
 * @fourcc: its OUTPUT format: V4L2_PIX_FMT_H264, _HEVC, _VP8, _VP9, _AV1
 * @profiles: bit N set: streams of the codec's V4L2 profile menu value N
 *	decode (V4L2_CID_MPEG_VIDEO_<codec>_PROFILE)
 * @max_level: highest value of the codec's V4L2 level menu that decodes;
 *	0 for VP8, which has no level control
 * @max_width: largest coded width
 * @max_height: largest coded height
 * @reserved: zero
 */
struct ddv_codec_caps {
	__u32 fourcc;
	__u32 profiles;
	__u32 max_level;
	__u32 max_width;
	__u32 max_height;
	__u32 reserved;
};

/*
 * The daemon resumes streams a dead daemon left: for a context it has not
 * seen, a DECODE flagged DDV_DECODE_RESUME starts a decoder mid-stream.
 */
#define DDV_HELLO_RECOVERY	0x1

/**
 * struct ddv_hello - payload of DDV_MSG_HELLO
 * @proto_version: protocol version the daemon speaks
 * @flags: DDV_HELLO_* features the daemon supports; no others
 * @daemon_version: NUL-terminated version string of the daemon
 * @num_codecs: entries of @codecs in use, 1..DDV_MAX_CODECS
 * @reserved: zero
 * @codecs: what the daemon decodes; the node offers exactly these
 */
struct ddv_hello {
	__u32 proto_version;
	__u32 flags;
	char daemon_version[DDV_VERSION_LEN];
	__u32 num_codecs;
	__u32 reserved;
	struct ddv_codec_caps codecs[DDV_MAX_CODECS];
};

/**
 * struct ddv_hello_ack - payload of DDV_MSG_HELLO_ACK
 * @proto_version: protocol version the module speaks
 * @fifo_capacity: messages the request FIFO holds
 * @module_version: NUL-terminated version string of the module
 * @flags: the DDV_HELLO_* features of the HELLO the module will use
 * @recovery_ms: with DDV_HELLO_RECOVERY: how long the module keeps a dead
 *	daemon's streams for the next daemon to resume (module parameter
 *	recovery_ms)
 */
struct ddv_hello_ack {
	__u32 proto_version;
	__u32 fifo_capacity;
	char module_version[DDV_VERSION_LEN];
	__u32 flags;
	__u32 recovery_ms;
};

/**
 * struct ddv_ping_result - payload of DDV_MSG_PING_RESULT
 * @ping_cookie: cookie of the PING the kernel enqueued
 * @status: 0, or a positive errno (ETIMEDOUT: no PONG in time)
 * @rtt_ns: nanoseconds from enqueueing the PING to receiving its PONG
 */
struct ddv_ping_result {
	__u32 ping_cookie;
	__u32 status;
	__u64 rtt_ns;
};

/**
 * struct ddv_stats - kernel-side counters, read with DDV_IOC_GET_STATS
 * @size: sizeof(struct ddv_stats) as the kernel knows it
 * @fifo_depth: messages waiting in the request FIFO now
 * @fifo_high_water: most messages the FIFO has held since load
 * @fifo_capacity: DDV_FIFO_CAPACITY
 * @msgs_to_daemon: messages read by the daemon
 * @msgs_from_daemon: messages accepted from the daemon
 * @bytes_to_daemon: bytes read by the daemon, headers included
 * @bytes_from_daemon: bytes accepted from the daemon, headers included
 * @err_bad_magic: writes refused with EBADMSG
 * @err_bad_version: writes refused with EPROTO
 * @err_bad_reserved: writes refused for a non-zero reserved field
 * @err_too_big: writes refused with EMSGSIZE
 * @err_bad_length: writes whose length disagrees with the header
 * @err_bad_type: writes of a type the daemon may not send
 * @err_bad_payload: writes whose payload is wrong for their type
 * @err_short_read: reads refused with EMSGSIZE (message kept)
 * @err_fifo_full: messages refused because the FIFO was full
 * @err_unmatched_pong: PONGs whose cookie matched no outstanding PING
 * @pings_sent: PINGs enqueued (test trigger or PING_INJECT)
 * @pongs_matched: PONGs that completed an outstanding PING
 * @pings_timed_out: PINGs that got no PONG in time
 * @msgs_dropped: messages discarded when the daemon closed the device
 * @daemon_attaches: opens of the device
 * @jobs_timed_out: decode jobs the daemon did not answer within the timeout
 * @streams_failed: decoding contexts failed with EIO, for any reason
 * @streams_resumed: a dead daemon's contexts that the next daemon resumed
 * @reserved: zero; room to grow without changing the ioctl number
 */
struct ddv_stats {
	__u32 size;
	__u32 fifo_depth;
	__u32 fifo_high_water;
	__u32 fifo_capacity;
	__u64 msgs_to_daemon;
	__u64 msgs_from_daemon;
	__u64 bytes_to_daemon;
	__u64 bytes_from_daemon;
	__u64 err_bad_magic;
	__u64 err_bad_version;
	__u64 err_bad_reserved;
	__u64 err_too_big;
	__u64 err_bad_length;
	__u64 err_bad_type;
	__u64 err_bad_payload;
	__u64 err_short_read;
	__u64 err_fifo_full;
	__u64 err_unmatched_pong;
	__u64 pings_sent;
	__u64 pongs_matched;
	__u64 pings_timed_out;
	__u64 msgs_dropped;
	__u64 daemon_attaches;
	__u64 jobs_timed_out;
	__u64 streams_failed;
	__u64 streams_resumed;
	__u64 reserved[5];
};

/**
 * struct ddv_ctx_msg - payload of FLUSH and CTX_CLOSE
 * @ctx_id: the decoding context (one per open V4L2 file handle)
 * @reserved: zero
 */
struct ddv_ctx_msg {
	__u32 ctx_id;
	__u32 reserved;
};

/**
 * struct ddv_layout - how the CAPTURE buffer of a job is laid out
 * @pixelformat: a CAPTURE format of the node (docs/decoder.md): YUV420,
 *	NV12, YUV422P, NV16, NV24, P010, P012, Y210, Y212, ABGR32 or XBGR32,
 *	one plane each
 * @width: picture width in pixels
 * @height: picture height in lines
 * @bytesperline: luma stride; the chroma plane(s) follow the luma plane
 *	as the format's V4L2 definition lays them out
 * @sizeimage: bytes the buffer holds
 * @reserved: zero
 */
struct ddv_layout {
	__u32 pixelformat;
	__u32 width;
	__u32 height;
	__u32 bytesperline;
	__u32 sizeimage;
	__u32 reserved[3];
};

#define DDV_DECODE_SRC		0x1	/* an OUTPUT buffer comes with the job */
#define DDV_DECODE_DST		0x2	/* a CAPTURE buffer comes with the job */
#define DDV_DECODE_DRAIN	0x4	/* end of stream: flush out every picture */
#define DDV_DECODE_RESUME	0x8	/* a dead daemon's stream, picked up mid-way */
#define DDV_DECODE_DST_EXPORT	0x10	/* the CAPTURE buffer can be mapped: */
					/* DDV_IOC_EXPORT_DST */

/**
 * struct ddv_decode - payload of DDV_MSG_DECODE
 * @ctx_id: the decoding context
 * @job_id: names the job in DDV_IOC_READ_SRC, DDV_IOC_WRITE_PICTURE and the
 *	answer
 * @flags: DDV_DECODE_*
 * @src_bytes: bytes of bitstream in the OUTPUT buffer (DDV_DECODE_SRC)
 * @src_timestamp: the OUTPUT buffer's timestamp in ns
 * @dst: layout of the CAPTURE buffer (DDV_DECODE_DST)
 * @src_queued: OUTPUT buffers the client has queued, this job's included
 * @dst_queued: CAPTURE buffers the client has queued, this job's included
 * @submit_ns: CLOCK_MONOTONIC time the kernel sent the job, in ns
 * @codec: the context's OUTPUT format, one the daemon announced
 * @dst_index: the CAPTURE buffer's V4L2 index (DDV_DECODE_DST)
 * @dst_generation: names the memory behind @dst_index: it changes whenever
 *	the client's buffer at that index is allocated anew, so a daemon
 *	that keeps the buffer mapped knows when its mapping is stale
 * @reserved: zero
 */
struct ddv_decode {
	__u32 ctx_id;
	__u32 job_id;
	__u32 flags;
	__u32 src_bytes;
	__u64 src_timestamp;
	struct ddv_layout dst;
	__u32 src_queued;
	__u32 dst_queued;
	__u64 submit_ns;
	__u32 codec;
	__u32 dst_index;
	__u32 dst_generation;
	__u32 reserved;
};

#define DDV_DONE_SRC_CONSUMED	0x1	/* the OUTPUT buffer is done with */
#define DDV_DONE_PICTURE	0x2	/* the CAPTURE buffer holds a picture */
#define DDV_DONE_LAST		0x4	/* draining finished: CAPTURE buffer is LAST */
#define DDV_DONE_FORMAT		0x8	/* @format is new; CAPTURE buffer unused */
#define DDV_DONE_ERROR		0x10	/* the bitstream was corrupt (@status) */
#define DDV_DONE_FATAL		0x20	/* the context cannot go on (@status) */
#define DDV_DONE_SKIPPED	0x40	/* resuming: the picture was dropped; the */
					/* CAPTURE buffer returns empty, ERROR */
#define DDV_DONE_MAPPED		0x80	/* with PICTURE: written through the */
					/* buffer's DDV_IOC_EXPORT_DST mapping */

/**
 * struct ddv_stream_format - what the decoded stream looks like
 * @width: visible width
 * @height: visible height
 * @bit_depth: 8, 10 or 12
 * @chroma: 420, 422, 440 or 444
 * @min_buffers: CAPTURE buffers the client needs at least (the kernel
 *	clamps it to DDV_MIN_CAPTURE_BUFS..32)
 * @reserved: zero
 */
struct ddv_stream_format {
	__u32 width;
	__u32 height;
	__u32 bit_depth;
	__u32 chroma;
	__u32 min_buffers;
	__u32 reserved;
};

/**
 * struct ddv_decode_done - payload of DDV_MSG_DECODE_DONE
 * @ctx_id: as in the DECODE
 * @job_id: as in the DECODE
 * @flags: DDV_DONE_*
 * @status: 0 or a negative errno explaining ERROR or FATAL
 * @timestamp: with DDV_DONE_PICTURE: timestamp of the OUTPUT buffer the
 *	picture was decoded from
 * @format: with DDV_DONE_FORMAT
 * @field: with DDV_DONE_PICTURE: how the picture's fields were coded,
 *	V4L2_FIELD_NONE (progressive), _INTERLACED_TB or _INTERLACED_BT
 * @reserved: zero
 */
struct ddv_decode_done {
	__u32 ctx_id;
	__u32 job_id;
	__u32 flags;
	__s32 status;
	__u64 timestamp;
	struct ddv_stream_format format;
	__u32 field;
	__u32 reserved;
};

/**
 * struct ddv_src_io - argument of DDV_IOC_READ_SRC
 * @ctx_id: the context of a running job
 * @job_id: the running job
 * @addr: where to copy the bitstream
 * @len: room at @addr
 * @reserved: zero
 *
 * Returns the number of bytes copied.
 */
struct ddv_src_io {
	__u32 ctx_id;
	__u32 job_id;
	__u64 addr;
	__u32 len;
	__u32 reserved;
};

/**
 * struct ddv_picture_io - argument of DDV_IOC_WRITE_PICTURE
 * @ctx_id: the context of a running job
 * @job_id: the running job, which has a CAPTURE buffer
 * @plane: addresses of the picture's planes
 * @stride: bytes between rows of each plane
 * @width: picture width; must match the job's layout
 * @height: picture height; must match the job's layout
 * @num_planes: 3: Y, U and V planes with the layout's sample size (the
 *	kernel interleaves U and V for an 8-bit NV format); 2: Y and the
 *	chroma plane already as the layout has it (P010, P012, or any NV
 *	format); 1: the whole picture already packed (Y210, Y212) or RGB
 *	(ABGR32, XBGR32)
 * @reserved: zero
 *
 * The kernel writes the picture into the CAPTURE buffer in the job's
 * layout: for 8-bit pictures, the picture's only copy.
 */
struct ddv_picture_io {
	__u32 ctx_id;
	__u32 job_id;
	__u64 plane[3];
	__u32 stride[3];
	__u32 width;
	__u32 height;
	__u32 num_planes;
	__u32 reserved[2];
};

/**
 * struct ddv_export_io - argument of DDV_IOC_EXPORT_DST
 * @ctx_id: the context of a running job
 * @job_id: the running job, whose CAPTURE buffer is MMAP memory
 *	(DDV_DECODE_DST_EXPORT)
 * @fd: set by the kernel: a DMA-BUF file descriptor (close-on-exec) of
 *	the buffer, which the daemon maps read-write with mmap()
 * @reserved: zero
 *
 * The mapping stays valid after the job and after the client frees the
 * buffer (it holds the memory): the daemon writes later pictures for the
 * same buffer (same &ddv_decode.dst_index and .dst_generation) through
 * it and answers DDV_DONE_PICTURE | DDV_DONE_MAPPED, with no copy by the
 * kernel.
 */
struct ddv_export_io {
	__u32 ctx_id;
	__u32 job_id;
	__s32 fd;
	__u32 reserved;
};

#define DDV_IOC_MAGIC		0xD4
#define DDV_IOC_GET_STATS	_IOR(DDV_IOC_MAGIC, 1, struct ddv_stats)
#define DDV_IOC_READ_SRC	_IOW(DDV_IOC_MAGIC, 2, struct ddv_src_io)
#define DDV_IOC_WRITE_PICTURE	_IOW(DDV_IOC_MAGIC, 3, struct ddv_picture_io)
#define DDV_IOC_EXPORT_DST	_IOWR(DDV_IOC_MAGIC, 4, struct ddv_export_io)

#endif /* _UAPI_LINUX_DAEDALUS_V4L2_H */
