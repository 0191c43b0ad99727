#pragma once
/// @file executors/sequential.hpp
/// SequentialExecutor and run(): every task on the calling thread.

#include <memory>

#include "taskmap/detail/worker_state_holder.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/worker_state.hpp"

namespace taskmap {

/// Runs a graph on the calling thread, one task at a time: io_bound tasks first, then higher
/// priority, then in the order tasks became ready. Holds no state between runs but the
/// optional per-worker state: each run going on at once is one worker (docs/executors.md).
/// Thread safety: one object may run several graphs concurrently from different threads.
class SequentialExecutor {
 public:
  /// An executor without worker state.
  SequentialExecutor() = default;
  /// An executor whose runs give their tasks a value built by `state`, kept from run to run
  /// until the executor (its last copy: copies share the values) is destroyed.
  explicit SequentialExecutor(const WorkerState& state) {
    if (const auto& maker = detail::WorkerStateAccess::maker(state)) {
      states_ = std::make_shared<detail::CallerWorkerStates>(maker);
    }
  }

  /// Runs every pending (or cancelled) task of `graph` whose ancestors have not failed.
  /// Throws: TaskError with `raise_errors`; Error if the graph is already running;
  /// anything an observer throws.
  template <class T>
  RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {}) const;

 private:
  std::shared_ptr<detail::CallerWorkerStates> states_;
};

static_assert(Executor<SequentialExecutor>);

/// Runs `graph` on the calling thread with a SequentialExecutor.
template <class T>
RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {}) {
  return SequentialExecutor{}.run(graph, options);
}

// ---------------------------------------------------------------------------------------
// Implementation

namespace detail {

/// A sequential run on the calling thread with the worker state bound to it as it is (the
/// pools run a graph a task of theirs runs on them this way, as the task's worker).
template <class T>
RunSummary run_sequential(TaskGraph<T>& graph, const RunOptions& options) {
  ExecutorRun<T, Threads::one> run(graph, options);
  ReadyQueue ready = run.first_ready_queue();
  for (TaskId task = ready.pop(); task != no_task; task = ready.pop()) {
    if (!run.start(task, 0)) continue;
    run.end(task, 0, run.invoke(task, 0), ready);
  }
  return run.finish();
}

}  // namespace detail

template <class T>
RunSummary SequentialExecutor::run(TaskGraph<T>& graph, const RunOptions& options) const {
  // Without worker state, tasks see none, not that of a run this one is nested in.
  const detail::CallerWorkerStates::Lease lease(states_.get());
  return detail::run_sequential(graph, options);
}

}  // namespace taskmap
