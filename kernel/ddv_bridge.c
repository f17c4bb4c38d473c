// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the /dev/daedalus-v4l2 chardev and its request FIFO.
 *
 * The kernel queues messages for the daemon in a bounded FIFO; the daemon
 * read()s them one at a time and write()s its answers back, one message per
 * write. Every write is validated before anything is acted on, and a read
 * that cannot take the next message leaves it at the head of the FIFO.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ddv.h"
#include "ddv_ping.h"
#include "ddv_v4l2.h"

/**
 * ddv_msg_alloc() - allocate a message with its header filled in
 * @type: an enum ddv_msg_type
 * @cookie: the header's cookie
 * @payload: bytes to copy after the header, or NULL for zeroes
 * @payload_len: length of the payload
 *
 * Context: may sleep.
 * Return: the message, or NULL when out of memory.
 */
struct ddv_msg *ddv_msg_alloc(u32 type, u32 cookie, const void *payload, u32 payload_len)
{
	struct ddv_msg_header *hdr;
	struct ddv_msg *msg;

	msg = kvzalloc(struct_size(msg, data, sizeof(*hdr) + payload_len), GFP_KERNEL);
	if (!msg)
		return NULL;
	msg->len = sizeof(*hdr) + payload_len;
	hdr = (struct ddv_msg_header *)msg->data;
	hdr->magic = DDV_MAGIC;
	hdr->version = DDV_PROTO_VERSION;
	hdr->type = type;
	hdr->cookie = cookie;
	hdr->payload_len = payload_len;
	if (payload)
		memcpy(msg->data + sizeof(*hdr), payload, payload_len);
	return msg;
}

/**
 * ddv_fifo_has_room() - can the FIFO take @slots more messages?
 * @br: the bridge
 * @slots: messages about to be queued or reserved
 *
 * Slots reserved for responses that are still to come count as taken, so
 * that an accepted request can always have its answer queued.
 *
 * Context: @br->lock held.
 * Return: true when they fit.
 */
bool ddv_fifo_has_room(struct ddv_bridge *br, unsigned int slots)
{
	lockdep_assert_held(&br->lock);
	return br->depth + br->reserved + slots <= DDV_FIFO_CAPACITY;
}

/**
 * ddv_fifo_push() - queue a message for the daemon and wake readers
 * @br: the bridge
 * @msg: the message; the FIFO owns it from now on
 *
 * The caller has checked the room with ddv_fifo_has_room() or holds a
 * reservation for this message.
 *
 * Context: @br->lock held.
 */
void ddv_fifo_push(struct ddv_bridge *br, struct ddv_msg *msg)
{
	lockdep_assert_held(&br->lock);
	list_add_tail(&msg->node, &br->fifo);
	br->depth++;
	if (br->depth > br->stats.fifo_high_water)
		br->stats.fifo_high_water = br->depth;
	wake_up_interruptible(&br->readq);
}

/**
 * ddv_bridge_send() - queue a request for the daemon
 * @br: the bridge
 * @type: an enum ddv_msg_type
 * @cookie: the header's cookie
 * @payload: payload bytes
 * @len: payload length
 *
 * Context: process context, may sleep; takes the bridge lock.
 * Return: 0; -ENOTCONN with no daemon attached; -EAGAIN while a daemon
 * whose streams are kept goes away (see &ddv_bridge.keeping); -ENOBUFS
 * when the FIFO is full; -ENOMEM.
 */
int ddv_bridge_send(struct ddv_bridge *br, u32 type, u32 cookie, const void *payload, u32 len)
{
	struct ddv_msg *msg;
	int ret = 0;

	msg = ddv_msg_alloc(type, cookie, payload, len);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&br->lock);
	if (!br->attached) {
		ret = br->keeping ? -EAGAIN : -ENOTCONN;
	} else if (!ddv_fifo_has_room(br, 1)) {
		br->stats.err_fifo_full++;
		ret = -ENOBUFS;
	} else {
		ddv_fifo_push(br, msg);
		msg = NULL;
	}
	mutex_unlock(&br->lock);
	kvfree(msg);
	return ret;
}

