#pragma once
/// @file executors/thread_pool.hpp
/// ThreadPoolExecutor and run_parallel(): tasks on a pool of work-stealing worker threads.

#include <cstddef>
#include <memory>
#include <thread>

#include "taskmap/detail/parallel_run.hpp"
#include "taskmap/detail/worker_pool.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/worker_state.hpp"

namespace taskmap {

/// Runs graphs on a reusable pool of worker threads with per-worker work-stealing deques.
/// The thread that calls run() takes part as worker 0 and wakes workers only while more
/// tasks are ready than it is taking. io_bound tasks start first, then higher priority;
/// concurrency groups are honoured; a failure skips every dependent before any of them could
/// start. With a WorkerState, each worker builds its own value on first use; it is
/// destroyed when the worker is retired by set_max_workers or the executor is destroyed.
/// Thread safety: run() may be called from several threads; runs on one executor take turns.
/// A task that calls run() on its own executor gets its graph run inline on its thread.
/// Use it as ThreadPoolExecutor: the template parameter is unused, and only makes the pool's
/// code compiled in the programs that use it, not in every file that includes taskmap.hpp.
template <class = void>
class BasicThreadPoolExecutor {
 public:
  /// A pool of `ncores` workers (0 = the hardware concurrency) whose workers build their
  /// state with `state` (none by default; docs/executors.md, "Per-worker state").
  explicit BasicThreadPoolExecutor(std::size_t ncores = 0, const WorkerState& state = {})
      : pool_(std::make_unique<detail::WorkerPool>(ncores != 0 ? ncores : default_workers(),
                                                   detail::WorkerStateAccess::maker(state))) {}

  /// Runs every pending (or cancelled) task of `graph` whose ancestors have not failed. The
  /// calling thread runs tasks as worker 0 in the place of the pool's thread 0, so no more
  /// than max_workers() tasks run at once; called from a task of another pool it only waits.
  /// `options.ncores` is ignored: the pool's size applies.
  /// Throws: TaskError with `raise_errors`; Error if the graph is already running; the
  /// first exception an observer threw.
  template <class T>
  RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {});

  /// Sets how many workers take tasks, also while a run is going on: growing starts threads
  /// at once, shrinking lets surplus workers finish the task in hand first; each retired
  /// worker then destroys its worker state on its own thread (shortly after this returns).
  void set_max_workers(std::size_t workers) { pool_->set_max_workers(workers); }

  /// How many workers take tasks.
  [[nodiscard]] std::size_t max_workers() const noexcept { return pool_->max_workers(); }

  /// The pool size used for `ncores` 0: the hardware concurrency (2 if unknown).
  static std::size_t default_workers() noexcept { return detail::default_workers(); }

 private:
  std::unique_ptr<detail::WorkerPool> pool_;
};

/// Runs graphs on a reusable pool of worker threads (see BasicThreadPoolExecutor).
using ThreadPoolExecutor = BasicThreadPoolExecutor<>;

static_assert(Executor<ThreadPoolExecutor>);

/// Runs `graph` on a new pool of `options.ncores` workers (0 = the hardware concurrency).
/// Reuse a ThreadPoolExecutor instead when running many graphs.
template <class T>
RunSummary run_parallel(TaskGraph<T>& graph, const RunOptions& options = {}) {
  ThreadPoolExecutor pool(options.ncores);
  return pool.run(graph, options);
}

// ---------------------------------------------------------------------------------------
// Implementation

template <class U>
template <class T>
RunSummary BasicThreadPoolExecutor<U>::run(TaskGraph<T>& graph, const RunOptions& options) {
  return detail::run_on_pool(*pool_, nullptr, graph, options);
}

}  // namespace taskmap
