# SPDX-License-Identifier: BSD-2-Clause
#
# Guest of scripts/test-codecs.sh: every codec, every stream, through the
# node (our own client) and FFmpeg's V4L2 decoders.
. "$STAGE/guest/lib.sh"
. "$STAGE/guest/decode-lib.sh"

decoder_up
[ "${DDV_CODECS:-all}" = all ] || CODECS=$(echo "$DDV_CODECS" | tr , " ")
codec_check
resize_checks
depth_checks
compliance_check
ffmpeg_codecs
decoder_down
kernel_reports
finish
