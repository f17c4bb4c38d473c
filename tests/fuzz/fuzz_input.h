// SPDX-License-Identifier: BSD-2-Clause
//
// FuzzInput: a fuzzer's bytes read as a sequence of small fields, so one
// input can say "this codec, then these buffers". Reading past the end
// gives zeros and empty chunks, never an error: every input is valid.
//
//   FuzzInput in(data, size);
//   uint8_t codec = in.Byte();
//   while (!in.empty()) Use(in.Chunk());  // 2-byte length, then the bytes

#ifndef DAEDALUS_TESTS_FUZZ_FUZZ_INPUT_H_
#define DAEDALUS_TESTS_FUZZ_FUZZ_INPUT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace daedalus::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return rest_.empty(); }
  uint8_t Byte() {
    if (rest_.empty()) return 0;
    uint8_t b = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  // A little-endian 16-bit length, then that many bytes (or what is left).
  std::string_view Chunk() {
    size_t len = Byte();
    len |= static_cast<size_t>(Byte()) << 8;
    len = std::min(len, rest_.size());
    std::string_view out = rest_.substr(0, len);
    rest_.remove_prefix(len);
    return out;
  }

  // The same framing, for writing seeds.
  static void AppendChunk(std::string_view bytes, std::string* out) {
    size_t len = std::min<size_t>(bytes.size(), 0xffff);
    out->push_back(static_cast<char>(len & 0xff));
    out->push_back(static_cast<char>(len >> 8));
    out->append(bytes.substr(0, len));
  }

 private:
  std::string_view rest_;
};

}  // namespace daedalus::fuzz

#endif  // DAEDALUS_TESTS_FUZZ_FUZZ_INPUT_H_
