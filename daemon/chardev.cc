// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/chardev.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"

namespace daedalus {
namespace {

class Syscalls final : public SyscallApi {
 public:
  int Open(const char* path, int flags) override { return ::open(path, flags); }
  ssize_t Read(int fd, void* buf, size_t len) override { return ::read(fd, buf, len); }
  ssize_t Write(int fd, const void* buf, size_t len) override { return ::write(fd, buf, len); }
  int Ioctl(int fd, unsigned long request, void* arg) override { return ::ioctl(fd, request, arg); }
  int Close(int fd) override { return ::close(fd); }
};

std::string Errno(int err) {
  return absl::StrFormat("%s (%s)", std::strerror(err), strerrorname_np(err));
}

absl::Status OpenError(const std::string& path, int err) {
  std::string what = absl::StrFormat("open %s: %s", path, Errno(err));
  switch (err) {
    case ENOENT:
    case ENXIO:
    case ENODEV:
      return absl::NotFoundError(what + ": is the daedalus_v4l2 module loaded?");
    case EBUSY:
      return absl::AlreadyExistsError(what +
                                      ": another process (another daedalusd?) holds the device");
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(what +
                                         ": run as root or as a member of the device's group");
    default:
      return absl::UnavailableError(what);
  }
}

// The kernel's write() errnos, as listed in docs/protocol.md.
absl::Status WriteError(const protocol::Message& msg, int err) {
  std::string what = absl::StrFormat("write %s (cookie 0x%08x): %s", protocol::TypeName(msg.type),
                                     msg.cookie, Errno(err));
  switch (err) {
    case EPROTO:  // the header's or HELLO's version is not the module's
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: the module speaks another protocol version than this daemon's (%d): install a "
          "daedalusd and module of one release",
          what, DDV_PROTO_VERSION));
    case EBADMSG:     // bad magic
    case EMSGSIZE:    // payload too large
    case EINVAL:      // reserved field, length or payload wrong
    case EOPNOTSUPP:  // a type the daemon may not send
      return absl::InvalidArgumentError(what + ": the kernel refused the message");
    case ENOENT:
      return absl::NotFoundError(what + ": the kernel has no such outstanding request");
    case ENOBUFS:
      return absl::ResourceExhaustedError(what + ": the kernel's FIFO is full");
    case EBUSY:
      return absl::ResourceExhaustedError(what + ": too many requests outstanding");
    case ENOMEM:
      return absl::ResourceExhaustedError(what + ": the kernel is out of memory");
    case EFAULT:
      return absl::InternalError(what);
    default:  // EIO, ENODEV, EBADF...: the link is gone
      return absl::UnavailableError(what);
  }
}

}  // namespace

SyscallApi& RealSyscalls() {
  static Syscalls* syscalls = new Syscalls();
  return *syscalls;
}

bool IsLinkLost(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsInternal(status);
}

absl::Status Chardev::Open(const std::string& path) {
  Close();
  int fd = sys_.Open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return OpenError(path, errno);
  fd_ = fd;
  path_ = path;
  return absl::OkStatus();
}

void Chardev::Close() {
  if (fd_ >= 0) sys_.Close(fd_);
  fd_ = -1;
}

