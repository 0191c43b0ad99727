#pragma once
// Sends task events to a run's observers; costs one branch when there are none.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "taskmap/observer.hpp"

namespace taskmap::detail {

class EventSink {
 public:
  EventSink(const std::vector<std::shared_ptr<Observer>>& observers, std::string_view graph) noexcept
      : observers_(observers), graph_(graph) {}

  [[nodiscard]] bool active() const noexcept { return !observers_.empty(); }

  void emit(EventKind kind, std::string_view task, std::size_t worker) const {
    if (observers_.empty()) return;
    const TaskEvent event{kind, graph_, task, worker, std::chrono::system_clock::now()};
    for (const auto& observer : observers_) {
      if (observer) observer->on_event(event);
    }
  }

 private:
  const std::vector<std::shared_ptr<Observer>>& observers_;
  std::string_view graph_;
};

}  // namespace taskmap::detail
