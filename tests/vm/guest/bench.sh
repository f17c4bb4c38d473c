# SPDX-License-Identifier: BSD-2-Clause
#
# Guest half of scripts/bench.sh: the same clip decoded directly with
# libavcodec and through the V4L2 node, with the same thread count; the
# node twice, with daedalusd decoding ahead (its default) and with
# --no-decode-ahead, so that the two ratios come from one run.
. "$STAGE/guest/lib.sh"
threads=${BENCH_THREADS:-2}
load_media_core && insmod "$MODULE" && ok "module loaded" || bad "insmod"
dev=$(decoder_node)
for mode in ahead in-job; do
	flag=
	[ $mode = in-job ] && flag=--no-decode-ahead
	"$BIN/daedalusd" --decoder-threads "$threads" $flag >"$OUT/daedalusd-$mode.log" 2>&1 &
	daemon=$!
	wait_for "daedalusd $flag up" 30 "$BIN/daedalusctl" status
	run bench-$mode timeout -k 5 1800 "$BIN/vp9_bench" "$dev" "$STAGE/clip.ivf" "$threads"
	expect_rc 0 "vp9_bench, daedalusd ${flag:-decoding ahead}"
	echo "BENCH: == daedalusd ${flag:-(decoding ahead, the default)}"
	grep -E '^(clip|direct|through|ratio|latency)' "$OUT/bench-$mode.txt" | sed 's/^/BENCH: /'
	# Where the node's time went, per stage, as the daemon measured it.
	"$BIN/daedalusctl" stats >"$OUT/stats-$mode.txt" 2>&1
	grep -E '^(job latency|decode time|picture copy):' "$OUT/stats-$mode.txt" |
		sed 's/^/BENCH: daemon /'
	kill -TERM "$daemon" && wait "$daemon"
done
rmmod daedalus_v4l2
finish
