#pragma once
/// @file executor.hpp
/// Writing an executor: the Executor concept, ExecutorRun (one run of a graph with every rule
/// of a run built in) and ReadyQueue (ready tasks in start order). The built-in executors are
/// written with exactly these; docs/writing-an-executor.md walks through an example.

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <string>

#include "taskmap/detail/inlining.hpp"
#include "taskmap/detail/ready_order.hpp"
#include "taskmap/detail/run_core.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/run_summary.hpp"
#include "taskmap/task.hpp"

namespace taskmap {

/// An executor runs a TaskGraph<T> in place for any T and returns what the run did:
/// `RunSummary summary = executor.run(graph, options);`.
template <class E>
concept Executor = requires(E& executor, TaskGraph<int>& graph, const RunOptions& options) {
  { executor.run(graph, options) } -> std::same_as<RunSummary>;
};

class ReadyQueue;

/// One run of one graph, for executors: it owns every rule of a run (which tasks are ready,
/// concurrency groups, failures and the dependents they skip, fail_fast, stop requests,
/// observers and their exceptions, done tasks and seeded results, raise_errors), so an
/// executor decides only where and when tasks run. A task is *in flight* from the moment it
/// is ready until it ends or start() turns it away; the run can end once none is.
/// Thread safety: with Threads::many, start, invoke, start_coroutine and end may be called
/// concurrently, each caller with its own worker id; the constructor and finish() run on the
/// thread that called the executor. With Threads::one every call comes from one thread.
template <class T, Threads kThreads = Threads::many>
class ExecutorRun {
 public:
  /// Opens a run: marks the graph running, tells the observers, makes cancelled tasks
  /// pending again, skips tasks below earlier failures and finds the ready tasks.
  /// `workers` is reported to observers; worker ids passed to the other members must be
  /// below `worker_ids` (default: `workers`). The run keeps a reference to `options`.
  /// Throws: Error if the graph is already running; what an observer's on_run_start threw.
  explicit ExecutorRun(TaskGraph<T>& graph, const RunOptions& options, std::size_t workers = 1,
                       std::size_t worker_ids = 0)
      : core_(detail::GraphAccess::state(graph), options, workers,
              worker_ids != 0 ? worker_ids : workers) {}

  /// Options that would be gone before the run ends (`ExecutorRun run(graph, {})`) do not
  /// compile: pass the executor's own `options`.
  ExecutorRun(TaskGraph<T>& graph, RunOptions&& options, std::size_t workers = 1,
              std::size_t worker_ids = 0) = delete;

  /// The tasks ready when the run opened, by id (their start order is ReadyQueue's).
  [[nodiscard]] std::span<const TaskId> first_ready() const noexcept { return core_.first_ready(); }

  /// A ReadyQueue holding first_ready(), in start order, which is then empty: the queue
  /// reuses the run's buffer instead of copying the tasks into one of its own.
  [[nodiscard]] ReadyQueue first_ready_queue();

  /// Begins `task` on `worker`. True when it may run now: it is marked running and the
  /// observers were told. False when it must not: the run is stopping (fail_fast, a stop
  /// request, an observer's exception) and the task stays pending, or its concurrency group
  /// is full and the task is parked until a member ends (a later end() hands it back).
  TASKMAP_DETAIL_ALWAYS_INLINE bool start(TaskId task, std::size_t worker) {
    return core_.start(task, worker);
  }

  /// True when the started task is a coroutine (returns taskmap::Task).
  [[nodiscard]] bool is_coroutine(TaskId task) const noexcept { return core_.is_coroutine(task); }

  /// True when start() took the started task's value from the run's store instead (its
  /// record is valid; observers saw `up_to_date`): it must not run, only end. An executor
  /// that calls invoke() need not ask (invoke() does nothing for such a task); one that runs
  /// tasks elsewhere (another process) must.
  [[nodiscard]] bool up_to_date(TaskId task) const noexcept { return core_.up_to_date(task); }

  /// Calls the started task's function with its dependencies' values on this thread (a
  /// coroutine is driven to completion here) and stores its value; returns what it threw,
  /// or null. Pass the result to end(): a task that returned a Continue<T> comes back as
  /// such an exception, and end() runs its continuation before ending it.
  [[nodiscard]] TASKMAP_DETAIL_ALWAYS_INLINE std::exception_ptr invoke(
      TaskId task, std::size_t worker) noexcept {
    return core_.invoke(task, worker);
  }

