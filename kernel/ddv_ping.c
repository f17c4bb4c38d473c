// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: kernel-originated PINGs and their measured round trips.
 *
 * A PING goes through the same FIFO as real work, so its round trip shows
 * what a request waits for right now: the queue ahead of it and the daemon.
 * The clock starts when the PING is queued and stops when its PONG is
 * written back. PINGs that get no PONG within ping_timeout_ms expire.
 */
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "ddv.h"
#include "ddv_ping.h"

static unsigned int ping_timeout_ms = 5000;
module_param(ping_timeout_ms, uint, 0644);
MODULE_PARM_DESC(ping_timeout_ms, "milliseconds a PING waits for its PONG (default 5000)");

/**
 * struct ddv_ping - a PING waiting for its PONG
 * @node: link in &ddv_bridge.pings
 * @cookie: cookie of the PING
 * @queued_ns: ktime_get_ns() when the PING was queued
 * @result: PING_RESULT to queue when done (its FIFO slot is reserved), or
 *	NULL for a test-trigger PING that nobody waits for
 */
struct ddv_ping {
	struct list_head node;
	u32 cookie;
	u64 queued_ns;
	struct ddv_msg *result;
};

static const u8 ddv_ping_payload[DDV_PING_PAYLOAD_LEN] = DDV_PING_PAYLOAD;

static struct ddv_ping *ddv_ping_find(struct ddv_bridge *br, u32 cookie)
{
	struct ddv_ping *ping;

	list_for_each_entry(ping, &br->pings, node)
		if (ping->cookie == cookie)
			return ping;
	return NULL;
}

/*
 * Ends an outstanding PING: queues its result, if someone waits for one,
 * into the slot reserved for it, and frees the entry.
 */
static void ddv_ping_finish(struct ddv_bridge *br, struct ddv_ping *ping, u32 status, u64 rtt_ns)
{
	struct ddv_ping_result *res;

	lockdep_assert_held(&br->lock);
	list_del(&ping->node);
	br->npings--;
	if (ping->result) {
		res = (struct ddv_ping_result *)(ping->result->data +
						 sizeof(struct ddv_msg_header));
		res->ping_cookie = ping->cookie;
		res->status = status;
		res->rtt_ns = rtt_ns;
		br->reserved--;
		ddv_fifo_push(br, ping->result);
	}
	kfree(ping);
}

/* Runs the timeout work when the oldest outstanding PING expires. */
static void ddv_ping_arm_timeout(struct ddv_bridge *br, u64 now)
{
	u64 timeout_ns = (u64)READ_ONCE(ping_timeout_ms) * NSEC_PER_MSEC;
	struct ddv_ping *oldest;
	u64 left = 0;

	lockdep_assert_held(&br->lock);
	oldest = list_first_entry_or_null(&br->pings, struct ddv_ping, node);
	if (!oldest)
		return;
	if (now - oldest->queued_ns < timeout_ns)
		left = timeout_ns - (now - oldest->queued_ns);
	mod_delayed_work(system_wq, &br->ping_timeout, nsecs_to_jiffies(left) + 1);
}

static void ddv_ping_timeout_work(struct work_struct *work)
{
	struct ddv_bridge *br = container_of(to_delayed_work(work), struct ddv_bridge,
					     ping_timeout);
	u64 timeout_ns = (u64)READ_ONCE(ping_timeout_ms) * NSEC_PER_MSEC;
	u64 now = ktime_get_ns();
	struct ddv_ping *ping, *tmp;

	mutex_lock(&br->lock);
	list_for_each_entry_safe(ping, tmp, &br->pings, node) {
		if (now - ping->queued_ns < timeout_ns)
			break;	/* the list is oldest first */
		br->stats.pings_timed_out++;
		ddv_ping_finish(br, ping, ETIMEDOUT, now - ping->queued_ns);
	}
	ddv_ping_arm_timeout(br, now);
	mutex_unlock(&br->lock);
}

/**
 * ddv_ping_init() - set up the outstanding-PING list of a bridge
 * @br: the bridge
 */
void ddv_ping_init(struct ddv_bridge *br)
{
	INIT_LIST_HEAD(&br->pings);
	INIT_DELAYED_WORK(&br->ping_timeout, ddv_ping_timeout_work);
	br->next_cookie = 1;
}

/**
 * ddv_ping_send() - queue a PING for the daemon
 * @br: the bridge
 * @cookie: cookie for the PING; must not be outstanding
 * @injected: the daemon asked for it and waits for a PING_RESULT
 * @inject_cookie: cookie of the PING_INJECT, used when @injected
 *
 * Context: @br->lock held; may sleep.
 * Return: 0; -EBUSY when DDV_MAX_PINGS are outstanding or @cookie is;
 * -ENOBUFS when the FIFO is full; -ENOMEM.
 */
