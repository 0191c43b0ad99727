#pragma once
/// @file run_options.hpp
/// RunOptions, RunSummary and the Context a task may take.

#include <chrono>
#include <cstddef>
#include <memory>
#include <ranges>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "taskmap/detail/worker_state_holder.hpp"
#include "taskmap/observer.hpp"
#include "taskmap/run_summary.hpp"
#include "taskmap/store.hpp"

namespace taskmap {

template <class T>
class TaskGraph;

/// How to run a graph. An aggregate: `run(g, {.raise_errors = true})`.
struct RunOptions {
  /// Worker threads for the parallel executors; 0 means the hardware concurrency.
  std::size_t ncores = 0;
  /// After the run, throw taskmap::TaskError for the first failed task (original nested).
  bool raise_errors = false;
  /// Start no new task after the first failure; unstarted tasks stay pending.
  bool fail_fast = false;
  /// Cooperative cancel: running tasks see it through Context; unstarted tasks become
  /// cancelled and run on the next call.
  std::stop_token stop_token = {};
  /// Receivers of task events, in order.
  std::vector<std::shared_ptr<Observer>> observers = {};
  /// Where completed tasks are remembered between runs and processes (not owned; must
  /// outlive the run): tasks whose record is valid are skipped and take its value, every
  /// other task that succeeds is recorded. See taskmap/directory_store.hpp and
  /// taskmap/sqlite_store.hpp.
  Store* store = nullptr;
};

/// What a running task may ask of its executor; take it as a leading `taskmap::Context&`.
/// Thread safety: a context belongs to one running task; do not keep it past the call.
class Context {
 public:
  /// Executors build contexts; tasks only receive them. The context refers to (does not
  /// copy) the names and the run's stop token, which must outlive it: building one costs
  /// no memory access, so a task that never looks pays nothing.
  Context(const std::string& graph_name, const std::string& task_name, const std::stop_token& stop,
          std::size_t worker_id) noexcept
      : graph_name_(&graph_name), task_name_(&task_name), stop_(&stop), worker_id_(worker_id) {}

  /// The running task's name.
  [[nodiscard]] std::string_view name() const noexcept { return *task_name_; }
  /// The graph's name.
  [[nodiscard]] std::string_view graph_name() const noexcept { return *graph_name_; }
  /// True once the run's stop_token asked to stop; long tasks should check it and return.
  [[nodiscard]] bool stop_requested() const noexcept { return stop_->stop_requested(); }
  /// The run's stop token, to pass on (e.g. to a std::stop_callback or a std::jthread).
  [[nodiscard]] const std::stop_token& stop_token() const noexcept { return *stop_; }
  /// Id of the worker running the task (0 on the sequential executor).
  [[nodiscard]] std::size_t worker_id() const noexcept { return worker_id_; }

  /// The state of the worker running the task now, built by the executor's WorkerState on
  /// the first ask on this worker (taskmap/worker_state.hpp). A coroutine task may continue
  /// on another worker after a `co_await`: ask again after each one, never keep the reference
  /// across it.
  /// Throws: WorkerStateError when the executor has no worker state, when S is not the type
  /// it builds, or when building fails (the factory's exception nested).
  template <class S>
  [[nodiscard]] S& worker_state() const {
    return detail::worker_state_of<S>(*task_name_);
  }
  /// Runs the child graph `child` (any value type) on the executor running this task and
  /// returns its summary; its results stay in `child`. On the pool executors its tasks run
  /// in parallel and this worker helps; elsewhere they run inline on this thread. The run's
  /// stop token reaches the child. Defined in taskmap/subgraph.hpp.
  /// Throws: TaskError naming the child's first failed task, its exception nested.
  template <class U>
  RunSummary run(TaskGraph<U>& child);

  /// Calls `fn` on every element of `items` in parallel on the executor running this task
  /// and returns the results in item order, always as a vector. `fn` is called concurrently;
  /// `items` must not change meanwhile. Defined in taskmap/subgraph.hpp.
  /// Throws: TaskError naming the lowest failing item ("item N"), its exception nested; or,
  /// when the run is asked to stop before every item was called, naming the first uncalled.
  template <class Items, class Fn>
  std::vector<
      std::remove_cvref_t<std::invoke_result_t<Fn&, std::ranges::range_reference_t<const Items&>>>>
  map(const Items& items, Fn fn);

 private:
  const std::string* graph_name_;
  const std::string* task_name_;
  const std::stop_token* stop_;
  std::size_t worker_id_;
};

}  // namespace taskmap
