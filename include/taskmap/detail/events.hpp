#pragma once
// Sends run and task events to a run's observers; costs one branch when there are none.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "taskmap/observer.hpp"
#include "taskmap/run_summary.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap::detail {

class EventSink {
 public:
  EventSink(const std::vector<std::shared_ptr<Observer>>& observers, std::string_view graph,
            const std::vector<std::string>& task_names) noexcept
      : observers_(observers), graph_(graph), task_names_(task_names) {}

  [[nodiscard]] bool active() const noexcept { return !observers_.empty(); }

  /// Reports `kind` for task id `task`. Takes the id, not the name, so that a run without
  /// observers never reads the name array.
  void emit(EventKind kind, std::uint32_t task, std::size_t worker,
            const std::exception_ptr* error = nullptr) const {
    if (observers_.empty()) return;
    const TaskEvent event{kind,
                          graph_,
                          task_names_[task],
                          worker,
                          std::chrono::system_clock::now(),
                          error != nullptr ? *error : std::exception_ptr()};
    for (const auto& observer : observers_) {
      if (observer) observer->on_event(event);
    }
  }

  /// Reports the start of a run; counts the tasks it may start from `status`.
  void run_started(const std::vector<TaskStatus>& status, std::size_t workers) {
    if (observers_.empty()) return;
    info_.graph = graph_;
    info_.tasks = status.size();
    info_.pending = 0;
    for (const TaskStatus s : status) {
      if (s == TaskStatus::pending || s == TaskStatus::cancelled) ++info_.pending;
    }
    info_.workers = workers;
    for (const auto& observer : observers_) {
      if (observer) observer->on_run_start(info_);
    }
  }

  /// Reports the end of a run.
  void run_finished(const RunSummary& summary) const {
    for (const auto& observer : observers_) {
      if (observer) observer->on_run_end(info_, summary);
    }
  }

 private:
  const std::vector<std::shared_ptr<Observer>>& observers_;
  std::string_view graph_;
  const std::vector<std::string>& task_names_;
  RunInfo info_;
};

}  // namespace taskmap::detail
