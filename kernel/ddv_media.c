// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: media controller registration of the decoder node.
 */
#include <linux/platform_device.h>
#include <media/media-device.h>

#include "ddv_media.h"

/**
 * ddv_media_init() - register the media device with a decoder entity
 * @dev: the decoder device; its video device is registered already
 *
 * Return: 0 or a negative errno; on error nothing is left registered.
 */
int ddv_media_init(struct ddv_dev *dev)
{
	int ret;

	dev->mdev.dev = &dev->pdev->dev;
	/* The parent has no driver: name everything the core would take from it. */
	strscpy(dev->mdev.driver_name, "daedalus-v4l2", sizeof(dev->mdev.driver_name));
	strscpy(dev->mdev.model, "daedalus-v4l2", sizeof(dev->mdev.model));
	strscpy(dev->mdev.bus_info, "platform:daedalus-v4l2", sizeof(dev->mdev.bus_info));
	media_device_init(&dev->mdev);
	dev->v4l2_dev.mdev = &dev->mdev;

	ret = v4l2_m2m_register_media_controller(dev->m2m_dev, &dev->vfd,
						 MEDIA_ENT_F_PROC_VIDEO_DECODER);
	if (ret)
		goto err_cleanup;
	ret = media_device_register(&dev->mdev);
	if (ret)
		goto err_unregister_m2m;
	return 0;

err_unregister_m2m:
	v4l2_m2m_unregister_media_controller(dev->m2m_dev);
err_cleanup:
	media_device_cleanup(&dev->mdev);
	dev->v4l2_dev.mdev = NULL;
	return ret;
}

/**
 * ddv_media_exit() - unregister what ddv_media_init() registered
 * @dev: the decoder device
 */
void ddv_media_exit(struct ddv_dev *dev)
{
	if (!dev->v4l2_dev.mdev)
		return;
	media_device_unregister(&dev->mdev);
	v4l2_m2m_unregister_media_controller(dev->m2m_dev);
	media_device_cleanup(&dev->mdev);
}
