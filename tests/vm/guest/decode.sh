# SPDX-License-Identifier: BSD-2-Clause
#
# Guest test of decoding through the V4L2 node: v4l2-compliance with a real
# stream, unmodified clients (FFmpeg's h264/hevc/vp8/vp9_v4l2m2m,
# GStreamer's v4l2h264dec/h265dec/vp8dec/vp9dec) on a slice of the
# conformance streams and our own client (every codec) on all but the
# 1080p ones, compared frame by frame with the reference MD5s.
. "$STAGE/guest/lib.sh"
. "$STAGE/guest/decode-lib.sh"
# CI's slice of the FFmpeg and GStreamer sweeps (every 6th stream); the
# full sweeps are scripts/test-codecs.sh's (docs/testing.md).
SLICE=${SLICE:-6}

decoder_up

echo "== udev rule"
# udevadm test runs the rules against the live sysfs devices without
# changing anything; our rule is installed in /run/udev/rules.d (tmpfs).
mkdir -p /run/udev/rules.d
cp "$STAGE/guest/60-daedalus-v4l2.rules" /run/udev/rules.d/
node=${dev#/dev/}
run udev_decoder udevadm test --action=add "/sys/class/video4linux/$node"
expect_out udev_decoder "DEVLINKS=(.* )?/dev/video-dec${node#video}( |$)" \
	"udev: $dev gets the stable name /dev/video-dec${node#video}"
expect_out udev_decoder "60-daedalus-v4l2.rules:[0-9]+ (GROUP|MODE)" "udev: the decoder rule sets group and mode"
run udev_chardev udevadm test --action=add /sys/class/misc/daedalus-v4l2
expect_out udev_chardev "60-daedalus-v4l2.rules:[0-9]+ MODE 0660" "udev: /dev/daedalus-v4l2 mode 0660 by rule"

# v4l2-compliance -s for HEVC, VP8 and AV1 here; H.264 and VP9 in the
# arm64 guest (decode-arm64.sh): every codec once per CI run.
compliance_check hevc vp8 av1

ffmpeg_conformance
ffmpeg_codecs

gst_vp9
gst_codecs
gst_formats

echo "== control plane during a real decode"
# daedalusctl watch streams snapshots while FFmpeg decodes a 99-frame CIF
# stream through the node; the counters must move by exactly its frames.
stream=$VP9/vp90-2-12-droppable_1.ivf
frames=$(wc -l <"$stream.md5")
"$BIN/daedalusctl" -o json stats >"$OUT/stats-before.json"
"$BIN/daedalusctl" -o json watch -i 0.25 >"$OUT/watch.json" 2>&1 &
watcher=$!
"$BIN/daedalusctl" watch -i 0.5 >"$OUT/watch.txt" 2>&1 &
watcher_table=$!
sleep 0.5
ffmpeg_frame_md5s "$stream" "$OUT/ctl-ffmpeg.got"
sleep 0.75
kill -TERM "$watcher" "$watcher_table"
wait "$watcher" "$watcher_table" 2>/dev/null
"$BIN/daedalusctl" -o json stats >"$OUT/stats-after.json"
if python3 - "$OUT/stats-before.json" "$OUT/stats-after.json" "$OUT/watch.json" "$frames" \
	>"$OUT/ctl_check.txt" 2>&1 <<'PY'
import json, sys
before = json.load(open(sys.argv[1]))["endpoints"][0]["result"]
after = json.load(open(sys.argv[2]))["endpoints"][0]["result"]
frames = int(sys.argv[4])
out = lambda s: int(s["totals"]["frames_out"])
assert out(after) - out(before) == frames, (out(before), out(after), frames)
assert int(after["job_latency"]["count"]) - int(before["job_latency"]["count"]) >= frames
snaps = [json.loads(l)["stats"] for l in open(sys.argv[3]) if l.startswith("{")]
seen = [out(s) for s in snaps]
assert len(snaps) >= 3, seen
assert seen == sorted(seen), seen
assert seen[-1] - seen[0] == frames, seen
busy = [c for s in snaps for c in s.get("contexts", [])
        if c.get("width") == 352 and c.get("height") == 288]
assert busy, "no snapshot saw the 352x288 context"
print(f"frames_out {out(before)} -> {out(after)} (+{frames}); watch saw {seen}; "
      f"context {busy[-1]['id']} 352x288 at {busy[-1].get('frames_per_second', 0):.1f} fps")
PY
then
	ok "daedalusctl stats and watch count the $frames frames of a real decode: $(tail -1 "$OUT/ctl_check.txt")"
else
	bad "daedalusctl stats/watch: $(tail -3 "$OUT/ctl_check.txt")"
fi
sed 's/^/    | /' "$OUT/watch.txt" | head -20
"$BIN/daedalusctl" stats | sed 's/^/    | /'
curl -s --max-time 5 http://127.0.0.1:9477/metrics >"$OUT/metrics.txt"
# The per-codec series add up to what stats counts in all.
metric=$(awk '/^daedalus_frames_out_total\{/ { s += $2 } END { print s + 0 }' "$OUT/metrics.txt")
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["endpoints"][0]["result"]["totals"]["frames_out"])' "$OUT/stats-after.json")
[ "$metric" = "$want" ] && ok "/metrics agrees: daedalus_frames_out_total summed over codecs $metric" ||
	bad "/metrics says daedalus_frames_out_total '$metric' summed over codecs, stats says $want"
