#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# --run_under for `bazel test --config=aarch64`: a test that is an aarch64
# program runs under qemu-aarch64-static; a test that is a script runs
# natively, and finds the emulator in $DDV_EMULATOR for the aarch64
# programs it starts. No binfmt handler is registered on CI machines, and
# qemu's -L must not be given (with it, gRPC spins in grpc_init()).
emulator=/usr/bin/qemu-aarch64-static
export DDV_EMULATOR=$emulator
# e_machine, bytes 18-19 of an ELF header: 0xb7 is aarch64.
if [ "$(od -An -tx1 -j18 -N1 "$1" 2>/dev/null | tr -d ' ')" = b7 ]; then
	exec "$emulator" "$@"
fi
exec "$@"
