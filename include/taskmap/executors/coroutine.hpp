#pragma once
/// @file executors/coroutine.hpp
/// CoroutineExecutor and run_async(): one thread; coroutine tasks interleave while they wait.

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <vector>

#include "taskmap/detail/event_loop.hpp"
#include "taskmap/detail/events.hpp"
#include "taskmap/detail/run_state.hpp"
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
  detail::RunGuard<T> guard(g);
  detail::EventSink events(options.observers, g.name, g.names);
  events.run_started(g.status, 1);
  RunSummary summary;
  auto on_skip = [&](std::uint32_t task) {
    ++summary.skipped;
    events.emit(EventKind::skipped, task, 0, &g.errors[task]);
  };

  std::vector<std::uint32_t> waiting;
  std::vector<std::uint32_t> initial;
  detail::prepare_run(g, waiting, initial, on_skip);
  detail::SequentialReadyQueue ready(g, g.size());
  for (const std::uint32_t task : initial) {
    ready.push(task);
    events.emit(EventKind::queued, task, 0);
  }

  detail::EventLoop loop;
  std::vector<const T*> inputs;
  std::vector<std::uint32_t> scratch;
  std::uint32_t first_failure = UINT32_MAX;
  std::size_t suspended = 0;  // coroutine tasks started and not finished
  bool halted = false;
  std::exception_ptr observer_error;

  // Records how a task ended and queues the dependents it made ready.
  auto complete = [&](std::uint32_t task, std::exception_ptr& error) {
    try {
      if (error) {
        g.results[task].reset();
        g.errors[task] = std::move(error);
        g.status[task] = TaskStatus::failed;
        ++summary.failed;
        if (first_failure == UINT32_MAX) first_failure = task;
        events.emit(EventKind::failed, task, 0, &g.errors[task]);
        detail::skip_dependents(g, task, detail::ancestor_error(g, task), waiting, scratch,
                                on_skip);
        if (options.fail_fast) halted = true;
        return;
      }
      g.status[task] = TaskStatus::done;
      ++summary.succeeded;
      events.emit(EventKind::finished, task, 0);
      for (const std::uint32_t child : g.children_of(task)) {
        if (--waiting[child] == 0) {
          ready.push(child);
          events.emit(EventKind::queued, child, 0);
        }
      }
    } catch (...) {
      // An observer threw: stop starting tasks; the exception ends the run.
      if (!observer_error) observer_error = std::current_exception();
      halted = true;
    }
  };

  auto on_done = [&](std::uint32_t task, std::exception_ptr& error) {
    --suspended;
    complete(task, error);
  };
  auto report = [](void* self, std::uint32_t task, std::exception_ptr& error) noexcept {
    (*static_cast<decltype(on_done)*>(self))(task, error);
  };
  detail::SchedulerScope scope(&loop);  // coroutine steps run here as well as in the loop

  for (;;) {
    while (!ready.empty() && !halted && !options.stop_token.stop_requested()) {
      const std::uint32_t task = ready.pop();
      g.status[task] = TaskStatus::running;
      try {
        events.emit(EventKind::started, task, 0);
      } catch (...) {
        g.status[task] = TaskStatus::pending;
        if (!observer_error) observer_error = std::current_exception();
        halted = true;
        break;
      }
      detail::gather_inputs(g, task, inputs);
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
      ++suspended;
      fn.start_coroutine(ctx, inputs, g.results[task], CoroutineDone{report, &on_done, task})
          .resume();
    }
    const bool can_start = !ready.empty() && !halted && !options.stop_token.stop_requested();
    if (suspended == 0 && loop.empty() && !can_start) break;
    // Block for timers and foreign resumptions only when no graph task can start now.
    loop.run_once(!can_start);
  }

  detail::cancel_pending(g, options, [&](std::uint32_t task) {
    ++summary.cancelled;
    events.emit(EventKind::cancelled, task, 0);
  });
  if (observer_error) std::rethrow_exception(observer_error);
  summary.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now() - start);
  events.run_finished(summary);
  detail::finish_run(g, options, first_failure);
  return summary;
}

}  // namespace taskmap
