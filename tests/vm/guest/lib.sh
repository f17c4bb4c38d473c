# SPDX-License-Identifier: BSD-2-Clause
#
# Sourced by the guest scripts: check helpers and the kernel-report gate.
# Every check prints one line; finish prints "N passed, N failed", the line
# run-vm.sh and CI read.

PASS=0
FAIL=0
BIN=$STAGE/bin
MODULE=$STAGE/daedalus-v4l2.ko
SOCK=/run/daedalus/daedalusd.sock

# The media core modules our module needs, from the test kernel's tree
# (init.sh mounts it on /lib/modules).
load_media_core() {
	modprobe v4l2-mem2mem && modprobe videobuf2-vmalloc
}

# /dev/videoN of our decoder, by its name in sysfs.
decoder_node() {
	for n in /sys/class/video4linux/video*; do
		[ "$(cat "$n/name")" = daedalus-dec ] && echo "/dev/${n##*/}" && return 0
	done
	return 1
}

# ffmpeg_frame_md5s IN OUT [DECODER]: decodes IN with FFmpeg's DECODER
# (default vp9_v4l2m2m) through the node and writes the MD5 of each picture
# (planar I420), one per line. Raw H.264/HEVC files have no timestamps:
# FFmpeg's V4L2 wrapper gives every picture timestamp 0, and the ffmpeg
# command line would drop all but the first as duplicates unless told to
# pass every frame through (-fps_mode passthrough).
ffmpeg_frame_md5s() {
	local pass=
	[ "${3:-vp9_v4l2m2m}" = vp9_v4l2m2m ] || pass="-fps_mode passthrough"
	# shellcheck disable=SC2086
	timeout -k 5 120 ffmpeg -nostdin -hide_banner -loglevel error -c:v "${3:-vp9_v4l2m2m}" -i "$1" \
		$pass -f framemd5 -pix_fmt yuv420p - 2>"$2.err" |
		grep -v '^#' | awk -F, '{gsub(/ /,"",$6); print $6}' >"$2"
}

# reference_md5s NAME.md5: the reference's per-picture MD5s, one per line.
reference_md5s() {
	awk '{print $1}' "$1"
}

ok() { PASS=$((PASS + 1)); echo "guest-ok:   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "guest-FAIL: $*"; }

# run NAME CMD...: runs CMD (bounded by RUN_TIMEOUT seconds, default 900;
# commands set tighter bounds themselves) with output to $OUT/NAME.txt, shows its first 40 lines
# on the console (a slow emulated serial line); sets RC.
run() {
	name=$1
	shift
	timeout -k 5 "${RUN_TIMEOUT:-900}" "$@" >"$OUT/$name.txt" 2>&1
	RC=$?
	head -40 "$OUT/$name.txt" | cut -c1-200 | sed "s/^/    | /"
}

# expect_rc WANT DESC: checks the last run's exit code.
expect_rc() {
	if [ "$RC" -eq "$1" ]; then ok "$2 (exit $RC)"; else bad "$2 (exit $RC, want $1)"; fi
}

# expect_out NAME REGEX DESC: the output of run NAME matches REGEX.
expect_out() {
	if grep -Eq "$2" "$OUT/$1.txt"; then ok "$3"; else bad "$3: no /$2/ in output"; fi
}

# expect_logged_once REGEX DESC: the kernel log has exactly one line
# matching REGEX (grep -E).
expect_logged_once() {
	local n
	n=$(dmesg | grep -cE "$1")
	if [ "$n" -eq 1 ]; then ok "$2"; else bad "$2: logged $n times, want 1"; fi
}

# wait_for DESC SECONDS CMD...: retries CMD every 0.2 s.
wait_for() {
	desc=$1
	tries=$(($2 * 5))
	shift 2
	while [ $tries -gt 0 ]; do
		"$@" >/dev/null 2>&1 && { ok "$desc"; return 0; }
		sleep 0.2
		tries=$((tries - 1))
	done
	bad "$desc: timed out"
	return 1
}

# Leak scan and log check: any KASAN, lockdep, kmemleak, BUG, WARN or oops
# report in the guest kernel's log fails the run.
kernel_reports() {
	if [ -e /sys/kernel/debug/kmemleak ]; then
		echo scan >/sys/kernel/debug/kmemleak
		sleep 1
		echo scan >/sys/kernel/debug/kmemleak
		leaks=$(grep -c '^unreferenced object' /sys/kernel/debug/kmemleak)
		if [ "$leaks" -eq 0 ]; then
			ok "kmemleak: no leaks"
		else
			bad "kmemleak: $leaks leaks"
			cat /sys/kernel/debug/kmemleak
		fi
	else
		# Debian's stock kernel (the arm64 guest): the log check below
		# still runs; the amd64 guest's debug kernel scans for leaks.
		echo "guest: note: no kmemleak in $(uname -r), no leak scan here"
	fi
	dmesg >"$OUT/dmesg.txt"
	pattern='BUG:|WARNING:|KASAN|possible (recursive|circular) locking|inconsistent lock state|invalid context|Oops|general protection|kmemleak: [0-9]+ new suspected|UBSAN|list_(add|del) corruption'
	if grep -Eq "$pattern" "$OUT/dmesg.txt"; then
		bad "kernel log has reports:"
		grep -E -A20 "$pattern" "$OUT/dmesg.txt" | head -80
	else
		ok "kernel log clean (no KASAN/lockdep/BUG/WARN)"
	fi
}

finish() {
	echo "$PASS passed, $FAIL failed"
}