/* Whether a @type message for @ctx_id waits unread. Context: br->lock held. */
static bool ddv_fifo_has_ctx_msg(struct ddv_bridge *br, u32 type, u32 ctx_id)
{
	const size_t hdr = sizeof(struct ddv_msg_header);
	struct ddv_msg *msg;

	lockdep_assert_held(&br->lock);
	list_for_each_entry(msg, &br->fifo, node) {
		const struct ddv_msg_header *h = (const void *)msg->data;
		const struct ddv_ctx_msg *m = (const void *)(msg->data + hdr);

		if (h->type == type && msg->len == hdr + sizeof(*m) && m->ctx_id == ctx_id)
			return true;
	}
	return false;
}

/**
 * ddv_bridge_send_ctx() - queue a FLUSH or CTX_CLOSE, even into a full FIFO
 * @br: the bridge
 * @type: DDV_MSG_FLUSH or DDV_MSG_CTX_CLOSE
 * @m: the payload
 *
 * These are never refused for room: a lost CTX_CLOSE leaks a decoder in
 * the daemon, a lost FLUSH shows old pictures after a seek. They stay
 * bounded: only contexts whose DECODE got into the FIFO send them, each
 * closes once, and a FLUSH is not queued again while one for the same
 * context waits unread.
 *
 * Context: process context, may sleep; takes the bridge lock.
 * Return: 0; -ENOTCONN with no daemon attached; -ENOMEM.
 */
int ddv_bridge_send_ctx(struct ddv_bridge *br, u32 type, const struct ddv_ctx_msg *m)
{
	struct ddv_msg *msg;
	int ret = 0;

	msg = ddv_msg_alloc(type, m->ctx_id, m, sizeof(*m));
	if (!msg)
		return -ENOMEM;
	mutex_lock(&br->lock);
	if (!br->attached) {
		ret = -ENOTCONN;
	} else if (type != DDV_MSG_FLUSH || !ddv_fifo_has_ctx_msg(br, type, m->ctx_id)) {
		ddv_fifo_push(br, msg);
		msg = NULL;
	}
	mutex_unlock(&br->lock);
	kvfree(msg);
	return ret;
}

static void ddv_fifo_purge(struct ddv_bridge *br)
{
	struct ddv_msg *msg, *tmp;

	lockdep_assert_held(&br->lock);
	list_for_each_entry_safe(msg, tmp, &br->fifo, node) {
		list_del(&msg->node);
		kvfree(msg);
		br->stats.msgs_dropped++;
	}
	br->depth = 0;
}

static struct ddv_bridge *ddv_from_file(struct file *file)
{
	struct miscdevice *misc = file->private_data;

	return container_of(misc, struct ddv_bridge, misc);
}

/*
 * A new daemon's open waits for the last one's close to finish (attach_lock
 * is held across ddv_release()): until then that close is still failing
 * the old daemon's contexts, and would fail the new daemon's work too.
 */
static int ddv_open(struct inode *inode, struct file *file)
{
	struct ddv_bridge *br = ddv_from_file(file);
	int ret = 0;

	if (mutex_lock_interruptible(&br->attach_lock))
		return -ERESTARTSYS;
	mutex_lock(&br->lock);
	if (br->attached) {
		ret = -EBUSY;
	} else {
		br->attached = true;
		br->version_warned = false;
		br->stats.daemon_attaches++;
	}
	mutex_unlock(&br->lock);
	mutex_unlock(&br->attach_lock);
	if (ret)
		return ret;
	return stream_open(inode, file);
}

/*
 * Everything queued belongs to the daemon that goes away: drop it and fail
 * its outstanding PINGs, so the next daemon starts from a clean slate. Once
 * detached, nothing can queue a new PING, so the timeout work stays idle
 * after the flush.
 */
