#pragma once
// How the thread-pool executors schedule a run (ParallelRun): ready tasks on per-worker
// work-stealing deques, or, when the graph has order hints, on one shared ReadyQueue; with a
// TimerService, waiting coroutine tasks free their worker. The rules of the run are
// ExecutorRun's. run_on_pool is the whole run both pool executors share.

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <span>
#include <utility>

#include "taskmap/detail/nested_jobs.hpp"
#include "taskmap/detail/scheduler.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/detail/timer_service.hpp"
#include "taskmap/detail/work_stealing_deque.hpp"
#include "taskmap/detail/worker_pool.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/executors/sequential.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap::detail {

/// The scheduling of one run on a WorkerPool. With a TimerService, coroutine tasks suspend:
/// a waiting coroutine frees its worker and is resumed later by any worker (the run is then
/// the coroutines' Scheduler). Without one, coroutine tasks are driven to completion on the
/// worker that starts them.
template <class T>
class ParallelRun final : public PoolJob, public NestHost, public Scheduler {
 public:
  ParallelRun(ExecutorRun<T>& run, WorkerPool& pool, TimerService* timers)
      : run_(run),
        pool_(pool),
        timers_(timers),
        ordered_queue_(run),
        ordered_(ordered_queue_.by_hints()) {}

  bool seed(std::size_t workers) override {
    for (std::size_t i = 0; i < pool_.spawned(); ++i) pool_.deque(i).clear();
    const std::span<const TaskId> first = run_.first_ready();
    if (first.size() == 1) {
      // Worker 0 (the helping caller) takes it without a queue: no other worker, even one
      // still looking for work, can take it away and make the caller wait for it.
      kept_for_first_ = first[0];
      return false;
    }
    if (ordered_) {
      push_ordered(first);
      return first.size() > 1;
    }
    // Round-robin, so every worker starts with a share (a single task goes to worker 0: the
    // helping caller). Owners pop their newest first, so push in reverse to start in id order.
    workers = std::max<std::size_t>(1, workers);
    for (std::size_t i = first.size(); i-- > 0;) pool_.deque(i % workers).push(first[i]);
    return first.size() > 1;
  }

  bool run_one(std::size_t worker) override {
    // Child graphs started by this run's tasks first: their tasks are waited for.
    if (maybe_nested() && run_nested(worker)) return true;
    // Suspended coroutines that can go on come first: they hold places and memory.
    if (timers_ != nullptr && inbox_size_.load(std::memory_order_seq_cst) != 0) {
      std::coroutine_handle<> handle;
      {
        std::lock_guard lock(inbox_mutex_);
        if (!inbox_.empty()) {
          handle = inbox_.front();
          inbox_.pop_front();
          inbox_size_.store(inbox_.size(), std::memory_order_seq_cst);
        }
      }
      if (handle) {
        SchedulerScope scope(this);
        handle.resume();
        return true;
      }
    }
    TaskId task = take(worker);
    if (task == no_task) return false;
    while (task != no_task) {
      if (worker >= pool_.max_workers()) {
        // This worker was retired mid-run: hand its next task to the others.
        queue(worker, task);
        pool_.notify_work();
        break;
      }
      task = execute(worker, task);
    }
    return true;
  }

  [[nodiscard]] bool has_work() const noexcept override {
    if (inbox_size_.load(std::memory_order_seq_cst) != 0) return true;
    if (nested_has_work()) return true;
    if (ordered_) return ordered_size_.load(std::memory_order_seq_cst) != 0;
    for (std::size_t i = 0; i < pool_.spawned(); ++i) {
      if (!pool_.deque(i).looks_empty()) return true;
    }
    return false;
  }

  [[nodiscard]] bool finished() const noexcept override { return run_.finished(); }

  // Scheduler: resumptions go to the inbox that every worker checks first.
  void schedule(std::coroutine_handle<> handle) override { schedule_remote(handle); }
  void schedule_remote(std::coroutine_handle<> handle) override {
    // Everything under the lock: the run cannot end before a worker has taken `handle` from
    // the inbox, which needs this lock; once it is released, the run and even the executor
    // may be gone, so a foreign thread must touch nothing after that.
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(handle);
    inbox_size_.store(inbox_.size(), std::memory_order_seq_cst);
    pool_.notify_work();
  }
  void schedule_at(time_point deadline, std::coroutine_handle<> handle) override {
    timers_->schedule_at(deadline, handle, *this);
  }

 private:
  // --- ready queues -----------------------------------------------------------------

  // Takes a ready task for `worker`. A worker that takes a task from a shared place (the
  // ordered queue, or another worker's deque) and leaves tasks behind wakes one more parked
  // worker: one wake-up per batch of ready tasks then brings in as many workers as there are
  // tasks, one after the other, while a worker running its own chain pays nothing.
  TaskId take(std::size_t worker) {
    if (worker == 0 && kept_for_first_ != no_task) return std::exchange(kept_for_first_, no_task);
    if (ordered_) {
      TaskId task = no_task;
      std::size_t left = 0;
      {
        std::lock_guard lock(ordered_mutex_);
        task = ordered_queue_.pop();
        left = ordered_queue_.size();
        ordered_size_.store(left, std::memory_order_seq_cst);
      }
      if (task != no_task && left != 0) pool_.notify_work();
      return task;
    }
    TaskId task = pool_.deque(worker).pop();
    if (task != no_task) return task;
    const std::size_t count = pool_.spawned();
    if (count < 2) return no_task;
    WorkerScratch& state = pool_.scratch(worker);
    // Start at a random victim so thieves spread out.
    state.rng ^= state.rng << 13;
    state.rng ^= state.rng >> 7;
    state.rng ^= state.rng << 17;
    if (state.rng == 0) state.rng = 0x9E3779B97F4A7C15ull + worker;
    const std::size_t start = static_cast<std::size_t>(state.rng % count);
    for (std::size_t round = 0; round < 2; ++round) {
      for (std::size_t k = 0; k < count; ++k) {
        const std::size_t victim = (start + k) % count;
        if (victim == worker) continue;
        task = pool_.deque(victim).steal();
        if (task != no_task) {
          if (!pool_.deque(victim).looks_empty()) pool_.notify_work();
          return task;
        }
      }
    }
    return no_task;
  }

