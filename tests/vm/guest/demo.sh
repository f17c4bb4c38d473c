# SPDX-License-Identifier: BSD-2-Clause
#
# Guest half of the demo: load the module, start daedalusd, ping the kernel
# through the whole stack and show the status.
. "$STAGE/guest/lib.sh"

insmod "$MODULE" && ok "module loaded" || bad "insmod"
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
kill -TERM "$daemon" && wait "$daemon"
RC=$?
expect_rc 0 "daedalusd stopped cleanly"
rmmod daedalus_v4l2 && ok "module unloaded" || bad "rmmod"
kernel_reports
finish
