/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daedalus-v4l2: the media controller device, which tells userspace (and
 * v4l2-compliance) that the node is a video decoder entity. Without
 * CONFIG_MEDIA_CONTROLLER these are no-ops.
 */
#ifndef _DDV_MEDIA_H
#define _DDV_MEDIA_H

#include "ddv_v4l2.h"

#ifdef CONFIG_MEDIA_CONTROLLER
int ddv_media_init(struct ddv_dev *dev);
void ddv_media_exit(struct ddv_dev *dev);
#else
static inline int ddv_media_init(struct ddv_dev *dev) { return 0; }
static inline void ddv_media_exit(struct ddv_dev *dev) { }
#endif

#endif /* _DDV_MEDIA_H */
