# SPDX-License-Identifier: BSD-2-Clause
#
# Guest test of the walking skeleton: the chardev bridge on its own, then
# CLI -> gRPC -> daedalusd -> kernel -> daedalusd -> CLI, including the
# failure modes a user meets first (no daemon, no module).
. "$STAGE/guest/lib.sh"

echo "== the guest's own procfs"
# read is a shell builtin: /proc/self is this shell, so a guest procfs
# names $$ here; the host's /proc seen through the 9p root would not.
read -r self_pid _ </proc/self/stat 2>/dev/null
[ "${self_pid:-}" = "$$" ] && ok "/proc/self/stat is this guest's (pid $$)" ||
	bad "/proc/self/stat gives pid '${self_pid:-}', want $$: not the guest's procfs"
grep -q '^proc /proc proc ' /proc/mounts && ok "/proc/mounts lists the guest's procfs" ||
	bad "/proc/mounts has no procfs on /proc"
# run-vm.sh gives every guest two vCPUs; the kernel's race tests below
# (job_check, kernel_fuzz) only race on two. A kernel that cannot find the
# second (the x86-64 one without ACPI did) must fail here, not quietly.
cpus=$(grep -c '^processor' /proc/cpuinfo)
[ "$cpus" -ge 2 ] && ok "the kernel runs on $cpus CPUs" ||
	bad "the kernel found $cpus CPU of run-vm.sh's 2: its races run on one"

echo "== module and bridge_check (no daemon)"
load_media_core || bad "media core modules"
if insmod "$MODULE"; then ok "insmod daedalus-v4l2.ko"; else bad "insmod"; finish; exit 1; fi
mode=$(stat -c %a /dev/daedalus-v4l2 2>/dev/null)
[ "$mode" = 660 ] && ok "/dev/daedalus-v4l2 mode 0660" || bad "/dev/daedalus-v4l2 mode '$mode'"
run bridge_check "$BIN/bridge_check"
expect_rc 0 "bridge_check: every step of the round trip"
expect_out bridge_check '^bridge_check: [0-9]+ checks passed, 0 failed$' "bridge_check summary"
# bridge_check sent three messages of other protocol versions in one attach.
expect_logged_once 'the daemon speaks protocol [0-9]*, this module 6: its messages are refused' \
	"a daemon of another protocol version: one clear kernel log line"
run job_check "$BIN/job_check"
expect_rc 0 "job_check: the decode-job protocol with a scripted daemon"
expect_out job_check '^job_check: [0-9]+ checks passed, 0 failed$' "job_check summary"
expect_logged_once 'contexts decoding, the limit \(max_contexts\): more get EBUSY' \
	"the context limit is logged once for two refused contexts"

echo "== kernel_fuzz: a hostile daemon and an unprivileged client at once"
# CI's bounded slice; scripts/fuzz.sh --kernel runs 10^6 and more.
ops=${FUZZ_OPS:-100000}
dev=$(decoder_node)
# As the udev rule sets it: the client side runs as nobody in group video.
chgrp video "$dev" && chmod 0660 "$dev"
# Short job and recovery timeouts: a STREAMOFF or close waits for its
# running job, and a recovery window holds every job; the walk should not.
echo 500 >/sys/module/daedalus_v4l2/parameters/job_timeout_ms
echo 300 >/sys/module/daedalus_v4l2/parameters/recovery_ms
run kernel_fuzz "$BIN/kernel_fuzz" "$dev" "$ops"
echo 5000 >/sys/module/daedalus_v4l2/parameters/job_timeout_ms
echo 3000 >/sys/module/daedalus_v4l2/parameters/recovery_ms
expect_rc 0 "kernel_fuzz: $ops random operations as the daemon and as a client, every call returned in 10 s"
expect_out kernel_fuzz '^kernel_fuzz: done, every call returned$' "kernel_fuzz: both processes ended"
run job_check_after_fuzz "$BIN/job_check"
expect_rc 0 "after the fuzzing the module still serves the job protocol (job_check again)"
rmmod daedalus_v4l2 && ok "rmmod after bridge_check, job_check and kernel_fuzz" ||
	bad "rmmod after kernel_fuzz"

echo "== a daemon that attaches the moment the module loads"
# The chardev must not appear before the decoder node can take a HELLO.
attach_ok=0
for i in 1 2 3 4 5 6 7 8; do
	"$BIN/job_check" --attach-at-load >"$OUT/attach-$i.txt" 2>&1 &
	attacher=$!
	insmod "$MODULE" || bad "insmod $i"
	wait "$attacher" && attach_ok=$((attach_ok + 1)) || grep FAIL "$OUT/attach-$i.txt" | sed 's/^/    /'
	rmmod daedalus_v4l2 || bad "rmmod $i"
done
[ "$attach_ok" -eq 8 ] && ok "8/8 loads: the HELLO's codecs are what the node offers" ||
	bad "$attach_ok/8 loads gave the node the HELLO's codecs"

echo "== the decoder node's number (module parameter video_nr)"
insmod "$MODULE" video_nr=10 || bad "insmod video_nr=10"
[ "$(cat /sys/class/video4linux/video10/name 2>/dev/null)" = daedalus-dec ] &&
	ok "video_nr=10: the decoder is /dev/video10 (Raspberry Pi OS's Chromium)" ||
	bad "video_nr=10: /dev/video10 is not the decoder"
