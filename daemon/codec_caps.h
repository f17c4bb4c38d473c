// SPDX-License-Identifier: BSD-2-Clause
//
// What the daemon announces at HELLO: each codec whose decoder this
// libavcodec has, with the V4L2 profile and level menu values whose
// streams decode through the node (the node's CAPTURE formats carry
// their pictures). The node offers exactly these.
//
//   std::vector<ddv_codec_caps> caps = AnnouncedCodecs();

#ifndef DAEDALUS_DAEMON_CODEC_CAPS_H_
#define DAEDALUS_DAEMON_CODEC_CAPS_H_

#include <linux/daedalus-v4l2.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/backend.h"
#include "daemon/decode/codec.h"

namespace daedalus {

// The announcement for one codec, whether or not libavcodec has it.
ddv_codec_caps CapsOf(const decode::CodecInfo& codec);
// Every codec of decode::AllCodecs() this libavcodec decodes; with `only`
// (names: "h264", "av1"...), just those, in that order (the first is the
// node's default OUTPUT format). InvalidArgument for an unknown name,
// Unimplemented for a codec this libavcodec cannot decode.
absl::StatusOr<std::vector<ddv_codec_caps>> AnnouncedCodecs(
    const std::vector<std::string>& only = {});
// "H264 (profiles 0,1,2,4,5,6,7,17; level <= 19; up to 4096x2304)", for logs.
std::string DescribeCaps(const ddv_codec_caps& caps);
// The same for GetStatus: V4L2's profile names and the CAPTURE formats the
// codec's pictures come in; `frame_threads` as the daemon runs it.
control::CodecCapability CapabilityOf(const ddv_codec_caps& caps, int frame_threads);

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_CODEC_CAPS_H_
