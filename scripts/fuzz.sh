#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Fuzzes the daemon's parsers on the host with libFuzzer and
# AddressSanitizer (clang from Debian): one chardev message
# (protocol_fuzz), each codec's packet rules and decoder
# (stream_decoder_fuzz), and the job layer driven by arbitrary kernel
# messages (job_messages_fuzz). Each starts from the seeds fuzz_seeds
# writes from ../shared and keeps what it finds interesting in
# ~/.cache/daedalus/fuzz/corpus/TARGET for the next run. A crash leaves
# crash-*/leak-*/oom-* beside the corpus and fails the run; replay one
# with `bazel-bin/tests/fuzz/TARGET FILE` (either build).
#
#   usage: scripts/fuzz.sh [--runs N] [--time SECONDS] [TARGET...]
#   (default: 1000000 runs or 3600 s per target, whichever comes first;
#   every target). CI runs `--runs 100000 --time 30`.
#
#   scripts/fuzz.sh --kernel [OPS]
#   fuzzes the module instead: the skeleton guest (6.12 debug kernel:
#   KASAN, lockdep, kmemleak) with tests/kernel_fuzz doing OPS (default
#   1000000) random operations as the daemon and as many as an
#   unprivileged client at once, then job_check, rmmod, kmemleak and the
#   kernel log. CI's skeleton guest does 100000 of each.
. "$(dirname "$0")/lib.sh"

runs=1000000
max_time=3600
targets=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel)
		"$REPO/scripts/install-deps.sh"
		bazel_run build //...
		kcache=$(test_kernel)
		stage=$DAEDALUS_CACHE/stage-fuzz
		stage_guest "$kcache" "$stage"
		out=$DAEDALUS_CACHE/vm-out/kernel-fuzz
		FUZZ_OPS=${2:-1000000} "$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" skeleton "$out" 14400
		exit $?
		;;
	--runs) runs=$2; shift 2 ;;
	--time) max_time=$2; shift 2 ;;
	-h|--help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) targets+=("$1"); shift ;;
	esac
done
[ ${#targets[@]} -gt 0 ] || targets=(protocol_fuzz stream_decoder_fuzz job_messages_fuzz)

"$REPO/scripts/install-deps.sh"
say "Building the fuzz targets (bazel build --config=fuzz)"
bazel_run build --config=fuzz //tests/fuzz:all
bazel_run build //tests/fuzz:fuzz_seeds
bin=$(bazel_bin --config=fuzz)
seeds=$DAEDALUS_CACHE/fuzz/seeds
rm -rf "$seeds"
"$(bazel_bin)/tests/fuzz/fuzz_seeds" "$seeds"

failed=0
for t in "${targets[@]}"; do
	say "$t: $runs runs or $max_time s"
	corpus=$DAEDALUS_CACHE/fuzz/corpus/$t
	artifacts=$DAEDALUS_CACHE/fuzz/artifacts/$t
	mkdir -p "$corpus" "$artifacts"
	log=$DAEDALUS_CACHE/fuzz/$t.log
	# -rss_limit_mb: a decoder may hold a few 4K pictures, not gigabytes.
	if "$bin/tests/fuzz/$t" -runs="$runs" -max_total_time="$max_time" -timeout=20 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
		"$corpus" "$seeds/${t%_fuzz}" >"$log" 2>&1; then
		echo "fuzz-ok:   $t: $(grep -E '^Done [0-9]+ runs' "$log" | tail -1)," \
			"corpus $(find "$corpus" -type f | wc -l) inputs," \
			"$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)"
	else
		failed=$((failed + 1))
		echo "fuzz-FAIL: $t (log $log):"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
	fi
done
echo "fuzz: $((${#targets[@]} - failed)) targets clean, $failed failed"
[ "$failed" -eq 0 ]
