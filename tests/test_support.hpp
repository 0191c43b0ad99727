#pragma once
// Every helper the tests share, each defined once: the functions of Python taskmap's test
// suite, error inspection, timing, temporary files and directories, reading what was written,
// and external tools (python3, dot). The executor list is executors.hpp; the strict JSON
// reader of the trace and DOT tests is json.hpp.

#include <atomic>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <new>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <typeinfo>
#include <vector>

#include <taskmap/detail/type_name.hpp>
#include <taskmap/taskmap.hpp>

#if defined(__GNUG__) || defined(__clang__)
#include <cxxabi.h>
#endif
#if __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif

#include "catch.hpp"

namespace taskmap_test {

// Set by tests/CMakeLists.txt in the asan and tsan builds. Under a sanitizer every memory
// access costs several times more and a thread start far more; tests that repeat work only
// to grow their sample (not to race threads) do less there.
#ifdef TASKMAP_TEST_SANITIZED
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// Python's fixture functions: a returns 5, b adds 10, c adds both and 20, d raises.
inline int fa() { return 5; }
inline int fb(int x) { return x + 10; }
inline int fc(int x, int y) { return x + y + 20; }
inline int fd() { throw std::runtime_error("some error"); }

/// Rethrows `error` and returns what() of the std::exception it holds.
inline std::string what_of(const std::exception_ptr& error) {
  REQUIRE(error != nullptr);
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "<not a std::exception>";
  }
}

/// True when `error` holds an exception of type E.
template <class E>
bool holds(const std::exception_ptr& error) {
  if (!error) return false;
  try {
    std::rethrow_exception(error);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}

/// The demangled type of the exception `error` holds ("std::runtime_error", "int"); for a
/// RemoteTaskError, the type the task threw in the other process. So a scenario checks what a
/// task threw the same way on every executor.
inline std::string thrown_type(const std::exception_ptr& error) {
  REQUIRE(error != nullptr);
  try {
    std::rethrow_exception(error);
  } catch (const taskmap::RemoteTaskError& e) {
    return e.type_name();
  } catch (...) {
#if defined(__GNUG__) || defined(__clang__)
    if (const std::type_info* type = abi::__cxa_current_exception_type()) {
      return taskmap::detail::type_name(*type);
    }
#endif
    return "<unknown type>";
  }
}

/// what() of the exception a task threw, wherever it ran: a RemoteTaskError's message().
inline std::string thrown_message(const std::exception_ptr& error) {
  REQUIRE(error != nullptr);
  try {
    std::rethrow_exception(error);
  } catch (const taskmap::RemoteTaskError& e) {
    return e.message();
  } catch (...) {
    return what_of(error);
  }
}

#if __has_include(<sys/mman.h>)
/// A value a test's tasks change and the test reads, wherever the tasks run: a lock-free
/// std::atomic<T> in an anonymous shared mapping, so a task of a ProcessPoolExecutor (a
/// process forked after the mapping was made) writes the memory the test reads.
template <class T>
class Shared {
  static_assert(std::atomic<T>::is_always_lock_free,
                "only lock-free atomics work across processes");

 public:
  explicit Shared(T initial = T{}) {
    void* memory = ::mmap(nullptr, sizeof(std::atomic<T>), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    value_ = new (memory) std::atomic<T>(initial);
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  ~Shared() { ::munmap(value_, sizeof(std::atomic<T>)); }

  T operator++() { return ++*value_; }
  Shared& operator=(T value) {
    value_->store(value);
    return *this;
  }
  [[nodiscard]] T load() const { return value_->load(); }
  std::atomic<T>& operator*() const { return *value_; }
  operator T() const { return value_->load(); }  // NOLINT(google-explicit-constructor)

 private:
  std::atomic<T>* value_ = nullptr;
};
#endif

inline std::set<std::string> as_set(const std::vector<std::string>& names) {
  return {names.begin(), names.end()};
}

/// Starts `task` on the calling thread outside any executor and runs it until it first
/// suspends or ends (for tests of what awaitables do without a scheduler).
inline void start_outside_executor(taskmap::Task<void>& task) {
  struct Root {
    struct promise_type {
      Root get_return_object() { return {}; }
      std::suspend_never initial_suspend() noexcept { return {}; }
      std::suspend_never final_suspend() noexcept { return {}; }
      void return_void() {}
      void unhandled_exception() { std::terminate(); }
    };
  };
  [](taskmap::Task<void>& inner) -> Root { co_await std::move(inner); }(task);
}

using Clock = std::chrono::steady_clock;

/// Seconds of the steady clock since `start`.
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Polls `done` until it holds or `timeout` passes; returns whether it held. For tasks that
/// wait for something another thread writes to a file.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// How often `needle` occurs in `text`, not overlapping.
inline std::size_t count_of(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

/// The lines of `text`, without their '\n'; an unfinished last line is kept.
inline std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

/// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "taskmap-test") {
    static std::atomic<unsigned> counter{0};
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "-" + std::to_string(random()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

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

/// The whole file, byte for byte (empty when it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Replaces the file's contents with `text`.
inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

/// The file's lines, as lines_of.
inline std::vector<std::string> read_lines(const std::filesystem::path& path) {
  return lines_of(read_file(path));
}

/// `path` in single quotes for a POSIX shell.
inline std::string shell_quote(const std::filesystem::path& path) {
  std::string out = "'";
  for (const char c : path.string()) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// True when `tool` is a command on PATH (always false off POSIX shells).
inline bool has_command(const std::string& tool) {
#ifdef _WIN32
  static_cast<void>(tool);
  return false;
#else
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
#endif
}

/// Runs a shell command; true when it exits with status 0.
inline bool run_command(const std::string& command) { return std::system(command.c_str()) == 0; }

}  // namespace taskmap_test