int ddv_ping_send(struct ddv_bridge *br, u32 cookie, bool injected, u32 inject_cookie)
{
	unsigned int slots = injected ? 2 : 1;
	struct ddv_ping *ping;
	struct ddv_msg *msg;

	lockdep_assert_held(&br->lock);
	if (br->npings >= DDV_MAX_PINGS || ddv_ping_find(br, cookie))
		return -EBUSY;
	if (!ddv_fifo_has_room(br, slots)) {
		br->stats.err_fifo_full++;
		return -ENOBUFS;
	}

	ping = kzalloc(sizeof(*ping), GFP_KERNEL);
	if (!ping)
		return -ENOMEM;
	msg = ddv_msg_alloc(DDV_MSG_PING, cookie, ddv_ping_payload, sizeof(ddv_ping_payload));
	if (!msg)
		goto err_free_ping;
	if (injected) {
		ping->result = ddv_msg_alloc(DDV_MSG_PING_RESULT, inject_cookie, NULL,
					     sizeof(struct ddv_ping_result));
		if (!ping->result)
			goto err_free_msg;
		br->reserved++;
	}

	ping->cookie = cookie;
	ping->queued_ns = ktime_get_ns();
	list_add_tail(&ping->node, &br->pings);
	br->npings++;
	br->stats.pings_sent++;
	ddv_fifo_push(br, msg);
	/* A newer PING never expires before the oldest one. */
	if (br->npings == 1)
		ddv_ping_arm_timeout(br, ping->queued_ns);
	return 0;

err_free_msg:
	kvfree(msg);
err_free_ping:
	kfree(ping);
	return -ENOMEM;
}

/**
 * ddv_ping_inject() - answer a PING_INJECT: queue a PING with a fresh cookie
 * @br: the bridge
 * @inject_cookie: cookie of the PING_INJECT; its PING_RESULT carries it
 *
 * Context: @br->lock held; may sleep.
 * Return: as ddv_ping_send().
 */
int ddv_ping_inject(struct ddv_bridge *br, u32 inject_cookie)
{
	u32 cookie = br->next_cookie;

	lockdep_assert_held(&br->lock);
	/* At most DDV_MAX_PINGS are in use, so this ends quickly. */
	while (cookie == DDV_TEST_PING_COOKIE || ddv_ping_find(br, cookie))
		cookie++;
	br->next_cookie = cookie + 1;
	return ddv_ping_send(br, cookie, true, inject_cookie);
}

/**
 * ddv_ping_complete() - a PONG arrived: stop the clock of its PING
 * @br: the bridge
 * @cookie: cookie of the PONG
 * @payload: payload of the PONG, which must echo the PING's
 * @len: length of @payload
 *
 * Context: @br->lock held.
 * Return: 0; -ENOENT when no PING with @cookie is outstanding; -EINVAL when
 * the payload is not the PING's.
 */
int ddv_ping_complete(struct ddv_bridge *br, u32 cookie, const void *payload, u32 len)
{
	struct ddv_ping *ping;

	lockdep_assert_held(&br->lock);
	ping = ddv_ping_find(br, cookie);
	if (!ping) {
		br->stats.err_unmatched_pong++;
		return -ENOENT;
	}
	if (len != sizeof(ddv_ping_payload) || memcmp(payload, ddv_ping_payload, len)) {
		br->stats.err_bad_payload++;
		return -EINVAL;
	}
	br->stats.pongs_matched++;
	ddv_ping_finish(br, ping, 0, ktime_get_ns() - ping->queued_ns);
	return 0;
}

/**
 * ddv_ping_cancel_all() - forget every outstanding PING (the daemon left)
 * @br: the bridge
 *
 * Their reserved results are freed, not queued: nobody is left to read them.
 * The caller then waits for the timeout work with ddv_ping_flush_work().
 *
 * Context: @br->lock held.
 */
void ddv_ping_cancel_all(struct ddv_bridge *br)
{
	struct ddv_ping *ping, *tmp;

	lockdep_assert_held(&br->lock);
	list_for_each_entry_safe(ping, tmp, &br->pings, node) {
		list_del(&ping->node);
		kvfree(ping->result);
		kfree(ping);
	}
	br->npings = 0;
	br->reserved = 0;
}

/**
 * ddv_ping_flush_work() - wait until the timeout work is idle
 * @br: the bridge, with no PING outstanding
 *
 * Context: process context, may sleep; @br->lock NOT held (the work takes it).
 */
void ddv_ping_flush_work(struct ddv_bridge *br)
{
	cancel_delayed_work_sync(&br->ping_timeout);
}
