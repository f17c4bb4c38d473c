#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Tests the accelerator choice (choose-accel.sh and its use in run-vm.sh)
# on any machine, with or without a /dev/kvm: a stand-in QEMU plays each
# kind of host (KVM that aborts on the guest's MSRs, as a paravirtual KVM
# does; KVM on which the guest never prints; KVM that works), a temporary
# file plays the device node, and a temporary boot id plays a host reboot.
# Ends with "N passed, N failed"; exits 1 on any failure.
#
#   accel_check.sh [WORK_DIR]
set -uo pipefail
vm_dir=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(mktemp -d)}
rm -rf "$work"
mkdir -p "$work"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "accel-ok:   $*"; }
bad() { failed=$((failed + 1)); echo "accel-FAIL: $*"; }

# The stand-in QEMU: FAKE_QEMU_MODE says what kind of host it plays; every
# boot appends its arguments to $work/qemu-calls.
fake=$work/qemu-system-x86_64
cat >"$fake" <<'EOF'
#!/bin/sh
if [ "$1" = --version ]; then echo "QEMU emulator version 7.2.0 (stand-in)"; exit 0; fi
echo "$*" >>"$FAKE_QEMU_CALLS"
case "$*" in *accel=kvm*) mode=$FAKE_QEMU_MODE ;; *) mode=works ;; esac
case $mode in
abort)
	echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
	echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion failed." >&2
	exit 134 ;;
silent) sleep 30 ;;
works)
	case "$*" in
	*accel-probe.sh*) echo "accel-probe: init reached" ;;
	*DDV_SCRIPT=*) echo "guest: stand-in guest"; echo "1 passed, 0 failed" ;;
	esac ;;
esac
EOF
chmod +x "$fake"
image=$work/bzImage
echo "not a kernel" >"$image"
device=$work/kvm
: >"$device"
echo "boot-1" >"$work/boot_id"
: >"$work/qemu-calls"
export DAEDALUS_CACHE=$work/cache DDV_QEMU_X86=$fake DDV_KVM_DEVICE=$device \
	DDV_BOOT_ID_FILE=$work/boot_id DDV_KVM_PROBE_TIMEOUT=3 FAKE_QEMU_CALLS=$work/qemu-calls
unset DDV_QEMU_ACCEL DDV_QEMU_CPU

# choose [ENV=VALUE...]: runs choose-accel.sh; sets OUT (its last line),
# MSG (stderr), RC and BOOTS (stand-in boots it made).
choose() {
	local before after
	before=$(wc -l <"$work/qemu-calls" 2>/dev/null || echo 0)
	OUT=$(env "$@" "$vm_dir/choose-accel.sh" "$image" 2>"$work/msg" | tail -1)
	RC=${PIPESTATUS[0]}
	MSG=$(cat "$work/msg")
	after=$(wc -l <"$work/qemu-calls" 2>/dev/null || echo 0)
	BOOTS=$((after - before))
}
# expect DESC WANT_OUT WANT_RC WANT_BOOTS MSG_REGEX
expect() {
	if [ "$OUT" = "$2" ] && [ "$RC" -eq "$3" ] && [ "$BOOTS" -eq "$4" ] &&
		echo "$MSG" | grep -Eq "$5"; then
		ok "$1: $MSG"
	else
		bad "$1: got '$OUT', exit $RC, $BOOTS probe boots, message '$MSG';" \
			"want '$2', exit $3, $4 boots, message /$5/"
	fi
}

choose DDV_QEMU_ACCEL=tcg FAKE_QEMU_MODE=works
expect "forced tcg takes TCG without a probe" tcg 0 0 '^run-vm: accel=tcg \(forced by DDV_QEMU_ACCEL=tcg\)$'

choose DDV_KVM_DEVICE=$work/no-such-device FAKE_QEMU_MODE=works
expect "no device: TCG without a probe" tcg 0 0 "^run-vm: accel=tcg \(no $work/no-such-device\)$"

choose FAKE_QEMU_MODE=abort
expect "KVM that aborts on the guest's MSRs: TCG, QEMU's reason named" tcg 0 1 \
	"^run-vm: $device cannot run this guest \(qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\): using TCG, probed in"
