// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/device_identity.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace daedalus {
namespace {

// A fake root with the files a board has.
class FakeRoot {
 public:
  FakeRoot() {
    char tmpl[] = "/tmp/ddv-identity-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~FakeRoot() { std::filesystem::remove_all(dir_); }
  void Write(const std::string& path, const std::string& bytes) {
    std::filesystem::create_directories(std::filesystem::path(dir_ + path).parent_path());
    std::ofstream(dir_ + path, std::ios::binary) << bytes;
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

TEST(BoardNameTest, TheDeviceTreeModelWithoutItsNul) {
  FakeRoot root;
  root.Write("/proc/device-tree/model", std::string("Raspberry Pi 5 Model B Rev 1.0\0", 31));
  root.Write("/sys/class/dmi/id/product_name", "not this\n");
  EXPECT_EQ(BoardName(root.dir()), "Raspberry Pi 5 Model B Rev 1.0");
}

TEST(BoardNameTest, TheDmiProductNameWithoutADeviceTree) {
  FakeRoot root;
  root.Write("/sys/class/dmi/id/product_name", "Standard PC (i440FX + PIIX, 1996)\n");
  EXPECT_EQ(BoardName(root.dir()), "Standard PC (i440FX + PIIX, 1996)");
}

TEST(BoardNameTest, UnknownWhenNothingSays) {
  FakeRoot root;
  root.Write("/proc/device-tree/model", std::string("\0", 1));
  EXPECT_EQ(BoardName(root.dir()), "unknown");
}

TEST(DeviceIdentityTest, ThisMachine) {
  DeviceIdentity id = ReadDeviceIdentity();
  EXPECT_FALSE(id.board.empty());
  EXPECT_FALSE(id.kernel_release.empty());
  EXPECT_GE(id.cpus, 1);
}

}  // namespace
}  // namespace daedalus
