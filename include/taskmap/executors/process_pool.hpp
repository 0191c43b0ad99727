#pragma once
/// @file executors/process_pool.hpp
/// ProcessPoolExecutor: each task in a worker process forked from the caller, so a task that
/// crashes fails alone. POSIX only; not included by taskmap.hpp.

#if !defined(__unix__) && !defined(__APPLE__)
#error "taskmap/executors/process_pool.hpp needs POSIX (fork, socketpair, poll)"
#endif

#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>

#include "taskmap/codec.hpp"
#include "taskmap/detail/process_run.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/run_summary.hpp"

namespace taskmap {

/// Runs each task in a worker process, so a task that crashes (a segmentation fault,
/// abort(), exit(), SIGKILL, the out-of-memory killer) fails alone with WorkerCrashed while
/// the others go on and a new worker takes the dead one's place. Workers are forked from the
/// calling thread when a run starts (and when one is replaced), so a task sees its function,
/// its captured state and the values done before as they were then; the values of tasks
/// done since cross as Codec<T> bytes, as do results coming back. An exception thrown in a
/// worker comes back as RemoteTaskError (type name and what()). Scheduling, failures, skips,
/// groups, fail_fast, stop requests and observers behave as on ThreadPoolExecutor and run in
/// the calling process; workers live for one run and are all gone when run() returns.
/// Thread safety: run() may be called from several threads at once, each run with its own
/// workers; set_max_workers and set_time_limit may be called at any time.
class ProcessPoolExecutor {
 public:
  /// A pool of up to `workers` processes (0 = the hardware concurrency, at most 256), with
  /// no time limit.
  explicit ProcessPoolExecutor(std::size_t workers = 0)
      : settings_(std::make_unique<detail::ProcessPoolSettings>()) {
    set_max_workers(workers != 0 ? workers : default_workers());
  }

  /// Runs every pending (or cancelled) task of `graph` whose ancestors have not failed, each
  /// in a worker process. The graph's value type needs a Codec (docs/codecs.md): a graph
  /// without one does not compile. `options.ncores` is ignored. With a store, records are
  /// read and written in the calling process; a task whose record is valid is not sent.
  /// Throws: TaskError with `raise_errors`; Error if the graph is already running or the
  /// workers cannot be polled; the first exception an observer threw or the store's error.
  template <class T>
  RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {});

  /// Sets how many worker processes run tasks at once (clamped to 1..256), also during a
  /// run: growing forks workers as tasks become ready, shrinking stops idle ones.
  void set_max_workers(std::size_t workers) noexcept {
    settings_->max_workers.store(
        std::clamp<std::size_t>(workers, 1, detail::ProcessPoolSettings::kMaxWorkers),
        std::memory_order_relaxed);
  }

  /// How many worker processes run tasks at once.
  [[nodiscard]] std::size_t max_workers() const noexcept {
    return settings_->max_workers.load(std::memory_order_relaxed);
  }

  /// Gives every task started from now on `limit` to run (zero: no limit); a task past it
  /// has its worker killed and fails with TaskTimeout.
  void set_time_limit(std::chrono::milliseconds limit) noexcept {
    settings_->time_limit_ms.store(std::max<std::int64_t>(limit.count(), 0),
                                   std::memory_order_relaxed);
  }

  /// The time limit of each task; zero when there is none.
  [[nodiscard]] std::chrono::milliseconds time_limit() const noexcept {
    return std::chrono::milliseconds(settings_->time_limit_ms.load(std::memory_order_relaxed));
  }

  /// The pool size used for `workers` 0: the hardware concurrency (2 if unknown).
  static std::size_t default_workers() noexcept {
    const unsigned cores = std::thread::hardware_concurrency();
    return cores != 0 ? cores : 2;
  }

 private:
  std::unique_ptr<detail::ProcessPoolSettings> settings_;
};

static_assert(Executor<ProcessPoolExecutor>);

// ---------------------------------------------------------------------------------------
// Implementation

template <class T>
RunSummary ProcessPoolExecutor::run(TaskGraph<T>& graph, const RunOptions& options) {
  static_assert(Encodable<T>,
                "taskmap: ProcessPoolExecutor moves values between processes as bytes, so the "
                "graph's value type needs a taskmap::Codec<T> (docs/codecs.md): use a built-in "
                "type (numbers, std::string, the standard containers) or specialise Codec");
  if constexpr (Encodable<T>) {
    detail::ProcessRun<T> run(graph, options, *settings_);
    return run.go();
  } else {
    return {};
  }
}

}  // namespace taskmap
