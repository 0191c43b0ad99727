#pragma once
/// @file executors/sequential.hpp
/// SequentialExecutor and run(): every task on the calling thread.

#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap {

/// Runs a graph on the calling thread, one task at a time: io_bound tasks first, then higher
/// priority, then in the order tasks became ready. Holds no state between runs.
/// Thread safety: one object may run several graphs concurrently from different threads.
class SequentialExecutor {
 public:
  /// Runs every pending (or cancelled) task of `graph` whose ancestors have not failed.
  /// Throws: TaskError with `raise_errors`; Error if the graph is already running;
  /// anything an observer throws.
  template <class T>
  RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {}) const;
};

static_assert(Executor<SequentialExecutor>);

/// Runs `graph` on the calling thread with a SequentialExecutor.
template <class T>
RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {}) {
  return SequentialExecutor{}.run(graph, options);
}

// ---------------------------------------------------------------------------------------
// Implementation

template <class T>
RunSummary SequentialExecutor::run(TaskGraph<T>& graph, const RunOptions& options) const {
  ExecutorRun<T, Threads::one> run(graph, options);
  ReadyQueue ready = run.first_ready_queue();
  for (TaskId task = ready.pop(); task != no_task; task = ready.pop()) {
    if (!run.start(task, 0)) continue;
    run.end(task, 0, run.invoke(task, 0), ready);
  }
  return run.finish();
}

}  // namespace taskmap
