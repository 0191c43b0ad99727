#pragma once
// Sends task events to a run's observers; costs one branch when there are none.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "taskmap/observer.hpp"

namespace taskmap::detail {

class EventSink {
 public:
  EventSink(const std::vector<std::shared_ptr<Observer>>& observers, std::string_view graph,
            const std::vector<std::string>& task_names) noexcept
      : observers_(observers), graph_(graph), task_names_(task_names) {}

  [[nodiscard]] bool active() const noexcept { return !observers_.empty(); }

  /// Reports `kind` for task id `task`. Takes the id, not the name, so that a run without
  /// observers never reads the name array.
  void emit(EventKind kind, std::uint32_t task, std::size_t worker) const {
    if (observers_.empty()) return;
    const TaskEvent event{kind, graph_, task_names_[task], worker,
                          std::chrono::system_clock::now()};
    for (const auto& observer : observers_) {
      if (observer) observer->on_event(event);
    }
  }

 private:
  const std::vector<std::shared_ptr<Observer>>& observers_;
  std::string_view graph_;
  const std::vector<std::string>& task_names_;
};

}  // namespace taskmap::detail
