#pragma once
/// @file run_summary.hpp
/// RunSummary: what one run did.

#include <chrono>
#include <cstddef>

namespace taskmap {

/// What one run did. Counts cover the tasks this run changed.
struct RunSummary {
  /// Tasks that ran and returned.
  std::size_t succeeded = 0;
  /// Tasks that ran and threw.
  std::size_t failed = 0;
  /// Tasks not run because a task they depend on, directly or not, failed.
  std::size_t skipped = 0;
  /// Tasks left unstarted because the run was asked to stop or stopped at a failure
  /// (fail_fast).
  std::size_t cancelled = 0;
  /// Tasks a run with a store did not run because their record was valid; they took the
  /// recorded value and are done.
  std::size_t up_to_date = 0;
  /// Wall time of the run.
  std::chrono::nanoseconds elapsed{0};

  /// True when every task the run touched succeeded.
  [[nodiscard]] bool ok() const noexcept { return failed == 0 && skipped == 0 && cancelled == 0; }
};

}  // namespace taskmap
