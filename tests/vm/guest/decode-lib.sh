# SPDX-License-Identifier: BSD-2-Clause
#
# Sourced after lib.sh by the decode guests (decode.sh on x86-64,
# decode-arm64.sh on arm64): the decode checks both architectures run
# alike. Every function prints its checks through ok/bad.
VP9=$VP9_DIR/conformance

# CI's bounded slice of the client sweeps: SLICE=N takes every Nth stream
# of each list (the first included), so CI stays within its time under
# emulation; scripts/test-codecs.sh runs them all (SLICE=1, the default).
# slice_reset before a list; sliced for each candidate stream; least N:
# the fewest streams a list of N must give in this slice.
slice_reset() { slice_n=0; }
sliced() {
	slice_n=$((slice_n + 1))
	[ $(((slice_n - 1) % ${SLICE:-1})) -eq 0 ]
}
least() { echo $((($1 + ${SLICE:-1} - 1) / ${SLICE:-1})); }

# decoder_up: loads the media core and our module, finds the node (sets
# $dev) and starts daedalusd (sets $daemon); waits for the kernel link.
decoder_up() {
	load_media_core && ok "media core modules" || bad "media core modules"
	insmod "$MODULE" && ok "insmod daedalus-v4l2.ko" || bad "insmod"
	dev=$(decoder_node) && ok "decoder node $dev" || bad "no decoder node"
	"$BIN/daedalusd" --decoder-threads 2 >"$OUT/daedalusd.log" 2>&1 &
	daemon=$!
	wait_for "daedalusd linked to the kernel" 30 "$BIN/daedalusctl" status
}

# Debian's v4l-utils 1.22.1 is older than this kernel's V4L2 core, and
# reports failures that come from the core, not from a driver
# (shared/notes/vm-harness.md): the core renamed NV12's description
# ('Y/UV 4:2:0' -> 'Y/CbCr 4:2:0'), which also aborts the tool's format
# enumeration so that later formats look unreported; and 6.12's core fills
# crbufs.reserved in CREATE_BUFS, which the old tool wants zero. Instead of
# trusting a list, the kernel's own reference decoder, vicodec, is run
# through the same tool on the same kernel here: a line of ours is allowed
# only if vicodec's output has it too (formats and buffer types aside).
compliance_lines() {
	grep -E '(fail|warn):' "$1" | sed -E 's/^[[:space:]]+//; s/pixelformat [0-9a-f]+ \([^)]*\)/pixelformat P/; s/buftype [0-9]+/buftype T/' |
		sort -u
}

# restart_daemon [ARGS]: a new daedalusd (with ARGS) in place of $daemon.
restart_daemon() {
	kill -TERM "$daemon" && wait "$daemon"
	"$BIN/daedalusd" --decoder-threads 2 "$@" >>"$OUT/daedalusd.log" 2>&1 &
	daemon=$!
	wait_for "daedalusd $* linked to the kernel" 30 "$BIN/daedalusctl" status
}

# compliance_check [CODEC...]: v4l2-compliance -s on $dev with a real
# stream of each CODEC (default: every codec). The tool streams the
# context's default OUTPUT format, the first the daemon announces: for
# each codec the daemon is restarted with that one first (--codecs).
# Debian's v4l2-compliance (1.22) knows no stateful AV1 fourcc, and one
# unknown OUTPUT format makes it take the node for a plain m2m device (it
# then never waits for SOURCE_CHANGE nor sends DEC_CMD_STOP): so AV1 is left
# out of the list for the other codecs' runs, and its own run is without
# -s (the streaming test cannot be run on AV1 with this tool; codec_check
# streams AV1 instead). The streams have no
# B-frames: the tool keeps two OUTPUT buffers and waits for one picture
# per buffer it gets back, and a stream whose pictures are reordered holds
# the first ones back longer than that (a player queues more); the shared
# H.264 Baseline stream, and an HEVC one without B-frames made here.
compliance_check() {
	local vicodec unexpected codec stream order other codecs=${*:-h264 hevc vp8 vp9 av1}
	echo "== v4l2-compliance"
	modprobe vicodec multiplanar=1
	vicodec=$(for n in /sys/class/video4linux/video*; do
		[ "$(cat "$n/name")" = stateful-decoder ] && echo "/dev/${n##*/}"
	done | head -1)
	run compliance_vicodec timeout -k 5 300 v4l2-compliance -d "$vicodec"
	grep -E '^Total for' "$OUT/compliance_vicodec.txt" | sed 's/^/guest: v4l2-compliance on vicodec: /'
	rmmod vicodec
	compliance_lines "$OUT/compliance_vicodec.txt" >"$OUT/compliance-vicodec-lines.txt"
	for codec in $codecs; do
		case $codec in
		h264) stream=${VP9_DIR%/vp9}/h264/conformance/h264-01-baseline-cavlc-176x144.h264 ;;
		hevc)
			stream=/tmp/hevc-no-bframes.hevc
			ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i testsrc2=size=352x288:rate=30 \
				-frames:v 30 -pix_fmt yuv420p -c:v libx265 -x265-params bframes=0:log-level=error \
				-f hevc "$stream" 2>"$OUT/hevc-enc.err"
			;;
		vp8) stream=${VP9_DIR%/vp9}/vp8/conformance/vp80-00-comprehensive-001.ivf ;;
		vp9) stream=$VP9/vp90-2-09-lf_deltas.webm ;;
		av1) stream=${VP9_DIR%/vp9}/av1/conformance/av1-01-main-352x288.ivf ;;
		esac
		order=$codec
		for other in h264 hevc vp8 vp9; do
			[ "$other" = "$codec" ] || order=$order,$other
		done
		restart_daemon --codecs "$order"
		"$BIN/stream_to_hdr" "$stream" /tmp/stream.hdr >/dev/null
		if [ "$codec" = av1 ]; then
			run "compliance-$codec" timeout -k 5 300 v4l2-compliance -d "$dev"
		else
			run "compliance-$codec" timeout -k 5 300 v4l2-compliance -d "$dev" -s 20 --stream-from-hdr /tmp/stream.hdr
		fi
		grep -E '^Total for' "$OUT/compliance-$codec.txt" | sed "s/^/guest: v4l2-compliance on ours, $codec: /"
		compliance_lines "$OUT/compliance-$codec.txt" >"$OUT/compliance-$codec-lines.txt"
		# Ours that vicodec lacks (grep, not comm: busybox has no comm).
		unexpected=$(grep -vxF -f "$OUT/compliance-vicodec-lines.txt" "$OUT/compliance-$codec-lines.txt")
		if [ -n "$vicodec" ] && [ -z "$unexpected" ] &&
			grep -qE '^Total for .*Warnings: 0$' "$OUT/compliance-$codec.txt"; then
			ok "v4l2-compliance$([ "$codec" = av1 ] && echo " (no -s: the tool knows no AV1)" || echo " -s, $codec stream"): 0 warnings; failures only those vicodec gets too ($(wc -l <"$OUT/compliance-$codec-lines.txt") kinds)"
		else
			bad "v4l2-compliance -s, $codec stream (vicodec at '$vicodec'): lines vicodec does not get:"
			echo "$unexpected" | head -20
		fi
	done
	restart_daemon
}

