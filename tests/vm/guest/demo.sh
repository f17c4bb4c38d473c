# SPDX-License-Identifier: BSD-2-Clause
#
# Guest half of the demo: load the module, start daedalusd, ping the kernel
# through the whole stack and show the status.
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
echo "\$ ffmpeg -c:v vp9_v4l2m2m -i vp90-2-09-lf_deltas.webm (through $dev) -f md5"
clip=$VP9_DIR/conformance/vp90-2-09-lf_deltas.webm
ffmpeg_frame_md5s "$clip" "$OUT/demo.got"
got=$(md5sum <"$OUT/demo.got" | cut -d' ' -f1)
want=$(reference_md5s "$clip.md5" | md5sum | cut -d' ' -f1)
echo "MD5 of the 30 per-frame MD5s: decoded $got, reference $want"
[ "$got" = "$want" ] && ok "VP9 decoded through $dev by ffmpeg, bit-exact with the reference" ||
	bad "decoded picture MD5s differ from the reference"
echo
kill -TERM "$daemon" && wait "$daemon"
RC=$?
expect_rc 0 "daedalusd stopped cleanly"
rmmod daedalus_v4l2 && ok "module unloaded" || bad "rmmod"
kernel_reports
finish