static int ddv_release(struct inode *inode, struct file *file)
{
	struct ddv_bridge *br = ddv_from_file(file);
	bool keep;

	mutex_lock(&br->attach_lock);
	mutex_lock(&br->lock);
	br->attached = false;
	keep = br->recovery;
	br->recovery = false;
	br->keeping = keep && ddv_recovery_window_ms();
	ddv_ping_cancel_all(br);
	ddv_fifo_purge(br);
	if (br->daemon_version[0])
		pr_info("daemon '%s' detached\n", br->daemon_version);
	br->daemon_version[0] = '\0';
	mutex_unlock(&br->lock);
	if (READ_ONCE(br->test_detach_delay_ms))
		msleep(READ_ONCE(br->test_detach_delay_ms));
	ddv_ping_flush_work(br);
	ddv_v4l2_daemon_gone(br, keep);
	mutex_lock(&br->lock);
	br->keeping = false;
	mutex_unlock(&br->lock);
	mutex_unlock(&br->attach_lock);
	return 0;
}

static ssize_t ddv_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	struct ddv_bridge *br = ddv_from_file(file);
	struct ddv_msg *msg;
	ssize_t ret;

	for (;;) {
		mutex_lock(&br->lock);
		if (br->depth)
			break;
		mutex_unlock(&br->lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(br->readq, READ_ONCE(br->depth)))
			return -ERESTARTSYS;
	}

	msg = list_first_entry(&br->fifo, struct ddv_msg, node);
	if (count < msg->len) {
		br->stats.err_short_read++;
		ret = -EMSGSIZE;
	} else if (copy_to_user(buf, msg->data, msg->len)) {
		ret = -EFAULT;
	} else {
		list_del(&msg->node);
		br->depth--;
		br->stats.msgs_to_daemon++;
		br->stats.bytes_to_daemon += msg->len;
		ret = msg->len;
		kvfree(msg);
	}
	mutex_unlock(&br->lock);
	return ret;
}

/* One line per attached daemon that speaks another protocol version. */
static void ddv_warn_version(struct ddv_bridge *br, u32 version)
{
	if (br->version_warned)
		return;
	br->version_warned = true;
	pr_warn("the daemon speaks protocol %u, this module %u: its messages are refused (install a daedalusd and module of one release)\n",
		version, DDV_PROTO_VERSION);
}

static int ddv_handle_hello(struct ddv_bridge *br, u32 cookie, const void *payload, u32 len)
{
	const struct ddv_hello *hello = payload;
	struct ddv_hello_ack ack = {
		.proto_version = DDV_PROTO_VERSION,
		.fifo_capacity = DDV_FIFO_CAPACITY,
	};
	struct ddv_msg *msg;
	unsigned int i;

	if (len != sizeof(*hello) || (hello->flags & ~DDV_HELLO_RECOVERY) || hello->reserved ||
	    !memchr(hello->daemon_version, '\0', sizeof(hello->daemon_version)) ||
	    !hello->num_codecs || hello->num_codecs > DDV_MAX_CODECS) {
		br->stats.err_bad_payload++;
		return -EINVAL;
	}
	if (hello->proto_version != DDV_PROTO_VERSION) {
		br->stats.err_bad_version++;
		ddv_warn_version(br, hello->proto_version);
		return -EPROTO;
	}
	for (i = 0; i < hello->num_codecs; i++) {
		unsigned int j;

		for (j = 0; j < i; j++)
			if (hello->codecs[j].fourcc == hello->codecs[i].fourcc)
				break;
		if (j < i || ddv_codec_caps_check(&hello->codecs[i])) {
			br->stats.err_bad_payload++;
			return -EINVAL;
		}
	}
	if (!ddv_fifo_has_room(br, 1)) {
		br->stats.err_fifo_full++;
		return -ENOBUFS;
	}
	strscpy(ack.module_version, DDV_MODULE_VERSION, sizeof(ack.module_version));
	/* Streams outlive this daemon if it can resume them and the window is on. */
	if ((hello->flags & DDV_HELLO_RECOVERY) && ddv_recovery_window_ms()) {
		ack.flags = DDV_HELLO_RECOVERY;
		ack.recovery_ms = ddv_recovery_window_ms();
	}
	msg = ddv_msg_alloc(DDV_MSG_HELLO_ACK, cookie, &ack, sizeof(ack));
	if (!msg)
		return -ENOMEM;
	/* Once per attach: a chatty daemon must not flood the log. */
	if (!br->daemon_version[0])
		pr_info("daemon '%s' attached, protocol %u\n", hello->daemon_version,
			hello->proto_version);
	strscpy(br->daemon_version, hello->daemon_version, sizeof(br->daemon_version));
	br->recovery = ack.flags & DDV_HELLO_RECOVERY;
	ddv_v4l2_set_codecs(br, hello->codecs, hello->num_codecs);
	ddv_fifo_push(br, msg);
	return 0;
}

