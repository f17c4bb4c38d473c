# SPDX-License-Identifier: BSD-2-Clause
#
# Browser playback in the arm64 guest (scripts/browser-check.sh): Debian's
# arm64 Chromium and Firefox ESR, unpacked by tests/vm/browsers.sh under
# $BROWSERS (run-vm.sh passes it), each
# play a VP9 and an H.264 clip from a local page, headless. A playback
# counts only if the daemon's "frames out" grew by the clip's frame count
# and the page saw the clip end; the browser's own log lines about its
# decoder are kept in $OUT and the lines that decide are shown. Firefox
# cannot decode through any V4L2 stateful decoder on Debian (its V4L2 path
# needs FFmpeg's DRM PRIME frames; docs/decoder.md): its playbacks pass
# when the page plays the clip to its end, and say which decoder did.
. "$STAGE/guest/lib.sh"
. "$STAGE/guest/decode-lib.sh"

# Seconds each playback may take: the browsers start in two to four
# minutes under TCG.
PLAY_SECONDS=${PLAY_SECONDS:-900}
PAGE=/tmp/page

frames_out() {
	"$BIN/daedalusctl" stats | sed -n 's/^frames: .*, \([0-9]*\) out .*/\1/p'
}

# make_clips: a VP9 WebM and an H.264 MP4 of at least 360 lines (Chromium
# prefers its software decoders below 360p), from ../shared; the H.264
# stream is put in MP4 by the arm64 ffmpeg without re-encoding.
make_clips() {
	local h264=$VP9_DIR/../h264/conformance/h264-03-high-8x8dct-weightp-640x360.h264
	local vp9=$VP9_DIR/conformance/vp90-2-08-tile_1x2.webm
	mkdir -p "$PAGE"
	cp "$vp9" "$PAGE/vp9.webm"
	VP9_FRAMES=$(wc -l <"$vp9.md5")
	H264_FRAMES=$(wc -l <"$h264.md5")
	ffmpeg -nostdin -hide_banner -loglevel error -framerate 25 -i "$h264" -c copy \
		-movflags +faststart "$PAGE/h264.mp4" &&
		ok "clips: vp9.webm ($VP9_FRAMES frames, 1920x1080), h264.mp4 ($H264_FRAMES frames, 640x360)" ||
		bad "could not put the H.264 stream in MP4"
	for clip in vp9.webm h264.mp4; do
		# The page reports through console.log, which both browsers can
		# print on their standard error or output.
		cat >"$PAGE/${clip%.*}.html" <<HTML
<html><body><video id=v src="$clip" muted autoplay></video><script>
const v = document.getElementById('v');
const q = () => v.getVideoPlaybackQuality();
v.onended = () => console.log('DDV ended: ' + q().totalVideoFrames + ' frames, '
    + q().droppedVideoFrames + ' dropped, ' + q().corruptedVideoFrames + ' corrupt');
v.onerror = () => console.log('DDV error: ' + (v.error ? v.error.code + ' ' + v.error.message : '?'));
v.play().catch(e => console.log('DDV error: play() ' + e));
</script></body></html>
HTML
	done
}

