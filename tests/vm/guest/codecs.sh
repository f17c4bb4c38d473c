# SPDX-License-Identifier: BSD-2-Clause
#
# Guest of scripts/test-codecs.sh: every codec, every stream, through the
# node: our own client, FFmpeg's and GStreamer's V4L2 decoders (SLICE=1:
# every stream CI's decode.sh takes a slice of).
. "$STAGE/guest/lib.sh"
. "$STAGE/guest/decode-lib.sh"

decoder_up
[ "${DDV_CODECS:-all}" = all ] || CODECS=$(echo "$DDV_CODECS" | tr , " ")
codec_check
resize_checks
depth_checks
corrupt_clients
compliance_check
ffmpeg_conformance
ffmpeg_codecs
gst_vp9
gst_codecs
gst_formats
decoder_down
kernel_reports
finish