/* Acts on one validated message from the daemon. Context: @br->lock held. */
static int ddv_dispatch(struct ddv_bridge *br, const struct ddv_msg_header *hdr,
			const void *payload)
{
	switch (hdr->type) {
	case DDV_MSG_PONG:
		return ddv_ping_complete(br, hdr->cookie, payload, hdr->payload_len);
	case DDV_MSG_HELLO:
		return ddv_handle_hello(br, hdr->cookie, payload, hdr->payload_len);
	case DDV_MSG_PING_INJECT:
		if (hdr->payload_len) {
			br->stats.err_bad_payload++;
			return -EINVAL;
		}
		return ddv_ping_inject(br, hdr->cookie);
	default:
		br->stats.err_bad_type++;
		return -EOPNOTSUPP;
	}
}

/* Header checks in the order docs/protocol.md lists them. */
static int ddv_validate_header(struct ddv_bridge *br, const struct ddv_msg_header *hdr,
			       size_t count)
{
	if (hdr->magic != DDV_MAGIC) {
		br->stats.err_bad_magic++;
		return -EBADMSG;
	}
	if (hdr->version != DDV_PROTO_VERSION) {
		br->stats.err_bad_version++;
		ddv_warn_version(br, hdr->version);
		return -EPROTO;
	}
	if (hdr->reserved) {
		br->stats.err_bad_reserved++;
		return -EINVAL;
	}
	if (hdr->payload_len > DDV_MAX_PAYLOAD) {
		br->stats.err_too_big++;
		return -EMSGSIZE;
	}
	if (count != sizeof(*hdr) + hdr->payload_len) {
		br->stats.err_bad_length++;
		return -EINVAL;
	}
	return 0;
}

static ssize_t ddv_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	struct ddv_bridge *br = ddv_from_file(file);
	struct ddv_msg_header hdr;
	void *payload = NULL;
	bool hello = false, resume = false;
	int ret;

	if (count < sizeof(hdr)) {
		mutex_lock(&br->lock);
		br->stats.err_bad_length++;
		mutex_unlock(&br->lock);
		return -EINVAL;
	}
	if (copy_from_user(&hdr, buf, sizeof(hdr)))
		return -EFAULT;

	mutex_lock(&br->lock);
	ret = ddv_validate_header(br, &hdr, count);
	mutex_unlock(&br->lock);
	if (ret)
		return ret;

	if (hdr.payload_len) {
		payload = vmemdup_user(buf + sizeof(hdr), hdr.payload_len);
		if (IS_ERR(payload))
			return PTR_ERR(payload);
	}

	/*
	 * A decode answer locks its context, which may be waiting to queue a
	 * request here: handle it without the bridge lock.
	 */
	if (hdr.type == DDV_MSG_DECODE_DONE)
		ret = ddv_v4l2_job_done(br, payload, hdr.payload_len);
	mutex_lock(&br->lock);
	if (hdr.type == DDV_MSG_DECODE_DONE) {
		if (ret == -EINVAL)
			br->stats.err_bad_payload++;
	} else {
		ret = ddv_dispatch(br, &hdr, payload);
	}
	if (!ret) {
		br->stats.msgs_from_daemon++;
		br->stats.bytes_from_daemon += count;
		hello = hdr.type == DDV_MSG_HELLO;
		resume = br->recovery;
	}
	mutex_unlock(&br->lock);
	kvfree(payload);
	/* Contexts a dead daemon left: resumed by this one, or failed now. */
	if (hello)
		ddv_v4l2_daemon_back(br, resume);
	return ret ? ret : count;
}

