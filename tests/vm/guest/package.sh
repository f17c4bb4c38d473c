# SPDX-License-Identifier: BSD-2-Clause
#
# Guest test of the install path: the module DKMS built from the
# daedalus-dkms package, and daedalusd/daedalusctl as unpacked from the
# daedalusd package, started with the systemd unit's own ExecStart line.
# The guest has no systemd, so this script plays its part: it provides the
# NOTIFY_SOCKET and WATCHDOG_USEC a Type=notify unit gets, and checks that
# the daemon reports READY=1, feeds the watchdog and says STOPPING=1.
. "$STAGE/guest/lib.sh"
PKG=$STAGE/pkg/root

load_media_core && ok "media core modules" || bad "media core modules"
insmod "$STAGE/pkg/daedalus-v4l2.ko" && ok "insmod the DKMS-built daedalus-v4l2.ko" || bad "insmod"
[ "$(cat /sys/module/daedalus_v4l2/version 2>/dev/null)" = "$(cat "$PKG/../version")" ] &&
	ok "module version $(cat /sys/module/daedalus_v4l2/version)" || bad "module version"

# systemd's side of sd_notify: a datagram socket logging what it receives.
notify=/tmp/notify.sock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w", buffering=1) as log:
    while True:
        log.write(s.recv(256).decode() + "\n")
' "$notify" /tmp/notify.log &
listener=$!
for _ in $(seq 50); do [ -S "$notify" ] && break; sleep 0.1; done

# The unit's ExecStart, with its environment file, run as systemd would.
unit=$PKG/lib/systemd/system/daedalusd.service
. "$PKG/etc/default/daedalusd"
cmd=$(sed -n 's/^ExecStart=//p' "$unit" | sed "s|^/usr/sbin/daedalusd|$PKG/usr/sbin/daedalusd|; s|\\\$DAEDALUSD_OPTS|$DAEDALUSD_OPTS|")
echo "    | ExecStart: $cmd"
mkdir -p /run/daedalus
NOTIFY_SOCKET=$notify WATCHDOG_USEC=1000000 $cmd >"$OUT/daedalusd.log" 2>&1 &
daemon=$!
wait_for "daedalusd sends READY=1" 30 grep -qx READY=1 /tmp/notify.log
sleep 2
beats=$(grep -cx WATCHDOG=1 /tmp/notify.log)
[ "$beats" -ge 2 ] && ok "watchdog fed from the event loop ($beats WATCHDOG=1 in 2 s, WatchdogSec=1)" ||
	bad "watchdog: $beats WATCHDOG=1 in 2 s"
run ping "$PKG/usr/bin/daedalusctl" ping -c 3 -i 0.2
expect_rc 0 "packaged daedalusctl pings through the kernel"
expect_out ping '^3 sent, 3 received, 0% lost$' "3 kernel round trips"
run status "$PKG/usr/bin/daedalusctl" status
expect_rc 0 "status"
expect_out status "module $(cat "$PKG/../version")\$" "status names the DKMS-built module"
kill -TERM "$daemon" && wait "$daemon"
RC=$?
expect_rc 0 "daedalusd stops cleanly"
sleep 0.2
grep -qx STOPPING=1 /tmp/notify.log && ok "daedalusd says STOPPING=1" || bad "no STOPPING=1"
kill "$listener" 2>/dev/null
rmmod daedalus_v4l2 && ok "module unloaded" || bad "rmmod"
kernel_reports
finish
