# SPDX-License-Identifier: BSD-2-Clause
#
# Guest half of scripts/bench.sh: each clip in $STAGE/clips decoded
# directly with libavcodec and through the V4L2 node, with the same thread
# count.
. "$STAGE/guest/lib.sh"
threads=${BENCH_THREADS:-2}
load_media_core && insmod "$MODULE" && ok "module loaded" || bad "insmod"
dev=$(decoder_node)
"$BIN/daedalusd" --decoder-threads "$threads" >"$OUT/daedalusd.log" 2>&1 &
daemon=$!
wait_for "daedalusd up" 30 "$BIN/daedalusctl" status
# Not $name: lib.sh's run() sets that.
for clip in "$STAGE"/clips/*; do
	clip_name=${clip##*/}
	echo "BENCH: == ${clip_name%%.*}"
	run "bench-$clip_name" timeout -k 5 1800 "$BIN/codec_bench" "$dev" "$clip" "$threads" "${BENCH_ROUNDS:-5}"
	expect_rc 0 "codec_bench $clip_name"
	sed 's/^/BENCH: /' "$OUT/bench-$clip_name.txt"
done
# Where the node's time went, per stage, as the daemon measured it.
"$BIN/daedalusctl" stats >"$OUT/stats.txt" 2>&1
grep -E '^(job latency|decode time|picture copy):' "$OUT/stats.txt" | sed 's/^/BENCH: daemon /'
kill -TERM "$daemon" && wait "$daemon"
rmmod daedalus_v4l2
finish
