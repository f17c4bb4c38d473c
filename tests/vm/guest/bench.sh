# SPDX-License-Identifier: BSD-2-Clause
#
# Guest half of scripts/bench.sh: the same clip decoded directly with
# libavcodec and through the V4L2 node, with the same thread count.
. "$STAGE/guest/lib.sh"
threads=${BENCH_THREADS:-2}
load_media_core && insmod "$MODULE" && ok "module loaded" || bad "insmod"
dev=$(decoder_node)
"$BIN/daedalusd" --decoder-threads "$threads" >"$OUT/daedalusd.log" 2>&1 &
daemon=$!
wait_for "daedalusd up" 30 "$BIN/daedalusctl" status
run bench timeout -k 5 1800 "$BIN/vp9_bench" "$dev" "$STAGE/clip.ivf" "$threads" "${BENCH_ROUNDS:-5}"
expect_rc 0 "vp9_bench"
sed 's/^/BENCH: /' "$OUT/bench.txt"
# Where the node's time went, per stage, as the daemon measured it.
"$BIN/daedalusctl" stats >"$OUT/stats.txt" 2>&1
grep -E '^(job latency|decode time|picture copy):' "$OUT/stats.txt" | sed 's/^/BENCH: daemon /'
kill -TERM "$daemon" && wait "$daemon"
rmmod daedalus_v4l2
finish
