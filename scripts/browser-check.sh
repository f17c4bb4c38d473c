#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Browser playback through the node, too slow for CI: in the arm64 guest
# (Debian's arm64 kernel under qemu-system-aarch64), Debian's arm64
# Chromium and Firefox ESR (tests/vm/browsers.sh) each play a VP9 and an
# H.264 clip headless (tests/vm/guest/browser.sh): Chromium's playbacks
# pass when daedalusd's frames out grew by the clip's frame count;
# Firefox's when the page played the clip to its end (on Debian it cannot
# decode through the node: docs/decoder.md), each saying which decoder
# did. About 5 minutes on the 2-core CI machine kind once the browsers are
# in the cache (the first run downloads about 200 MB of packages).
#   ./scripts/browser-check.sh
# Exit 0 when every check passed; the browsers' logs are in
# ~/.cache/daedalus/vm-out/browser/ (chromium-*.txt, firefox-*.txt, and
# *.contexts: `daedalusctl contexts` while each played).
# docs/decoder.md records the last run and what stops each browser.
. "$(dirname "$0")/lib.sh"
"$REPO/scripts/install-deps.sh"
browsers=$("$REPO/tests/vm/browsers.sh" | tail -1)
bazel_run build --config=aarch64 //... >/dev/null 2>&1 || bazel_run build --config=aarch64 //...
kcache=$("$REPO/tests/vm/debian-kernel.sh" | tail -1)
stage=$DAEDALUS_CACHE/stage-browser
stage_guest "$kcache" "$stage" arm64
out=$DAEDALUS_CACHE/vm-out/browser
DDV_BROWSERS=$browsers/root "$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" browser "$out" 5400 || true
grep -E '^[0-9]+ passed, 0 failed$' "$out/console.log"
