/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daedalus-v4l2: kernel-originated PINGs and their measured round trips.
 */
#ifndef _DDV_PING_H
#define _DDV_PING_H

#include "ddv.h"

/* Cookie and payload of the debugfs test_ping trigger. */
#define DDV_TEST_PING_COOKIE	0x1234
#define DDV_PING_PAYLOAD	"DAEDALUS-V4L2-PING-PL"
#define DDV_PING_PAYLOAD_LEN	24
/* PINGs awaiting their PONG; more are refused with EBUSY. */
#define DDV_MAX_PINGS		16

void ddv_ping_init(struct ddv_bridge *br);
int ddv_ping_send(struct ddv_bridge *br, u32 cookie, bool injected, u32 inject_cookie);
int ddv_ping_inject(struct ddv_bridge *br, u32 inject_cookie);
int ddv_ping_complete(struct ddv_bridge *br, u32 cookie, const void *payload, u32 len);
void ddv_ping_cancel_all(struct ddv_bridge *br);
void ddv_ping_flush_work(struct ddv_bridge *br);

#endif /* _DDV_PING_H */
