// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/device_identity.h"

#include <sched.h>
#include <sys/utsname.h>

#include <fstream>
#include <iterator>

#include "absl/strings/ascii.h"

namespace daedalus {
namespace {

// The first line of a sysfs/procfs file, without the NUL the device tree
// ends its strings with; "" if it cannot be read.
std::string ReadName(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  text = text.substr(0, text.find_first_of(std::string("\0\n", 2)));
  return std::string(absl::StripAsciiWhitespace(text));
}

}  // namespace

std::string BoardName(const std::string& root) {
  for (const char* path : {"/proc/device-tree/model", "/sys/firmware/devicetree/base/model",
                           "/sys/class/dmi/id/product_name"}) {
    std::string name = ReadName(root + path);
    if (!name.empty()) return name;
  }
  return "unknown";
}

DeviceIdentity ReadDeviceIdentity() {
  DeviceIdentity id;
  id.board = BoardName();
  utsname u;
  id.kernel_release = uname(&u) == 0 ? u.release : "unknown";
  cpu_set_t set;
  id.cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
  return id;
}

}  // namespace daedalus
