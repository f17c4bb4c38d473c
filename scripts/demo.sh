#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The demo: builds everything, boots the 6.12 test kernel in QEMU, loads
# the module, starts daedalusd and runs `daedalusctl ping -c 3` and
# `daedalusctl status` inside the guest. The ping times are measured by the
# guest kernel. Needs root for the package install; first run ~15 min (the
# kernel build), later runs ~1 min.
. "$(dirname "$0")/lib.sh"

say "Installing packages"
"$REPO/scripts/install-deps.sh"
say "Building userspace (Bazel) and the test kernel"
bazel_run build //... >/dev/null 2>&1 || bazel_run build //...
kcache=$(test_kernel)
stage=$DAEDALUS_CACHE/stage-demo
stage_guest "$kcache" "$stage"
say "Booting the guest"
"$REPO/tests/vm/run-vm.sh" "$kcache" "$stage" demo "$DAEDALUS_CACHE/vm-out/demo" 900
