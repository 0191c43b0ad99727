#pragma once
/// @file task_status.hpp
/// TaskStatus: where a task stands in its graph.

#include <cstdint>
#include <ostream>
#include <string_view>

namespace taskmap {

/// The state of one task.
enum class TaskStatus : std::uint8_t {
  pending,    ///< not run yet (or reset); the next run runs it
  running,    ///< being run now
  done,       ///< succeeded, or marked done
  failed,     ///< its function threw; `error()` holds the exception
  skipped,    ///< an ancestor failed (`error()`: a taskmap::AncestorFailed) or its trigger
              ///< rule can no longer be met (a taskmap::TriggerUnmet)
  cancelled,  ///< a stop was requested before it started; the next run runs it
};

/// The status's name, e.g. "done".
[[nodiscard]] constexpr std::string_view to_string(TaskStatus status) noexcept {
  switch (status) {
    case TaskStatus::pending:
      return "pending";
    case TaskStatus::running:
      return "running";
    case TaskStatus::done:
      return "done";
    case TaskStatus::failed:
      return "failed";
    case TaskStatus::skipped:
      return "skipped";
    case TaskStatus::cancelled:
      return "cancelled";
  }
  return "unknown";
}

/// Writes to_string(status), so a status prints as `done`, `failed`, ... in streams and test
/// messages.
inline std::ostream& operator<<(std::ostream& os, TaskStatus status) {
  return os << to_string(status);
}

}  // namespace taskmap
