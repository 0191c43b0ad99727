#pragma once
// The observers of child graphs (Context::run, run_async, map): the observers of every run
// that has some are listed here by its graph's name buffer (a running graph runs once, so the
// buffer names one run) while it runs; a task's Context gives that buffer, so a child run
// started from the task finds its parent's observers without a member in Context and without
// any work per task. The child gets them behind a ChildObserver, which passes on its task
// events only, renamed "<parent task>/<child task>" under the outermost graph's name.

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "taskmap/observer.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap::detail {

using ObserverList = std::vector<std::shared_ptr<Observer>>;

/// The observers of the runs going on now, by the address of their graph's name.
/// Thread safety: every member may be called from any thread.
class ObservedRuns {
 public:
  /// Lists `observers` (which must outlive the matching remove) for the graph whose name's
  /// characters start at `graph`.
  void add(const char* graph, const ObserverList* observers) {
    std::lock_guard lock(mutex_);
    runs_[graph] = observers;
    count_.store(runs_.size(), std::memory_order_relaxed);
  }
  void remove(const char* graph) noexcept {
    std::lock_guard lock(mutex_);
    runs_.erase(graph);
    count_.store(runs_.size(), std::memory_order_relaxed);
  }
  /// In a process just forked: forgets the parent's runs, whose observers work in the parent
  /// only (a copy writing to the parent's files or sockets could corrupt them). Made anew,
  /// not cleared: another thread of the parent may have held the lock at the fork, and may
  /// have been changing the table (its nodes leak in the child, which ends with _exit).
  void forget_after_fork() noexcept {
    new (&mutex_) std::mutex;
    new (&runs_) std::unordered_map<const char*, const ObserverList*>;
    count_.store(0, std::memory_order_relaxed);
  }
  /// A copy of the observers listed for `graph`; empty when none are.
  [[nodiscard]] ObserverList find(const char* graph) const {
    // A child of an unobserved run (most) takes no lock.
    if (count_.load(std::memory_order_relaxed) == 0) return {};
    std::lock_guard lock(mutex_);
    const auto found = runs_.find(graph);
    return found != runs_.end() ? *found->second : ObserverList{};
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const char*, const ObserverList*> runs_;
  std::atomic<std::size_t> count_{0};
};

/// The process's list of observed runs.
inline ObservedRuns& observed_runs() {
  static ObservedRuns runs;
  return runs;
}

/// Passes a child run's task events to its parent run's observers, the task named
/// "<parent task>/<child task>" (deeper levels add theirs: "a/b/c"), the graph named as the
/// outermost run's graph; the run id stays the child's. Run starts and ends are not passed
/// on: to the parent's observers the child is part of the parent task.
class ChildObserver final : public Observer {
 public:
  ChildObserver(ObserverList observers, std::string graph, std::string prefix)
      : observers_(std::move(observers)), graph_(std::move(graph)), prefix_(std::move(prefix)) {}

  void on_event(const TaskEvent& event) override {
    std::string task;
    task.reserve(prefix_.size() + event.task.size());
    task.append(prefix_).append(event.task);
    TaskEvent renamed = event;
    renamed.graph = graph_;
    renamed.task = task;
    for (const auto& observer : observers_) {
      if (observer) observer->on_event(renamed);
    }
  }

  [[nodiscard]] const ObserverList& observers() const noexcept { return observers_; }
  [[nodiscard]] const std::string& graph() const noexcept { return graph_; }
  [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }

 private:
  ObserverList observers_;
  std::string graph_;
  std::string prefix_;
};

/// The options of a child graph run from the task `ctx` belongs to (Context::run, run_async,
/// map): the run's stop token, raise_errors, and the run's observers behind a ChildObserver.
inline RunOptions child_options(const Context& ctx) {
  RunOptions options;
  options.stop_token = ctx.stop_token();
  options.raise_errors = true;
  ObserverList parents = observed_runs().find(ctx.graph_name().data());
  if (parents.empty()) return options;
  std::string graph(ctx.graph_name());
  std::string prefix;
  // The parent is a child itself: one adapter of the outermost run's observers, not a chain.
  if (parents.size() == 1) {
    if (const auto* outer = dynamic_cast<const ChildObserver*>(parents.front().get())) {
      graph = outer->graph();
      prefix = outer->prefix();
      ObserverList unwrapped = outer->observers();
      parents = std::move(unwrapped);
    }
  }
  prefix.append(ctx.name()).push_back('/');
  options.observers.push_back(
      std::make_shared<ChildObserver>(std::move(parents), std::move(graph), std::move(prefix)));
  return options;
}

}  // namespace taskmap::detail
