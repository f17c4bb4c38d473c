#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Debian's arm64 Chromium and Firefox ESR for the arm64 guest
# (scripts/browser-check.sh): the amd64 builds have no V4L2 decoder. The
# browser packages are fetched with `apt-get download` and unpacked with
# `dpkg -x` into the cache, never installed, so an amd64 browser on the
# host stays; the arm64 libraries they need are installed multiarch (as
# root), like the other arm64 tools' (tests/vm/arm64-tools.sh), and the
# guest's loader finds them on the host root. Cached by package versions;
# prints the directory on its last line (root/ holds the unpacked
# packages).
set -euo pipefail
: "${DAEDALUS_CACHE:=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/daedalus}"

candidate() { apt-cache show --no-all-versions "$1" | sed -n 's/^Version: //p' | head -1; }
browsers=(chromium:arm64 chromium-common:arm64 firefox-esr:arm64)
pkgs=()
for p in "${browsers[@]}"; do
	pkgs+=("$p=$(candidate "$p")")
done
key=$(printf '%s\n' "${pkgs[@]}" | sha256sum | cut -c1-16)
dir=$DAEDALUS_CACHE/browsers-arm64-$key

# The libraries: what apt would install with the browsers, less the
# browsers themselves (their maintainer scripts are not run).
deps=$(apt-get install -s -qq --no-install-recommends "${browsers[@]}" 2>/dev/null |
	awk '$1 == "Inst" { print $2 }' | grep -vxE 'chromium(-common)?:arm64|firefox-esr:arm64' || true)
if [ -n "$deps" ]; then
	echo "browsers: installing the arm64 libraries they need: ${deps//$'\n'/ }" >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $deps >&2
fi

if [ -f "$dir/COMPLETE" ]; then
	echo "$dir"
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/root"
echo "browsers: downloading ${pkgs[*]}" >&2
(cd "$dir/debs" && apt-get download -qq "${pkgs[@]}") >&2
for deb in "$dir"/debs/*.deb; do
	dpkg -x "$deb" "$dir/root"
done
rm -rf "$dir/debs"
for prog in usr/lib/chromium/chromium usr/lib/firefox-esr/firefox-esr; do
	file -L "$dir/root/$prog" | grep -q 'ARM aarch64' || {
		echo "browsers: $prog is not an aarch64 program" >&2
		exit 1
	}
done
touch "$dir/COMPLETE"
echo "$dir"
