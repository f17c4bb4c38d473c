// SPDX-License-Identifier: BSD-2-Clause
//
// The userspace release; the module reports its own version over HELLO_ACK.

#ifndef DAEDALUS_DAEMON_VERSION_H_
#define DAEDALUS_DAEMON_VERSION_H_

namespace daedalus {
inline constexpr char kVersion[] = "0.3.0";
}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_VERSION_H_
