#pragma once
/// @file executors/coroutine_pool.hpp
/// CoroutinePoolExecutor and run_parallel_async(): coroutine tasks on a pool of threads,
/// where a waiting coroutine frees its thread.

#include <cstddef>
#include <memory>

#include "taskmap/detail/parallel_run.hpp"
#include "taskmap/detail/timer_service.hpp"
#include "taskmap/detail/worker_pool.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/worker_state.hpp"

namespace taskmap {

/// Runs graphs on a reusable pool of worker threads; a coroutine task that awaits
/// (sleep_for, yield, I/O) frees its worker, and any worker resumes it later. Blocking tasks
/// (plain functions, or coroutines that compute) run in parallel up to the pool size.
/// io_bound tasks start first, then higher priority; groups, failures and stops behave as on
/// every executor. Timers run on one extra thread, started at the first sleep_for.
/// Thread safety: as ThreadPoolExecutor.
/// Use it as CoroutinePoolExecutor: the template parameter is unused, and only makes the
/// pool's code compiled in the programs that use it, not in every file that includes
/// taskmap.hpp.
template <class = void>
class BasicCoroutinePoolExecutor {
 public:
  /// A pool of `ncores` workers (0 = the hardware concurrency) whose workers build their
  /// state with `state` (none by default). A coroutine task that awaits may continue on
  /// another worker, and then sees that worker's value (docs/executors.md).
  explicit BasicCoroutinePoolExecutor(std::size_t ncores = 0, const WorkerState& state = {})
      : timers_(std::make_unique<detail::TimerService>()),
        pool_(std::make_unique<detail::WorkerPool>(ncores != 0 ? ncores : detail::default_workers(),
                                                   detail::WorkerStateAccess::maker(state))) {}

  /// Runs every pending (or cancelled) task whose ancestors have not failed; the calling
  /// thread waits. `options.ncores` is ignored: the pool's size applies.
  /// Throws: TaskError with `raise_errors`; Error if the graph is already running; the
  /// first exception an observer threw.
  template <class T>
  RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {}) {
    return detail::run_on_pool(*pool_, timers_.get(), graph, options);
  }

  /// Sets how many workers take tasks, also during a run (see ThreadPoolExecutor).
  void set_max_workers(std::size_t workers) { pool_->set_max_workers(workers); }
  /// How many workers take tasks.
  [[nodiscard]] std::size_t max_workers() const noexcept { return pool_->max_workers(); }

 private:
  // Destroyed in reverse order: the timer thread stops after the workers have joined.
  std::unique_ptr<detail::TimerService> timers_;
  std::unique_ptr<detail::WorkerPool> pool_;
};

/// Runs graphs on a reusable pool where awaiting coroutines free their worker (see
/// BasicCoroutinePoolExecutor).
using CoroutinePoolExecutor = BasicCoroutinePoolExecutor<>;

static_assert(Executor<CoroutinePoolExecutor>);

/// Runs `graph` on a new CoroutinePoolExecutor of `options.ncores` workers (0 = hardware
/// concurrency). Reuse a CoroutinePoolExecutor when running many graphs.
template <class T>
RunSummary run_parallel_async(TaskGraph<T>& graph, const RunOptions& options = {}) {
  CoroutinePoolExecutor pool(options.ncores);
  return pool.run(graph, options);
}

}  // namespace taskmap