# ffmpeg_compare FILE [DECODER]: FILE through FFmpeg's DECODER (default
# vp9_v4l2m2m), its picture MD5s against FILE.md5; says what differs.
ffmpeg_compare() {
	local name=${1##*/}
	ffmpeg_frame_md5s "$1" "$OUT/ff-$name.got" ${2:+"$2"}
	reference_md5s "$1.md5" >"$OUT/ff-$name.want"
	cmp -s "$OUT/ff-$name.got" "$OUT/ff-$name.want" && return 0
	echo "    ffmpeg mismatch: $name ($(wc -l <"$OUT/ff-$name.got")/$(wc -l <"$OUT/ff-$name.want") frames)"
	head -3 "$OUT/ff-$name.got.err"
	return 1
}

# ffmpeg_conformance: every conformance stream the ffmpeg CLI can express
# through FFmpeg's vp9_v4l2m2m, picture MD5s against the reference.
# Cases it cannot express, covered by GStreamer and our own client instead:
#  - it scales every frame to the stream's first size, so streams that change
#    size mid-stream cannot be compared;
#  - FFmpeg 5.1 places single-plane YUV420's V plane a quarter of the luma
#    plane after U, while V4L2 (v4l2_fill_pixfmt_mp) and GStreamer round
#    chroma rows up: for an odd height (351x287) FFmpeg reads V from the
#    wrong offset, and it offers no way to ask for NV12 instead;
#  - 4:4:4 (vp91-2-04-yuv444): FFmpeg 5.1's V4L2 wrapper knows no NV24, the
#    node's format for it (codec_check decodes it).
ffmpeg_conformance() {
	local f name ff_pass=0 ff_total=0
	echo "== FFmpeg vp9_v4l2m2m (every ${SLICE:-1}. stream)"
	slice_reset
	for f in "$VP9"/*.webm "$VP9"/*.ivf; do
		name=${f##*/}
		case $name in *resize*|*351x287*|vp91-2-04-yuv444.webm) continue ;; esac
		sliced || continue
		ff_total=$((ff_total + 1))
		ffmpeg_compare "$f" && ff_pass=$((ff_pass + 1))
	done
	echo "ffmpeg: $ff_pass/$ff_total streams bit-exact"
	# Missing shared data must fail, not pass with nothing compared.
	[ "$ff_pass" -eq "$ff_total" ] && [ "$ff_total" -ge "$(least 25)" ] &&
		ok "ffmpeg: $ff_pass/$ff_total streams bit-exact" ||
		bad "ffmpeg: $ff_pass/$ff_total streams bit-exact"
}

# own_client_check: tests/v4l2_check on the raw V4L2 API.
own_client_check() {
	echo "== our own client: drain, seek, resolution change, concurrency, corrupt streams"
	export DAEDALUS_SHARED_DIR="${VP9_DIR%/vp9}"
	run v4l2_check "$BIN/v4l2_check" "$dev"
	expect_rc 0 "v4l2_check"
	expect_out v4l2_check '^v4l2_check: [0-9]+ checks passed, 0 failed$' "v4l2_check summary"
	kill -0 "$daemon" && ok "daedalusd survived everything" || bad "daedalusd died"
}

