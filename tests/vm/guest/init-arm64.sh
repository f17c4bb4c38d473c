# SPDX-License-Identifier: BSD-2-Clause
#
# PID 1 of the arm64 guest, run as `busybox sh init-arm64.sh` (run-vm.sh
# passes the static arm64 busybox of tests/vm/arm64-tools.sh as init=). The
# host root's programs are x86-64, so the guest's shell and tools are
# busybox applets, linked into a tmpfs (busybox --install writes absolute
# links, and the host root is read-only), then the unpacked arm64 ffmpeg and
# v4l2-compliance; our own programs come staged for aarch64. The rest is
# init.sh, as on x86-64.
bb=$DDV_TOOLS/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t tmpfs tmpfs /run
$bb mkdir -p /run/bin
$bb cp "$bb" /run/bin/busybox
/run/bin/busybox --install -s /run/bin
export PATH=/run/bin:$DDV_TOOLS/usr/bin DDV_BUSYBOX=1 DDV_PROC_MOUNTED=1
exec sh "${0%/*}/init.sh"
