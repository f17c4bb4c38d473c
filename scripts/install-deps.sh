#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Installs every Debian 12 package daedalus-v4l2 needs to build, test and demo
# itself. Idempotent and non-interactive; run as root (CI runs as root).
# Skips apt entirely when everything is already installed, so a second run
# costs a second.
set -euo pipefail

packages=(
	# Userspace build: Bazel 4.2.3 offline against Debian's libraries.
	bazel-bootstrap build-essential pkg-config
	protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
	libgrpc++-dev libgrpc-dev libabsl-dev libssl-dev zlib1g-dev
	libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
	googletest libgtest-dev libgmock-dev libcli11-dev prometheus-cpp-dev
	# Control-plane tests: a real Prometheus server, certificates for TLS.
	prometheus openssl curl
	# Packaging checks: DKMS builds the packaged module source.
	dkms
	# Kernel module: Kbuild against 6.1 headers and our 6.12 test kernel.
	linux-headers-amd64 linux-source-6.12 flex bison bc libelf-dev
	ccache kmod cpio sparse perl python3 xz-utils
	# Test VM and guest tools, and the real V4L2 clients the tests drive.
	qemu-system-x86 busybox-static v4l-utils udev
	ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
	gstreamer1.0-plugins-bad
	vpx-tools
)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get install)" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