rmmod daedalus_v4l2 || bad "rmmod after video_nr=10"
# A number already taken (by vicodec's first node): the module says where
# the decoder went instead.
if modprobe vicodec 2>/dev/null; then
	taken=$(cd /sys/class/video4linux && ls -d video* | sed 's/video//' | sort -n | head -1)
	insmod "$MODULE" video_nr="$taken" || bad "insmod video_nr=$taken"
	got=$(for n in /sys/class/video4linux/video*; do
		[ "$(cat "$n/name")" = daedalus-dec ] && echo "${n##*video}"
	done)
	dmesg | grep -q "/dev/video$taken is taken: video_nr=$taken not honoured, the decoder is /dev/video$got" &&
		ok "video_nr=$taken taken by vicodec: the decoder is /dev/video$got, and the log says so" ||
		bad "video_nr=$taken taken: no log line naming /dev/video$got"
	rmmod daedalus_v4l2 || bad "rmmod after a taken video_nr"
	rmmod vicodec
else
	echo "guest: note: no vicodec module, the taken-number case is not tried"
fi

echo "== daedalusctl without a daemon"
run status_nodaemon "$BIN/daedalusctl" --dial-timeout 1 status
expect_rc 3 "status without daemon"
expect_out status_nodaemon 'daedalusd is not running \(no socket at /run/daedalus/daedalusd.sock\)' \
	"status says the daemon is not running"

echo "== daedalusd without the module"
"$BIN/daedalusd" --reconnect-interval 0.2 >"$OUT/daedalusd.log" 2>&1 &
daemon=$!
wait_for "daedalusd socket appears" 30 test -S "$SOCK"
run status_nomodule "$BIN/daedalusctl" status
expect_rc 4 "status without module"
expect_out status_nomodule 'kernel link:   DOWN, /dev/daedalus-v4l2: .*is the daedalus_v4l2 module loaded\?' \
	"status says the module is not loaded"
run ping_nomodule "$BIN/daedalusctl" ping -c 1
expect_rc 4 "ping without module"
run second_daemon "$BIN/daedalusd"
expect_rc 1 "a second daedalusd refuses to start"
expect_out second_daemon "another daedalusd \(pid $daemon\) owns /run/daedalus/daedalusd.sock" \
	"and names the owner"
mode=$(stat -c %a "$SOCK")
[ "$mode" = 660 ] && ok "socket mode 0660" || bad "socket mode $mode"

echo "== module loaded under a running daemon"
insmod "$MODULE" && ok "insmod" || bad "insmod"
wait_for "daedalusd links up by itself" 10 "$BIN/daedalusctl" status
run probe "$BIN/reflection_probe" "unix:$SOCK"
expect_out probe '^health SERVING$' "gRPC health SERVING with the kernel link up"
expect_out probe '^service daedalus.v1.Diagnostics$' "reflection lists daedalus.v1.Diagnostics"
run ping "$BIN/daedalusctl" ping -c 3 -i 0.2
expect_rc 0 "daedalusctl ping -c 3"
n=$(grep -Ec '^reply from kernel: seq=[123] cookie=0x[0-9a-f]{8} fifo=[0-9]+ time=[0-9]+\.[0-9]{3} ms$' "$OUT/ping.txt")
[ "$n" -eq 3 ] && ok "three replies with kernel-measured times" || bad "$n well-formed replies, want 3"
expect_out ping '^3 sent, 3 received, 0% lost$' "ping summary: no loss"
expect_out ping '^rtt min/avg/max = [0-9.]+/[0-9.]+/[0-9.]+ ms \(measured in the kernel\)$' \
	"ping min/avg/max line"
run status "$BIN/daedalusctl" status
expect_rc 0 "daedalusctl status"
expect_out status '^daemon:        daedalusd 0\.3\.0 at unix:/run/daedalus/daedalusd\.sock, up [0-9]+' "status: daemon line"
expect_out status '^kernel link:   up, /dev/daedalus-v4l2, protocol v6, module 0\.3\.0$' "status: link up, protocol v6"
expect_out status '^fifo:          depth 0/64, high-water [0-9]+$' "status: FIFO depth"
expect_out status '^pings:         3 sent, 3 answered, 0 timed out$' "status: kernel counted the 3 pings"
expect_out status '^kernel errors: none$' "status: no kernel errors"
run stats "$BIN/daedalusctl" stats
expect_rc 0 "daedalusctl stats"
# The daemon reads its RSS and threads from /proc/self: a zero means it
# read a procfs that is not this guest's.
expect_out stats '^process: +cpu [0-9.]+s user [0-9.]+s system, rss [1-9][0-9.]* [KMG]iB, [1-9][0-9]* threads$' \
	"stats: the daemon's RSS and threads are non-zero"
grep -q "kernel link up: /dev/daedalus-v4l2, module 0.3.0, protocol 6" "$OUT/daedalusd.log" &&
	ok "daemon logged the link" || bad "daemon log lacks the link-up line"

echo "== shutdown"
kill -TERM "$daemon"
i=0
while kill -0 "$daemon" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
if kill -0 "$daemon" 2>/dev/null; then
	bad "daedalusd still running 10 s after SIGTERM"
	kill -KILL "$daemon"
fi
wait "$daemon"
RC=$?
expect_rc 0 "daedalusd exits 0 on SIGTERM"
[ ! -e "$SOCK" ] && ok "socket removed on exit" || bad "socket left behind"
rmmod daedalus_v4l2 && ok "rmmod after the daemon stopped" || bad "rmmod"
if dmesg | grep -q "daemon 'daedalusd 0.3.0' detached"; then
	ok "kernel saw the daemon detach"
else
	bad "no detach message in the kernel log"
fi

kernel_reports
finish
