# SPDX-License-Identifier: BSD-2-Clause
#
# Guest half of the demo: load the module, start daedalusd, ping the kernel
# through the whole stack, show the status, decode a clip with FFmpeg
# through the V4L2 node and show the daemon's statistics of it.
. "$STAGE/guest/lib.sh"

load_media_core && insmod "$MODULE" && ok "module loaded" || bad "insmod"
"$BIN/daedalusd" >"$OUT/daedalusd.log" 2>&1 &
daemon=$!
wait_for "daedalusd up with a kernel link" 30 "$BIN/daedalusctl" status
echo
echo "\$ daedalusctl ping -c 3"
run ping "$BIN/daedalusctl" ping -c 3
expect_rc 0 "ping through the kernel"
echo
echo "\$ daedalusctl status"
run status "$BIN/daedalusctl" status
expect_rc 0 "status"
echo
dev=$(decoder_node)
echo "\$ ffmpeg -c:v vp9_v4l2m2m -i vp90-2-09-lf_deltas.webm (through $dev) -f framemd5 -"
clip=$VP9_DIR/conformance/vp90-2-09-lf_deltas.webm
ffmpeg_frame_md5s "$clip" "$OUT/demo.got"
got=$(md5sum <"$OUT/demo.got" | cut -d' ' -f1)
want=$(reference_md5s "$clip.md5" | md5sum | cut -d' ' -f1)
# Each picture's MD5 beside the reference's, then one line for the whole clip.
reference_md5s "$clip.md5" | paste -d' ' "$OUT/demo.got" - |
	awk '{printf "    | picture %2d: decoded %s  reference %s%s\n", NR, $1, $2, $1 == $2 ? "" : "  DIFFERS"}'
echo "    | all $(wc -l <"$OUT/demo.got") pictures: decoded $got, reference $want"
[ "$got" = "$want" ] && ok "VP9 decoded through $dev by ffmpeg, bit-exact with the reference" ||
	bad "decoded picture MD5s differ from the reference"
echo
echo "\$ daedalusctl stats"
run stats "$BIN/daedalusctl" stats
expect_rc 0 "stats after the decode"
echo
kill -TERM "$daemon" && wait "$daemon"
RC=$?
expect_rc 0 "daedalusd stopped cleanly"
rmmod daedalus_v4l2 && ok "module unloaded" || bad "rmmod"
kernel_reports
finish
