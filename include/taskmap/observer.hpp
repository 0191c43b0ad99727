#pragma once
/// @file observer.hpp
/// Observer: the interface executors report runs and task events to.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>

#include "taskmap/run_summary.hpp"
#include "taskmap/trigger.hpp"

namespace taskmap {

/// What happened to a task.
/// `up_to_date`: a run with a store found the task's record valid and took its value
/// instead of running it (it ends there: no started or finished event).
enum class EventKind : std::uint8_t {
  queued,
  started,
  finished,
  failed,
  skipped,
  cancelled,
  up_to_date,
};

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
    case EventKind::up_to_date:
      return "up_to_date";
  }
  return "unknown";
}

/// One task event. The views are valid only during the `Observer::on_event` call.
struct TaskEvent {
  EventKind kind;          ///< what happened
  std::string_view graph;  ///< the graph's name
  /// The task's name; a child graph's task (Context::run, run_async, map) is named
  /// "<parent task>/<child task>", under the observed run's graph name.
  std::string_view task;
  std::size_t worker;  ///< id of the worker that reported it (0 on the sequential executor)
  std::chrono::system_clock::time_point time;  ///< when it happened
  /// For `failed`: the exception the task threw. For `skipped`: the error recorded on the
  /// task (AncestorFailed, or TriggerUnmet for a task whose trigger rule can no longer be
  /// met). Empty otherwise.
  std::exception_ptr error = nullptr;
  /// The run the event belongs to (RunInfo::run_id); tells nested runs of one graph apart.
  std::uint64_t run_id = 0;
  /// The task's trigger rule (all_success, the default, for most tasks).
  Trigger trigger = {};
};

/// A run as a whole, given at its start and end. The view is valid only during the call.
struct RunInfo {
  std::string_view graph;   ///< the graph's name
  std::size_t tasks = 0;    ///< tasks in the graph
  std::size_t pending = 0;  ///< tasks the run may start: pending or cancelled at its start
  std::size_t workers = 1;  ///< threads that run tasks
  /// Unique in the process, never 0: every run gets the next one when it starts, so runs
  /// of graphs with the same name (a task running a sub-graph) are told apart by it.
  std::uint64_t run_id = 0;
};

/// Receives task events from executors.
/// Thread safety: on multi-threaded executors `on_event` is called concurrently from the
/// worker that ran the task; implementations synchronise themselves. `on_run_start` and
/// `on_run_end` are called on the thread that called run(), before the first and after the
/// last event of the run.
class Observer {
 public:
  virtual ~Observer() = default;
  /// Called once per run, before any event. Does nothing unless overridden.
  virtual void on_run_start(const RunInfo& /*run*/) {}
  /// Called once per event. An exception thrown here is not caught by the executor's task
  /// handling: it ends the run with that exception.
  virtual void on_event(const TaskEvent& event) = 0;
  /// Called once per run whose on_run_start was called, after the last event and before
  /// raise_errors throws; also when an observer's exception ends the run (what this call
  /// throws is then dropped: the first exception is the one the run throws). Does nothing
  /// unless overridden.
  virtual void on_run_end(const RunInfo& /*run*/, const RunSummary& /*summary*/) {}
};

}  // namespace taskmap
