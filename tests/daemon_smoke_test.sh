#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The real daedalusd and daedalusctl binaries on the host, with no module:
# command line, socket, reflection, health, second-daemon refusal, SIGTERM.
set -uo pipefail
# Under `bazel test --config=aarch64` the programs are aarch64: run them
# through the emulator bazel/run_under_emulator.sh names.
emu=${DDV_EMULATOR:-}
daemon=$1 ctl=$2 probe=$3
dir=$(mktemp -d /tmp/ddv-smoke-XXXXXX)
sock=$dir/d.sock
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
fails=0
check() {  # check DESC CMD...
	local desc=$1
	shift
	if "$@"; then echo "ok   $desc"; else echo "FAIL $desc"; fails=$((fails + 1)); fi
}

$emu "$daemon" --help >"$dir/help" 2>&1
check "daedalusd --help exits 0" test $? -eq 0
check "--help documents signals and exit status" grep -q 'SIGTERM' "$dir/help"
$emu "$daemon" --no-such-flag >/dev/null 2>&1
check "unknown flag exits 2" test $? -eq 2
$emu "$daemon" --version | grep -q '^daedalusd 0\.3\.0$'
check "--version" test $? -eq 0

$emu "$daemon" --socket "$sock" --device "$dir/no-device" --reconnect-interval 0.1 --metrics-listen 127.0.0.1:0 \
	>"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
check "socket created" test -S "$sock"
check "socket mode 0660" test "$(stat -c %a "$sock")" = 660

$emu "$probe" "unix:$sock" >"$dir/probe" 2>&1
check "reflection and health answer" test $? -eq 0
for s in daedalus.v1.Status daedalus.v1.Diagnostics grpc.health.v1.Health \
	grpc.reflection.v1alpha.ServerReflection; do
	check "reflection lists $s" grep -qx "service $s" "$dir/probe"
done
check "health NOT_SERVING without a kernel link" grep -qx 'health NOT_SERVING' "$dir/probe"

$emu "$ctl" --socket "$sock" status >"$dir/status" 2>&1
check "status exits 4 without a kernel link" test $? -eq 4
check "status names the missing device" grep -q "kernel link:   DOWN, $dir/no-device: open" "$dir/status"
$emu "$ctl" --socket "$sock" ping -c 1 >/dev/null 2>&1
check "ping exits 4 without a kernel link" test $? -eq 4
$emu "$ctl" --socket "$sock" ping -c -1 >/dev/null 2>&1
check "bad ping count exits 2" test $? -eq 2

$emu "$daemon" --socket "$sock" --device "$dir/no-device" >"$dir/second" 2>&1
check "second daemon exits 1" test $? -eq 1
check "second daemon names the owner" grep -q "another daedalusd (pid $pid) owns $sock" "$dir/second"
$emu "$ctl" --socket "$sock" status >/dev/null 2>&1
check "first daemon still answers" test $? -eq 4

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM: exit 0" test $rc -eq 0
check "SIGTERM: socket removed" test ! -e "$sock"
check "daemon logged why the link is down, once" test "$(grep -c 'kernel link down' "$dir/log")" -eq 1

$emu "$ctl" --socket "$sock" --dial-timeout 0.5 status >/dev/null 2>&1
check "status exits 3 once the daemon is gone" test $? -eq 3

echo "daemon_smoke_test: $fails failed"
[ "$fails" -eq 0 ]
