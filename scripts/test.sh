#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Runs every test of daedalus-v4l2 and ends with "N passed, N failed":
#   1. Bazel unit tests (GoogleTest), offline against Debian's libraries,
#      on the host and cross-built for aarch64 under qemu-aarch64, all
#      built with -Wextra -Werror; a clang build with -Wthread-safety; the
#      .clang-format check; a bounded libFuzzer run of the daemon's parsers
#   2. the module: warning-free against Debian's 6.1 headers, the 6.12
#      test kernel and (cross-built) an arm64 6.12 kernel, checkpatch
#      --strict and sparse clean
#   3. the VM tests: the accelerator choice (accel_check.sh, no VM), then
#      the 6.12 debug kernel (KASAN, kmemleak, lockdep) in
#      QEMU running tests/vm/guest/skeleton.sh and decode.sh
#   4. the Debian packages: contents, the systemd unit, a DKMS build, and
#      tests/vm/guest/package.sh running what they install
#   5. the arm64 guest (qemu-system-aarch64, Debian's arm64 6.12 kernel): the module
#      and aarch64 programs through skeleton.sh and decode-arm64.sh
# Needs root for the package install. Cold (nothing cached, 2026-12-04):
# 54 minutes on 2 cores with every guest under TCG: Bazel's builds and
# unit tests and the fuzz slice 18.5, the amd64 debug kernel about 10,
# Debian's arm64 kernel under 1, the amd64 decode guest 19.5, the other
# guests 7, since then about 2.5 more for recovery in the arm64 guest
# (docs/testing.md, "Recorded runs"). Warm: 35 minutes.
# Artefacts are cached in
# ~/.cache/daedalus.
. "$(dirname "$0")/lib.sh"

passed=0
failed=0
# Every failure's line, repeated at the end so the run's last lines say
# what failed (CI's record keeps only the tail of a long log).
fail_lines=()
step() {  # step DESC CMD...: runs one host check
	local desc=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "host-ok:   $desc"
	else
		failed=$((failed + 1))
		echo "host-FAIL: $desc"
		fail_lines+=("host-FAIL: $desc")
	fi
}

say "Installing packages"
"$REPO/scripts/install-deps.sh"

# unit_tests NAME LOG [BAZEL_FLAGS...]: `bazel test //...`, each target
# counted once; a build error or no target at all counts as a failure.
unit_tests() {
	local name=$1 log=$2 n_ok n_bad
	shift 2
	bazel_run test "$@" //... 2>&1 | tee "$log" | grep -E '^//|Executed|FAILED|ERROR' || true
	n_ok=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log" || true)
	n_bad=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS)' "$log" || true)
	if grep -q '^ERROR:' "$log" || [ "$n_ok" -eq 0 ]; then n_bad=$((n_bad + 1)); fi
	passed=$((passed + n_ok))
	failed=$((failed + n_bad))
	echo "$name: $n_ok passed, $n_bad failed"
	local line
	while IFS= read -r line; do
		fail_lines+=("$name: $line")
	done < <(grep -E '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS)|^ERROR:' "$log" || true)
}

say "Unit tests (bazel test //...)"
unit_tests "unit test targets" "$DAEDALUS_CACHE/unit-tests.log"

say "Unit tests for aarch64 (bazel test --config=aarch64 //..., under qemu-aarch64)"
unit_tests "aarch64 unit test targets" "$DAEDALUS_CACHE/unit-tests-aarch64.log" --config=aarch64

say "Userspace checks: clang thread-safety build, clang-format"
# The gcc builds above already run with -Wextra -Werror (.bazelrc).
step "userspace builds with clang -Wthread-safety -Werror (bazel build --config=clang)" \
	bazel_run build --config=clang //...
format_clean() {
	(cd "$REPO" && git ls-files '*.cc' '*.h' | grep -v '^kernel/' |
		xargs clang-format --dry-run --Werror)
}
step "userspace sources match .clang-format" format_clean

say "Fuzzing the daemon's parsers (scripts/fuzz.sh, CI's bounded slice)"
# scripts/fuzz.sh alone runs 10^6 inputs per target.
step "libFuzzer: 100000 runs (or 30 s) of each fuzz target, no crash or leak" \
	"$REPO/scripts/fuzz.sh" --runs 100000 --time 30

say "Kernel module"
kcache=$(test_kernel)
ksrc=$(readlink -f "$kcache/build/source")
work=$DAEDALUS_CACHE/module-checks
step "module builds warning-free against $(basename "$(headers_61)")" \
	build_module "$(headers_61)" "$work/6.1"
step "module builds warning-free against the 6.12 test kernel" \
	build_module "$kcache/build" "$work/6.12"
# The arm64 guest boots Debian's own arm64 kernel (tests/vm/debian-kernel.sh);
# DDV_ARM64_KERNEL=debug builds and boots the arm64 debug kernel instead.
if [ "${DDV_ARM64_KERNEL:-debian}" = debug ]; then
	kcache_arm64=$(DDV_KERNEL_ARCH=arm64 "$REPO/tests/vm/build-kernel.sh" | tail -1)
else
	kcache_arm64=$("$REPO/tests/vm/debian-kernel.sh" | tail -1)
fi
step "module cross-builds warning-free for arm64 against $(cat "$kcache_arm64/build/include/config/kernel.release")" \
	build_module "$kcache_arm64/build" "$work/6.12-arm64" arm64
