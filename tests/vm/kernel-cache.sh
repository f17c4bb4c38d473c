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

kcache_locate() {
	local arch=$1 srcver
	srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	KCACHE_KEY=$( {
		echo "$arch $srcver"
		cat "$VM_DIR/configs/base.config" "$VM_DIR/configs/debug.config" \
			"$VM_DIR/build-kernel.sh"
	} | sha256sum | cut -c1-16)
	KCACHE_DIR=$DAEDALUS_CACHE/kernel-$arch-$KCACHE_KEY
	KSRC_DIR=$DAEDALUS_CACHE/src/linux-source-6.12-$srcver
}
