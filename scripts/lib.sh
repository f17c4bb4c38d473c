# SPDX-License-Identifier: BSD-2-Clause
#
# Sourced by demo.sh and test.sh: where things are cached, and the build
# steps both need. Functions print what they do and fail loudly.

set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DAEDALUS_CACHE=${DAEDALUS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/daedalus}
mkdir -p "$DAEDALUS_CACHE"

say() { printf '\n### %s\n' "$*"; }

# Bazel with its output base and an action cache under $DAEDALUS_CACHE, so a
# fresh clone elsewhere reuses earlier builds.
bazel_run() {
	local cmd=$1
	shift
	(cd "$REPO" && bazel --output_user_root="$DAEDALUS_CACHE/bazel" --max_idle_secs=600 \
		"$cmd" --disk_cache="$DAEDALUS_CACHE/bazel-disk" "$@")
}

# bazel_bin [--config=aarch64]: where Bazel puts the programs it built.
bazel_bin() {
	bazel_run info "$@" bazel-bin 2>/dev/null
}

# The newest Debian 6.1 headers (linux-headers-amd64).
headers_61() {
	ls -d /usr/src/linux-headers-6.1.*-amd64 | sort -V | tail -1
}

# build_module KDIR OUT_DIR [arm64]: builds kernel/ out of tree against KDIR
# in a copy at OUT_DIR (so trees never mix objects), warnings fatal (Kbuild
# adds -Werror), cross-compiled when asked. Leaves OUT_DIR/daedalus-v4l2.ko.
build_module() {
	local kdir=$1 dir=$2 cross=()
	[ "${3:-}" = arm64 ] && cross=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -r "$REPO/kernel/." "$dir/"
	make -s -C "$dir" KDIR="$kdir" "${cross[@]}" >"$dir/build.log" 2>&1 || {
		cat "$dir/build.log"
		return 1
	}
	# Kbuild's notice that Debian built its arm64 kernel with an earlier
	# point release of the same gcc (12.2.0-14) is not about our code.
	! grep -E 'warning:|error:' "$dir/build.log" |
		grep -v '^warning: the compiler differs from the one used to build the kernel$'
}

# stage_guest KERNEL_DIR STAGE [arm64]: what the guest needs, as real files:
# the module built against KERNEL_DIR and our programs for the guest's
# architecture (the aarch64 ones from `bazel build --config=aarch64`).
stage_guest() {
	local kdir=$1 stage=$2 arch=${3:-} bin config=()
	[ "$arch" = arm64 ] && config=(--config=aarch64)
	rm -rf "$stage"
	mkdir -p "$stage/bin" "$stage/guest"
	build_module "$kdir/build" "$stage/module-build" $arch
	mv "$stage/module-build/daedalus-v4l2.ko" "$stage/"
	rm -rf "$stage/module-build"
	bin=$(bazel_bin "${config[@]}")
	cp "$bin/daemon/daedalusd" "$bin/cli/daedalusctl" "$bin/tests/bridge_check" \
		"$bin/tests/reflection_probe" "$bin/tests/stream_to_hdr" "$bin/tests/v4l2_check" \
		"$bin/tests/codec_check" "$bin/tests/job_check" "$bin/tests/kernel_fuzz" "$bin/tests/recovery_check" \
		"$bin/tests/soak_check" \
		"$stage/bin/"
	cp "$REPO"/tests/vm/guest/*.sh "$stage/guest/"
	cp "$REPO"/kernel/udev/*.rules "$stage/guest/"
	cp "$REPO/daemon/systemd/daedalusd.service" "$stage/guest/"
	mkdir -p "$stage/tests"
	cp "$REPO"/tests/*.py "$stage/tests/"
}

# The test kernel, built once per input (tests/vm/kernel-cache.sh) and cached.
test_kernel() {
	"$REPO/tests/vm/build-kernel.sh" | tail -1
}
