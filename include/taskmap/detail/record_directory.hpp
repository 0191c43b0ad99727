#pragma once
// RecordDirectory: the files behind DirectoryStore. One record file per task
// (record_file.hpp), replaced through a temporary file in the same directory that is made
// durable before it is renamed over the record, so a reader or a crash sees the old record or
// the new one, never a mix. Temporary files are named
//   <record file name without .rec>.<pid>.<thread>.<counter>.tmp
// unique across the processes and threads that share the directory; the pid tells a later
// store whether their writer is still alive.

#if !defined(__unix__) && !defined(__APPLE__)
#error "taskmap/directory_store.hpp needs POSIX (openat, fsync of a directory)"
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <fmt/format.h>

#include "taskmap/detail/batched_writes.hpp"
#include "taskmap/detail/file_descriptor.hpp"
#include "taskmap/detail/record_file.hpp"
#include "taskmap/errors.hpp"

namespace taskmap::detail {

class RecordDirectory {
 public:
  // How old a temporary file of a live process must be before it counts as abandoned: a
  // writer keeps one for the time it takes to write and fsync a batch.
  static constexpr std::chrono::seconds kAbandonedAfter{60};
  // Record files a batch keeps open between their write and their fsync (well below the
  // usual limit of 1024 descriptors per process).
  static constexpr std::size_t kOpenAtOnce = 128;
  // A read of many names splits them between threads, each with this many names at least.
  static constexpr std::size_t kNamesPerThread = 512;
  static constexpr std::size_t kMaxReadThreads = 8;

  explicit RecordDirectory(std::filesystem::path path);

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  void read(std::span<const std::string_view> names,
            std::span<std::optional<std::string>> out) const;
  void write(std::span<const RecordChange> batch) const;

  // Removes the temporary files of writers that died (their pid is gone) or abandoned them
  // (older than kAbandonedAfter). Errors are ignored: a file left behind is never read.
  void remove_stale_temporaries() const noexcept;

 private:
  // Reads one record file; nullopt when it is missing or not intact.
  std::optional<std::string> read_one(std::string_view name, std::string& buffer) const;
  [[nodiscard]] std::string failure(std::string_view what, std::string_view task, int error) const;