# ffmpeg_codecs: FFmpeg's h264_v4l2m2m, hevc_v4l2m2m and vp8_v4l2m2m on
# every stream of those codecs it can express, picture MD5s against the
# reference (VP9: ffmpeg_conformance). Left out, with the reason:
#  - 4:2:2, 4:4:4 and 10-bit streams: FFmpeg 5.1's V4L2 wrapper knows no
#    NV16/NV24/P010 CAPTURE format and would convert (-pix_fmt yuv420p);
#  - AV1: Debian 12's FFmpeg has no av1_v4l2m2m (codec_check covers it);
#  - the resize streams: FFmpeg 5.1's V4L2 wrapper stops at the size
#    change (12 of 24 pictures);
#  - odd heights (vp80-00-comprehensive-006/014, 175x143): FFmpeg 5.1 reads
#    YUV420's V plane from the wrong offset (see ffmpeg_conformance).
# codec_check decodes all of them through the node.
ffmpeg_codecs() {
	local codec f name pass total
	for codec in h264 hevc vp8; do
		echo "== FFmpeg ${codec}_v4l2m2m (every ${SLICE:-1}. stream)"
		pass=0
		total=0
		slice_reset
		while read -r name format _; do
			case $name in '#'*|'') continue ;; esac
			[ "$format" = yuv420p ] || continue
			case $name in *resize*) continue ;; esac
			f=${VP9_DIR%/vp9}/$codec/conformance/$name
			head -1 "$f.md5" | grep -qE -- '-[0-9]+x[0-9]*[13579]-[0-9]+\.[a-z0-9]+$' && continue
			sliced || continue
			total=$((total + 1))
			ffmpeg_compare "$f" "${codec}_v4l2m2m" && pass=$((pass + 1))
		done <"${VP9_DIR%/vp9}/$codec/conformance/MANIFEST.tsv"
		[ "$pass" -eq "$total" ] && [ "$total" -ge "$(least 4)" ] &&
			ok "ffmpeg $codec: $pass/$total streams bit-exact" ||
			bad "ffmpeg $codec: $pass/$total streams bit-exact"
	done
}

# ends_by_itself WHAT LOG CMD...: runs CMD, its output to LOG, killed if it
# runs 60 s; fails (and says so) if it had to be killed.
ends_by_itself() {
	local what=$1 log=$2 rc
	shift 2
	timeout -k 5 60 "$@" </dev/null >"$log" 2>&1
	rc=$?
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] && return 0
	echo "    $what hung (killed at 60 s)"
	return 1
}

# corrupt_clients [CODEC...]: every corrupt stream of the shared data
# (../shared/CODEC/invalid/) through unmodified FFmpeg (CODEC_v4l2m2m) and
# GStreamer (its v4l2 decoder element), as a user would play it: each run
# must end by itself within 60 s (a hang is killed and fails: FFmpeg 5.1
# once waited forever for a LAST buffer when no picture ever came), the
# daemon alive, and then the codec's first conformance stream bit-exact
# through FFmpeg. Whether a client reports an error is its own business;
# that it ends is what the node owes it. AV1: no V4L2 client in Debian 12
# (codec_check has its corrupt streams).
corrupt_clients() {
	local case codec ff element dir f name ended total good
	for case in ${*:-h264:h264_v4l2m2m:v4l2h264dec hevc:hevc_v4l2m2m:v4l2h265dec \
		vp8:vp8_v4l2m2m:v4l2vp8dec vp9:vp9_v4l2m2m:v4l2vp9dec}; do
		codec=${case%%:*}
		element=${case##*:}
		ff=${case#*:}
		ff=${ff%:*}
		dir=${VP9_DIR%/vp9}/$codec
		echo "== corrupt $codec streams through $ff and $element"
		ended=0
		total=0
		for f in "$dir"/invalid/*; do
			case $f in *.res|*.md5) continue ;; esac
			name=${f##*/}
			case $codec:$name in
			# Left out for FFmpeg 5.1, whose V4L2 wrapper cannot follow these
			# streams with any driver (the node ends them: GStreamer and our
			# client do): a stream whose pictures turn from 4:4:4 to 4:2:0
			# keeps CAPTURE buffers when only the pixel format changes, and a
			# corrupt frame that changes the size mid-stream makes its reinit
			# wait for pictures its command line still holds.
			vp9:invalid-vp91-2-mixedrefcsp-444to420.ivf | \
				vp9:invalid-vp90-2-12-droppable_1.ivf.s3676_r01-05_b6-.ivf)
				echo "    $ff left out on $name (FFmpeg 5.1's reinit; see decode-lib.sh)"
				;;
			*)
				total=$((total + 1))
				ends_by_itself "$ff on $name" "$OUT/corrupt-ff-$name.txt" ffmpeg -nostdin \
					-hide_banner -loglevel error -c:v "$ff" -i "$f" -f null - &&
					ended=$((ended + 1))
				;;
			esac
			total=$((total + 1))
			ends_by_itself "$element on $name" "$OUT/corrupt-gst-$name.txt" gst-launch-1.0 -q \
				filesrc location="$f" ! parsebin ! "$element" ! fakesink &&
				ended=$((ended + 1))
		done
		[ "$total" -ge 4 ] && [ "$ended" -eq "$total" ] &&
			ok "corrupt $codec: FFmpeg and GStreamer ended $ended/$total runs by themselves" ||
			bad "corrupt $codec: FFmpeg and GStreamer ended $ended/$total runs by themselves"
		kill -0 "$daemon" && ok "daedalusd alive after the corrupt $codec streams" ||
			bad "daedalusd died on the corrupt $codec streams"
		good=$dir/conformance/$(awk '$2 == "yuv420p" && $1 !~ /^#/ {print $1; exit}' \
			"$dir/conformance/MANIFEST.tsv")
		ffmpeg_compare "$good" "$ff" &&
			ok "after them, ${good##*/} through $ff is bit-exact" ||
			bad "after the corrupt $codec streams, ${good##*/} through $ff differs"
	done
}

