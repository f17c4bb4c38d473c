// SPDX-License-Identifier: BSD-2-Clause
//
// Layouts from the VP9 bitstream specification: Annex B (superframes) and
// section 6.2 (uncompressed header).

#include "daemon/decode/superframe.h"

#include <cstdint>

namespace daedalus::decode {

std::vector<std::string_view> SplitSuperframe(std::string_view data) {
  std::vector<std::string_view> whole = {data};
  if (data.empty()) return whole;
  uint8_t marker = static_cast<uint8_t>(data.back());
  if ((marker & 0xe0) != 0xc0) return whole;
  size_t frames = (marker & 0x7) + 1;
  size_t mag = ((marker >> 3) & 0x3) + 1;
  size_t index_size = 2 + mag * frames;
  if (data.size() < index_size || static_cast<uint8_t>(data[data.size() - index_size]) != marker) {
    return whole;
  }
  std::vector<std::string_view> out;
  size_t offset = 0;
  size_t payload = data.size() - index_size;
  const char* index = data.data() + data.size() - index_size + 1;
  for (size_t i = 0; i < frames; i++) {
    size_t size = 0;
    for (size_t b = 0; b < mag; b++) {
      size |= static_cast<size_t>(static_cast<uint8_t>(index[i * mag + b])) << (8 * b);
    }
    if (size > payload - offset) return whole;  // index lies: let the decoder judge
    if (size) out.push_back(data.substr(offset, size));
    offset += size;
  }
  return out.empty() ? whole : out;
}

bool IsShownFrame(std::string_view f) {
  if (f.empty()) return false;
  uint8_t b = static_cast<uint8_t>(f[0]);
  if ((b >> 6) != 2) return false;  // frame_marker
  int profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1);
  int bit = profile == 3 ? 2 : 3;   // profile 3 has a reserved zero bit
  if ((b >> bit) & 1) return true;  // show_existing_frame
  // frame_type at bit-1, show_frame at bit-2 (both still in the first byte).
  return ((b >> (bit - 2)) & 1) != 0;
}

}  // namespace daedalus::decode
