#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The long soak, beyond CI's slice (decode.sh soaks 60 s): in the amd64
# test guest (KASAN, kmemleak, lockdep), tests/soak_check for SECONDS:
# eight streams of mixed codecs bit-exact pass after pass while the node
# is opened, started and closed thousands of times and clients are killed
# mid-stream; daedalusd's RSS flat, kmemleak and the kernel log clean.
#   ./scripts/soak.sh [SECONDS]   (default 600)
# Exit 0 when every check passed; the guest's log is in
# ~/.cache/daedalus/vm-out/soak/.
. "$(dirname "$0")/lib.sh"
seconds=${1:-600}
"$REPO/scripts/install-deps.sh"
bazel_run build //... >/dev/null 2>&1 || bazel_run build //...
kcache=$(test_kernel)
stage=$DAEDALUS_CACHE/stage-soak
stage_guest "$kcache" "$stage"
out=$DAEDALUS_CACHE/vm-out/soak
SOAK_SECONDS=$seconds "$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" soak "$out" \
	$((seconds + 900)) || true
grep -E '^[0-9]+ passed, 0 failed$' "$out/console.log"
