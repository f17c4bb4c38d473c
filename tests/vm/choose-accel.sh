#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Chooses QEMU's accelerator for an x86-64 test guest by trying it: a
# /dev/kvm that exists is not one that works (a paravirtual KVM without
# VMX/SVM accepts KVM_CREATE_VM, then QEMU aborts on the guest's MSRs or
# the guest never prints a line). Prints the accelerator, kvm or tcg, on
# its last line and one line saying why on stderr.
#
#   choose-accel.sh KERNEL_IMAGE
#
# The probe boots KERNEL_IMAGE under KVM with the CPU model and machine the
# real guest gets, the host root over 9p as the real guest has it, and
# guest/accel-probe.sh as init; KVM works if that init prints its line
# within DDV_KVM_PROBE_TIMEOUT seconds (default 30). The verdict is cached
# per host boot (/proc/sys/kernel/random/boot_id), kernel image, CPU model
# and QEMU version, so a test run pays for one probe, not one per guest.
#
# Environment:
#   DDV_QEMU_ACCEL   auto (default): KVM if the probe passes, else TCG;
#                    tcg: TCG, no probe; kvm: KVM, and exit 2 with a clear
#                    message if the probe fails
#   DDV_QEMU_CPU     the guest CPU model (default max), as run-vm.sh
# For tests of this script (tests/vm/accel_check.sh): DDV_KVM_DEVICE
# (default /dev/kvm), DDV_QEMU_X86 (default qemu-system-x86_64),
# DDV_BOOT_ID_FILE (default /proc/sys/kernel/random/boot_id).
#
# Exit: 0 chosen; 2 forced kvm that cannot work, or a bad DDV_QEMU_ACCEL.
set -uo pipefail
image=$1
mode=${DDV_QEMU_ACCEL:-auto}
device=${DDV_KVM_DEVICE:-/dev/kvm}
qemu=${DDV_QEMU_X86:-qemu-system-x86_64}
cpu=${DDV_QEMU_CPU:-max}
probe_timeout=${DDV_KVM_PROBE_TIMEOUT:-30}
vm_dir=$(cd "$(dirname "$0")" && pwd)
: "${DAEDALUS_CACHE:=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/daedalus}"

say() { echo "run-vm: $*" >&2; }

case $mode in
tcg)
	say "accel=tcg (forced by DDV_QEMU_ACCEL=tcg)"
	echo tcg
	exit 0
	;;
auto | kvm) ;;
*)
	say "DDV_QEMU_ACCEL=$mode is not one of auto, kvm, tcg"
	exit 2
	;;
esac

# unusable REASON [NOTE]: what auto and forced kvm each do when KVM cannot
# run this guest.
unusable() {
	if [ "$mode" = kvm ]; then
		say "DDV_QEMU_ACCEL=kvm, but $device cannot run this guest ($1)${2:-};" \
			"unset DDV_QEMU_ACCEL to fall back to TCG"
		exit 2
	fi
	say "$device cannot run this guest ($1): using TCG${2:-}"
	echo tcg
	exit 0
}

if [ ! -e "$device" ]; then
	[ "$mode" = kvm ] || { say "accel=tcg (no $device)"; echo tcg; exit 0; }
	unusable "no such device"
fi
[ -r "$device" ] && [ -w "$device" ] || unusable "not readable and writable by $(id -un)"

# The verdict's key: everything that decides whether this guest boots.
boot_id=$(cat "${DDV_BOOT_ID_FILE:-/proc/sys/kernel/random/boot_id}" 2>/dev/null || echo none)
key=$( {
	echo "$boot_id $cpu $device"
	sha256sum "$image" | cut -d' ' -f1
	"$qemu" --version 2>/dev/null | head -1
} | sha256sum | cut -c1-16)
cache_dir=$DAEDALUS_CACHE/accel
verdict_file=$cache_dir/kvm-$key
mkdir -p "$cache_dir"

if [ -f "$verdict_file" ]; then
	verdict=$(cat "$verdict_file")
	cached=", verdict cached for this host boot"
else
	log=$cache_dir/probe-$key.log
	start=$(date +%s)
	# In a subshell, so the shell's own "Aborted" report of a QEMU that
	# dies on a signal lands in the log too.
	(timeout -k 2 "$probe_timeout" "$qemu" -M pc,accel=kvm -cpu "$cpu" -smp 2 -m 2G \
		-no-reboot -display none -monitor none -serial stdio -nodefaults -vga none \
		-fsdev "local,id=root,path=/,security_model=none,multidevs=remap,readonly=on" \
		-device virtio-9p-pci,fsdev=root,mount_tag=root \
		-kernel "$image" \
		-append "root=root rootfstype=9p rootflags=trans=virtio,version=9p2000.L ro console=ttyS0 panic=-1 init=$vm_dir/guest/accel-probe.sh" \
		</dev/null; exit $?) >"$log" 2>&1
	qrc=$?
	secs=$(($(date +%s) - start))
	if grep -q '^accel-probe: init reached' "$log"; then
		verdict=ok
	else
		# QEMU's own complaint, if it made one; else what the probe saw.
		why=$(tr -d '\r' <"$log" | grep -m1 -E '^qemu-system[^:]*: ' || true)
		[ -n "$why" ] || why=$(tr -d '\r' <"$log" | grep -m1 -iE 'error|assert' || true)
		if [ -z "$why" ] && [ "$qrc" -eq 124 ]; then
			why="the guest did not reach init in $probe_timeout s"
		elif [ -z "$why" ]; then
			why="qemu exited $qrc after $secs s without reaching the guest's init"
		fi
		verdict="fail $why"
	fi
	echo "$verdict" >"$verdict_file.tmp" && mv "$verdict_file.tmp" "$verdict_file"
	cached=", probed in $secs s, log $log"
fi

case $verdict in
ok)
	say "accel=kvm ($device ran the probe guest$cached)"
	echo kvm
	;;
*) unusable "${verdict#fail }" "$cached" ;;
esac
