// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: module load and unload.
 *
 * The module hands work to a userspace daemon (daedalusd) through the
 * /dev/daedalus-v4l2 chardev; see docs/protocol.md.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>

#include "ddv.h"
#include "ddv_debugfs.h"
#include "ddv_v4l2.h"

static struct ddv_bridge *ddv_bridge;

static int __init ddv_init(void)
{
	struct ddv_bridge *br;
	int ret;

	br = kzalloc(sizeof(*br), GFP_KERNEL);
	if (!br)
		return -ENOMEM;
	ddv_bridge_init(br);
	ret = ddv_v4l2_init(br);
	if (ret)
		goto err_exit_bridge;
	/* Last: a daemon can attach from here on (see ddv_bridge_register()). */
	ret = ddv_bridge_register(br);
	if (ret)
		goto err_exit_v4l2;
	ddv_debugfs_init(br);
	ddv_bridge = br;
	pr_info("version %s, protocol %u, /dev/%s\n", DDV_MODULE_VERSION, DDV_PROTO_VERSION,
		DDV_DEVICE_NAME);
	return 0;

err_exit_v4l2:
	ddv_v4l2_exit(br);
err_exit_bridge:
	ddv_bridge_exit(br);
	kfree(br);
	return ret;
}

/* The chardev goes first: no daemon can reach the node while it goes. */
static void __exit ddv_exit(void)
{
	ddv_debugfs_exit(ddv_bridge);
	ddv_bridge_unregister(ddv_bridge);
	ddv_v4l2_exit(ddv_bridge);
	ddv_bridge_exit(ddv_bridge);
	kfree(ddv_bridge);
}

module_init(ddv_init);
module_exit(ddv_exit);

MODULE_DESCRIPTION("V4L2 stateful decoder (H.264, HEVC, VP8, VP9, AV1) backed by a userspace daemon");
MODULE_AUTHOR("daedalus-v4l2 developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(DDV_MODULE_VERSION);
