#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The decode benchmark: a 1080p clip of each codec (made once with FFmpeg's
# encoders, or vpxenc for VP9, and cached) decoded in one guest run both
# directly with libavcodec and through /dev/videoN, with the same number
# of frame threads. Prints frames per second for each, their ratio, and the
# latency through the node and CPU time per frame, per codec. Then
# streams side by side: the H.264 clip (else the first) by 1, 2 and 4
# clients at once, one decoding thread each, pictures per second against
# one stream's, and GetStatus latency idle and while 4 streams decode
# (scaling_bench).
#   BENCH_CODECS (default "vp9 h264 hevc vp8 av1"), BENCH_THREADS (default 2),
#   BENCH_FRAMES (default 60), BENCH_ROUNDS (default 5),
#   BENCH_SCALING_ROUNDS (default 3),
#   BENCH_CLOCK: virtual (the default where the guest runs under TCG):
#     the per-codec figures on QEMU's instruction-counted clock (-icount
#     shift=0,sleep=off: guest time is instructions run, so a figure
#     repeats however busy the host is); wall: the host's clock (the
#     default under KVM, and what a real board measures),
#   BENCH_PART (default all; codecs, status or scaling for one part),
#   BENCH_COPY_COST=1: each codec twice more, with the kernel copying
#     each picture (daedalusd --kernel-copies) and with that copy skipped
#     (a debugfs hook; those pictures are wrong), to show what each way of
#     writing a picture costs beside the real run,
#   DDV_QEMU_CPU (default max,-fsrm,-erms),
#   DDV_KERNEL_FLAVOUR (default release: no debug options; debug: the test kernel)
# The scaling part always runs on the wall clock: on the counted clock
# QEMU runs every vCPU on one host thread, so streams cannot go faster
# side by side. On the counted clock the status part measures GetStatus,
# and gRPC's health Check beside it, idle and beside 4 streams on one
# vCPU, with the decode at nice 0, 5 (the default) and 10 (a latency
# there repeats; under TCG's wall clock every call costs milliseconds of
# emulation). Figures, not a pass/fail test; docs/performance.md records
# them.
. "$(dirname "$0")/lib.sh"
threads=${BENCH_THREADS:-2}
codecs=${BENCH_CODECS:-vp9 h264 hevc vp8 av1}
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
cp "$(bazel_bin)/tests/codec_bench" "$(bazel_bin)/tests/scaling_bench" "$stage/bin/"
mkdir -p "$stage/clips"

# bench_clip CODEC: the cached 1080p clip of CODEC, made if missing.
bench_clip() {
	local codec=$1 clip
	case $codec in
	vp9) clip=$DAEDALUS_CACHE/bench/clip-1080p-$frames.ivf ;;
	h264 | hevc) clip=$DAEDALUS_CACHE/bench/clip-1080p-$frames.$codec ;;
	*) clip=$DAEDALUS_CACHE/bench/clip-1080p-$frames-$codec.ivf ;;
	esac
	if [ ! -f "$clip" ]; then
		say "Encoding a 1080p $codec test clip ($frames frames)" >&2
		mkdir -p "$(dirname "$clip")"
		local src=(-f lavfi -i "testsrc2=size=1920x1080:rate=30" -frames:v "$frames" -pix_fmt yuv420p)
		case $codec in
		vp9)
			ffmpeg -hide_banner -loglevel error "${src[@]}" -f yuv4mpegpipe - |
				vpxenc --codec=vp9 --good --passes=1 --ivf --cpu-used=8 --threads=2 \
					--target-bitrate=4000 --limit="$frames" -q -o "$clip.tmp" - ;;
		h264) ffmpeg -hide_banner -loglevel error "${src[@]}" -c:v libx264 -preset fast -b:v 4M -f h264 "$clip.tmp" ;;
		hevc) ffmpeg -hide_banner -loglevel error "${src[@]}" -c:v libx265 -preset fast -b:v 4M \
			-x265-params log-level=error -f hevc "$clip.tmp" ;;
		vp8) ffmpeg -hide_banner -loglevel error "${src[@]}" -c:v libvpx -deadline realtime -cpu-used 8 -b:v 4M -f ivf "$clip.tmp" ;;
		av1) ffmpeg -hide_banner -loglevel error "${src[@]}" -c:v libsvtav1 -preset 12 -b:v 4M -f ivf "$clip.tmp" ;;
		esac
		mv "$clip.tmp" "$clip"
	fi
	echo "$clip"
}
for codec in $codecs; do
	clip=$(bench_clip "$codec")
	cp "$clip" "$stage/clips/$codec.${clip##*.}"
done
part=${BENCH_PART:-all}
accel=$("$REPO/tests/vm/choose-accel.sh" "$kcache/bzImage" 2>/dev/null | tail -1)
clock=${BENCH_CLOCK:-$([ "$accel" = tcg ] && echo virtual || echo wall)}
icount=
[ "$clock" = virtual ] && icount=shift=0,sleep=off
# On the counted clock QEMU runs every vCPU on one host thread, so a vCPU
# waiting for its turn is charged the time the other spends: the guest's
# CPU accounting would count the same instructions twice. One vCPU keeps
# it exact (the decoder's threads still run, in turn); DDV_QEMU_SMP
# overrides.
smp=2
[ "$clock" = virtual ] && smp=${DDV_QEMU_SMP:-1}
if [ "$part" = all ] || [ "$part" = codecs ]; then
	say "Decoding in the guest ($threads threads, $clock clock): $codecs"
	DDV_QEMU_SMP=$smp DDV_QEMU_ICOUNT=$icount BENCH_PART=codecs BENCH_THREADS=$threads \
		"$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" bench "$DAEDALUS_CACHE/vm-out/bench" 7200 || true
	echo "clock: $clock${icount:+ (QEMU -icount $icount)}, $smp vCPU(s)"
	grep '^BENCH: ' "$DAEDALUS_CACHE/vm-out/bench/console.log" | sed 's/^BENCH: //'
fi
# Under wall-clock mode the scaling part prints the same lines; status
# alone runs there too when asked for.
if [ "$part" = status ] || { [ "$part" = all ] && [ "$clock" = virtual ]; }; then
	say "The control plane beside 4 streams in the guest ($clock clock, $smp vCPU(s))"
	DDV_QEMU_SMP=$smp DDV_QEMU_ICOUNT=$icount BENCH_PART=status \
		"$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" bench "$DAEDALUS_CACHE/vm-out/bench-status" 7200 ||
		true
	echo "clock: $clock${icount:+ (QEMU -icount $icount)}, $smp vCPU(s)"
	grep '^BENCH: ' "$DAEDALUS_CACHE/vm-out/bench-status/console.log" | sed 's/^BENCH: //'
fi
if [ "$part" = all ] || [ "$part" = scaling ]; then
	say "Streams side by side in the guest (wall clock)"
	DDV_QEMU_SMP=2 BENCH_PART=scaling "$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" bench \
		"$DAEDALUS_CACHE/vm-out/bench-scaling" 7200 || true
	grep '^BENCH: ' "$DAEDALUS_CACHE/vm-out/bench-scaling/console.log" | sed 's/^BENCH: //'
fi