static __poll_t ddv_poll(struct file *file, poll_table *wait)
{
	struct ddv_bridge *br = ddv_from_file(file);
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &br->readq, wait);
	if (READ_ONCE(br->depth))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/**
 * ddv_bridge_stats() - take a snapshot of the counters
 * @br: the bridge
 * @snap: filled as DDV_IOC_GET_STATS returns it
 */
void ddv_bridge_stats(struct ddv_bridge *br, struct ddv_stats *snap)
{
	mutex_lock(&br->lock);
	*snap = br->stats;
	snap->fifo_depth = br->depth;
	mutex_unlock(&br->lock);
	snap->size = sizeof(*snap);
	snap->fifo_capacity = DDV_FIFO_CAPACITY;
	snap->jobs_timed_out = atomic64_read(&br->jobs_timed_out);
	snap->streams_failed = atomic64_read(&br->streams_failed);
	snap->streams_resumed = atomic64_read(&br->streams_resumed);
}

static long ddv_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ddv_bridge *br = ddv_from_file(file);
	struct ddv_stats snap;

	switch (cmd) {
	case DDV_IOC_GET_STATS:
		break;
	case DDV_IOC_READ_SRC:
		return ddv_v4l2_read_src(br, (void __user *)arg);
	case DDV_IOC_WRITE_PICTURE:
		return ddv_v4l2_write_picture(br, (void __user *)arg);
	case DDV_IOC_EXPORT_DST:
		return ddv_v4l2_export_dst(br, (void __user *)arg);
	default:
		return -ENOTTY;
	}
	ddv_bridge_stats(br, &snap);
	if (copy_to_user((void __user *)arg, &snap, sizeof(snap)))
		return -EFAULT;
	return 0;
}

static const struct file_operations ddv_fops = {
	.owner = THIS_MODULE,
	.open = ddv_open,
	.release = ddv_release,
	.read = ddv_read,
	.write = ddv_write,
	.poll = ddv_poll,
	.unlocked_ioctl = ddv_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/**
 * ddv_bridge_init() - set up the FIFO; the chardev is not registered yet
 * @br: zeroed bridge
 */
void ddv_bridge_init(struct ddv_bridge *br)
{
	mutex_init(&br->lock);
	mutex_init(&br->attach_lock);
	init_waitqueue_head(&br->readq);
	INIT_LIST_HEAD(&br->fifo);
	ddv_ping_init(br);
	br->misc.minor = MISC_DYNAMIC_MINOR;
	br->misc.name = DDV_DEVICE_NAME;
	br->misc.fops = &ddv_fops;
	br->misc.mode = 0660;
}

/**
 * ddv_bridge_register() - create /dev/daedalus-v4l2
 * @br: bridge set up by ddv_bridge_init()
 *
 * Called last at load: a daemon may open the chardev the moment it exists
 * (and send HELLO, whose codecs the decoder node takes), so everything it
 * reaches must be set up before.
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno.
 */
int ddv_bridge_register(struct ddv_bridge *br)
{
	return misc_register(&br->misc);
}

/**
 * ddv_bridge_unregister() - remove /dev/daedalus-v4l2
 * @br: bridge registered by ddv_bridge_register()
 *
 * Context: process context, may sleep.
 */
void ddv_bridge_unregister(struct ddv_bridge *br)
{
	misc_deregister(&br->misc);
}

/**
 * ddv_bridge_exit() - tear down what ddv_bridge_init() set up
 * @br: the bridge, its chardev unregistered
 *
 * The module cannot be unloaded while the device is open, so the FIFO is
 * already empty and no PING is outstanding here.
 *
 * Context: process context, may sleep.
 */
void ddv_bridge_exit(struct ddv_bridge *br)
{
	ddv_ping_flush_work(br);
	mutex_destroy(&br->attach_lock);
	mutex_destroy(&br->lock);
}