  void queue(std::size_t worker, TaskId task) {
    if (ordered_) {
      push_ordered(std::span<const TaskId>(&task, 1));
    } else {
      pool_.deque(worker).push(task);
    }
  }

  // A batch enters the shared queue under one lock.
  void push_ordered(std::span<const TaskId> tasks) {
    std::lock_guard lock(ordered_mutex_);
    ordered_queue_.push(tasks);
    ordered_size_.store(ordered_queue_.size(), std::memory_order_seq_cst);
  }

  // --- running one task ---------------------------------------------------------------

  // Runs `task` on `worker`; returns a ready task to run next on this worker, or no_task.
  TaskId execute(std::size_t worker, TaskId task) {
    if (!run_.start(task, worker)) {
      if (run_.finished()) pool_.notify_done();
      return no_task;
    }
    if (timers_ != nullptr && run_.is_coroutine(task)) {
      // Start the coroutine here; when it waits, this worker moves on, and whichever worker
      // resumes it last ends the task (still in flight until then).
      std::coroutine_handle<> handle;
      try {
        handle = run_.start_coroutine(task, worker,
                                      CoroutineDone{&ParallelRun::coroutine_done, this, task});
      } catch (...) {  // no memory for its frame
        return queue_ready(worker, run_.end(task, worker, std::current_exception()));
      }
      // The task this worker is starting, and the task that task's end handed it if it ended
      // before its first resume returned (no suspension): run next, like a plain task's first
      // ready dependent, without a queue round trip or a wake-up.
      WorkerScratch& state = pool_.scratch(worker);
      SchedulerScope scope(this);
      state.starting = task;
      handle.resume();
      state.starting = no_task;
      return std::exchange(state.handoff, no_task);
    }
    return queue_ready(worker, run_.end(task, worker, run_.invoke(task, worker)));
  }

  // Queues the tasks a task's end made ready; returns one of them to run next on this worker,
  // or no_task. Tells the pool when the run is over.
  TaskId queue_ready(std::size_t worker, std::span<const TaskId> ready) {
    if (ready.empty()) {
      if (run_.finished()) pool_.notify_done();
      return no_task;
    }
    if (ordered_) {
      push_ordered(ready);
      pool_.notify_work();
      return no_task;
    }
    // Keep the first for this worker (no deque round trip); offer the rest to thieves.
    for (std::size_t i = 1; i < ready.size(); ++i) pool_.deque(worker).push(ready[i]);
    if (ready.size() > 1) pool_.notify_work();
    return ready[0];
  }

  static void coroutine_done(void* self, TaskId task, std::exception_ptr& error) noexcept {
    static_cast<ParallelRun*>(self)->end_coroutine(task, error);
  }

  // A coroutine task ended, on the worker that resumed it last.
  void end_coroutine(TaskId task, std::exception_ptr& error) noexcept {
    const std::size_t worker = current_worker.id;
    try {
      const TaskId next = queue_ready(worker, run_.end(task, worker, std::move(error)));
      if (next == no_task) return;
      WorkerScratch& state = pool_.scratch(worker);
      if (state.starting == task) {
        state.handoff = next;  // execute() on this worker returns it
      } else {
        queue(worker, next);
        pool_.notify_work();
      }
    } catch (...) {
      std::terminate();  // only allocation can fail here
    }
  }

  ExecutorRun<T>& run_;
  WorkerPool& pool_;
  TimerService* timers_;
  // With order hints, one shared queue keeps the ready order; without, arrival order is all
  // there is, and per-worker deques keep it cheaper.
  ReadyQueue ordered_queue_;
  const bool ordered_;
  std::mutex ordered_mutex_;
  std::atomic<std::size_t> ordered_size_{0};
  TaskId kept_for_first_ = no_task;  // the only first ready task; seed() and worker 0 only
  std::mutex inbox_mutex_;
  std::deque<std::coroutine_handle<>> inbox_;
  std::atomic<std::size_t> inbox_size_{0};
};

/// A whole run on a pool: open it, hand it to the workers, end it. Without `timers`, a
/// caller outside every pool runs tasks itself as worker 0 (WorkerPool::execute); with
/// them, coroutine tasks suspend instead of blocking their worker, and the caller waits.
template <class T>
RunSummary run_on_pool(WorkerPool& pool, TimerService* timers, TaskGraph<T>& graph,
                       const RunOptions& options) {
  if (pool.on_worker_thread()) {
    // A task of this pool runs a graph on it through the executor: waiting for the pool from
    // one of its own workers could deadlock, so the nested graph runs inline on this worker,
    // with its worker state (Context::run runs it in parallel instead: detail::run_child).
    return run_sequential(graph, options);
  }
  ExecutorRun<T> run(graph, options, pool.max_workers(), WorkerPool::kMaxWorkers);
  ParallelRun<T> job(run, pool, timers);
  // The caller helps only without timers: CoroutinePoolExecutor's suspended tasks continue
  // on its workers (docs/coroutines.md), never on the caller.
  if (!run.finished()) pool.execute(job, timers == nullptr);
  return run.finish();
}

}  // namespace taskmap::detail
