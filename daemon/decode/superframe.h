// SPDX-License-Identifier: BSD-2-Clause
//
// VP9 superframes (several frames in one buffer, with an index at the end)
// and the few header bits the decoder needs to choose what to output.

#ifndef DAEDALUS_DAEMON_DECODE_SUPERFRAME_H_
#define DAEDALUS_DAEMON_DECODE_SUPERFRAME_H_

#include <string_view>
#include <vector>

namespace daedalus::decode {

// The frames of a superframe, in order; a buffer without a valid index is
// one frame. Never reads outside `data`.
std::vector<std::string_view> SplitSuperframe(std::string_view data);

// show_existing_frame or show_frame is set: the frame produces a picture.
// False for anything too short or not starting with a VP9 frame marker.
bool IsShownFrame(std::string_view frame);

}  // namespace daedalus::decode

#endif  // DAEDALUS_DAEMON_DECODE_SUPERFRAME_H_
