#pragma once
/// @file directory_store.hpp
/// DirectoryStore: a RecordStore that keeps each task's record in a file of its own in one
/// directory, checksummed, and replaced only by renaming a durable temporary file over it.
/// Needs the taskmap::store CMake target (xxHash's header) and a POSIX system.

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "taskmap/detail/record_directory.hpp"
#include "taskmap/record_store.hpp"

namespace taskmap {

/// Records kept one file per task in a directory: `<128-bit XXH3 of the name in hex>.rec`,
/// holding a magic number, a format version, the task's name, the record and an XXH3-64
/// checksum. A record file that is torn, corrupt, foreign or of another name reads as no
/// record. Each batch is written to temporary files, fsynced, renamed into place and made
/// durable with an fsync of the directory, so a crash loses at most the batch being written
/// and never leaves a torn record. Several stores, in one process or in several, may share a
/// directory; a record read is the last one renamed into place.
/// Thread safety: as RecordStore.
class DirectoryStore final : public RecordStore {
 public:
  /// Opens the store in `dir`, creating the directory if it is missing, and removes the
  /// temporary files that crashed writers left there. A read-only directory opens: loads
  /// work, and the first flush() reports the writes that failed.
  /// Throws: StoreError naming `dir` and the OS's reason when it cannot be created or opened.
  explicit DirectoryStore(std::filesystem::path dir, Durability durability = {})
      : RecordStore(durability), directory_(std::move(dir)) {
    directory_.remove_stale_temporaries();
    open();
  }

  /// Writes what is queued (its errors are lost: call flush() first to see them).
  ~DirectoryStore() override { close(); }

  DirectoryStore(const DirectoryStore&) = delete;
  DirectoryStore& operator=(const DirectoryStore&) = delete;

  /// The directory, as given.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return directory_.path(); }

  /// "directory <path>".
  [[nodiscard]] std::string describe() const override {
    return "directory " + directory_.path().string();
  }

 private:
  void read(std::span<const std::string_view> names,
            std::span<std::optional<std::string>> out) override {
    directory_.read(names, out);
  }

  void write(std::span<const Change> batch) override { directory_.write(batch); }

  detail::RecordDirectory directory_;
};

}  // namespace taskmap