# make_clip NAME ENCODER_ARGS: a 176x144 clip with a key frame every 10
# pictures, its per-picture MD5s from FFmpeg's own decoders beside it.
make_clip() {
	local f=$1 enc=$2 frames=${3:-60} size=${4:-176x144}
	# shellcheck disable=SC2086
	ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "testsrc2=size=$size:rate=30" \
		-frames:v "$frames" -pix_fmt yuv420p $enc "$f" 2>>"$OUT/recovery-enc.err"
	ffmpeg -nostdin -hide_banner -loglevel error -i "$f" -fps_mode passthrough -f framemd5 - |
		awk -F, '!/^#/ {gsub(/ /, "", $6); printf "%s  frame-%04d\n", $6, NR}' >"$f.md5"
}

# firefox_probe: Firefox's own V4L2 probe (v4l2test from Debian's arm64
# firefox-esr, unpacked by arm64-tools.sh), which Firefox runs on each
# /dev/video* before it uses a V4L2 decoder, and whose OUTPUT list decides
# the codecs it sends: the node must be "supported", multi-planar, list
# exactly the codecs the daemon announced, and have NV12 or YU12 among its
# CAPTURE formats (Firefox takes no other).
firefox_probe() {
	local probe=$DDV_TOOLS/usr/lib/firefox-esr/v4l2test
	echo "== Firefox's V4L2 probe (v4l2test)"
	# probe_value NAME: the line after NAME in the probe's output.
	probe_value() { awk -v k="$1" 'f { print; exit } $0 == k { f = 1 }' "$OUT/v4l2test.txt" | sed 's/^ //'; }
	for codecs in h264,hevc,vp8,vp9,av1 vp9,h264; do
		restart_daemon --codecs "$codecs"
		run v4l2test "$probe" -d "$dev"
		expect_rc 0 "v4l2test -d $dev"
		want=$(echo "$codecs" | sed 's/h264/H264/; s/hevc/HEVC/; s/vp8/VP80/; s/vp9/VP90/; s/av1/AV01/' | tr ',' '\n' | sort | tr '\n' ' ')
		got=$(probe_value V4L2_OUTPUT_FMTS | tr ' ' '\n' | sort | tr '\n' ' ')
		[ "$(probe_value V4L2_SUPPORTED)" = TRUE ] && [ "$(probe_value V4L2_MPLANE)" = TRUE ] &&
			ok "v4l2test: V4L2_SUPPORTED TRUE, multi-planar (daemon --codecs $codecs)" ||
			bad "v4l2test does not call the node supported: $(tr '\n' ' ' <"$OUT/v4l2test.txt")"
		[ "$got" = "$want" ] && ok "v4l2test: the codecs Firefox may send are the daemon's: $got" ||
			bad "v4l2test lists OUTPUT formats '$got', the daemon announced '$want'"
		echo " $(probe_value V4L2_CAPTURE_FMTS) " | grep -qE ' (NV12|YU12) ' &&
			ok "v4l2test: CAPTURE formats with one Firefox takes: $(probe_value V4L2_CAPTURE_FMTS)" ||
			bad "v4l2test: no NV12 or YU12 among CAPTURE formats '$(probe_value V4L2_CAPTURE_FMTS)'"
	done
	restart_daemon
}

# recovery_clips DIR [CODEC...]: clips with a key frame every 10 pictures
# and their reference MD5s, for recovery_check (all codecs and a
# resolution change by default).
recovery_clips() {
	local clips=$1 x264 codecs
	shift
	codecs=${*:-h264 hevc vp8 vp9 av1 resize}
	rm -rf "$clips" && mkdir -p "$clips"
	x264="-c:v libx264 -preset ultrafast -g 10 -keyint_min 10 -sc_threshold 0 -f h264"
	for c in $codecs; do
		case $c in
		h264) make_clip "$clips/recovery-h264.h264" "$x264" ;;
		hevc) make_clip "$clips/recovery-hevc.hevc" "-c:v libx265 -preset ultrafast -f hevc -x265-params keyint=10:min-keyint=10:scenecut=0:open-gop=0:log-level=error" ;;
		vp8) make_clip "$clips/recovery-vp8.ivf" "-c:v libvpx -deadline realtime -cpu-used 8 -g 10 -f ivf" ;;
		vp9) make_clip "$clips/recovery-vp9.ivf" "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 10 -f ivf" ;;
		av1) make_clip "$clips/recovery-av1.ivf" "-c:v libaom-av1 -usage realtime -cpu-used 8 -g 10 -f ivf" ;;
		resize)
			# A resolution change: two H.264 streams one after the other.
			make_clip "$clips/part1.h264" "$x264" 30 176x144
			make_clip "$clips/part2.h264" "$x264" 30 352x288
			cat "$clips/part1.h264" "$clips/part2.h264" >"$clips/recovery-resize.h264"
			cat "$clips/part1.h264.md5" "$clips/part2.h264.md5" >"$clips/recovery-resize.h264.md5"
			;;
		esac
	done
	for f in "$clips"/recovery-*.md5; do
		[ -s "$f" ] || bad "no reference for ${f##*/}: $(tail -2 "$OUT/recovery-enc.err")"
	done
}

