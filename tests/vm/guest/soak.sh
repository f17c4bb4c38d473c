# SPDX-License-Identifier: BSD-2-Clause
#
# Guest half of scripts/soak.sh: the soak alone, for SOAK_SECONDS (decode.sh
# runs CI's slice of it), on the debug kernel, then kmemleak and the log.
. "$STAGE/guest/lib.sh"
. "$STAGE/guest/decode-lib.sh"

decoder_up
soak
decoder_down
kernel_reports
finish