  std::filesystem::path path_;
  FileDescriptor dir_;
};

// ---------------------------------------------------------------------------------------

inline RecordDirectory::RecordDirectory(std::filesystem::path path) : path_(std::move(path)) {
  std::error_code error;
  std::filesystem::create_directories(path_, error);
  if (error) {
    throw StoreError(
        fmt::format("cannot create the store directory '{}': {}", path_.string(), error.message()));
  }
  dir_ = open_at(AT_FDCWD, path_.c_str(), O_RDONLY | O_DIRECTORY);
  if (!dir_) {
    throw StoreError(
        fmt::format("cannot open the store directory '{}': {}", path_.string(), errno_text(errno)));
  }
}

inline std::string RecordDirectory::failure(std::string_view what, std::string_view task,
                                            int error) const {
  return fmt::format("cannot {} the record of task '{}' in directory '{}': {}", what, task,
                     path_.string(), errno_text(error));
}

inline void RecordDirectory::read(std::span<const std::string_view> names,
                                  std::span<std::optional<std::string>> out) const {
  const auto read_range = [&](std::size_t begin, std::size_t end) {
    std::string buffer;
    for (std::size_t i = begin; i < end; ++i) out[i] = read_one(names[i], buffer);
  };
  // Each record costs an open, a read and a close, mostly time in the kernel, which scales
  // with cores: many names are read by several threads. 100,000 record files of ~100 bytes
  // on this 2-core VM, other builds running: 0.57-0.62 s on one core, 0.44-0.58 s on two.
  const std::size_t threads =
      std::min<std::size_t>({names.size() / kNamesPerThread, kMaxReadThreads,
                             std::max<std::size_t>(std::thread::hardware_concurrency(), 1)});
  if (threads <= 1) {
    read_range(0, names.size());
    return;
  }
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  const auto run = [&](std::size_t part) {
    try {
      read_range(names.size() * part / threads, names.size() * (part + 1) / threads);
    } catch (...) {
      errors[part] = std::current_exception();
    }
  };
  for (std::size_t part = 1; part < threads; ++part) {
    try {
      helpers.emplace_back(run, part);
    } catch (const std::system_error&) {  // no thread to be had: this one reads that part too
      run(part);
    }
  }
  run(0);
  for (std::thread& helper : helpers) helper.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

inline std::optional<std::string> RecordDirectory::read_one(std::string_view name,
                                                            std::string& buffer) const {
  const auto file_name = record_file_name(name);
  // O_NONBLOCK: a FIFO someone left under the name must not block the read.
  const FileDescriptor file =
      open_at(dir_.get(), file_name.data(), O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!file) {
    switch (errno) {
      case ENOENT:
      case ENOTDIR:
      case EACCES:
      case EPERM:
      case ELOOP:
      case EISDIR:
      case ENXIO:
      case ENODEV:
      case EOVERFLOW:
      case EFBIG:
        return std::nullopt;  // this file is not a record we can read: the task reruns
      default:
        // EMFILE, ENOMEM, EIO...: the store cannot be read now
        throw StoreError(failure("open", name, errno));
    }
  }
  // Reads to the end of the file, but never past the size its header claims plus one byte
  // (so a long foreign file stops early), growing the buffer at most twofold at a time (so a
  // corrupt length costs what the file holds, not what it claims). A read shorter than asked
  // is taken as the end of the file, as it is for regular files, instead of a second read()
  // that returns 0: system calls are most of a load's time. Were a signal to cut a read
  // short, the record would only read as missing (its checksum fails), never as wrong bytes.
  constexpr std::size_t kFirstRead = 4096;
  if (buffer.size() < kFirstRead) buffer.resize(kFirstRead);
  std::size_t limit = kFirstRead;
  std::size_t got = 0;
  for (;;) {
    const ::ssize_t n = ::read(file.get(), buffer.data() + got, limit - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EISDIR || errno == EAGAIN || errno == EINVAL) return std::nullopt;
      throw StoreError(failure("read", name, errno));
    }
    got += static_cast<std::size_t>(n);
    if (got < limit) break;
    const std::optional<std::size_t> size = record_file_size_hint({buffer.data(), got});
    if (!size || got > *size) return std::nullopt;
    limit = std::min(*size + 1, 2 * limit);
    if (buffer.size() < limit) buffer.resize(limit);
  }
  const std::optional<std::string_view> record = decode_record_file({buffer.data(), got}, name);
  if (!record) return std::nullopt;
  return std::string(*record);
}

inline void RecordDirectory::write(std::span<const RecordChange> batch) const {
  static std::atomic<std::uint64_t> counter{0};
  const std::string writer = fmt::format(
      ".{}.{:x}.", ::getpid(),
      static_cast<std::uint32_t>(std::hash<std::thread::id>{}(std::this_thread::get_id())));

  // The first failure is thrown once the rest of the batch is written: one bad record (a
  // name too long) does not lose the others.
  std::optional<StoreError> first_error;
  const auto failed = [&](std::string_view what, std::string_view task, int error) {
    if (!first_error) first_error.emplace(failure(what, task, error));
  };

  struct Pending {
    const RecordChange* change;
    std::array<char, 37> final_name;
    std::string temp_name;
    FileDescriptor file;
  };
  std::vector<Pending> pending;
  pending.reserve(std::min(batch.size(), kOpenAtOnce));
  bool changed = false;

  // Durability: the records of a chunk of kOpenAtOnce files are all written first, then
  // sync_file_range starts the writeback of all of them (Linux), then each is fsynced, and
  // only then renamed: most fsyncs find their data written and their journal transaction
  // committed by an earlier one. Measured on this VM's ext4 (1024 records of 120 bytes
  // replacing older ones; the disk shared with other programs, so the ratios are what hold):
  // 550-600 ms per batch so; 650-1300 ms with an fsync as each file is written; 900-1200 ms
  // with each rename right after its fsync (the rename changes the directory, so the next
  // fsync commits the journal again). One syncfs() per batch took 300-500 ms, but it waits
  // for every dirty file of the file system: a task writing gigabytes beside the store would
  // stall every batch, and the store's flushes would stall with it.
  const auto finish_chunk = [&] {
#if defined(__linux__)
    // A hint (its errors come back from fsync): the writeback of every file starts now.
    for (Pending& p : pending) ::sync_file_range(p.file.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
    // Every fsync before any rename: a rename changes the directory, and an fsync after it
    // would commit the file system's journal again.
    for (Pending& p : pending) {
      int error = sync_file(p.file.get());
      const int close_error = p.file.close();
      if (error == 0) error = close_error;
      if (error != 0) {
        failed("make durable", p.change->name, error);
        ::unlinkat(dir_.get(), p.temp_name.c_str(), 0);
        p.temp_name.clear();
      }
    }
    for (Pending& p : pending) {
      if (p.temp_name.empty()) continue;
      int error = 0;
      do {
        error = ::renameat(dir_.get(), p.temp_name.c_str(), dir_.get(), p.final_name.data()) == 0
                    ? 0
                    : errno;
      } while (error == EINTR);
      if (error == 0) {
        changed = true;
      } else {
        failed("rename into place", p.change->name, error);
        ::unlinkat(dir_.get(), p.temp_name.c_str(), 0);
      }
    }
    pending.clear();
  };

  for (const RecordChange& change : batch) {
    if (!change.bytes) continue;
    if (change.name.size() > kRecordFileMaxName) {
      failed("write", change.name, ENAMETOOLONG);
      continue;
    }
    Pending p{&change, record_file_name(change.name), {}, {}};
    p.temp_name.assign(p.final_name.data(), 32);
    p.temp_name += writer;
    p.temp_name += std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
    p.temp_name += ".tmp";
    p.file = open_at(dir_.get(), p.temp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (!p.file) {
      failed("write", change.name, errno);
      continue;
    }
    const int error = write_all(p.file.get(), encode_record_file(change.name, *change.bytes));
    if (error != 0) {
      failed("write", change.name, error);
      p.file = FileDescriptor();
      ::unlinkat(dir_.get(), p.temp_name.c_str(), 0);
      continue;
    }
    pending.push_back(std::move(p));
    if (pending.size() == kOpenAtOnce) finish_chunk();
  }
  finish_chunk();

  for (const RecordChange& change : batch) {
    if (change.bytes) continue;
    const auto final_name = record_file_name(change.name);
    if (::unlinkat(dir_.get(), final_name.data(), 0) == 0) {
      changed = true;
    } else if (errno != ENOENT) {
      failed("erase", change.name, errno);
    }
  }

  // The renames and unlinks are durable once the directory is. EINVAL: the file system has
  // nothing to sync for a directory (some FUSE and network ones), which is no failure.
  if (changed) {
    const int error = sync_file(dir_.get());
    if (error != 0 && error != EINVAL && !first_error) {
      first_error.emplace(fmt::format(
          "cannot make the records of {} tasks (task '{}' first) durable in directory '{}': {}",
          batch.size(), batch.front().name, path_.string(), errno_text(error)));
    }
  }
  if (first_error) throw *first_error;
}

inline void RecordDirectory::remove_stale_temporaries() const noexcept {
  const int fd = ::openat(dir_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  DIR* listing = ::fdopendir(fd);
  if (listing == nullptr) {
    ::close(fd);
    return;
  }
  const auto now = std::chrono::system_clock::now();
  while (const ::dirent* entry = ::readdir(listing)) {
    // <32 hex digits>.<pid>.<thread>.<counter>.tmp
    const std::string_view name = entry->d_name;
    if (name.size() < 32 + 8 || !name.ends_with(".tmp") || name[32] != '.') continue;
    if (!std::all_of(name.begin(), name.begin() + 32,
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
      continue;
    }
    const std::string_view rest = name.substr(33);
    long pid = 0;
    const auto [end, parsed] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
    if (parsed != std::errc() || end == rest.data() || *end != '.' || pid <= 0) continue;

    struct ::stat info {};
    if (::fstatat(dir_.get(), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    const auto modified = std::chrono::system_clock::from_time_t(info.st_mtime);
    const bool abandoned = now - modified > kAbandonedAfter;
    // kill(pid, 0) fails with ESRCH only when no such process exists (EPERM: it exists).
    const bool writer_dead = ::kill(static_cast<::pid_t>(pid), 0) != 0 && errno == ESRCH;
    if (abandoned || writer_dead) ::unlinkat(dir_.get(), entry->d_name, 0);
  }
  ::closedir(listing);
}

}  // namespace taskmap::detail
