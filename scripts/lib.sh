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

# The newest Debian 6.1 headers (linux-headers-amd64).
headers_61() {
	ls -d /usr/src/linux-headers-6.1.*-amd64 | sort -V | tail -1
}

# build_module KDIR: builds kernel/ out of tree against KDIR, warnings fatal
# (Kbuild adds -Werror), in a private copy so trees never mix objects.
build_module() {
	local kdir=$1 dir
	dir=$(mktemp -d)
	cp -r "$REPO/kernel/." "$dir/"
	make -s -C "$dir" KDIR="$kdir" >"$dir/build.log" 2>&1 || {
		cat "$dir/build.log"
		return 1
	}
	if grep -E 'warning:|error:' "$dir/build.log"; then return 1; fi
	echo "$dir/daedalus-v4l2.ko"
}

# stage_guest KERNEL_DIR STAGE: what the guest needs, as real files.
stage_guest() {
	local kdir=$1 stage=$2 ko bin
	rm -rf "$stage"
	mkdir -p "$stage/bin" "$stage/guest"
	ko=$(build_module "$kdir/build")
	cp "$ko" "$stage/"
	bin=$(cd "$REPO" && bazel --output_user_root="$DAEDALUS_CACHE/bazel" info bazel-bin 2>/dev/null)
	cp "$bin/daemon/daedalusd" "$bin/cli/daedalusctl" "$bin/tests/bridge_check" "$stage/bin/"
	cp "$REPO"/tests/vm/guest/*.sh "$stage/guest/"
}

# The test kernel, built once per input (tests/vm/kernel-cache.sh) and cached.
test_kernel() {
	"$REPO/tests/vm/build-kernel.sh" | tail -1
}
