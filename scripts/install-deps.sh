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
	grpc-proto  # gRPC's health and reflection .proto files, for test clients
	libgrpc++-dev libgrpc-dev libabsl-dev libssl-dev zlib1g-dev
	libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
	googletest libgtest-dev libgmock-dev libcli11-dev prometheus-cpp-dev
	# Checks: clang's thread-safety analysis build, the format check; libFuzzer
	# and AddressSanitizer for scripts/fuzz.sh (clang's runtimes).
	clang clang-format git libclang-rt-14-dev
	# Control-plane tests: a real Prometheus server, certificates for TLS.
	prometheus openssl curl
	# Packaging checks: DKMS builds the packaged module source.
	dkms file
	# Kernel module: Kbuild against 6.1 headers and our 6.12 test kernel.
	linux-headers-amd64 linux-source-6.12 flex bison bc libelf-dev
	ccache kmod cpio sparse perl python3 xz-utils
	# pahole: Debian's arm64 kernel has BTF, and modules built for it must
	# be configured alike (tests/vm/debian-kernel.sh).
	dwarves
	# Test VM and guest tools, and the real V4L2 clients the tests drive.
	qemu-system-x86 busybox-static v4l-utils udev
	psmisc  # killall, in the guest scripts
	ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
	gstreamer1.0-plugins-bad
	vpx-tools
	# aarch64 (Raspberry Pi 5): Debian's cross compiler, qemu-user to run the
	# unit tests, and the arm64 libraries Bazel links against (multiarch).
	# --no-install-recommends matters here: with recommends, apt would
	# replace the host's g++ by g++:arm64.
	crossbuild-essential-arm64 qemu-user-static
	libgrpc++-dev:arm64 libprotobuf-dev:arm64 libabsl-dev:arm64 libssl-dev:arm64 zlib1g-dev:arm64
	libavcodec-dev:arm64 libavformat-dev:arm64 libavutil-dev:arm64 libswscale-dev:arm64
	libgtest-dev:arm64 libgmock-dev:arm64
	# prometheus-cpp-dev cannot be installed for two architectures at once:
	# the arm64 build uses the amd64 package's headers and these libraries
	# (bazel/system links them by file name).
	libprometheus-cpp-core1.0:arm64 libprometheus-cpp-pull1.0:arm64
	# The arm64 guest: qemu-system-aarch64, and the arm64 libraries of the
	# real clients it runs (ffmpeg and v4l2-compliance themselves cannot be
	# installed beside the amd64 ones: tests/vm/arm64-tools.sh unpacks them).
	qemu-system-arm libavfilter8:arm64 libavdevice59:arm64 libpostproc56:arm64
	libv4l-0:arm64 libv4l2rds0:arm64 libv4lconvert0:arm64
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
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
