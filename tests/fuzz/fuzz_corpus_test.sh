#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Replays the seed corpus (fuzz_seeds, from ../shared) through each fuzz
# target as CI's gcc build links it (standalone_main): every seed must run
# to the end; a crash or an abort in a target fails the test.
#   usage: fuzz_corpus_test.sh FUZZ_SEEDS PROTOCOL_FUZZ STREAM_DECODER_FUZZ JOB_MESSAGES_FUZZ
set -euo pipefail
emu=${DDV_EMULATOR:-}
seeds=$1
shift
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/seeds-XXXXXX")
trap 'rm -rf "$dir"' EXIT
$emu "$seeds" "$dir"
for target in "$@"; do
	name=$(basename "$target")
	corpus=$dir/${name%_fuzz}
	n=$(find "$corpus" -type f | wc -l)
	[ "$n" -gt 0 ] || { echo "FAIL no seeds for $name"; exit 1; }
	$emu "$target" "$corpus"
done
echo "every seed ran through every fuzz target"
