// SPDX-License-Identifier: BSD-2-Clause
//
// A main() for the fuzz targets where libFuzzer is not linked (the gcc
// build and its tests): runs LLVMFuzzerTestOneInput once on each file
// named, or on each file of each directory named, and says how many. A
// crash or an abort in the target ends it as it would end libFuzzer.
//
//   protocol_fuzz corpus/protocol/ crash-1234

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void RunFile(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  size_t runs = 0;
  for (int i = 1; i < argc; i++) {
    std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg)) {
        if (!e.is_regular_file()) continue;
        RunFile(e.path());
        runs++;
      }
    } else {
      RunFile(arg);
      runs++;
    }
  }
  std::printf("%s: %zu inputs run\n", argv[0], runs);
  return runs > 0 ? 0 : 1;
}
