#pragma once
// POSIX file descriptors for the directory store and the log file: an owner that closes, and the
// calls that must be retried after EINTR or continued after a short write.

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

namespace taskmap::detail {

/// The OS's words for an errno value ("No space left on device").
inline std::string errno_text(int error) { return std::generic_category().message(error); }

/// Owns a file descriptor and closes it; -1 owns nothing.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      static_cast<void>(close());
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { static_cast<void>(close()); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }

  // Returns 0 or the errno of close(), which some file systems (NFS) use to report a write
  // that failed. Not retried after EINTR: on Linux the descriptor is gone either way.
  [[nodiscard]] int close() noexcept {
    if (fd_ < 0) return 0;
    const int result = ::close(std::exchange(fd_, -1));
    return result == 0 || errno == EINTR ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

/// openat() retried after EINTR; a FileDescriptor that owns nothing on failure (see errno).
inline FileDescriptor open_at(int dir, const char* name, int flags, ::mode_t mode = 0) noexcept {
  int fd = -1;
  do {
    fd = ::openat(dir, name, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return FileDescriptor(fd);
}

/// Writes all of `data`; returns 0 or the errno of the failure.
inline int write_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    const ::ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (written == 0) return EIO;  // no progress and no error: do not spin
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return 0;
}

/// fsync() retried after EINTR; returns 0 or its errno. A failed fsync is never retried
/// otherwise: Linux may have marked the pages clean, so a second call could falsely succeed.
inline int sync_file(int fd) noexcept {
  int result = 0;
  do {
    result = ::fsync(fd);
  } while (result != 0 && errno == EINTR);
  return result == 0 ? 0 : errno;
}

}  // namespace taskmap::detail
