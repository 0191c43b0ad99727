// Fuzz target: the bytes a store reads back. Property: any bytes are safe to read — no crash,
// no read out of bounds, no large allocation — and what is accepted is exactly what the
// writer writes:
//   - a DirectoryStore record file (detail::decode_record_file) is accepted only when it is,
//     byte for byte, what encode_record_file writes for that task and record;
//   - a task's record (detail::TaskRecord::from_bytes, what both DirectoryStore and
//     SqliteStore keep after their own checksums) is accepted only when encoding it again
//     gives the same bytes, and a task whose record is accepted compares equal to itself (no
//     reason to rerun);
//   - a real DirectoryStore given the bytes as a task's file loads them only when
//     decode_record_file accepts them, and then loads exactly the record inside.
//
// Input: one selector byte (which of the three), then the bytes.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <taskmap/detail/record_file.hpp>
#include <taskmap/detail/task_record.hpp>
#include <taskmap/directory_store.hpp>

#include "fuzz_support.hpp"

using taskmap_fuzz::check;

namespace {

constexpr std::string_view kTask = "task";

void record_file(std::string_view bytes) {
  const std::optional<std::string_view> record = taskmap::detail::decode_record_file(bytes, kTask);
  if (!record) return;
  check(taskmap::detail::encode_record_file(kTask, *record) == bytes,
        "a record file was accepted that encode_record_file does not write");
}

void task_record(std::string_view bytes) {
  const std::optional<taskmap::detail::TaskRecord> record =
      taskmap::detail::TaskRecord::from_bytes(bytes);
  if (!record) return;
  check(record->to_bytes() == bytes, "a task record was accepted that to_bytes does not write");
  check(record->stale_reason(*record).empty(), "an accepted record is stale against itself");
}

// The scratch directory's path as plain characters: still valid when the exit handler that
// removes the directory runs, after static objects are gone.
char scratch_path[4096];

void remove_scratch_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(scratch_path, ignored);
}

const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("taskmap-fuzz-store-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    std::snprintf(scratch_path, sizeof scratch_path, "%s", path.c_str());
    std::atexit(remove_scratch_dir);
    return path;
  }();
  return dir;
}

void directory_store(std::string_view bytes) {
  const std::filesystem::path& dir = scratch_dir();
  {
    taskmap::DirectoryStore store(dir);
    store.save(std::string(kTask), "placeholder");
    store.flush();
  }
  // Replace the file the store just wrote for the task with the fuzzer's bytes.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (taskmap::detail::is_record_file_name(entry.path().filename().string())) {
      std::ofstream(entry.path(), std::ios::binary | std::ios::trunc)
          .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
  }
  taskmap::DirectoryStore store(dir);
  const std::optional<std::string> loaded = store.load(kTask);
  const std::optional<std::string_view> expected =
      taskmap::detail::decode_record_file(bytes, kTask);
  check(loaded.has_value() == expected.has_value(),
        "DirectoryStore and decode_record_file disagree on a file");
  if (loaded) check(*loaded == *expected, "DirectoryStore loaded other bytes than the record");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      record_file(bytes);
      break;
    case 1:
      task_record(bytes);
      break;
    default:
      directory_store(bytes);
      break;
  }
  return 0;
}