if grep -q 'accel=kvm' "$work/qemu-calls" && grep -q -- '-cpu max ' "$work/qemu-calls" &&
	grep -q -- "-kernel $image" "$work/qemu-calls" && grep -q 'accel-probe.sh' "$work/qemu-calls"; then
	ok "the probe boots the guest's own kernel under KVM with the guest's CPU model"
else
	bad "probe arguments: $(tail -1 "$work/qemu-calls")"
fi

choose FAKE_QEMU_MODE=works
expect "the verdict is cached for this host boot (no second probe)" tcg 0 0 \
	'cannot run this guest \(qemu-system-x86_64: error: failed to set MSR.*\): using TCG, verdict cached for this host boot$'

echo "boot-2" >"$work/boot_id"
choose FAKE_QEMU_MODE=works
expect "after a host reboot the probe runs again, and a working KVM is used" kvm 0 1 \
	"^run-vm: accel=kvm \($device ran the probe guest, probed in"

choose DDV_QEMU_CPU=max,-fsrm,-erms FAKE_QEMU_MODE=silent
expect "another CPU model is probed on its own; a guest that never prints: TCG" tcg 0 1 \
	'cannot run this guest \(the guest did not reach init in 3 s\): using TCG'

echo "boot-3" >"$work/boot_id"
choose DDV_QEMU_ACCEL=kvm FAKE_QEMU_MODE=abort
expect "forced kvm where KVM cannot run the guest: exit 2, a clear message" "" 2 1 \
	"^run-vm: DDV_QEMU_ACCEL=kvm, but $device cannot run this guest \(qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\), probed in .*; unset DDV_QEMU_ACCEL to fall back to TCG$"

choose DDV_QEMU_ACCEL=kvm DDV_KVM_DEVICE=$work/no-such-device FAKE_QEMU_MODE=works
expect "forced kvm without a device: exit 2, a clear message" "" 2 0 \
	"^run-vm: DDV_QEMU_ACCEL=kvm, but $work/no-such-device cannot run this guest \(no such device\)"

echo "boot-4" >"$work/boot_id"
choose DDV_QEMU_ACCEL=kvm FAKE_QEMU_MODE=works
expect "forced kvm where it works" kvm 0 1 '^run-vm: accel=kvm'

choose DDV_QEMU_ACCEL=fast FAKE_QEMU_MODE=works
expect "an unknown DDV_QEMU_ACCEL is refused" "" 2 0 '^run-vm: DDV_QEMU_ACCEL=fast is not one of auto, kvm, tcg$'

# run-vm.sh itself: falls back, says so, and boots the guest under TCG.
kdir=$work/kernel
mkdir -p "$kdir/build/include/config" "$kdir/modroot" "$work/stage/guest"
cp "$image" "$kdir/bzImage"
echo "6.12.0-stand-in" >"$kdir/build/include/config/kernel.release"
echo "boot-5" >"$work/boot_id"
FAKE_QEMU_MODE=abort "$vm_dir/run-vm.sh" "$kdir" "$work/stage" skeleton "$work/out" 30 \
	>"$work/run-vm.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q 'cannot run this guest (qemu-system-x86_64: error: failed to set MSR' "$work/run-vm.log" &&
	grep -q '^run-vm: skeleton on 6.12.0-stand-in (.*, accel=tcg)$' "$work/run-vm.log" &&
	tail -1 "$work/qemu-calls" | grep -q 'pc,accel=tcg'; then
	ok "run-vm.sh falls back to TCG, says why and boots the guest under TCG"
else
	bad "run-vm.sh fallback (exit $rc): $(cat "$work/run-vm.log")"
fi
DDV_QEMU_ACCEL=kvm FAKE_QEMU_MODE=abort "$vm_dir/run-vm.sh" "$kdir" "$work/stage" skeleton \
	"$work/out" 30 >"$work/run-vm.log" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'DDV_QEMU_ACCEL=kvm, but' "$work/run-vm.log" &&
	! grep -q 'Assertion' "$work/run-vm.log" && ! grep -q 'skeleton on' "$work/run-vm.log"; then
	ok "run-vm.sh with forced kvm that cannot work exits 2 before booting, no QEMU assertion"
else
	bad "run-vm.sh forced kvm (exit $rc): $(cat "$work/run-vm.log")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
