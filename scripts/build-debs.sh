#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Builds the Debian packages of daedalus-v4l2 with dpkg-deb:
#   daedalus-dkms_<version>_all.deb   the module's source for DKMS, its
#                                     udev rules and modules-load.d entry
#   daedalusd_<version>_<arch>.deb    daedalusd, daedalusctl, the systemd
#                                     unit, sysusers entry and docs
#
#   scripts/build-debs.sh OUTDIR [amd64|arm64]
#
# The binaries come from Bazel (--config=aarch64 for arm64) unless
# DAEDALUSD_BIN and DAEDALUSCTL_BIN name them (the packaging test does).
set -euo pipefail
out=${1:?usage: build-debs.sh OUTDIR [amd64|arm64]}
arch=${2:-$(dpkg --print-architecture)}
repo=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/.*kVersion\[\] = "\(.*\)";/\1/p' "$repo/daemon/version.h")
kversion=$(sed -n 's/^#define DDV_MODULE_VERSION\t"\(.*\)"/\1/p' "$repo/kernel/ddv.h")
[ "$version" = "$kversion" ] || { echo "build-debs: daemon $version != module $kversion" >&2; exit 1; }

if [ -z "${DAEDALUSD_BIN:-}" ]; then
	. "$repo/scripts/lib.sh"
	config=()
	[ "$arch" = arm64 ] && config=(--config=aarch64)
	bazel_run build "${config[@]}" //daemon:daedalusd //cli:daedalusctl
	bin=$(bazel_bin "${config[@]}")
	DAEDALUSD_BIN=$bin/daemon/daedalusd
	DAEDALUSCTL_BIN=$bin/cli/daedalusctl
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# --- daedalus-dkms ----------------------------------------------------------
root=$work/dkms
src=$root/usr/src/daedalus-v4l2-$version
mkdir -p "$src/include/uapi/linux" "$root/usr/lib/modules-load.d" "$root/lib/udev/rules.d" \
	"$root/DEBIAN" "$root/usr/share/doc/daedalus-dkms"
cp "$repo"/kernel/{Makefile,Kbuild} "$repo"/kernel/ddv*.[ch] "$src/"
cp "$repo/kernel/include/uapi/linux/daedalus-v4l2.h" "$src/include/uapi/linux/"
sed "s/@VERSION@/$version/" "$repo/kernel/dkms.conf" >"$src/dkms.conf"
cp "$repo/kernel/modules-load/daedalus-v4l2.conf" "$root/usr/lib/modules-load.d/"
cp "$repo/kernel/udev/60-daedalus-v4l2.rules" "$root/lib/udev/rules.d/"
cp "$repo/docs/decoder.md" "$root/usr/share/doc/daedalus-dkms/"
cat >"$root/DEBIAN/control" <<CTL
Package: daedalus-dkms
Version: $version
Architecture: all
Section: kernel
Priority: optional
Maintainer: daedalus-v4l2 developers <daedalus@localhost>
Depends: dkms (>= 2.8), adduser
Recommends: daedalusd (= $version)
Description: V4L2 video decoder for boards without one (kernel module, DKMS)
 The daedalus-v4l2 kernel module offers a V4L2 memory-to-memory stateful
 H.264, HEVC, VP8, VP9 and AV1 decoder (/dev/video-dec*) to every V4L2
 client and hands the work to daedalusd. DKMS rebuilds it for each
 installed kernel; it is loaded at boot. The kernel needs
 CONFIG_V4L2_MEM2MEM_DEV (Raspberry Pi OS and Debian arm64 kernels have it).
