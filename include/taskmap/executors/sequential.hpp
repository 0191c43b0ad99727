#pragma once
/// @file executors/sequential.hpp
/// SequentialExecutor and run(): every task on the calling thread.

#include <chrono>
#include <cstdint>
#include <exception>
#include <vector>

#include "taskmap/detail/sequential_run.hpp"
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
  const auto start = std::chrono::steady_clock::now();
  detail::GraphState<T>& g = detail::GraphAccess::state(graph);
  detail::SequentialRun<T> run(g, options);
  std::vector<const T*> inputs;
  while (run.can_start()) {
    const std::uint32_t task = run.start_next(inputs);
    if (task == run.kNone) break;
    Context ctx(g.name, g.names[task], options.stop_token, 0);
    try {
      g.funcs[task].invoke(ctx, inputs, g.results[task]);
    } catch (...) {
      std::exception_ptr error = std::current_exception();
      run.failed(task, error);
      continue;
    }
    run.succeeded(task);
  }
  return run.finish(start);
}

}  // namespace taskmap