busy=$(sed -n 's/^daedalus_decode_busy_seconds_total{codec="vp9"} //p' "$OUT/metrics.txt")
awk -v b="${busy:-0}" 'BEGIN { exit !(b > 0) }' &&
	ok "/metrics: the VP9 decode made daedalus_decode_busy_seconds_total{codec=\"vp9\"} $busy" ||
	bad "/metrics: VP9 busy seconds '$busy' after a VP9 decode"
device=$(grep -E '^daedalus_device_info\{board="[^"]+",ffmpeg="Lavc[^"]*",kernel="6\.12[^"]*",module_version="[^"]+",protocol="[0-9]+"\} 1' "$OUT/metrics.txt")
[ -n "$device" ] && ok "/metrics: $device" ||
	bad "/metrics: no daedalus_device_info with this board and kernel: $(grep device_info "$OUT/metrics.txt")"
kernel_ping

own_client_check
# The full run (every 1080p stream too) is scripts/test-codecs.sh.
CODECS="--quick" codec_check
resize_checks
depth_checks
corrupt_clients
recovery_checks

echo "== a daemon that hangs or dies never leaves a client blocked"
# What the kernel owes the client is a prompt EIO. FFmpeg 5.1 reports it
# ("Input/output error") and then spins in its own drain loop until killed,
# so the checks read its log after a bounded run instead of its exit.
clip=$VP9/vp90-2-12-droppable_1.ivf
echo 1000 >/sys/module/daedalus_v4l2/parameters/job_timeout_ms
kill -STOP "$daemon"
timeout -k 5 20 ffmpeg -hide_banner -loglevel error -c:v vp9_v4l2m2m -i "$clip" -f null - \
	>"$OUT/hung.txt" 2>&1
grep -q 'Input/output error' "$OUT/hung.txt" && ok "hung daemon: the client gets EIO within 20 s" ||
	bad "hung daemon: no EIO within 20 s: $(head -1 "$OUT/hung.txt")"
dmesg | grep -q 'did not answer a decode job in time' && ok "kernel log names the timeout" ||
	bad "no timeout message in the kernel log"
kill -CONT "$daemon"
echo 5000 >/sys/module/daedalus_v4l2/parameters/job_timeout_ms
timeout -k 5 20 ffmpeg -hide_banner -loglevel error -c:v vp9_v4l2m2m -i "$clip" -f null - \
	>"$OUT/dies.txt" 2>&1 &
client=$!
sleep 3
kill -KILL "$daemon"
wait "$daemon" 2>/dev/null
wait "$client"
grep -q 'Input/output error' "$OUT/dies.txt" && ok "daemon killed mid-stream: the client gets EIO" ||
	bad "daemon killed mid-stream: no EIO: $(head -1 "$OUT/dies.txt")"
# Which reason depends on timing: the daemon died during a job of this
# client ("went away") or before its first job ("no daemon").
dmesg | grep -qE 'the daemon went away|no daemon: is daedalusd running' &&
	ok "kernel log says the daemon is gone" || bad "no daemon-gone message in the kernel log"
