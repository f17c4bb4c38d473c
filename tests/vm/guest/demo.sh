# SPDX-License-Identifier: BSD-2-Clause
#
# Guest half of the demo: load the module, start daedalusd, ping the kernel
# through the whole stack, show the status, decode a VP9 and an H.264 clip
# with FFmpeg through the V4L2 node and show the daemon's statistics.
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
# demo_clip CODEC DECODER CLIP: FFmpeg decodes CLIP through the node; each
# picture's MD5 beside the reference's, then one line for the whole clip.
demo_clip() {
	local codec=$1 decoder=$2 clip=$3 got want
	echo "\$ ffmpeg -c:v $decoder -i ${clip##*/} (through $dev) -f framemd5 -"
	ffmpeg_frame_md5s "$clip" "$OUT/demo-$codec.got" "$decoder"
	got=$(md5sum <"$OUT/demo-$codec.got" | cut -d' ' -f1)
	want=$(reference_md5s "$clip.md5" | md5sum | cut -d' ' -f1)
	reference_md5s "$clip.md5" | paste -d' ' "$OUT/demo-$codec.got" - |
		awk '{printf "    | picture %2d: decoded %s  reference %s%s\n", NR, $1, $2, $1 == $2 ? "" : "  DIFFERS"}'
	echo "    | $codec, all $(wc -l <"$OUT/demo-$codec.got") pictures: decoded $got, reference $want"
	[ "$got" = "$want" ] && ok "$codec decoded through $dev by ffmpeg, bit-exact with the reference" ||
		bad "$codec: decoded picture MD5s differ from the reference"
	echo
}
demo_clip VP9 vp9_v4l2m2m "$VP9_DIR/conformance/vp90-2-09-lf_deltas.webm"
demo_clip H.264 h264_v4l2m2m "${VP9_DIR%/vp9}/h264/conformance/h264-02-main-cabac-bframes-352x288.h264"
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
