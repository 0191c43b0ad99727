#pragma once
// The byte channel between a ProcessPoolExecutor and one worker process: a socketpair that
// carries length-prefixed frames, the calls that read and write them without SIGPIPE or
// short writes, and the wire format of requests and replies.
//
// Frame: [u64 length of the rest][rest]. Little-endian, as both ends are one program.
// Request (parent -> worker): [u32 task][u32 inputs] then per input [u8 kind][u32 dep] and,
//   for kind bytes, [u64 size][Codec bytes of the value]: the worker knows every value it
//   held when forked or was sent before, so a value crosses once per worker.
// Reply (worker -> parent): [u8 kind][u32 task] then, for a value, its Codec bytes; for an
//   error, [u64 size][exception type name][what()].

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "taskmap/detail/file_descriptor.hpp"

namespace taskmap::detail {

/// How one input of a request is fed.
enum class InputKind : std::uint8_t {
  null = 0,   // a dependency that did not succeed, fed to a task with a trigger rule
  known = 1,  // the worker holds the dependency's value already
  bytes = 2,  // the value follows as Codec bytes
};

/// How a task ended in its worker.
enum class ReplyKind : std::uint8_t {
  value = 0,     // Codec bytes follow
  no_value = 1,  // the task returned no value
  error = 2,     // it threw: type name and what() follow
};

inline void put_u8(std::string& out, std::uint8_t value) {
  out.push_back(static_cast<char>(value));
}

inline void put_u32(std::string& out, std::uint32_t value) {
  char bytes[4];
  std::memcpy(bytes, &value, 4);
  out.append(bytes, 4);
}

inline void put_u64(std::string& out, std::uint64_t value) {
  char bytes[8];
  std::memcpy(bytes, &value, 8);
  out.append(bytes, 8);
}

/// Reads the fields of a frame in order; a frame cut short reads as zeros and sets `bad`
/// (the other end is this same program, so that only happens when it was corrupted).
struct FrameReader {
  std::string_view rest;
  bool bad = false;

  std::string_view take(std::size_t n) noexcept {
    if (n > rest.size()) {
      bad = true;
      n = rest.size();
    }
    const std::string_view out = rest.substr(0, n);
    rest.remove_prefix(n);
    return out;
  }
  template <class U>
  U number() noexcept {
    U value{};
    const std::string_view bytes = take(sizeof(U));
    if (bytes.size() == sizeof(U)) std::memcpy(&value, bytes.data(), sizeof(U));
    return value;
  }
  std::string_view sized() noexcept {
    return take(static_cast<std::size_t>(number<std::uint64_t>()));
  }
};

/// Starts a frame in `out` (cleared); finish_frame writes its length once it is complete.
inline void begin_frame(std::string& out) {
  out.clear();
  put_u64(out, 0);
}

inline void finish_frame(std::string& out) noexcept {
  const std::uint64_t length = out.size() - 8;
  std::memcpy(out.data(), &length, 8);
}

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

/// Reads one frame, blocking; false at end of stream or on an error.
inline bool read_frame(int fd, std::string& inbox, std::string& frame) {
  char buffer[65536];
  while (!take_frame(inbox, frame)) {
    const ::ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
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
