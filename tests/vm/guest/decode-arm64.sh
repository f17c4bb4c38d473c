# SPDX-License-Identifier: BSD-2-Clause
#
# Guest test on arm64 (the Raspberry Pi 5's architecture, under
# qemu-system-aarch64): the module cross-built for arm64 6.12 and the
# aarch64 daedalusd, daedalusctl and test client, with Debian's arm64
# v4l2-compliance and ffmpeg. The x86-64-only parts of decode.sh (udev,
# GStreamer, Python checks) stay there: their code is the same on both.
. "$STAGE/guest/lib.sh"
. "$STAGE/guest/decode-lib.sh"

# CI's slice of the FFmpeg sweep, as in decode.sh.
SLICE=${SLICE:-6}

decoder_up
kernel_ping
# H.264 and VP9 here, the other codecs in decode.sh: each once per run.
compliance_check h264 vp9
ffmpeg_conformance
own_client_check
# A slice for time: H.264 (the Pi 5's first want) and AV1.
CODECS="--quick h264 av1" codec_check
firefox_probe
# Crash recovery on the Pi's architecture and Debian's kernel, where the
# daemon restarts faster than in the amd64 debug guest: prints kill to the
# next good picture.
recovery_checks
# Debian's kernel has the memory cgroup the amd64 debug kernel leaves out.
memory_limit_check
decoder_down
kernel_reports
finish
