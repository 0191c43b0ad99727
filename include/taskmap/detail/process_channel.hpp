#pragma once
// The byte channel between a ProcessPoolExecutor and one worker process: a socketpair that
// carries the frames of task_messages.hpp, and the calls that read and write them without
// SIGPIPE or short writes.

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "taskmap/detail/file_descriptor.hpp"
#include "taskmap/detail/task_messages.hpp"

namespace taskmap::detail {

/// Sends all of `data` on a socket; false when the other end is gone (no SIGPIPE is raised).
inline bool send_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    const ::ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

/// Takes one complete frame off the front of `inbox` into `frame` (without its length);
/// false while the frame is not all there.
inline bool take_frame(std::string& inbox, std::string& frame) {
  if (inbox.size() < 8) return false;
  std::uint64_t length = 0;
  std::memcpy(&length, inbox.data(), 8);
  if (inbox.size() - 8 < length) return false;
  frame.assign(inbox, 8, static_cast<std::size_t>(length));
  inbox.erase(0, 8 + static_cast<std::size_t>(length));
  return true;
}

/// How long a waiting end of the channel keeps asking before it sleeps in the kernel: a
/// sleeping process takes tens of microseconds to wake on a virtual machine, more than a
/// short task's whole round trip, and the next message usually comes within this time.
inline constexpr std::chrono::microseconds kChannelSpin{50};

/// Reads one frame, blocking (after kChannelSpin of asking without blocking); false at end of
/// stream or on an error.
inline bool read_frame(int fd, std::string& inbox, std::string& frame) {
  char buffer[65536];
  const auto spin_until = std::chrono::steady_clock::now() + kChannelSpin;
  while (!take_frame(inbox, frame)) {
    const bool spin = std::chrono::steady_clock::now() < spin_until;
    const ::ssize_t got = ::recv(fd, buffer, sizeof buffer, spin ? MSG_DONTWAIT : 0);
    if (got < 0 && spin && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    inbox.append(buffer, static_cast<std::size_t>(got));
  }
  return true;
}

/// Appends what can be read now without blocking to `inbox`. False when the other end is
/// gone (end of stream or an error other than "nothing to read"). A read that leaves room
/// in the buffer ends it: poll() reports what comes later, and a reply costs one recv.
inline bool drain_socket(int fd, std::string& inbox) {
  char buffer[65536];
  for (;;) {
    const ::ssize_t got = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (got > 0) {
      inbox.append(buffer, static_cast<std::size_t>(got));
      if (static_cast<std::size_t>(got) < sizeof buffer) return true;
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
}

/// A connected pair of stream sockets, both close-on-exec; false (see errno) on failure.
inline bool make_socket_pair(FileDescriptor& parent, FileDescriptor& child) noexcept {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return false;
  parent = FileDescriptor(fds[0]);
  child = FileDescriptor(fds[1]);
  return true;
}

}  // namespace taskmap::detail
