#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The arm64 guest's kernel: Debian's own linux-image-6.12 for arm64 (the one
# a Debian arm64 board installs), not a build of ours. Building a debug arm64
# kernel cost about 28 of CI's minutes cold; the amd64 guest's debug kernel
# (build-kernel.sh: KASAN, kmemleak, lockdep) runs the same module code.
# Prints the cache directory on its last line, laid out as build-kernel.sh's
# so run-vm.sh and stage_guest take either:
#
#   Image      Debian's vmlinuz
#   initrd     busybox and the 9p modules: Debian builds 9p as modules, so
#              this mounts the host root and switches to it (initrd-init.sh)
#   modroot/   the media modules the tests load, uncompressed, with
#              vicodec (Debian's arm64 config leaves it out) built from
#              linux-source-6.12 against this kernel, and depmod's index
#   build/     linux-source-6.12 prepared with Debian's .config and
#              Module.symvers for out-of-tree builds (modules_prepare), its
#              kernel.release Debian's: a module built here loads there
#
# The packages are fetched with `apt-get download` and unpacked, never
# installed. Keyed by the image version and this script's inputs.
set -euo pipefail
: "${DAEDALUS_CACHE:=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/daedalus}"
vm_dir=$(cd "$(dirname "$0")" && pwd)

# Debian's image of the same version as linux-source-6.12: the source the
# prepared tree is made of must be the source the image was built from.
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
abi=$(apt-cache show "linux-source-6.12=$srcver" | sed -n 's/^Version: \([0-9.]*\)-.*/\1/p' | head -1)
rel=$abi+deb12-arm64
key=$( {
	echo "$rel $srcver"
	cat "$0" "$vm_dir/initrd-init.sh"
} | sha256sum | cut -c1-16)
dir=$DAEDALUS_CACHE/kernel-arm64-debian-$key
if [ -f "$dir/COMPLETE" ]; then
	echo "debian-kernel: cached $rel" >&2
	echo "$dir"
	exit 0
fi

