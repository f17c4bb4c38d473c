#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Shared by the VM scripts: where the test kernel for an architecture lives
# in the cache. Sourced, not run. Sets KCACHE_KEY and KCACHE_DIR.
#
# The key covers everything that changes the built kernel: the Debian
# linux-source package version, the config fragments and the build script.

: "${DAEDALUS_CACHE:=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/daedalus}"
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# kcache_locate ARCH (x86_64 or arm64; arm64 is always the debug kernel:
# the arm64 guest gates on the same reports). For x86_64, DDV_KERNEL_FLAVOUR
# picks the configuration: "debug" (the default, for the
# tests: KASAN, kmemleak, lockdep) or "release" (base.config and
# release.config, for the benchmark: the kernel a board runs).
# KCACHE_FRAGS lists its fragments.
kcache_locate() {
	local arch=$1 srcver flavour=${DDV_KERNEL_FLAVOUR:-debug}
	srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	case $arch/$flavour in
	x86_64/debug) KCACHE_FRAGS="$VM_DIR/configs/base.config $VM_DIR/configs/debug.config" ;;
	x86_64/release) KCACHE_FRAGS="$VM_DIR/configs/base.config $VM_DIR/configs/release.config" ;;
	arm64/*) KCACHE_FRAGS="$VM_DIR/configs/arm64.config $VM_DIR/configs/debug.config" flavour=debug ;;
	*) echo "kernel-cache: no kernel for $arch/$flavour" >&2; return 1 ;;
	esac
	KCACHE_KEY=$( {
		echo "$arch $srcver"
		# shellcheck disable=SC2086
		cat $KCACHE_FRAGS "$VM_DIR/build-kernel.sh"
	} | sha256sum | cut -c1-16)
	[ "$flavour" = debug ] || KCACHE_KEY=$flavour-$KCACHE_KEY
	KCACHE_DIR=$DAEDALUS_CACHE/kernel-$arch-$KCACHE_KEY
	KSRC_DIR=$DAEDALUS_CACHE/src/linux-source-6.12-$srcver
}