# supervise_daemon [CGROUP]: replaces the running daedalusd by one that a
# supervisor starts again after the unit's RestartSec, as systemd's
# Restart=on-failure would; in the cgroup v2 directory CGROUP if given (the
# daemon alone: the supervisor stays outside). unsupervise_daemon undoes it.
supervise_daemon() {
	local cg=${1:-} rs
	# RestartSec as the packaged unit has it: "200ms" or "2s".
	rs=$(sed -n 's/^RestartSec=//p' "$STAGE/guest/daedalusd.service")
	case $rs in *ms) rs=$(awk -v v="${rs%ms}" 'BEGIN { print v / 1000 }') ;; *s) rs=${rs%s} ;; esac
	# The emulated guest starts a daemon in some 4 s (0.2 s natively): the
	# window is raised for it, as an operator would on a slow machine.
	echo 15000 >/sys/module/daedalus_v4l2/parameters/recovery_ms
	kill -TERM "$daemon" && wait "$daemon"
	touch /tmp/supervise
	(
		while [ -e /tmp/supervise ]; do
			if [ -n "$cg" ]; then
				sh -c "echo \$\$ >$cg/cgroup.procs && exec $BIN/daedalusd --decoder-threads 2" \
					>>"$OUT/daedalusd.log" 2>&1
			else
				"$BIN/daedalusd" --decoder-threads 2 >>"$OUT/daedalusd.log" 2>&1
			fi
			sleep "$rs"
		done
	) &
	supervisor=$!
	wait_for "daedalusd under the supervisor (RestartSec=${rs}s) linked" 30 "$BIN/daedalusctl" status
}

unsupervise_daemon() {
	rm -f /tmp/supervise
	# killall: busybox (the arm64 guest) has no pkill
	killall -TERM daedalusd
	wait "$supervisor"
	echo 3000 >/sys/module/daedalus_v4l2/parameters/recovery_ms
	"$BIN/daedalusd" --decoder-threads 2 >>"$OUT/daedalusd.log" 2>&1 &
	daemon=$!
	wait_for "daedalusd linked again (without the supervisor)" 30 "$BIN/daedalusctl" status
}

# recovery_checks: tests/recovery_check with daedalusd supervised: streams
# of every codec must survive kill -9 (once per codec, 20 times with three
# streams open, during a drain, a resolution change and a close),
# bit-exact after each resume, and the time from the kill to the next
# good picture is printed.
recovery_checks() {
	local clips=/tmp/recovery resumed
	echo "== streams survive their daemon (kill -9; restarted after the unit's RestartSec)"
	recovery_clips "$clips"
	supervise_daemon
	run recovery_check "$BIN/recovery_check" "$dev" "$clips"
	expect_rc 0 "recovery_check: streams of every codec survive kill -9"
	expect_out recovery_check '^recovery_check: [0-9]+ checks passed, 0 failed$' "recovery_check summary"
	grep '^recovery:' "$OUT/recovery_check.txt" | sed 's/^/    /'
	resumed=$(sed -n 's/^streams_resumed //p' /sys/kernel/debug/daedalus_v4l2/stats)
	[ "${resumed:-0}" -gt 0 ] && ok "the kernel counts $resumed streams resumed" ||
		bad "the kernel counts no stream resumed"
	unsupervise_daemon
}

# soak: tests/soak_check for SOAK_SECONDS: 8 streams of mixed codecs
# bit-exact pass after pass while the node is opened, started and closed
# thousands of times and clients are killed mid-stream; daedalusd's RSS
# flat. kernel_reports afterwards checks kmemleak and the log.
soak() {
	local clips=/tmp/soak
	echo "== soak: ${SOAK_SECONDS}s of 8 mixed streams, open/close churn, killed clients"
	recovery_clips "$clips" h264 hevc vp8 vp9
	run soak_check "$BIN/soak_check" "$dev" "$clips" "$SOAK_SECONDS"
	expect_rc 0 "soak_check: ${SOAK_SECONDS}s, every stream bit-exact, daemon RSS flat"
	expect_out soak_check '^soak_check: [0-9]+ checks passed, 0 failed$' "soak_check summary"
	grep '^soak:' "$OUT/soak_check.txt" | sed 's/^/    /'
}

