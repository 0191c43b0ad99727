#pragma once
/// @file executors/coroutine.hpp
/// CoroutineExecutor and run_async(): one thread; coroutine tasks interleave while they wait.

#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <utility>

#include "taskmap/detail/event_loop.hpp"
#include "taskmap/detail/scheduler.hpp"
#include "taskmap/detail/worker_state_holder.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/task.hpp"
#include "taskmap/worker_state.hpp"

namespace taskmap {

/// Runs a graph on the calling thread with an event loop: a coroutine task that awaits
/// (sleep_for, yield, I/O) lets other tasks run meanwhile; plain functions run to completion
/// when they start. io_bound tasks start first, then higher priority. A coroutine resumed
/// from another thread (an I/O callback) continues on the calling thread. Each run going on
/// at once is one worker for the optional per-worker state (docs/executors.md).
/// Thread safety: one object may run several graphs concurrently from different threads.
class CoroutineExecutor {
 public:
  /// An executor without worker state.
  CoroutineExecutor() = default;
  /// An executor whose runs give their tasks a value built by `state`, kept from run to run
  /// until the executor (its last copy: copies share the values) is destroyed.
  explicit CoroutineExecutor(const WorkerState& state) {
    if (const auto& maker = detail::WorkerStateAccess::maker(state)) {
      states_ = std::make_shared<detail::CallerWorkerStates>(maker);
    }
  }

  /// Runs every pending (or cancelled) task whose ancestors have not failed.
  /// Throws: TaskError with `raise_errors`; Error if the graph is already running;
  /// anything an observer throws (after the coroutines already started have finished).
  template <class T>
  RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {}) const;

 private:
  std::shared_ptr<detail::CallerWorkerStates> states_;
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
  // Every task, and every coroutine step, runs on this thread while the run lasts.
  const detail::CallerWorkerStates::Lease lease(states_.get());
  ExecutorRun<T, Threads::one> run(graph, options);
  ReadyQueue ready = run.first_ready_queue();
  detail::EventLoop loop;
  std::size_t suspended = 0;  // coroutine tasks started and not finished

  auto on_done = [&](TaskId task, std::exception_ptr& error) {
    --suspended;
    run.end(task, 0, std::move(error), ready);
  };
  auto report = [](void* self, TaskId task, std::exception_ptr& error) noexcept {
    (*static_cast<decltype(on_done)*>(self))(task, error);
  };
  detail::SchedulerScope scope(&loop);  // coroutine steps run here as well as in the loop

  for (;;) {
    for (TaskId task = ready.pop(); task != no_task; task = ready.pop()) {
      if (!run.start(task, 0)) continue;
      if (!run.is_coroutine(task)) {
        run.end(task, 0, run.invoke(task, 0), ready);
        continue;
      }
      std::coroutine_handle<> handle;
      try {
        handle = run.start_coroutine(task, 0, CoroutineDone{report, &on_done, task});
      } catch (...) {  // no memory for its frame
        run.end(task, 0, std::current_exception(), ready);
        continue;
      }
      ++suspended;
      handle.resume();  // at once: its first step reads the values it is fed
    }
    if (suspended == 0 && loop.empty()) break;
    // Nothing can start until a coroutine goes on: wait for timers and foreign resumptions.
    loop.run_once(true);
  }
  return run.finish();
}

}  // namespace taskmap
