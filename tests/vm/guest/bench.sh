# SPDX-License-Identifier: BSD-2-Clause
#
# Guest half of scripts/bench.sh. BENCH_PART=codecs: each clip in
# $STAGE/clips decoded directly with libavcodec and through the V4L2 node,
# with the same thread count; scaling: 1, 2 and 4 streams at once, one
# decoding thread each; status: GetStatus (and gRPC's health Check beside
# it) latency alone, idle and beside 4 streams (scripts/bench.sh runs it on
# the counted clock); all: codecs and scaling.
. "$STAGE/guest/lib.sh"
threads=${BENCH_THREADS:-2}
part=${BENCH_PART:-all}
# A benchmark may take longer than a check (lib.sh run()).
RUN_TIMEOUT=3600
load_media_core && insmod "$MODULE" && ok "module loaded" || bad "insmod"
dev=$(decoder_node)

# minor_faults PID: the minor page faults of process PID so far.
minor_faults() {
	awk '{ print $10 }' "/proc/$1/stat"
}

# start_bench_daemon [ARGS]: daedalusd for the codec runs (sets $daemon).
start_bench_daemon() {
	"$BIN/daedalusd" --decoder-threads "$threads" "$@" >>"$OUT/daedalusd.log" 2>&1 &
	daemon=$!
	wait_for "daedalusd $* up" 30 "$BIN/daedalusctl" status
}

# copy_cost CLIP: the same benchmark twice more, with the daemon handing
# every picture to the kernel to copy (--kernel-copies, protocol 5's way),
# then with the kernel skipping that copy (debugfs skip_picture_copy: the
# node's pictures are then wrong, only their count and timing are real).
# Beside the run above, in which the daemon writes into the client's
# buffers itself, it shows what each way of writing a picture costs.
copy_cost() {
	local skip=/sys/kernel/debug/daedalus_v4l2/skip_picture_copy clip_name=${1##*/}
	kill -TERM "$daemon" && wait "$daemon"
	start_bench_daemon --kernel-copies
	run "kcopy-$clip_name" "$BIN/codec_bench" "$dev" "$1" "$threads" "${BENCH_ROUNDS:-5}"
	expect_rc 0 "codec_bench $clip_name, the kernel copying"
	sed -n '/^steady state/,/^start-up/p; /^CPU time per frame/p' "$OUT/kcopy-$clip_name.txt" |
		sed 's/^/BENCH: the kernel copying: /'
	if echo 1 >"$skip"; then
		run "nocopy-$clip_name" "$BIN/codec_bench" "$dev" "$1" "$threads" "${BENCH_ROUNDS:-5}"
		echo 0 >"$skip"
		expect_rc 0 "codec_bench $clip_name without the picture copy"
		sed -n '/^steady state/,/^start-up/p; /^CPU time per frame/p' \
			"$OUT/nocopy-$clip_name.txt" | sed 's/^/BENCH: without the picture copy: /'
	else
		bad "cannot set $skip"
	fi
	kill -TERM "$daemon" && wait "$daemon"
	start_bench_daemon
}

codec_figures() {
	start_bench_daemon
	# Not $name: lib.sh's run() sets that.
	for clip in "$STAGE"/clips/*; do
		clip_name=${clip##*/}
		echo "BENCH: == ${clip_name%%.*}"
		faults=$(minor_faults "$daemon")
		run "bench-$clip_name" "$BIN/codec_bench" "$dev" "$clip" "$threads" "${BENCH_ROUNDS:-5}"
		expect_rc 0 "codec_bench $clip_name"
		sed 's/^/BENCH: /' "$OUT/bench-$clip_name.txt"
		# Page faults cost the node path CPU the direct path may not pay
		# (a buffer mapped and unmapped per frame shows up here).
		faults=$(($(minor_faults "$daemon") - faults))
		pictures=$(sed -n 's/^clip: .*, \([0-9]*\) frames,.*/\1/p' "$OUT/bench-$clip_name.txt")
		echo "BENCH: daedalusd minor page faults: $faults over ${BENCH_ROUNDS:-5} rounds," \
			"$((faults / (${pictures:-1} * ${BENCH_ROUNDS:-5}))) a picture"
		[ "${BENCH_COPY_COST:-0}" = 1 ] && copy_cost "$clip"
	done
	# Where the node's time went, per stage, as the daemon measured it.
	"$BIN/daedalusctl" stats >"$OUT/stats.txt" 2>&1
	grep -E '^(job latency|decode time|picture copy):' "$OUT/stats.txt" | sed 's/^/BENCH: daemon /'
	kill -TERM "$daemon" && wait "$daemon"
}

# Streams side by side, one decoding thread each: 1, 2 and 4 at once, on
# the H.264 clip (the Pi 5's first want) if it is among the clips.
scaling_figures() {
	local clip
	"$BIN/daedalusd" --decoder-threads 1 >"$OUT/daedalusd-scaling.log" 2>&1 &
	daemon=$!
	wait_for "daedalusd up (one thread per stream)" 30 "$BIN/daedalusctl" status
	set -- "$STAGE"/clips/*
	clip=$1
	[ -f "$STAGE/clips/h264.h264" ] && clip=$STAGE/clips/h264.h264
	run scaling "$BIN/scaling_bench" "$dev" "$clip" "${BENCH_SCALING_ROUNDS:-3}"
	expect_rc 0 "scaling_bench ${clip##*/}"
	sed 's/^/BENCH: /' "$OUT/scaling.txt"
	kill -TERM "$daemon" && wait "$daemon"
}

# The control plane beside 4 streams, alone: on the counted clock, where
# the scaling table means nothing but a latency repeats. Three times:
# decode threads at the daemon's priority, 5 nicer (the default) and 10
# nicer (--decode-nice), to show what the option changes.
status_figures() {
	local clip nice
	set -- "$STAGE"/clips/*
	clip=$1
	[ -f "$STAGE/clips/h264.h264" ] && clip=$STAGE/clips/h264.h264
	for nice in 0 5 10; do
		"$BIN/daedalusd" --decoder-threads 1 --decode-nice "$nice" \
			>>"$OUT/daedalusd-status.log" 2>&1 &
		daemon=$!
		wait_for "daedalusd up (one thread per stream, --decode-nice $nice)" 30 \
			"$BIN/daedalusctl" status
		run "status-nice$nice" "$BIN/scaling_bench" --status "$dev" "$clip"
		expect_rc 0 "scaling_bench --status ${clip##*/}, --decode-nice $nice"
		sed "s/^/BENCH: --decode-nice $nice: /" "$OUT/status-nice$nice.txt"
		kill -TERM "$daemon" && wait "$daemon"
	done
}

case $part in
codecs) codec_figures ;;
scaling) scaling_figures ;;
status) status_figures ;;
*)
	codec_figures
	scaling_figures
	;;
esac
rmmod daedalus_v4l2
finish
