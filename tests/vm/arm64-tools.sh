#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The arm64 programs the arm64 guest runs that the host cannot install beside
# its own amd64 ones: a static busybox (the guest's shell and tools: the
# host's /bin/sh is x86-64), ffmpeg, v4l2-compliance, and Firefox ESR's
# V4L2 probe v4l2test (the amd64 firefox-esr has none). Each Debian package
# is fetched with `apt-get download` and unpacked with `dpkg -x`, never
# installed; their shared libraries are installed multiarch by
# scripts/install-deps.sh, and the guest's arm64 loader finds them on the
# host root. Cached by package versions; prints the directory on its last
# line (root/ holds the unpacked packages).
set -euo pipefail
: "${DAEDALUS_CACHE:=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/daedalus}"

# ffmpeg and v4l-utils must match the arm64 libraries installed beside them.
installed() { dpkg-query -W -f='${Version}' "$1"; }
candidate() { apt-cache show --no-all-versions "$1" | sed -n 's/^Version: //p' | head -1; }
pkgs=(
	"busybox-static:arm64=$(candidate busybox-static:arm64)"
	"ffmpeg:arm64=$(installed libavcodec59:arm64)"
	"v4l-utils:arm64=$(installed libv4l-0:arm64)"
	# Only Firefox's V4L2 probe, v4l2test, is taken from it (libc alone).
	"firefox-esr:arm64=$(candidate firefox-esr:arm64)"
)
key=$(printf '%s\n' "${pkgs[@]}" | sha256sum | cut -c1-16)
dir=$DAEDALUS_CACHE/arm64-tools-$key
if [ -f "$dir/COMPLETE" ]; then
	echo "$dir"
	exit 0
fi

rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/root"
echo "arm64-tools: downloading ${pkgs[*]}" >&2
(cd "$dir/debs" && apt-get download -qq "${pkgs[@]}") >&2 || {
	echo "arm64-tools: apt-get download failed (run scripts/install-deps.sh first;" \
		"the versions must match the installed arm64 libraries)" >&2
	exit 1
}
for deb in "$dir"/debs/*.deb; do
	case ${deb##*/} in
	firefox-esr_*) dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir/root" ./usr/lib/firefox-esr/v4l2test ;;
	*) dpkg -x "$deb" "$dir/root" ;;
	esac
done
rm -rf "$dir/debs"
for prog in bin/busybox usr/bin/ffmpeg usr/bin/v4l2-compliance usr/lib/firefox-esr/v4l2test; do
	file -L "$dir/root/$prog" | grep -q 'ARM aarch64' || {
		echo "arm64-tools: $prog is not an aarch64 program" >&2
		exit 1
	}
done
touch "$dir/COMPLETE"
echo "$dir"