tools=$("$vm_dir/arm64-tools.sh" | tail -1)
. "$vm_dir/kernel-cache.sh"
kcache_locate arm64
rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/pkg" "$dir/build"
start=$(date +%s)
echo "debian-kernel: downloading linux-image-$rel and its headers ($srcver)" >&2
(cd "$dir/debs" && apt-get download -qq "linux-image-$rel:arm64=$srcver" \
	"linux-headers-$rel:arm64=$srcver") >&2 || {
	echo "debian-kernel: apt-get download failed: linux-image-$rel $srcver must be in" \
		"the archive beside linux-source-6.12 $srcver" >&2
	exit 1
}
for deb in "$dir"/debs/*.deb; do
	dpkg -x "$deb" "$dir/pkg"
done
rm -rf "$dir/debs"
pkg=$dir/pkg
hdr=$pkg/usr/src/linux-headers-$rel
mods=$pkg/lib/modules/$rel

# The kernel QEMU boots (Debian's arm64 vmlinuz is a raw Image).
file -b "$pkg/boot/vmlinuz-$rel" | grep -q '^Linux kernel ARM64 boot executable Image' || {
	echo "debian-kernel: vmlinuz-$rel is not an arm64 Image: $(file -b "$pkg/boot/vmlinuz-$rel")" >&2
	exit 1
}
mv "$pkg/boot/vmlinuz-$rel" "$dir/Image"

# The prepared tree, as DKMS would have it on the board.
if [ ! -f "$KSRC_DIR/Makefile" ]; then
	rm -rf "$KSRC_DIR.tmp"
	mkdir -p "$KSRC_DIR.tmp"
	tar -xaf /usr/src/linux-source-6.12.tar.xz -C "$KSRC_DIR.tmp" --strip-components=1
	rm -rf "$KSRC_DIR"
	mv "$KSRC_DIR.tmp" "$KSRC_DIR"
fi
mk=(make -C "$KSRC_DIR" O="$dir/build" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
	KERNELRELEASE="$rel")
cp "$hdr/.config" "$dir/build/.config"
"${mk[@]}" -s olddefconfig
"${mk[@]}" -s -j"$(($(nproc) + 1))" modules_prepare >"$dir/build/prepare.log" 2>&1 || {
	tail -40 "$dir/build/prepare.log" >&2
	exit 1
}
cp "$hdr/Module.symvers" "$dir/build/"
# Kconfig re-derives what depends on the host's tools; anything beyond
# these (e.g. BTF without pahole changes struct module) would build
# modules the kernel refuses.
tooling='^CONFIG_(CC_VERSION_TEXT|GCC_VERSION|AS_VERSION|LD_VERSION|RUSTC_[A-Z_]+|[A-Z0-9_]*COMPAT_VDSO)='
drift=$(diff <(grep '^CONFIG_' "$hdr/.config" | grep -Ev "$tooling" | sort) \
	<(grep '^CONFIG_' "$dir/build/.config" | grep -Ev "$tooling" | sort)) || {
	echo "debian-kernel: the prepared tree's configuration differs from Debian's:" >&2
	echo "$drift" >&2
	exit 1
}
[ "$(cat "$dir/build/include/config/kernel.release")" = "$rel" ] || {
	echo "debian-kernel: prepared tree says $(cat "$dir/build/include/config/kernel.release"), not $rel" >&2
	exit 1
}

# vicodec, the reference driver the compliance test compares with.
vicodec=$dir/build/vicodec
cp -r "$KSRC_DIR/drivers/media/test-drivers/vicodec" "$vicodec"
make -s -C "$dir/build" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- M="$vicodec" \
	CONFIG_VIDEO_VICODEC=m modules >"$vicodec.log" 2>&1 || {
	cat "$vicodec.log" >&2
	exit 1
}

# The modules the guests load, with everything they depend on, uncompressed
# (busybox's insmod takes no .xz).
depmod -b "$pkg" "$rel"
want="9p 9pnet_virtio videodev v4l2-mem2mem videobuf2-vmalloc videobuf2-dma-contig"
want+=" videobuf2-dma-sg vivid"
closure=$(for m in $want; do
	path=$(grep -E "(^|/)${m//-/[-_]}\.ko\.xz:" "$mods/modules.dep") || {
		echo "debian-kernel: no module $m in linux-image-$rel" >&2
		exit 1
	}
	echo "$path" | tr -d ':' | tr ' ' '\n'
done | sort -u)
modroot=$dir/modroot/lib/modules/$rel
for ko in $closure; do
	mkdir -p "$modroot/$(dirname "$ko")"
	xz -dc "$mods/$ko" >"$modroot/${ko%.xz}"
done
cp "$mods"/modules.order "$mods"/modules.builtin* "$modroot/"
mkdir -p "$modroot/extra"
cp "$vicodec/vicodec.ko" "$modroot/extra/"
depmod -b "$dir/modroot" "$rel"

# The initrd: a static busybox, the 9p modules and initrd-init.sh.
ird=$dir/initrd-root
mkdir -p "$ird/bin" "$ird/proc" "$ird/dev" "$ird/sys" "$ird/newroot" "$ird/lib/modules"
cp "$tools/root/bin/busybox" "$ird/bin/busybox"
ln -s busybox "$ird/bin/sh"
cp "$vm_dir/initrd-init.sh" "$ird/init"
chmod 755 "$ird/init"
cp -r "$dir/modroot/lib/modules/$rel" "$ird/lib/modules/"
rm -rf "$ird/lib/modules/$rel/kernel/drivers/media" "$ird/lib/modules/$rel/extra"
depmod -b "$ird" "$rel"
(cd "$ird" && find . | cpio -o -H newc --quiet) | gzip -1 >"$dir/initrd"
rm -rf "$ird" "$pkg/lib/modules"
echo "debian-kernel: $rel ready in $(($(date +%s) - start)) s" >&2
touch "$dir/COMPLETE"
echo "$dir"
