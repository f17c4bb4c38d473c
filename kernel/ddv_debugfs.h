/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daedalus-v4l2: optional debugfs files (v0 test trigger, counters).
 * Without CONFIG_DEBUG_FS these are no-ops and the module works the same.
 */
#ifndef _DDV_DEBUGFS_H
#define _DDV_DEBUGFS_H

#include "ddv.h"

#ifdef CONFIG_DEBUG_FS
void ddv_debugfs_init(struct ddv_bridge *br);
void ddv_debugfs_exit(struct ddv_bridge *br);
#else
static inline void ddv_debugfs_init(struct ddv_bridge *br) { }
static inline void ddv_debugfs_exit(struct ddv_bridge *br) { }
#endif

#endif /* _DDV_DEBUGFS_H */
