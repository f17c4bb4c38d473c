#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# /init of the initrd debian-kernel.sh makes: Debian's kernel has 9p as
# modules, so this loads them, mounts the host root the way run-vm.sh's
# root= asks, and hands over to the init= of the kernel command line with
# init's arguments (what followed "--") and environment unchanged.
export PATH=/bin
busybox mount -t proc proc /proc
busybox mount -t devtmpfs devtmpfs /dev
busybox modprobe 9pnet_virtio && busybox modprobe 9p || {
	echo "initrd: loading the 9p modules failed"
	busybox poweroff -f
}
next=
for arg in $(busybox cat /proc/cmdline); do
	case $arg in
	init=*) next=${arg#init=} ;;
	esac
done
busybox mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,msize=262144,ro \
	root /newroot || {
	echo "initrd: mounting the host root over 9p failed"
	busybox poweroff -f
}
busybox umount /dev
busybox umount /proc
exec busybox switch_root /newroot "${next:-/sbin/init}" "$@"
