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
	ret = ddv_bridge_init(br);
	if (ret)
		goto err_free_bridge;
	ret = ddv_v4l2_init(br);
	if (ret)
		goto err_exit_bridge;
	ddv_debugfs_init(br);
	ddv_bridge = br;
	pr_info("version %s, protocol %u, /dev/%s\n", DDV_MODULE_VERSION, DDV_PROTO_VERSION,
		DDV_DEVICE_NAME);
	return 0;

err_exit_bridge:
	ddv_bridge_exit(br);
err_free_bridge:
	kfree(br);
	return ret;
}

static void __exit ddv_exit(void)
{
	ddv_debugfs_exit(ddv_bridge);
	ddv_v4l2_exit(ddv_bridge);
	ddv_bridge_exit(ddv_bridge);
	kfree(ddv_bridge);
}

module_init(ddv_init);
module_exit(ddv_exit);

MODULE_DESCRIPTION("VP9 V4L2 decoder backed by a userspace daemon");
MODULE_AUTHOR("daedalus-v4l2 developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(DDV_MODULE_VERSION);
