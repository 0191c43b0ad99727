#pragma once
// Shared fixtures: the functions of Python taskmap's test suite, and small helpers.

#include <coroutine>
#include <exception>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <taskmap/taskmap.hpp>

#include "catch.hpp"

namespace taskmap_test {

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

}  // namespace taskmap_test
