// SPDX-License-Identifier: BSD-2-Clause
//
// The daemon's end of /dev/daedalus-v4l2: open it, read and write whole
// messages, read the kernel's counters. Every errno the chardev can return
// is turned into an absl::Status whose code tells the caller what to do:
//
//   kUnavailable         the link is gone (close, reopen later)
//   kNotFound            open: no device node (module not loaded);
//                        write: the kernel knows no such cookie
//   kAlreadyExists       open: another process holds the device
//   kPermissionDenied    open: not allowed to open the node
//   kResourceExhausted   write: FIFO full or too many PINGs outstanding
//   kInvalidArgument     write: the kernel refused the message (a bug here)
//   kInternal            anything that means the two sides disagree
//
// The syscalls go through SyscallApi so tests can fake every error.

#ifndef DAEDALUS_DAEMON_CHARDEV_H_
#define DAEDALUS_DAEMON_CHARDEV_H_

#include <linux/daedalus-v4l2.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/job_io.h"
#include "daemon/protocol.h"

namespace daedalus {

// The few syscalls the chardev needs; returns and errno as the real ones.
class SyscallApi {
 public:
  virtual ~SyscallApi() = default;
  virtual int Open(const char* path, int flags) = 0;
  virtual ssize_t Read(int fd, void* buf, size_t len) = 0;
  virtual ssize_t Write(int fd, const void* buf, size_t len) = 0;
  virtual int Ioctl(int fd, unsigned long request, void* arg) = 0;
  virtual int Close(int fd) = 0;
};

// The real syscalls.
SyscallApi& RealSyscalls();

class Chardev final : public JobIo {
 public:
  // `sys` must outlive the Chardev.
  explicit Chardev(SyscallApi& sys = RealSyscalls()) : sys_(sys) {}
  ~Chardev() override { Close(); }
  Chardev(const Chardev&) = delete;
  Chardev& operator=(const Chardev&) = delete;

  // Opens `path` non-blocking; the daemon waits with poll() on fd().
  absl::Status Open(const std::string& path);
  void Close();
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // The next message, or nullopt when none is queued (EAGAIN).
  // A message that fails validation is consumed and reported as an error
  // with its own code (see protocol::Decode), so one bad message never
  // blocks the ones behind it.
  absl::StatusOr<std::optional<protocol::Message>> Read();

  absl::Status Write(const protocol::Message& msg);

  absl::StatusOr<ddv_stats> GetStats();

  // JobIo: DDV_IOC_READ_SRC, DDV_IOC_WRITE_PICTURE and DECODE_DONE.
  absl::StatusOr<size_t> ReadSrc(uint32_t ctx, uint32_t job, std::string& buf) override;
  absl::Status WritePicture(uint32_t ctx, uint32_t job, const PictureView& picture) override;
  absl::StatusOr<int> ExportDst(uint32_t ctx, uint32_t job) override;
  absl::Status Answer(uint32_t cookie, const ddv_decode_done& done) override;

 private:
  SyscallApi& sys_;
  int fd_ = -1;
  std::string path_;
  std::string buf_ = std::string(protocol::kMaxMessageSize, '\0');
};

// Statuses from Chardev::Read whose code means the link itself is broken,
// as opposed to one bad message.
bool IsLinkLost(const absl::Status& status);

}  // namespace daedalus

#endif  // DAEDALUS_DAEMON_CHARDEV_H_