CTL
cat >"$root/DEBIAN/postinst" <<SH
#!/bin/sh
set -e
if [ "\$1" = configure ]; then
	getent group daedalus >/dev/null || addgroup --system daedalus
	dkms add -m daedalus-v4l2 -v $version >/dev/null 2>&1 || true
	# Build for every installed kernel that has headers; say so if none.
	for k in /lib/modules/*; do
		k=\${k##*/}
		[ -d "/lib/modules/\$k/build" ] || continue
		dkms install -m daedalus-v4l2 -v $version -k "\$k" ||
			echo "daedalus-dkms: could not build for \$k (see /var/lib/dkms/daedalus-v4l2/$version/build/make.log)" >&2
	done
	if [ -d /run/udev ]; then udevadm control --reload-rules || true; fi
	modprobe daedalus-v4l2 2>/dev/null || true
fi
SH
cat >"$root/DEBIAN/prerm" <<SH
#!/bin/sh
set -e
if [ "\$1" = remove ] || [ "\$1" = upgrade ]; then
	rmmod daedalus_v4l2 2>/dev/null || true
	dkms remove -m daedalus-v4l2 -v $version --all >/dev/null 2>&1 || true
fi
SH
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/daedalus-dkms_${version}_all.deb" >/dev/null

# --- daedalusd --------------------------------------------------------------
root=$work/daemon
doc=$root/usr/share/doc/daedalusd
mkdir -p "$root/usr/sbin" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/lib/sysusers.d" \
	"$root/etc/default" "$doc/monitoring" "$root/DEBIAN"
install -m 0755 "$DAEDALUSD_BIN" "$root/usr/sbin/daedalusd"
install -m 0755 "$DAEDALUSCTL_BIN" "$root/usr/bin/daedalusctl"
install -m 0644 "$repo/daemon/systemd/daedalusd.service" "$root/lib/systemd/system/"
install -m 0644 "$repo/daemon/systemd/daedalus.sysusers" "$root/usr/lib/sysusers.d/daedalus.conf"
install -m 0644 "$repo/daemon/systemd/daedalusd.default" "$root/etc/default/daedalusd"
install -m 0644 "$repo/README.md" "$repo"/docs/{operations,monitoring,protocol}.md "$doc/"
install -m 0644 "$repo"/docs/monitoring/* "$doc/monitoring/"
echo /etc/default/daedalusd >"$root/DEBIAN/conffiles"
# Library dependencies as dpkg-shlibdeps finds them for this architecture.
deps=$(cd "$work" && mkdir -p debian && printf 'Source: daedalusd\n\nPackage: daedalusd\nArchitecture: any\n' >debian/control &&
	dpkg-shlibdeps -O ${arch:+-l/usr/lib/$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)} \
		"$root/usr/sbin/daedalusd" "$root/usr/bin/daedalusctl" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$deps" ] || { echo "build-debs: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
cat >"$root/DEBIAN/control" <<CTL
Package: daedalusd
Version: $version
Architecture: $arch
Section: video
Priority: optional
Maintainer: daedalus-v4l2 developers <daedalus@localhost>
Depends: $deps, adduser
Recommends: daedalus-dkms (= $version)
Description: V4L2 video decoder for boards without one (daemon and CLI)
 daedalusd decodes the jobs of the daedalus-v4l2 kernel module with
 FFmpeg's libavcodec and serves a gRPC control plane and Prometheus
 metrics; daedalusctl shows status, statistics and kernel round trips of
 one board or a fleet.
CTL
cat >"$root/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	if command -v systemd-sysusers >/dev/null; then
		systemd-sysusers daedalus.conf
	else
		getent group daedalus >/dev/null || addgroup --system daedalus
		getent passwd daedalus >/dev/null ||
			adduser --system --ingroup daedalus --no-create-home --home /nonexistent daedalus
	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload
		systemctl enable daedalusd.service >/dev/null
		systemctl restart daedalusd.service || true
	fi
fi
SH
cat >"$root/DEBIAN/prerm" <<'SH'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
	systemctl disable --now daedalusd.service >/dev/null || true
fi
SH
cat >"$root/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
SH
chmod 0755 "$root"/DEBIAN/{postinst,prerm,postrm}
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/daedalusd_${version}_${arch}.deb" >/dev/null
echo "build-debs: $out/daedalus-dkms_${version}_all.deb $out/daedalusd_${version}_${arch}.deb"