# play NAME LOG FRAMES DECODER_REGEX NODE CMD...: runs the browser CMD
# until the page reports its end (or an error, or PLAY_SECONDS), then
# checks the daemon's frames out (NODE yes: they must have grown by FRAMES;
# no: the page must have played to its end, by whichever decoder) and
# shows the browser's log lines and `daedalusctl contexts` while it played.
play() {
	local name=$1 log=$2 want=$3 decoder_re=$4 node=$5 before after waited=0 pid
	local contexts=$OUT/${log##*/}.contexts
	shift 5
	before=$(frames_out)
	: >"$contexts"
	"$@" >"$log" 2>&1 &
	pid=$!
	while [ $waited -lt "$PLAY_SECONDS" ] && kill -0 $pid 2>/dev/null &&
		! grep -q 'DDV ended\|DDV error' "$log"; do
		# What a user sees of the browser's streams, once one is open.
		[ "$(wc -l <"$contexts")" -gt 1 ] || "$BIN/daedalusctl" contexts >"$contexts" 2>&1
		sleep 5
		waited=$((waited + 5))
	done
	kill -0 $pid 2>/dev/null || echo "    | $name: the browser exited by itself after ${waited} s: $(tail -1 "$log" | cut -c1-160)"
	kill $pid 2>/dev/null
	sleep 3
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	after=$(frames_out)
	echo "    | $name: $(grep -o 'DDV [a-z]*:.*' "$log" | head -1 | tr -d '"' || echo 'no end after '$waited' s')"
	grep -E "$decoder_re" "$log" | cut -c1-220 | tail -8 | sed 's/^/    | /'
	sed 's/^/    | daedalusctl contexts: /' "$contexts"
	local through=$((after - before)) ended=no
	grep -q 'DDV ended' "$log" && ended=yes
	if [ $ended = yes ] && [ $through -ge "$want" ]; then
		ok "$name: played to its end, $through pictures through the node (the clip has $want)"
	elif [ $ended = yes ] && [ "$node" = no ]; then
		ok "$name: played to its end by its own decoder, $through pictures through the node (docs/decoder.md: why)"
	else
		bad "$name: $through pictures through the node of the clip's $want$([ $ended = yes ] && echo ', the page played it (not through the node)' || echo ", no end in ${waited} s")"
	fi
}

chromium_play() {
	local codec=$1 frames=$2
	rm -rf /tmp/chromium-profile
	play "Chromium $codec" "$OUT/chromium-$codec.txt" "$frames" \
		'v4l2_stateful_video_decoder|video_decoder_pipeline|v4l2_device|image_processor|DecoderSelector|Selected' yes \
		"$BROWSERS/usr/lib/chromium/chromium" --headless=new --no-sandbox --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync --disable-quic \
		--user-data-dir=/tmp/chromium-profile --enable-logging=stderr \
		--vmodule='*/media/gpu/*=2,*/media/filters/decoder_selector*=2' \
		--enable-features=AcceleratedVideoDecoder,AcceleratedVideoDecodeLinuxGL,AcceleratedVideoDecodeLinuxZeroCopyGL \
		--ignore-gpu-blocklist --use-gl=angle --use-angle=swiftshader --enable-unsafe-swiftshader \
		--autoplay-policy=no-user-gesture-required "file://$PAGE/$codec.html"
}

firefox_play() {
	local codec=$1 frames=$2
	rm -rf /tmp/firefox-profile
	mkdir -p /tmp/firefox-profile
	cat >/tmp/firefox-profile/user.js <<JS
user_pref("media.hardware-video-decoding.force-enabled", true);
user_pref("media.autoplay.default", 0);
user_pref("media.autoplay.blocking_policy", 0);
user_pref("devtools.console.stdout.content", true);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("app.update.enabled", false);
JS
	MOZ_LOG=PlatformDecoderModule:5,FFmpegVideo:5 play "Firefox $codec" "$OUT/firefox-$codec.txt" "$frames" \
		'Broadcast support|SWDEC|HWDEC|V4L2|WebRender|not accelerated|IsHardwareAccelerated' no \
		"$BROWSERS/usr/lib/firefox-esr/firefox-esr" --headless --no-remote \
		--profile /tmp/firefox-profile "file://$PAGE/$codec.html"
}

decoder_up
make_clips
echo "== Chromium $("$BROWSERS/usr/lib/chromium/chromium" --version 2>/dev/null)"
chromium_play vp9 "$VP9_FRAMES"
chromium_play h264 "$H264_FRAMES"
echo "== Firefox $("$BROWSERS/usr/lib/firefox-esr/firefox-esr" --version 2>/dev/null)"
firefox_play vp9 "$VP9_FRAMES"
firefox_play h264 "$H264_FRAMES"
decoder_down
kernel_reports
finish