absl::StatusOr<std::optional<protocol::Message>> Chardev::Read() {
  if (fd_ < 0) return absl::UnavailableError("chardev is not open");
  ssize_t n;
  do {
    n = sys_.Read(fd_, buf_.data(), buf_.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    if (err == EAGAIN) return std::nullopt;
    if (err == EMSGSIZE) {
      // Our buffer holds the largest message of our protocol version, so
      // the kernel speaks something else. The message stays queued: reading
      // again cannot help.
      return absl::InternalError(absl::StrFormat("read %s: next message exceeds %d bytes: %s",
                                                 path_, buf_.size(), Errno(err)));
    }
    return absl::UnavailableError(absl::StrFormat("read %s: %s", path_, Errno(err)));
  }
  if (n == 0) {
    return absl::UnavailableError(absl::StrFormat("read %s: end of file", path_));
  }
  absl::StatusOr<protocol::Message> msg =
      protocol::Decode(std::string_view(buf_.data(), static_cast<size_t>(n)));
  if (!msg.ok()) {
    // One malformed message from the kernel: report it, but keep the link.
    // Codes from Decode are never Unavailable/Internal, so IsLinkLost() is false.
    return msg.status();
  }
  return std::optional<protocol::Message>(*std::move(msg));
}

absl::Status Chardev::Write(const protocol::Message& msg) {
  if (fd_ < 0) return absl::UnavailableError("chardev is not open");
  if (msg.payload.size() > DDV_MAX_PAYLOAD) {
    return absl::InvalidArgumentError(
        absl::StrFormat("payload of %d bytes exceeds %d", msg.payload.size(), DDV_MAX_PAYLOAD));
  }
  std::string wire = protocol::Encode(msg);
  ssize_t n;
  do {
    n = sys_.Write(fd_, wire.data(), wire.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return WriteError(msg, errno);
  if (static_cast<size_t>(n) != wire.size()) {
    return absl::InternalError(absl::StrFormat("write %s: kernel took %d of %d bytes",
                                               protocol::TypeName(msg.type), n, wire.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ddv_stats> Chardev::GetStats() {
  if (fd_ < 0) return absl::UnavailableError("chardev is not open");
  ddv_stats stats = {};
  if (sys_.Ioctl(fd_, DDV_IOC_GET_STATS, &stats) < 0) {
    int err = errno;
    if (err == ENOTTY) {
      return absl::InternalError(absl::StrFormat(
          "ioctl DDV_IOC_GET_STATS on %s: %s: module too old for this daemon", path_, Errno(err)));
    }
    return absl::UnavailableError(
        absl::StrFormat("ioctl DDV_IOC_GET_STATS on %s: %s", path_, Errno(err)));
  }
  return stats;
}

namespace {

// The data ioctls' errnos (docs/protocol.md).
absl::Status JobIoError(const char* what, uint32_t ctx, uint32_t job, int err) {
  std::string msg = absl::StrFormat("%s (context %d, job %d): %s", what, ctx, job, Errno(err));
  switch (err) {
    case ENOENT:
    case ESTALE:
      return absl::NotFoundError(msg + ": the job is gone");
    case ENODATA:
      return absl::FailedPreconditionError(msg + ": the job has no such buffer");
    case EOPNOTSUPP:
      return absl::FailedPreconditionError(msg + ": the client's buffer is not MMAP memory");
    case EINVAL:
      return absl::InvalidArgumentError(msg);
    case ENOMEM:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

}  // namespace

absl::StatusOr<size_t> Chardev::ReadSrc(uint32_t ctx, uint32_t job, std::string& buf) {
  if (fd_ < 0) return absl::UnavailableError("chardev is not open");
  ddv_src_io io = {};
  io.ctx_id = ctx;
  io.job_id = job;
  io.addr = reinterpret_cast<uintptr_t>(buf.data());
  io.len = static_cast<uint32_t>(buf.size());
  int n = sys_.Ioctl(fd_, DDV_IOC_READ_SRC, &io);
  if (n < 0) return JobIoError("DDV_IOC_READ_SRC", ctx, job, errno);
  return static_cast<size_t>(n);
}

absl::Status Chardev::WritePicture(uint32_t ctx, uint32_t job, const PictureView& pic) {
  if (fd_ < 0) return absl::UnavailableError("chardev is not open");
  ddv_picture_io io = {};
  io.ctx_id = ctx;
  io.job_id = job;
  for (int p = 0; p < 3; p++) {
    io.plane[p] = reinterpret_cast<uintptr_t>(pic.planes[p]);
    io.stride[p] = pic.strides[p];
  }
  io.width = pic.width;
  io.height = pic.height;
  io.num_planes = pic.num_planes;
  if (sys_.Ioctl(fd_, DDV_IOC_WRITE_PICTURE, &io) < 0) {
    return JobIoError("DDV_IOC_WRITE_PICTURE", ctx, job, errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Chardev::ExportDst(uint32_t ctx, uint32_t job) {
  if (fd_ < 0) return absl::UnavailableError("chardev is not open");
  ddv_export_io io = {};
  io.ctx_id = ctx;
  io.job_id = job;
  if (sys_.Ioctl(fd_, DDV_IOC_EXPORT_DST, &io) < 0) {
    return JobIoError("DDV_IOC_EXPORT_DST", ctx, job, errno);
  }
  return io.fd;
}

absl::Status Chardev::Answer(uint32_t cookie, const ddv_decode_done& done) {
  return Write({DDV_MSG_DECODE_DONE, cookie,
                std::string(reinterpret_cast<const char*>(&done), sizeof(done))});
}

}  // namespace daedalus
