#pragma once
/// @file observer.hpp
/// Observer: the interface executors report task events to.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace taskmap {

/// What happened to a task.
enum class EventKind : std::uint8_t { queued, started, finished, failed, skipped, cancelled };

/// The name of an event kind, e.g. "started".
[[nodiscard]] constexpr std::string_view to_string(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::queued:
      return "queued";
    case EventKind::started:
      return "started";
    case EventKind::finished:
      return "finished";
    case EventKind::failed:
      return "failed";
    case EventKind::skipped:
      return "skipped";
    case EventKind::cancelled:
      return "cancelled";
  }
  return "unknown";
}

/// One task event. The views are valid only during the `Observer::on_event` call.
struct TaskEvent {
  EventKind kind;
  std::string_view graph;  ///< the graph's name
  std::string_view task;   ///< the task's name
  std::size_t worker;      ///< id of the worker that reported it (0 on the sequential executor)
  std::chrono::system_clock::time_point time;
};

/// Receives task events from executors.
/// Thread safety: on multi-threaded executors `on_event` is called concurrently from the
/// worker that ran the task; implementations synchronise themselves.
class Observer {
 public:
  virtual ~Observer() = default;
  /// Called once per event. An exception thrown here is not caught by the executor's task
  /// handling: it ends the run with that exception.
  virtual void on_event(const TaskEvent& event) = 0;
};

}  // namespace taskmap
