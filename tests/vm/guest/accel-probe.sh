#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# PID 1 of choose-accel.sh's probe guest: getting here under KVM is the
# proof that KVM runs the test kernel. Says so and powers off at once.
echo "accel-probe: init reached"
mount -t proc proc /proc && echo b >/proc/sysrq-trigger
