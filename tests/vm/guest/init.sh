#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# PID 1 of the test guest: the host root is mounted read-only over 9p.
# Sets up the pseudo filesystems, mounts the stage, modroot and out shares,
# runs $STAGE/guest/$DDV_SCRIPT.sh and powers off. The arm64 guest comes
# here through init-arm64.sh, with busybox's tools already on PATH.
if [ -z "${DDV_BUSYBOX:-}" ]; then
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
fi
export HOME=/tmp TERM=dumb
# The guest's own procfs, always: the root is the host's over 9p, so /proc
# exists there already (the host's, whose files read back empty) and says
# nothing about whether this guest has mounted its own. init-arm64.sh has
# (busybox needs it) and says so.
[ -n "${DDV_PROC_MOUNTED:-}" ] || mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
grep -q " /run " /proc/mounts || mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/tmp
mount -t debugfs debugfs /sys/kernel/debug
ip link set lo up 2>/dev/null
mkdir -p /run/stage /run/modroot /run/out
opts=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$opts,ro,cache=loose" stage /run/stage
mount -t 9p -o "$opts,ro,cache=loose" modroot /run/modroot
mount -t 9p -o "$opts" out /run/out
# The test kernel's modules where modprobe looks (busybox's has no -d).
mount --bind /run/modroot/lib/modules /lib/modules
export STAGE=/run/stage MODROOT=/run/modroot OUT=/run/out
echo "guest: init at $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r) $(uname -m), script $DDV_SCRIPT"
sh "$STAGE/guest/$DDV_SCRIPT.sh"
echo "guest: script exited $? at $(cut -d' ' -f1 /proc/uptime)s"
sync
umount /run/out 2>/dev/null
echo b >/proc/sysrq-trigger