# memory_limit_check: what the unit's MemoryMax= does when daedalusd
# reaches it (recovery_check --memory-limit), with the daemon in a cgroup
# v2 whose memory.max is the unit's value, as systemd would set it. Needs
# the memory cgroup: Debian's kernel (the arm64 guest) has it.
memory_limit_check() {
	local clips=/tmp/memory-limit cg=/sys/fs/cgroup/daedalusd max bytes
	echo "== the unit's MemoryMax=: daedalusd at its memory limit"
	max=$(sed -n 's/^MemoryMax=//p' "$STAGE/guest/daedalusd.service")
	case $max in
	*G) bytes=$((${max%G} * 1073741824)) ;;
	*M) bytes=$((${max%M} * 1048576)) ;;
	*) bytes= ;;
	esac
	[ -n "$bytes" ] && ok "the unit limits daedalusd's memory: MemoryMax=$max" ||
		{ bad "the unit has no MemoryMax= in G or M ('$max')"; return; }
	if ! grep -qw memory /proc/cgroups; then
		bad "this kernel ($(uname -r)) has no memory cgroup"
		return
	fi
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	mkdir -p "$cg"
	echo "$bytes" >"$cg/memory.max"
	recovery_clips "$clips" h264 vp9
	supervise_daemon "$cg"
	run memory_limit "$BIN/recovery_check" --memory-limit "$cg" "$dev" "$clips"
	expect_rc 0 "recovery_check --memory-limit: the OOM killer at the limit, the streams resume"
	expect_out memory_limit '^recovery_check: [0-9]+ checks passed, 0 failed$' "memory limit summary"
	grep '^memory:' "$OUT/memory_limit.txt" | sed 's/^/    /'
	unsupervise_daemon
}

# codec_check: tests/codec_check, every codec through the node with our own
# client: conformance, random byte-stream splits, corrupt streams, mixed
# codecs at once. CODECS narrows it (arm64: a slice, for time).
codec_check() {
	echo "== our own client: every codec"
	export DAEDALUS_SHARED_DIR="${VP9_DIR%/vp9}"
	# shellcheck disable=SC2086
	run codec_check "$BIN/codec_check" "$dev" ${CODECS:-}
	expect_rc 0 "codec_check"
	expect_out codec_check '^codec_check: [0-9]+ checks passed, 0 failed$' "codec_check summary"
	grep -E "^FAIL|^(ok  ) [a-z0-9]+: [0-9]+/[0-9]+ streams|^    " "$OUT/codec_check.txt" | head -40 | sed "s/^/    /"
	kill -0 "$daemon" && ok "daedalusd survived every codec" || bad "daedalusd died"
}

# resize_checks: a resolution change for the codecs whose shared data has
# none (VP8, AV1): two clips of different sizes encoded here and joined
# frame by frame into one IVF (each starts with a keyframe that carries its
# size), decoded by codec_check against the MD5s libavcodec gives for the
# joined stream at each picture's own size (ffmpeg -autoscale 0).
resize_checks() {
	local codec enc size part
	echo "== a resolution change for VP8 and AV1"
	for codec in vp8 av1; do
		case $codec in
		vp8) enc="-c:v libvpx -deadline realtime -cpu-used 8" ;;
		av1) enc="-c:v libsvtav1 -preset 12" ;;
		esac
		part=0
		for size in 352x288 176x144; do
			# shellcheck disable=SC2086
			ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "testsrc2=size=$size:rate=30" \
				-frames:v 8 -pix_fmt yuv420p $enc -f ivf "/tmp/$codec-part$part.ivf" 2>>"$OUT/resize-enc.err"
			part=$((part + 1))
		done
		python3 "$STAGE/tests/ivf_join.py" /tmp/$codec-part0.ivf /tmp/$codec-part1.ivf /tmp/$codec-resize.ivf
		ffmpeg -nostdin -hide_banner -loglevel error -i /tmp/$codec-resize.ivf -autoscale 0 -f framemd5 - |
			awk -F, '!/^#/ {gsub(/ /, "", $6); printf "%s  frame-%04d\n", $6, NR}' >/tmp/$codec-resize.ivf.md5
		run "resize-$codec" "$BIN/codec_check" "$dev" --stream "$codec" /tmp/$codec-resize.ivf
		expect_out "resize-$codec" '^codec_check: [0-9]+ checks passed, 0 failed$' \
			"$codec: a resolution change mid-stream, bit-exact ($(wc -l </tmp/$codec-resize.ivf.md5) pictures)"
	done
}

# depth_checks: the CAPTURE formats only generated streams need (no shared
# stream is 12-bit, one is 10-bit 4:2:2): short clips encoded here with
# Debian's libx265 and libvpx, decoded by codec_check against libavcodec's
# own pictures of them (-f framemd5: planar, 16-bit samples), each in the
# format the node must choose for it.
depth_checks() {
	local case codec pixfmt fourcc enc ext f
	echo "== 10/12-bit pictures: P012, Y210, Y212 (every ${SLICE:-1}. clip)"
	slice_reset
	for case in hevc:yuv420p12le:P012 hevc:yuv422p10le:Y210 hevc:yuv422p12le:Y212 \
		vp9:yuv420p12le:P012; do
		sliced || continue
		codec=${case%%:*}
		fourcc=${case##*:}
		pixfmt=${case#*:}
		pixfmt=${pixfmt%:*}
		case $codec in
		hevc) enc="-c:v libx265 -preset ultrafast -x265-params log-level=error -f hevc" ext=hevc ;;
		vp9) enc="-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -f ivf" ext=ivf ;;
		esac
		f=/tmp/depth-$codec-$pixfmt.$ext
		# shellcheck disable=SC2086
		ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "testsrc2=size=176x144:rate=30" \
			-frames:v 6 -pix_fmt "$pixfmt" $enc "$f" 2>>"$OUT/depth-enc.err"
		ffmpeg -nostdin -hide_banner -loglevel error -i "$f" -f framemd5 - |
			awk -F, '!/^#/ {gsub(/ /, "", $6); printf "%s  frame-%04d\n", $6, NR}' >"$f.md5"
		run "depth-$codec-$pixfmt" "$BIN/codec_check" "$dev" --stream "$codec" "$f" "$fourcc"
		expect_out "depth-$codec-$pixfmt" '^codec_check: [0-9]+ checks passed, 0 failed$' \
			"$codec $pixfmt as $fourcc: bit-exact ($(wc -l <"$f.md5") pictures)"
	done
}

