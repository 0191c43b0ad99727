#pragma once
/// @file continuation.hpp
/// Continue<T>: what a task returns to end with the result of a child graph that runs after
/// it returned, so a recursion grows without a C++ frame per level. docs/dynamic.md,
/// "Continuations", explains it.

#include <optional>
#include <string>
#include <utility>

#include "taskmap/detail/continuation_run.hpp"
#include "taskmap/graph.hpp"

namespace taskmap {

/// Returned by a task of a TaskGraph<T> instead of its value: the task does not end when its
/// function returns but when the child graph it holds has run, with the value of the
/// child's task named `result`. That graph's tasks may return a Continue<T> in turn.
/// Throws (when the task ends): the task fails with UnknownTaskError when the graph has no
/// task `result`, and with the TaskError of the child's first failed task when one fails.
template <class T>
class Continue {
 public:
  /// The type of the continued task's result.
  using value_type = T;

  /// Continues with `graph`; the task's result will be that of `graph`'s task `result`.
  Continue(TaskGraph<T> graph, std::string result)
      : graph_(std::move(graph)), result_(std::move(result)) {}

  /// Ends the task at once with `value`: the base case of a recursion whose other cases
  /// continue.
  explicit Continue(T value) : value_(std::move(value)) {}

 private:
  friend struct detail::ContinueAccess;

  std::optional<TaskGraph<T>> graph_;
  std::string result_;
  std::optional<T> value_;
};

/// Returns `Continue<T>(std::move(graph), std::move(result))`: the task ends with the value
/// of `graph`'s task `result` once `graph` has run.
template <class T>
Continue<T> continue_with(TaskGraph<T> graph, std::string result) {
  return Continue<T>(std::move(graph), std::move(result));
}

}  // namespace taskmap
