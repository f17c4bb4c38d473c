#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# packaging_check.sh DEBDIR KERNEL_BUILD_DIR STAGE: checks the Debian
# packages scripts/build-debs.sh made, then prepares what the guest's
# package.sh installs:
#   - each package's file list (dpkg-deb -c) and control fields;
#   - the systemd unit passes `systemd-analyze verify` (with ExecStart
#     pointed at the packaged binary, unpacked here);
#   - DKMS builds the module from the packaged source (its own dkms.conf,
#     a private DKMS tree) against the test kernel;
#   - STAGE/pkg gets the unpacked daedalusd package and the DKMS-built .ko.
# Ends with "N passed, N failed".
set -uo pipefail
debs=$1 kbuild=$2 stage=$3
passed=0 failed=0
check() {  # check DESC CMD...
	local desc=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "pkg-ok:   $desc"
	else
		failed=$((failed + 1))
		echo "pkg-FAIL: $desc"
	fi
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dkms_deb=$(ls "$debs"/daedalus-dkms_*_all.deb 2>/dev/null | head -1)
daemon_deb=$(ls "$debs"/daedalusd_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -1)
check "both packages were built" test -f "$dkms_deb" -a -f "$daemon_deb"
version=$(dpkg-deb -f "$daemon_deb" Version)

has() {  # has DEB PATH...: every PATH is in the package
	local list p
	list=$(dpkg-deb -c "$1" | awk '{print $6}')
	shift
	for p in "$@"; do
		grep -qx "./$p" <<<"$list" || { echo "    missing: $p"; return 1; }
	done
}
check "daedalus-dkms holds the module source, dkms.conf, udev rule, modules-load entry" \
	has "$dkms_deb" "usr/src/daedalus-v4l2-$version/dkms.conf" \
	"usr/src/daedalus-v4l2-$version/Makefile" "usr/src/daedalus-v4l2-$version/Kbuild" \
	"usr/src/daedalus-v4l2-$version/ddv_main.c" "usr/src/daedalus-v4l2-$version/ddv_job.c" \
	"usr/src/daedalus-v4l2-$version/include/uapi/linux/daedalus-v4l2.h" \
	lib/udev/rules.d/60-daedalus-v4l2.rules usr/lib/modules-load.d/daedalus-v4l2.conf
check "daedalusd holds the binaries, unit, sysusers entry, defaults and docs" \
	has "$daemon_deb" usr/sbin/daedalusd usr/bin/daedalusctl lib/systemd/system/daedalusd.service \
	usr/lib/sysusers.d/daedalus.conf etc/default/daedalusd usr/share/doc/daedalusd/monitoring.md \
	usr/share/doc/daedalusd/monitoring/grafana-dashboard.json
check "daedalus-dkms depends on dkms and is Architecture: all" \
	test "$(dpkg-deb -f "$dkms_deb" Architecture)" = all -a \
	-n "$(dpkg-deb -f "$dkms_deb" Depends | grep -o 'dkms')"
check "daedalusd depends on the libraries it links (libavcodec, gRPC, prometheus-cpp)" \
	bash -c "dpkg-deb -f '$daemon_deb' Depends | grep -q 'libavcodec59' &&
		dpkg-deb -f '$daemon_deb' Depends | grep -q 'libgrpc++1.51' &&
		dpkg-deb -f '$daemon_deb' Depends | grep -q 'libprometheus-cpp-pull'"
arm64_deb=$(ls "$debs"/daedalusd_*_arm64.deb 2>/dev/null | head -1)
check "daedalusd for arm64 (Raspberry Pi 5) was built too" test -f "$arm64_deb"
mkdir -p "$work/arm64-root"
dpkg-deb -x "$arm64_deb" "$work/arm64-root" 2>/dev/null
check "the arm64 package holds aarch64 programs and depends on arm64 libavcodec" \
	bash -c "file -b '$work/arm64-root/usr/sbin/daedalusd' | grep -q 'ARM aarch64' &&
		file -b '$work/arm64-root/usr/bin/daedalusctl' | grep -q 'ARM aarch64' &&
		dpkg-deb -f '$arm64_deb' Depends | grep -q libavcodec59"
check "/etc/default/daedalusd is a conffile" \
	bash -c "dpkg-deb --ctrl-tarfile '$daemon_deb' | tar -xO ./conffiles | grep -qx /etc/default/daedalusd"

mkdir -p "$work/dkms-root" "$work/daemon-root"
dpkg-deb -x "$dkms_deb" "$work/dkms-root"
dpkg-deb -x "$daemon_deb" "$work/daemon-root"
unit=$work/daemon-root/lib/systemd/system/daedalusd.service
check "the unit runs the packaged daemon" grep -q '^ExecStart=/usr/sbin/daedalusd ' "$unit"
for key in 'Type=notify' 'WatchdogSec=' 'Restart=on-failure' 'NoNewPrivileges=yes' \
	'ProtectSystem=strict' 'DeviceAllow=/dev/daedalus-v4l2 rw' 'User=daedalus' \
	'RuntimeDirectory=daedalus'; do
	check "unit sets $key" grep -q "^$key" "$unit"
done
sed "s|^ExecStart=/usr/sbin/daedalusd|ExecStart=$work/daemon-root/usr/sbin/daedalusd|" "$unit" \
	>"$work/daedalusd.service"
check "systemd-analyze verify passes" systemd-analyze verify "$work/daedalusd.service"
check "systemd-sysusers accepts the sysusers entry" \
	systemd-sysusers --dry-run --root="$work/sysroot" "$work/daemon-root/usr/lib/sysusers.d/daedalus.conf"

# DKMS, as on a board, but into a private tree against the test kernel.
krel=$(cat "$kbuild/include/config/kernel.release")
mkdir -p "$work/dkms"
dkms_args=(-m daedalus-v4l2 -v "$version" --sourcetree "$work/dkms-root/usr/src" --dkmstree "$work/dkms")
dkms add "${dkms_args[@]}" >"$work/dkms.log" 2>&1 &&
	dkms build "${dkms_args[@]}" -k "$krel" --kernelsourcedir "$kbuild" >>"$work/dkms.log" 2>&1
check "dkms adds and builds the packaged module for $krel" test $? -eq 0 || tail -20 "$work/dkms.log"
ko=$(find "$work/dkms/daedalus-v4l2/$version/$krel" -name 'daedalus-v4l2.ko*' | head -1)
check "dkms produced daedalus-v4l2.ko" test -n "$ko"
rm -rf "$stage/pkg"
mkdir -p "$stage/pkg"
cp -r "$work/daemon-root" "$stage/pkg/root"
[ -n "$ko" ] && cp "$ko" "$stage/pkg/"
echo "$version" >"$stage/pkg/version"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