# gst_vp9: GStreamer's v4l2vp9dec on the VP9 streams, twice: the node gives
# YUV420 (I420, what GStreamer picks by itself: the first format we list),
# then NV12 (every other stream of the slice). videoconvert repacks each
# picture into the other format (a lossless repack: no matrix, no chroma
# resampling), which makes it write GStreamer's default layout whatever the
# driver's strides; multifilesink writes one file per frame and
# frames_md5.py compares each with the reference. 4:4:4 is gst_formats'.
gst_vp9() {
	local fmt repack f name log size gst_pass gst_total min
	echo "== GStreamer v4l2vp9dec (every ${SLICE:-1}. stream)"
	gst-inspect-1.0 v4l2vp9dec >/dev/null 2>&1 && ok "GStreamer found v4l2vp9dec" || bad "no v4l2vp9dec"
	for fmt in I420 NV12; do
		repack=NV12
		[ $fmt = NV12 ] && repack=I420
		gst_pass=0
		gst_total=0
		slice_reset
		for f in "$VP9"/*.webm "$VP9"/*.ivf; do
			name=${f##*/}
			[ "$name" = vp91-2-04-yuv444.webm ] && continue
			sliced || continue
			# In a slice, NV12 takes every other stream of I420's.
			[ $fmt = NV12 ] && [ "${SLICE:-1}" -gt 1 ] &&
				[ $((slice_n / SLICE % 2)) -eq 1 ] && continue
			gst_total=$((gst_total + 1))
			log=$OUT/gst-$fmt-$name.log
			rm -rf /tmp/gst && mkdir -p /tmp/gst
			timeout -k 5 120 gst-launch-1.0 -q filesrc location="$f" ! parsebin ! v4l2vp9dec ! \
				video/x-raw,format=$fmt ! videoconvert matrix-mode=none primaries-mode=none \
				gamma-mode=none dither=none chroma-mode=none ! video/x-raw,format=$repack ! \
				multifilesink location=/tmp/gst/%05d.raw </dev/null >"$log" 2>&1
			# The reference names each frame's size, except for a few streams.
			size=0x0
			grep -qE -- '-[0-9]+x[0-9]+-[0-9]+\.i420$' "$f.md5" ||
				size=$("$BIN/stream_to_hdr" "$f" /tmp/size.hdr | sed -n 's/.*, //p')
			if python3 "$STAGE/tests/frames_md5.py" "$f.md5" "$size" $repack /tmp/gst/*.raw >>"$log" 2>&1; then
				gst_pass=$((gst_pass + 1))
			else
				echo "    gstreamer $fmt mismatch: $name: $(tail -1 "$log")"
				grep -E 'WARN|ERROR' "$log" | head -3
			fi
		done
		min=$(least 30)
		[ $fmt = NV12 ] && [ "${SLICE:-1}" -gt 1 ] && min=$((min / 2))
		[ "$gst_pass" -eq "$gst_total" ] && [ "$gst_total" -ge "$min" ] &&
			ok "gstreamer $fmt: $gst_pass/$gst_total streams bit-exact" ||
			bad "gstreamer $fmt: $gst_pass/$gst_total streams bit-exact"
	done
}

# gst_codecs: v4l2h264dec, v4l2h265dec, v4l2vp8dec; I420 from the node,
# repacked to NV12 as in gst_vp9, on the 8-bit 4:2:0 streams. Left out,
# with the reason: 4:2:2, 4:4:4 and 10-bit streams (gst_formats has them);
# the 1080p ones (minutes each under emulation; test-codecs.sh has them
# through our client); the two resize byte streams, whose reference hashes
# pictures the ffmpeg command line scaled back to the first size
# (docs/testing.md; codec_check has them). Each with the fewest streams it
# must find (missing data fails).
gst_codecs() {
	local case codec element min dir name format f log gst_pass gst_total
	echo "== GStreamer v4l2h264dec, v4l2h265dec, v4l2vp8dec (every ${SLICE:-1}. stream)"
	for case in h264:v4l2h264dec:9 hevc:v4l2h265dec:3 vp8:v4l2vp8dec:18; do
		codec=${case%%:*}
		element=${case#*:}
		min=$(least "${element#*:}")
		element=${element%:*}
		gst-inspect-1.0 "$element" >/dev/null 2>&1 || { bad "no $element"; continue; }
		gst_pass=0
		gst_total=0
		slice_reset
		dir=${VP9_DIR%/vp9}/$codec/conformance
		while read -r name format _; do
			case $name in '#'*|''|*1080p*|*resize*) continue ;; esac
			[ "$format" = yuv420p ] || continue
			sliced || continue
			f=$dir/$name
			gst_total=$((gst_total + 1))
			log=$OUT/gst-$name.log
			rm -rf /tmp/gst && mkdir -p /tmp/gst
			timeout -k 5 120 gst-launch-1.0 -q filesrc location="$f" ! parsebin ! "$element" ! \
				video/x-raw,format=I420 ! videoconvert matrix-mode=none primaries-mode=none \
				gamma-mode=none dither=none chroma-mode=none ! video/x-raw,format=NV12 ! \
				multifilesink location=/tmp/gst/%05d.raw </dev/null >"$log" 2>&1
			if python3 "$STAGE/tests/frames_md5.py" "$f.md5" 0x0 NV12 /tmp/gst/*.raw >>"$log" 2>&1; then
				gst_pass=$((gst_pass + 1))
			else
				echo "    gstreamer $codec mismatch: $name: $(tail -1 "$log")"
				grep -E 'WARN|ERROR' "$log" | head -3
			fi
		done <"$dir/MANIFEST.tsv"
		[ "$gst_pass" -eq "$gst_total" ] && [ "$gst_total" -ge "$min" ] &&
			ok "gstreamer $element: $gst_pass/$gst_total streams bit-exact" ||
			bad "gstreamer $element: $gst_pass/$gst_total streams bit-exact"
	done
}

# gst_formats: GStreamer's V4L2 decoders on every shared stream that is not
# 8-bit 4:2:0 and that GStreamer 1.22 can take from the node: 4:2:2 as
# NV16, 4:4:4 as NV24, each repacked by videoconvert (exactly: no
# conversion of values) to the planar layout frames_md5.py hashes. Left
# out: 10-bit streams (GStreamer 1.22's V4L2 elements map no V4L2 format
# to P010_10LE: "could not link v4l2h265dec0 to videoconvert0,
# v4l2h265dec0 can't handle caps video/x-raw, format=P010_10LE"), HEVC
# 4:4:4 (v4l2h265dec takes only the profiles V4L2's HEVC menu can name,
# Main, Main Still Picture and Main 10: h265parse says "not-linked" for
# the range extensions' Main 4:4:4) and 4:4:0 (no V4L2 format);
# codec_check has them.
gst_formats() {
	local codec element dir name format fmts f log pass=0 total=0
	echo "== GStreamer: 4:2:2 and 4:4:4 streams (every ${SLICE:-1}. stream)"
	slice_reset
	for codec in h264:v4l2h264dec vp9:v4l2vp9dec; do
		element=${codec#*:}
		codec=${codec%%:*}
		for dir in "${VP9_DIR%/vp9}/$codec/conformance" "${VP9_DIR%/vp9}/$codec/profiles"; do
			[ -f "$dir/MANIFEST.tsv" ] || continue
			while read -r name format _; do
				case $format in
				yuv422p) fmts="NV16 Y42B" ;;
				yuv444p) fmts="NV24 Y444" ;;
				*) continue ;;
				esac
				case $dir in */profiles) [ -e "${dir%/profiles}/conformance/$name" ] && continue ;; esac
				sliced || continue
				f=$dir/$name
				total=$((total + 1))
				log=$OUT/gst-fmt-$name.log
				rm -rf /tmp/gst && mkdir -p /tmp/gst
				timeout -k 5 120 gst-launch-1.0 -q filesrc location="$f" ! parsebin ! "$element" ! \
					"video/x-raw,format=${fmts% *}" ! videoconvert matrix-mode=none \
					primaries-mode=none gamma-mode=none dither=none chroma-mode=none ! \
					"video/x-raw,format=${fmts#* }" ! multifilesink location=/tmp/gst/%05d.raw \
					</dev/null >"$log" 2>&1
				if python3 "$STAGE/tests/frames_md5.py" "$f.md5" 0x0 "${fmts#* }" /tmp/gst/*.raw >>"$log" 2>&1; then
					pass=$((pass + 1))
					echo "    ok   $name as ${fmts% *}"
				else
					echo "    gstreamer mismatch: $name as ${fmts% *}: $(tail -1 "$log")"
					grep -E 'WARN|ERROR' "$log" | head -3
				fi
			done <"$dir/MANIFEST.tsv"
		done
	done
	# h264 4:2:2 and 4:4:4, vp9 4:4:4.
	[ "$pass" -eq "$total" ] && [ "$total" -ge "$(least 3)" ] &&
		ok "gstreamer NV16/NV24: $pass/$total streams bit-exact" ||
		bad "gstreamer NV16/NV24: $pass/$total streams bit-exact"
}

# kernel_ping: a control-plane ping that round-trips through the kernel.
kernel_ping() {
	run ctl_ping "$BIN/daedalusctl" ping -c 3 -i 0.2
	expect_rc 0 "daedalusctl ping through the guest kernel"
	expect_out ctl_ping '^rtt min/avg/max = [0-9.]+/[0-9.]+/[0-9.]+ ms \(measured in the kernel\)$' \
		"ping reports the guest kernel's RTT: $(grep '^rtt' "$OUT/ctl_ping.txt" 2>/dev/null)"
}

# decoder_down: stops daedalusd and unloads the module.
decoder_down() {
	"$BIN/daedalusctl" status | sed 's/^/    | /'
	kill -TERM "$daemon" && wait "$daemon"
	RC=$?
	expect_rc 0 "daedalusd stops cleanly"
	rmmod daedalus_v4l2 && ok "rmmod" || bad "rmmod"
}
