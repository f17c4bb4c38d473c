#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The decode benchmark: a 1080p VP9 clip (made once with vpxenc, cached)
# decoded in one guest run both directly with libavcodec and through
# /dev/videoN, with the same number of frame threads. Prints frames per
# second for each, their ratio, and the latency through the node.
#   BENCH_THREADS (default 2), BENCH_FRAMES (default 60), BENCH_ROUNDS (default 5),
#   DDV_QEMU_CPU (default max,-fsrm,-erms),
#   DDV_KERNEL_FLAVOUR (default release: no debug options; debug: the test kernel)
# Figures, not a pass/fail test; docs/performance.md records them.
. "$(dirname "$0")/lib.sh"
threads=${BENCH_THREADS:-2}
# QEMU's TCG runs `rep movsb` a byte at a time, a cost no real CPU has; without
# FSRM/ERMS the guest kernel and glibc copy with wider moves instead.
export DDV_QEMU_CPU=${DDV_QEMU_CPU:-max,-fsrm,-erms}
frames=${BENCH_FRAMES:-60}

"$REPO/scripts/install-deps.sh"
bazel_run build //... >/dev/null 2>&1 || bazel_run build //...
# The kernel a board runs (no KASAN, lockdep, kmemleak): their cost lands on
# every system call of the node path and none of the direct one.
# DDV_KERNEL_FLAVOUR=debug measures on the test kernel instead.
kcache=$(DDV_KERNEL_FLAVOUR=${DDV_KERNEL_FLAVOUR:-release} test_kernel)
stage=$DAEDALUS_CACHE/stage-bench
stage_guest "$kcache" "$stage"
cp "$(bazel_bin)/tests/vp9_bench" "$stage/bin/"

clip=$DAEDALUS_CACHE/bench/clip-1080p-$frames.ivf
if [ ! -f "$clip" ]; then
	say "Encoding a 1080p test clip ($frames frames) with vpxenc"
	mkdir -p "$(dirname "$clip")"
	ffmpeg -hide_banner -loglevel error -f lavfi -i "testsrc2=size=1920x1080:rate=30" \
		-frames:v "$frames" -pix_fmt yuv420p -f yuv4mpegpipe - |
		vpxenc --codec=vp9 --good --passes=1 --ivf --cpu-used=8 --threads=2 --target-bitrate=4000 \
			--limit="$frames" -q -o "$clip.tmp" -
	mv "$clip.tmp" "$clip"
fi
cp "$clip" "$stage/clip.ivf"
say "Decoding in the guest ($threads threads)"
BENCH_THREADS=$threads "$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" bench \
	"$DAEDALUS_CACHE/vm-out/bench" 3600 || true
grep '^BENCH: ' "$DAEDALUS_CACHE/vm-out/bench/console.log" | sed 's/^BENCH: //'