"$BIN/daedalusd" --decoder-threads 2 >>"$OUT/daedalusd.log" 2>&1 &
daemon=$!
wait_for "a new daedalusd links up" 30 "$BIN/daedalusctl" status
f=$VP9/vp90-2-03-size-226x226.webm
ffmpeg_frame_md5s "$f" "$OUT/after.got"
reference_md5s "$f.md5" | cmp -s - "$OUT/after.got" && ok "decoding works again with the new daemon" ||
	bad "decode after daemon restart differs"

echo "== the daemon dies while a client closes its context"
# The close is held where the context's queues are freed (debugfs
# release_delay_ms, a test hook); the daemon is killed right then, and
# failing the contexts it served must not touch those queues (KASAN would
# report the use after free; kernel_reports below fails on it).
hook=/sys/kernel/debug/daedalus_v4l2/release_delay_ms
echo 4000 >"$hook"
f=$VP9/vp90-2-03-size-226x226.webm
timeout -k 5 90 ffmpeg -hide_banner -loglevel error -c:v vp9_v4l2m2m -i "$f" -f null - \
	>"$OUT/close-race.txt" 2>&1 &
client=$!
if wait_for "a closing context is held where its queues are freed" 60 \
	sh -c "dmesg | grep -q 'close of context [0-9]* held'"; then
	kill -KILL "$daemon"
	wait "$daemon" 2>/dev/null
fi
wait "$client"
echo 0 >"$hook"
dmesg >"$OUT/close-race-dmesg.txt"
if grep -q 'KASAN' "$OUT/close-race-dmesg.txt"; then
	bad "daemon gone during a close: the kernel used the freed queues"
	grep -A12 'KASAN' "$OUT/close-race-dmesg.txt" | head -24
else
	ok "daemon gone during a close: no use of the freed queues (KASAN clean)"
fi
"$BIN/daedalusd" --decoder-threads 2 >>"$OUT/daedalusd.log" 2>&1 &
daemon=$!
wait_for "a new daedalusd links up" 30 "$BIN/daedalusctl" status

echo "== 4:4:0 (VP9 profile 1; no V4L2 format carries it) gets a clear error, never garbage"
timeout -k 5 20 ffmpeg -hide_banner -loglevel error -c:v vp9_v4l2m2m -i "$VP9_DIR/profiles/vp91-2-04-yuv440.webm" \
	-f framemd5 - >"$OUT/ff-440.fmd5" 2>"$OUT/ff-440.err"
frames=$(grep -vc '^#' "$OUT/ff-440.fmd5")
# FFmpeg gets EIO and reports it; it then waits in its own drain loop
# (an FFmpeg 5.1 behaviour after EIO), which the timeout ends.
[ "$frames" -eq 0 ] && grep -q 'Input/output error' "$OUT/ff-440.err" &&
	ok "4:4:0 stream: no frames, the client gets EIO" ||
	bad "4:4:0 stream: $frames frames, $(head -1 "$OUT/ff-440.err")"
dmesg | grep -q 'stream is 8-bit 4:4:0; no CAPTURE format carries it' &&
	ok "kernel log names the stream's format (8-bit 4:4:0)" ||
	bad "no clear 4:4:0 message in the kernel log"

echo "== a stream larger than the node's maximum fails clearly, never clamped"
# 4160 wide: above DDV_MAX_WIDTH (4096), made here with the host's tools.
# FFmpeg refuses such a stream itself, so our client declares 352x288 and
# lets the daemon announce the real size.
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=4160x64:rate=30 -frames:v 3 \
	-c:v libvpx-vp9 -deadline realtime -cpu-used 8 /tmp/wide.ivf 2>"$OUT/wide-enc.err"
if [ -s /tmp/wide.ivf ]; then
	run v4l2_check_wide "$BIN/v4l2_check" "$dev" --oversized /tmp/wide.ivf
	expect_out v4l2_check_wide '^v4l2_check: [0-9]+ checks passed, 0 failed$' \
		"4160x64 stream: the context fails, no picture"
	dmesg | grep -q 'stream is 4160x64, beyond the node.s 4096x2304' &&
		ok "kernel log names the size and the limit" || bad "no size message in the kernel log"
	kill -0 "$daemon" && ok "daedalusd alive after the oversized stream" || bad "daedalusd died"
else
	bad "could not encode the 4160x64 test stream: $(head -2 "$OUT/wide-enc.err")"
fi

# CI's slice of scripts/soak.sh, last: kernel_reports then scans for leaks.
soak
decoder_down
kernel_reports
finish
