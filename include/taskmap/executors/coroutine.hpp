#pragma once
/// @file executors/coroutine.hpp
/// CoroutineExecutor and run_async(): one thread; coroutine tasks interleave while they wait.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <vector>

#include "taskmap/detail/event_loop.hpp"
#include "taskmap/detail/sequential_run.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/executors/sequential.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/task.hpp"

namespace taskmap {

/// Runs a graph on the calling thread with an event loop: a coroutine task that awaits
/// (sleep_for, yield, I/O) lets other tasks run meanwhile; plain functions run to completion
/// when they start. io_bound tasks start first, then higher priority. A coroutine resumed
/// from another thread (an I/O callback) continues on the calling thread.
/// Thread safety: one object may run several graphs concurrently from different threads.
class CoroutineExecutor {
 public:
  /// Runs every pending (or cancelled) task whose ancestors have not failed.
  /// Throws: TaskError with `raise_errors`; Error if the graph is already running;
  /// anything an observer throws (after the coroutines already started have finished).
  template <class T>
  RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {}) const;
};

static_assert(Executor<CoroutineExecutor>);

/// Runs `graph` on the calling thread with a CoroutineExecutor.
template <class T>
RunSummary run_async(TaskGraph<T>& graph, const RunOptions& options = {}) {
  return CoroutineExecutor{}.run(graph, options);
}

// ---------------------------------------------------------------------------------------
// Implementation

template <class T>
RunSummary CoroutineExecutor::run(TaskGraph<T>& graph, const RunOptions& options) const {
  const auto start = std::chrono::steady_clock::now();
  detail::GraphState<T>& g = detail::GraphAccess::state(graph);
  detail::SequentialRun<T> run(g, options);
  detail::EventLoop loop;
  std::vector<const T*> inputs;
  std::size_t suspended = 0;  // coroutine tasks started and not finished

  auto complete = [&](std::uint32_t task, std::exception_ptr& error) noexcept {
    if (error) {
      run.failed(task, error);
    } else {
      run.succeeded(task);
    }
  };
  auto on_done = [&](std::uint32_t task, std::exception_ptr& error) noexcept {
    --suspended;
    complete(task, error);
  };
  auto report = [](void* self, std::uint32_t task, std::exception_ptr& error) noexcept {
    (*static_cast<decltype(on_done)*>(self))(task, error);
  };
  detail::SchedulerScope scope(&loop);  // coroutine steps run here as well as in the loop

  for (;;) {
    while (run.can_start()) {
      const std::uint32_t task = run.start_next(inputs);
      if (task == run.kNone) break;
      const TaskFn<T>& fn = g.funcs[task];
      Context ctx(g.name, g.names[task], options.stop_token, 0);
      if (!fn.is_coroutine()) {
        std::exception_ptr error;
        try {
          fn.invoke(ctx, inputs, g.results[task]);
        } catch (...) {
          error = std::current_exception();
        }
        complete(task, error);
        continue;
      }
      // Resume at once: the task's first step runs now, while `inputs` holds its values.
      std::coroutine_handle<> handle;
      try {
        handle =
            fn.start_coroutine(ctx, inputs, g.results[task], CoroutineDone{report, &on_done, task});
      } catch (...) {  // no memory for its frame
        std::exception_ptr error = std::current_exception();
        complete(task, error);
        continue;
      }
      ++suspended;
      handle.resume();
    }
    const bool can_start = run.can_start();
    if (suspended == 0 && loop.empty() && !can_start) break;
    // Block for timers and foreign resumptions only when no graph task can start now.
    loop.run_once(!can_start);
  }
  return run.finish(start);
}

}  // namespace taskmap
