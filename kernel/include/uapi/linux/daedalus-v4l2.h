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

#define DDV_MAGIC		0x44303456	/* 'D04V' */
#define DDV_PROTO_VERSION	1
#define DDV_MAX_PAYLOAD		65536
#define DDV_FIFO_CAPACITY	64
#define DDV_VERSION_LEN		32

/* Types with this bit set answer a message that travelled the other way. */
#define DDV_MSG_RESPONSE	0x80000000u

/**
 * enum ddv_msg_type - message types of protocol v1
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
 */
enum ddv_msg_type {
	DDV_MSG_PING		= 0x00000001,
	DDV_MSG_PONG		= DDV_MSG_RESPONSE | DDV_MSG_PING,
	DDV_MSG_HELLO		= 0x00000002,
	DDV_MSG_HELLO_ACK	= DDV_MSG_RESPONSE | DDV_MSG_HELLO,
	DDV_MSG_PING_INJECT	= 0x00000003,
	DDV_MSG_PING_RESULT	= DDV_MSG_RESPONSE | DDV_MSG_PING_INJECT,
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

/**
 * struct ddv_hello - payload of DDV_MSG_HELLO
 * @proto_version: protocol version the daemon speaks
 * @flags: none defined yet, must be zero
 * @daemon_version: NUL-terminated version string of the daemon
 */
struct ddv_hello {
	__u32 proto_version;
	__u32 flags;
	char daemon_version[DDV_VERSION_LEN];
};

/**
 * struct ddv_hello_ack - payload of DDV_MSG_HELLO_ACK
 * @proto_version: protocol version the module speaks
 * @fifo_capacity: messages the request FIFO holds
 * @module_version: NUL-terminated version string of the module
 */
struct ddv_hello_ack {
	__u32 proto_version;
	__u32 fifo_capacity;
	char module_version[DDV_VERSION_LEN];
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
	__u64 reserved[8];
};

#define DDV_IOC_MAGIC		0xD4
#define DDV_IOC_GET_STATS	_IOR(DDV_IOC_MAGIC, 1, struct ddv_stats)

#endif /* _UAPI_LINUX_DAEDALUS_V4L2_H */
