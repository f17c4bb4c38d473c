#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Boots the test kernel in QEMU (KVM where it really runs the guest, else
# TCG: choose-accel.sh decides by trying) with the host
# root shared read-only over 9p, runs one guest script and collects its
# results. An arm64 kernel (a cache dir with Image) boots on
# qemu-system-aarch64's virt machine with a Cortex-A76 (the Raspberry Pi
# 5's core) under TCG, with busybox and the arm64 tools of arm64-tools.sh.
#
#   run-vm.sh KERNEL_DIR STAGE_DIR SCRIPT OUT_DIR [TIMEOUT_S]
#
# KERNEL_DIR  a build-kernel.sh or debian-kernel.sh cache dir (bzImage or
#             Image, modroot/, an initrd for Debian's arm64 kernel)
# STAGE_DIR   what the guest tests use: daedalus-v4l2.ko, binaries, guest/
# SCRIPT      guest script name in STAGE_DIR/guest, without .sh
# OUT_DIR     receives console.log and whatever the guest writes to $OUT
#
# Exit: 0 the guest reported "N passed, 0 failed"; 1 it reported failures;
# 2 no result (boot failure, panic, timeout).
#
# DDV_QEMU_CPU overrides the guest CPU model (default: max on x86-64,
# cortex-a76 on arm64). DDV_QEMU_ACCEL=auto|tcg|kvm (default auto) picks
# the x86-64 accelerator (choose-accel.sh); an arm64 guest on an x86-64
# host is always TCG. DDV_QEMU_X86 names the x86-64 QEMU binary (tests).
# DDV_QEMU_ICOUNT (e.g. shift=0,sleep=off) runs the guest on an
# instruction-counted clock (scripts/bench.sh).
# DDV_QEMU_SMP: the guest's vCPUs (default 2; the tests want 2).
set -uo pipefail
kdir=$(cd "$1" && pwd)
stage=$(cd "$2" && pwd)
script=$3
out=$4
tmo=${5:-900}
vm_dir=$(cd "$(dirname "$0")" && pwd)

rm -rf "$out"
mkdir -p "$out"
share() {  # tag path [ro]
	local ro=
	[ "${3:-}" = ro ] && ro=,readonly=on
	qemu+=(-fsdev "local,id=$1,path=$2,security_model=none,multidevs=remap$ro"
		-device "virtio-9p-pci,fsdev=$1,mount_tag=$1")
}
common=(-smp "${DDV_QEMU_SMP:-2}" -m 2G -no-reboot -display none -monitor none -serial stdio -nodefaults)
accel=tcg
if [ -f "$kdir/bzImage" ]; then
	accel=$("$vm_dir/choose-accel.sh" "$kdir/bzImage" | tail -1) || exit 2
	qemu=("${DDV_QEMU_X86:-qemu-system-x86_64}" -M "pc,accel=$accel" -cpu "${DDV_QEMU_CPU:-max}"
		"${common[@]}" -vga none -kernel "$kdir/bzImage")
	init=("init=$vm_dir/guest/init.sh" console=ttyS0)
elif [ -f "$kdir/Image" ]; then
	if [ "${DDV_QEMU_ACCEL:-auto}" = kvm ]; then
		echo "run-vm: DDV_QEMU_ACCEL=kvm, but an arm64 guest runs under TCG on this host" >&2
		exit 2
	fi
	tools=$("$vm_dir/arm64-tools.sh" | tail -1) || exit 2
	qemu=(qemu-system-aarch64 -M virt -cpu "${DDV_QEMU_CPU:-cortex-a76}" "${common[@]}"
		-kernel "$kdir/Image")
	# Debian's kernel (debian-kernel.sh) mounts the 9p root from its initrd.
	[ -f "$kdir/initrd" ] && qemu+=(-initrd "$kdir/initrd")
	# init is the arm64 busybox; what follows "--" is its command line.
	init=("init=$tools/root/bin/busybox" console=ttyAMA0 "DDV_TOOLS=$tools/root")
	init_args=" -- sh $vm_dir/guest/init-arm64.sh"
else
	echo "run-vm: no bzImage or Image in $kdir" >&2
	exit 2
fi
# An instruction-counted clock (scripts/bench.sh): the guest's time is the
# instructions it ran, not the host's wall clock, so that a figure repeats
# whatever else the host does. TCG only; all vCPUs then run on one host
# thread.
if [ -n "${DDV_QEMU_ICOUNT:-}" ]; then
	if [ "$accel" != tcg ]; then
		echo "run-vm: DDV_QEMU_ICOUNT needs TCG, not $accel" >&2
		exit 2
	fi
	qemu+=(-icount "$DDV_QEMU_ICOUNT")
fi
share root / ro
share stage "$stage" ro
share modroot "$kdir/modroot" ro
share out "$out"
# Unknown key=value parameters without a dot become init's environment.
cmdline="root=root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,cache=loose,msize=262144"
cmdline+=" ro ${init[*]} panic=-1 oops=panic"
cmdline+=" loglevel=6 printk.devkmsg=on DDV_SCRIPT=$script"
cmdline+=" BENCH_THREADS=${BENCH_THREADS:-2} BENCH_ROUNDS=${BENCH_ROUNDS:-5}"
cmdline+=" BENCH_PART=${BENCH_PART:-all} BENCH_SCALING_ROUNDS=${BENCH_SCALING_ROUNDS:-3}"
cmdline+=" BENCH_COPY_COST=${BENCH_COPY_COST:-0}"
# Operations per process of the skeleton guest's kernel_fuzz.
cmdline+=" FUZZ_OPS=${FUZZ_OPS:-100000}"
# Seconds of the soak in the decode guest (scripts/soak.sh runs longer).
cmdline+=" SOAK_SECONDS=${SOAK_SECONDS:-60}"
# Codecs for the codecs guest (scripts/test-codecs.sh), comma-separated.
codecs=${CODECS:-all}
cmdline+=" DDV_CODECS=${codecs// /,}"
# The VP9 vectors beside the checkout, read through the host root share.
# The unpacked arm64 browsers (scripts/browser-check.sh).
[ -n "${DDV_BROWSERS:-}" ] && cmdline+=" BROWSERS=$DDV_BROWSERS"
cmdline+=" VP9_DIR=$(cd "$vm_dir/../../../shared/vp9" 2>/dev/null && pwd)"
# Last: the arguments after "--" are init's (arm64: busybox's sh, the script).
cmdline+="${init_args:-}"

echo "run-vm: $script on $(cat "$kdir/build/include/config/kernel.release") (${qemu[0]}, accel=$accel${DDV_QEMU_ICOUNT:+, icount $DDV_QEMU_ICOUNT})"
start=$(date +%s)
timeout -k 10 "$tmo" "${qemu[@]}" -append "$cmdline" </dev/null 2>&1 |
	stdbuf -o0 tr -d '\r' >"$out/console.log"  # unbuffered: a hung guest's log is whole
qrc=${PIPESTATUS[0]}
echo "run-vm: qemu exited $qrc after $(($(date +%s) - start)) s; console log: $out/console.log"

# What the guest scripts print for people: checks, command output, sections.
grep -E '^(guest|==|    \||\$ )' "$out/console.log"
result=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out/console.log" | tail -1)
if [ -z "$result" ]; then
	echo "run-vm: NO RESULT from the guest (crash, panic or timeout). Last console lines:" >&2
	tail -40 "$out/console.log" >&2
	exit 2
fi
case $result in
*" 0 failed") exit 0 ;;
*) exit 1 ;;
esac
