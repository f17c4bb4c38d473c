#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The full codec run, too long for CI under emulation (about 40 minutes
# under TCG): in the amd64 test guest, tests/codec_check on every stream of
# every codec (the 1080p ones and every random byte-stream split too; CI
# runs its --quick slice in decode.sh) and FFmpeg's *_v4l2m2m decoders.
#   ./scripts/test-codecs.sh [CODEC...]   (default: h264 hevc vp8 vp9 av1)
# Exit 0 when every check passed; the guest's log is in
# ~/.cache/daedalus/vm-out/codecs/.
. "$(dirname "$0")/lib.sh"
"$REPO/scripts/install-deps.sh"
bazel_run build //... >/dev/null 2>&1 || bazel_run build //...
kcache=$(test_kernel)
stage=$DAEDALUS_CACHE/stage-codecs
stage_guest "$kcache" "$stage"
out=$DAEDALUS_CACHE/vm-out/codecs
CODECS="$*" "$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" codecs "$out" 5400 || true
grep -E '^[0-9]+ passed, 0 failed$' "$out/console.log"