sparse_clean() {
	local out
	rm -rf "$work/sparse"
	cp -r "$REPO/kernel" "$work/sparse"
	out=$(make -s -C "$kcache/build" M="$work/sparse" C=2 modules 2>&1)
	! echo "$out" | grep -E 'warning|error'
}
step "sparse (C=2) clean" sparse_clean
checkpatch_clean() {
	(cd "$REPO/kernel" && "$ksrc/scripts/checkpatch.pl" --strict --no-tree --quiet \
		--ignore FILE_PATH_CHANGES -f ddv*.c ddv*.h include/uapi/linux/*.h)
}
step "checkpatch --strict clean" checkpatch_clean
kerneldoc_clean() {
	local out
	out=$(cd "$REPO/kernel" && "$ksrc/scripts/kernel-doc" -none -Wall ddv*.c ddv*.h \
		include/uapi/linux/*.h 2>&1)
	[ -z "$out" ] || { echo "$out"; return 1; }
}
step "kernel-doc complete" kerneldoc_clean

# add_guest_result OUT_DIR: adds the "N passed, N failed" of OUT_DIR/console.log;
# a run that printed none (boot failure, panic, timeout, a crashed script)
# counts as one failure.
add_guest_result() {
	local line g_failed
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1/console.log" 2>/dev/null | tail -1 || true)
	if [ -n "$line" ]; then
		passed=$((passed + ${line%% passed*}))
		g_failed=${line#*passed, }
		failed=$((failed + ${g_failed%% failed}))
	else
		failed=$((failed + 1))
		fail_lines+=("$1: no \"N passed, N failed\" line (boot failure, panic or timeout?)")
	fi
	# A guest's failures and the check lines that explain them.
	local fl
	while IFS= read -r fl; do
		fail_lines+=("$(basename "$1"): $fl")
	done < <(grep -E 'guest-FAIL|host-FAIL|^ *\| *FAIL|^FAIL' "$1/console.log" 2>/dev/null |
		tr -d '\r' | head -40 || true)
	return 0
}

say "The test VM's accelerator choice (tests/vm/accel_check.sh, a stand-in QEMU)"
accel_out=$DAEDALUS_CACHE/vm-out/accel
mkdir -p "$accel_out"
"$REPO/tests/vm/accel_check.sh" "$accel_out/work" >"$accel_out/console.log" 2>&1 || true
cat "$accel_out/console.log"
add_guest_result "$accel_out"

say "VM test (6.12 debug kernel in QEMU)"
stage=$DAEDALUS_CACHE/stage-test
stage_guest "$kcache" "$stage"
vm_out=$DAEDALUS_CACHE/vm-out/skeleton
"$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" skeleton "$vm_out" 1200 || true
add_guest_result "$vm_out"

say "VM test: VP9 decoding through the V4L2 node"
vm_out=$DAEDALUS_CACHE/vm-out/decode
"$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" decode "$vm_out" 3000 || true
add_guest_result "$vm_out"

say "Packages: contents, systemd unit, DKMS build"
pkg_out=$DAEDALUS_CACHE/vm-out/packaging
mkdir -p "$pkg_out"
rm -f "$pkg_out/console.log"
bin=$(bazel_bin)
set +e
bin_a64=$(bazel_bin --config=aarch64)
rm -rf "$DAEDALUS_CACHE/debs"
DAEDALUSD_BIN=$bin_a64/daemon/daedalusd DAEDALUSCTL_BIN=$bin_a64/cli/daedalusctl \
	"$REPO/scripts/build-debs.sh" "$DAEDALUS_CACHE/debs" arm64 &&
	DAEDALUSD_BIN=$bin/daemon/daedalusd DAEDALUSCTL_BIN=$bin/cli/daedalusctl \
	"$REPO/scripts/build-debs.sh" "$DAEDALUS_CACHE/debs" amd64 &&
	"$REPO/tests/packaging_check.sh" "$DAEDALUS_CACHE/debs" "$kcache/build" "$stage" \
		>"$pkg_out/console.log" 2>&1
set -e
cat "$pkg_out/console.log"
# No summary line (build-debs.sh failed) counts as one failure.
add_guest_result "$pkg_out"

say "VM test: the daemon and module as installed from the packages"
vm_out=$DAEDALUS_CACHE/vm-out/package
"$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" package "$vm_out" 600 || true
add_guest_result "$vm_out"

say "VM test on arm64 (qemu-system-aarch64, Cortex-A76, $(cat "$kcache_arm64/build/include/config/kernel.release"))"
# The module cross-built for arm64 and the aarch64 programs, with Debian's
# arm64 ffmpeg and v4l2-compliance (tests/vm/arm64-tools.sh).
stage_arm64=$DAEDALUS_CACHE/stage-test-arm64
stage_guest "$kcache_arm64" "$stage_arm64" arm64
for script in skeleton decode-arm64; do
	vm_out=$DAEDALUS_CACHE/vm-out/arm64-$script
	"$REPO/tests/vm/run-vm.sh" "$kcache_arm64" "$stage_arm64" "$script" "$vm_out" 2400 ||
		true
	add_guest_result "$vm_out"
done

echo
if [ "${#fail_lines[@]}" -gt 0 ]; then
	echo "What failed (full lines above, logs under $DAEDALUS_CACHE):"
	printf '  %s\n' "${fail_lines[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