  /// Starts a started coroutine task without running it (see TaskFn::start_coroutine):
  /// resume the handle at once on this worker. When the task ends, `done` is called with
  /// its exception (null on success); call end() from there.
  /// Throws: std::bad_alloc when its frame cannot be allocated (pass it to end()).
  [[nodiscard]] std::coroutine_handle<> start_coroutine(TaskId task, std::size_t worker,
                                                        const CoroutineDone& done) {
    return core_.start_coroutine(task, worker, done);
  }

  /// Records that a started task ended with `error` (null: it succeeded); on failure skips
  /// every dependent. When `error` is a continuation's (see invoke), runs the continuation on
  /// this thread first, and the task ends as it does. Returns the tasks that became ready (and a
  /// parked group member whose turn came), valid until `worker`'s next call: queue them all.
  /// Throws: std::bad_alloc only.
  TASKMAP_DETAIL_ALWAYS_INLINE std::span<const TaskId> end(TaskId task, std::size_t worker,
                                                           std::exception_ptr error) {
    return core_.end(task, worker, std::move(error));
  }

  /// end() for a run on one thread, queueing the tasks that became ready straight on `ready`
  /// (the same tasks in the same order, without the intermediate span).
  /// Throws: std::bad_alloc only.
  TASKMAP_DETAIL_ALWAYS_INLINE void end(TaskId task, std::size_t worker, std::exception_ptr error,
                                        ReadyQueue& ready) requires(kThreads == Threads::one);

  /// True when no new task should start: fail_fast after a failure, a stop request, or an
  /// observer's exception. start() checks it itself.
  [[nodiscard]] bool stopping() const noexcept { return core_.stopping(); }

  /// True when no task is in flight: call finish(). Once true it stays true.
  [[nodiscard]] bool finished() const noexcept { return core_.finished(); }

  /// Ends the run: unstarted tasks become cancelled after a stop, observers are told, and
  /// the summary is returned. Call once, after finished(), on the thread that opened it.
  /// Throws: the first exception an observer threw; TaskError with raise_errors.
  RunSummary finish() { return core_.finish(); }

  /// The name of task `task`.
  [[nodiscard]] const std::string& name(TaskId task) const noexcept {
    return core_.graph().names[task];
  }

  /// This run's id, as observers see it in RunInfo and TaskEvent.
  [[nodiscard]] std::uint64_t run_id() const noexcept { return core_.run_id(); }

 private:
  friend class ReadyQueue;

  detail::RunCore<T, kThreads> core_;
};

/// Ready tasks in start order: io_bound tasks first, then higher priority, then the order
/// they were pushed in (as every built-in executor starts them).
/// Thread safety: none; an executor that shares one between threads locks it.
class ReadyQueue {
 public:
  /// An empty queue ordered by `run`'s graph, with room for every task once.
  template <class T, Threads K>
  explicit ReadyQueue(const ExecutorRun<T, K>& run)
      : tasks_(run.core_.hints(), run.core_.ordered(), run.core_.graph().size()) {}

  /// Adds one ready task.
  TASKMAP_DETAIL_ALWAYS_INLINE void push(TaskId task) { tasks_.push(task); }
  /// Adds a batch, e.g. what ExecutorRun::end returned.
  TASKMAP_DETAIL_ALWAYS_INLINE void push(std::span<const TaskId> tasks) { tasks_.push(tasks); }
  /// The next task to start, or no_task when the queue is empty.
  [[nodiscard]] TASKMAP_DETAIL_ALWAYS_INLINE TaskId pop() noexcept { return tasks_.pop(); }
  /// True when no task is queued.
  [[nodiscard]] bool empty() const noexcept { return tasks_.empty(); }
  /// How many tasks are queued.
  [[nodiscard]] std::size_t size() const noexcept { return tasks_.size(); }
  /// True when the graph has io_bound or priority hints; otherwise the queue is a FIFO.
  [[nodiscard]] bool by_hints() const noexcept { return tasks_.by_hints(); }

 private:
  template <class T, Threads K>
  friend class ExecutorRun;

  explicit ReadyQueue(detail::ReadyTasks tasks) : tasks_(std::move(tasks)) {}

  detail::ReadyTasks tasks_;
};

template <class T, Threads kThreads>
ReadyQueue ExecutorRun<T, kThreads>::first_ready_queue() {
  const std::size_t count = core_.first_ready().size();
  return ReadyQueue(detail::ReadyTasks(core_.hints(), core_.ordered(), core_.take_first_ready(),
                                       count, core_.graph().size()));
}

template <class T, Threads kThreads>
void ExecutorRun<T, kThreads>::end(TaskId task, std::size_t worker, std::exception_ptr error,
                                   ReadyQueue& ready) requires(kThreads == Threads::one) {
  core_.end(task, worker, std::move(error), ready);
}

}  // namespace taskmap
