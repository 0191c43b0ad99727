#pragma once
/// @file run_summary.hpp
/// RunSummary: what one run did.

#include <chrono>
#include <cstddef>

namespace taskmap {

/// What one run did. Counts cover the tasks this run changed.
struct RunSummary {
  std::size_t succeeded = 0;
  std::size_t failed = 0;
  std::size_t skipped = 0;
  std::size_t cancelled = 0;
  std::chrono::nanoseconds elapsed{0};

  /// True when every task the run touched succeeded.
  [[nodiscard]] bool ok() const noexcept { return failed == 0 && skipped == 0 && cancelled == 0; }
};

}  // namespace taskmap
