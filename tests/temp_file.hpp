#pragma once
// Temporary log paths for the observer tests, and ways to read what was written to them.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "file_support.hpp"

namespace taskmap_test {

/// A path in a fresh temporary directory (TempDir), not yet created; all removed when it goes.
class TempPath {
 public:
  explicit TempPath(const std::string& stem = "taskmap-test")
      : dir_(stem), path_(dir_ / (stem + ".log")) {}

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::string string() const { return path_.string(); }

 private:
  TempDir dir_;
  std::filesystem::path path_;
};

/// The file's lines, without their '\n'; an unfinished last line is kept.
inline std::vector<std::string> read_lines(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

/// Polls `done` until it holds or `timeout` passes; returns whether it held. For tasks that
/// wait for something another thread writes to a file.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// How often `needle` occurs in `text`.
inline std::size_t count_of(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

}  // namespace taskmap_test
