#pragma once
// Sends run and task events to a run's observers; costs one branch when there are none.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "taskmap/detail/child_observers.hpp"
#include "taskmap/observer.hpp"
#include "taskmap/run_summary.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap::detail {

/// The next run's id: process-wide, so nested and concurrent runs never share one.
inline std::uint64_t next_run_id() noexcept {
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

class EventSink {
 public:
  EventSink(const std::vector<std::shared_ptr<Observer>>& observers, std::string_view graph,
            const std::vector<std::string>& task_names,
            const std::vector<Trigger>& triggers) noexcept
      : observers_(observers), graph_(graph), task_names_(task_names), triggers_(triggers) {
    info_.run_id = next_run_id();
  }
  // Also when the run's constructor throws after run_started (prepare_run, a store): the
  // table must not keep pointing at this run's observers.
  ~EventSink() { unlist(); }
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;

  /// This run's id (RunInfo::run_id).
  [[nodiscard]] std::uint64_t run_id() const noexcept { return info_.run_id; }

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
                          error != nullptr ? *error : std::exception_ptr(),
                          info_.run_id,
                          triggers_.empty() ? Trigger{} : triggers_[task]};
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
    // Listed while it runs, so that child graphs run from its tasks find its observers.
    observed_runs().add(graph_.data(), &observers_);
    listed_ = true;
    for (std::size_t i = 0; i < observers_.size(); ++i) {
      if (!observers_[i]) continue;
      try {
        observers_[i]->on_run_start(info_);
      } catch (...) {
        // The run does not happen: those already told it started are told it ended.
        for (std::size_t j = 0; j < i; ++j) {
          try {
            if (observers_[j]) observers_[j]->on_run_end(info_, RunSummary{});
          } catch (...) {  // NOLINT(bugprone-empty-catch): the first exception is reported
          }
        }
        unlist();
        throw;
      }
    }
  }

  /// Reports the end of a run. With `quietly` (the run is ending by an observer's exception,
  /// which the caller rethrows), every observer is told and their exceptions are dropped.
  void run_finished(const RunSummary& summary, bool quietly = false) {
    unlist();
    for (const auto& observer : observers_) {
      if (!observer) continue;
      if (!quietly) {
        observer->on_run_end(info_, summary);
        continue;
      }
      try {
        observer->on_run_end(info_, summary);
      } catch (...) {  // NOLINT(bugprone-empty-catch): the first exception is the one reported
      }
    }
  }

 private:
  void unlist() noexcept {
    if (listed_) observed_runs().remove(graph_.data());
    listed_ = false;
  }

  const std::vector<std::shared_ptr<Observer>>& observers_;
  std::string_view graph_;
  const std::vector<std::string>& task_names_;
  const std::vector<Trigger>& triggers_;  // empty: every task has the default
  RunInfo info_;
  bool listed_ = false;  // in observed_runs()
};

}  // namespace taskmap::detail
