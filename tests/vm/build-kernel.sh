#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Builds the x86-64 test kernel (Debian's linux-source-6.12 with the fragments
# in configs/) and caches it outside the checkout. Prints the cache directory
# on its last line. A cached kernel is reused; a partial build never counts
# as cached (the COMPLETE stamp is written last).
#
# Layout of the cache directory:
#   bzImage, modroot/lib/modules/<release>/, build/ (O= tree for M= builds)
set -euo pipefail
. "$(dirname "$0")/kernel-cache.sh"
# DDV_KERNEL_ARCH=arm64 cross-builds the arm64 kernel instead.
arch=${DDV_KERNEL_ARCH:-x86_64}
kcache_locate "$arch"
case $arch in
x86_64) cross=() cc=gcc image=arch/x86/boot/bzImage target=bzImage ;;
arm64) cross=(CROSS_COMPILE=aarch64-linux-gnu-) cc=aarch64-linux-gnu-gcc image=arch/arm64/boot/Image target=Image ;;
esac
jobs=${JOBS:-$(($(nproc) + 1))}

if [ -f "$KCACHE_DIR/COMPLETE" ]; then
	echo "build-kernel: cached $(cat "$KCACHE_DIR/build/include/config/kernel.release")" >&2
	echo "$KCACHE_DIR"
	exit 0
fi

if [ ! -f "$KSRC_DIR/Makefile" ]; then
	echo "build-kernel: unpacking linux-source-6.12 to $KSRC_DIR" >&2
	rm -rf "$KSRC_DIR.tmp"
	mkdir -p "$KSRC_DIR.tmp"
	tar -xaf /usr/src/linux-source-6.12.tar.xz -C "$KSRC_DIR.tmp" --strip-components=1
	rm -rf "$KSRC_DIR"
	mv "$KSRC_DIR.tmp" "$KSRC_DIR"
fi

out=$KCACHE_DIR/build
frags=$KCACHE_FRAGS
export CCACHE_DIR=$DAEDALUS_CACHE/ccache CCACHE_BASEDIR=$KSRC_DIR CCACHE_MAXSIZE=5G
export KBUILD_BUILD_TIMESTAMP=2024-01-01 KBUILD_BUILD_USER=ci KBUILD_BUILD_HOST=ci
mk=(make -C "$KSRC_DIR" O="$out" ARCH="$arch" "${cross[@]}")

rm -rf "$KCACHE_DIR"
mkdir -p "$out"
"${mk[@]}" -s tinyconfig >/dev/null
"$KSRC_DIR/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" $frags >/dev/null
"${mk[@]}" -s olddefconfig

# A requested option that olddefconfig dropped (unmet dependency) would make
# the VM test silently weaker: refuse to build.
bad=0
while IFS= read -r line; do
	key=${line%%=*}
	val=${line#*=}
	if [ "$val" = n ]; then
		grep -q "^$key=" "$out/.config" && { echo "build-kernel: $key not disabled" >&2; bad=1; }
	else
		grep -qx "$line" "$out/.config" || { echo "build-kernel: lost $line" >&2; bad=1; }
	fi
done < <(grep -hE '^CONFIG_[A-Za-z0-9_]+=' $frags)
[ $bad -eq 0 ] || exit 1

start=$(date +%s)
echo "build-kernel: building (jobs=$jobs, log $out/build.log)" >&2
if ! "${mk[@]}" CC="ccache $cc" HOSTCC="ccache gcc" -j"$jobs" "$target" modules \
	>"$out/build.log" 2>&1; then
	tail -40 "$out/build.log" >&2
	exit 1
fi
"${mk[@]}" -s INSTALL_MOD_PATH="$KCACHE_DIR/modroot" modules_install >/dev/null
rm -f "$KCACHE_DIR"/modroot/lib/modules/*/build "$KCACHE_DIR"/modroot/lib/modules/*/source
cp "$out/$image" "$KCACHE_DIR/${image##*/}"
echo "build-kernel: built $(cat "$out/include/config/kernel.release") in $(($(date +%s) - start)) s" >&2
touch "$KCACHE_DIR/COMPLETE"
echo "$KCACHE_DIR"
