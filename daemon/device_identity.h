// SPDX-License-Identifier: BSD-2-Clause
//
// Which machine the daemon runs on, for the daedalus_device_info series
// and GetStatus: the board's name, the kernel release, the CPUs it may use.
// A fleet tells its boards apart by these.
//
//   DeviceIdentity id = ReadDeviceIdentity();
//   // id.board == "Raspberry Pi 5 Model B Rev 1.0" on a Pi 5

#ifndef DAEDALUS_DAEMON_DEVICE_IDENTITY_H_
#define DAEDALUS_DAEMON_DEVICE_IDENTITY_H_

#include <string>

namespace daedalus {

struct DeviceIdentity {
  std::string board;
  std::string kernel_release;
  int cpus = 0;
};

// The board's name under `root` ("" for this machine): the device tree's
// model where there is one (Arm boards), else the DMI product name (PCs,
// QEMU), else "unknown".
std::string BoardName(const std::string& root = "");

DeviceIdentity ReadDeviceIdentity();

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_DEVICE_IDENTITY_H_
