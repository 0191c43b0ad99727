#pragma once
// BatchExecutor: an executor written with taskmap's public executor API only (executor.hpp).
// It runs a graph in batches on the user's own threads: take up to N ready tasks in start
// order, run each on a std::thread of its own, wait for the batch, record how each ended,
// repeat. Every rule of a run (groups, failures, fail_fast, stop requests, observers,
// raise_errors) comes from taskmap::ExecutorRun. The conformance suite runs it too.

#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

#include <taskmap/taskmap.hpp>

namespace custom {

/// Runs a graph in batches of up to `threads` ready tasks, each task on a thread of its own;
/// a batch ends before the next one starts.
/// Thread safety: one object may run several graphs concurrently from different threads.
class BatchExecutor {
 public:
  /// Batches of up to `threads` tasks (0 counts as 1).
  explicit BatchExecutor(std::size_t threads = 4) : threads_(threads != 0 ? threads : 1) {}

  /// Runs every pending (or cancelled) task of `graph` whose ancestors have not failed.
  /// Throws: what ExecutorRun and its finish() throw (TaskError with raise_errors, Error if
  /// the graph is already running, an observer's exception); std::system_error when a
  /// thread cannot be started.
  template <class T>
  taskmap::RunSummary run(taskmap::TaskGraph<T>& graph,
                          const taskmap::RunOptions& options = {}) const {
    // Worker i runs the i-th task of a batch: the worker id keeps the run's per-worker
    // scratch apart, so at most `threads_` ids are used.
    taskmap::ExecutorRun<T> run(graph, options, threads_);
    taskmap::ReadyQueue ready = run.first_ready_queue();
    std::vector<taskmap::TaskId> batch;
    std::vector<std::exception_ptr> errors;
    std::vector<std::thread> threads;
    while (!ready.empty()) {
      batch.clear();
      while (batch.size() < threads_ && !ready.empty()) {
        const taskmap::TaskId task = ready.pop();
        // False: the run is stopping, or the task's group is full (end() hands it back).
        if (run.start(task, batch.size())) batch.push_back(task);
      }
      errors.assign(batch.size(), nullptr);
      threads.clear();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        threads.emplace_back([&run, &batch, &errors, i] { errors[i] = run.invoke(batch[i], i); });
      }
      for (std::thread& thread : threads) thread.join();
      // Recorded on this thread, in batch order: what became ready joins the queue.
      for (std::size_t i = 0; i < batch.size(); ++i) ready.push(run.end(batch[i], i, errors[i]));
    }
    return run.finish();
  }

 private:
  std::size_t threads_;
};

static_assert(taskmap::Executor<BatchExecutor>);

}  // namespace custom
