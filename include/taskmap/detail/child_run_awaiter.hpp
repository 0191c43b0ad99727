#pragma once
// What `co_await ctx.run_async(child)` awaits (ChildRunAwaiter). Where the awaiting coroutine
// runs decides how the child runs:
// - on an event loop (CoroutineExecutor, or the private loop the sequential executor drives
//   a coroutine task with), a LoopChildRun runs the child's tasks from a pump coroutine posted
//   to that loop, which parks while the child's coroutines wait;
// - on CoroutinePoolExecutor (the scheduler is the pool's run), a PoolChildRun is attached to
//   the run as a nested job whose tasks any worker takes, coroutine tasks suspending as the
//   parent's do;
// - elsewhere (coroutine tasks driven to completion on a pool worker) the child runs as
//   Context::run runs it, before the awaiter is ready.
// The awaiting coroutine is never resumed on the stack that ends the child: it is posted to
// its scheduler, so nested awaits of any depth use constant stack.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "taskmap/detail/event_loop.hpp"
#include "taskmap/detail/nested_jobs.hpp"
#include "taskmap/detail/scheduler.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/detail/worker_pool.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/task.hpp"

namespace taskmap::detail {

/// A coroutine started and forgotten: it frees itself when it returns.
struct ChildPump {
  struct promise_type {
    ChildPump get_return_object() noexcept {
      return ChildPump{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }  // only allocation can throw
  };
  std::coroutine_handle<promise_type> handle;
};

/// A child graph's run on the event loop of the task that awaits it (one thread).
template <class U>
class LoopChildRun {
 public:
  LoopChildRun(TaskGraph<U>& child, const RunOptions& options)
      : run_(child, options), ready_(run_.first_ready_queue()) {}

  [[nodiscard]] bool finished() const noexcept { return run_.finished(); }

  /// Posts the pump to `loop`; `parent` is posted there once the child has ended.
  void start(Scheduler& loop, std::coroutine_handle<> parent) {
    loop_ = &loop;
    parent_ = parent;
    loop.schedule(pump(*this).handle);
  }

  RunSummary finish() { return run_.finish(); }

 private:
  struct Park {
    LoopChildRun& self;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> pump) const noexcept { self.parked_ = pump; }
    void await_resume() const noexcept {}
  };

  // Runs what is ready, then parks until a child coroutine ends; once the child has ended it
  // posts the parent and returns (its frame is gone before the parent resumes).
  static ChildPump pump(LoopChildRun& self) {
    for (;;) {
      self.step();
      if (self.run_.finished()) break;
      co_await Park{self};
    }
    self.loop_->schedule(self.parent_);
  }

  // CoroutineExecutor's loop body, for the child.
  void step() {
    for (TaskId task = ready_.pop(); task != no_task; task = ready_.pop()) {
      if (!run_.start(task, 0)) continue;
      if (!run_.is_coroutine(task)) {
        run_.end(task, 0, run_.invoke(task, 0), ready_);
        continue;
      }
      std::coroutine_handle<> handle;
      try {
        handle = run_.start_coroutine(task, 0, CoroutineDone{&LoopChildRun::done, this, task});
      } catch (...) {  // no memory for its frame
        run_.end(task, 0, std::current_exception(), ready_);
        continue;
      }
      handle.resume();  // at once: its first step reads the values it is fed
    }
  }

  static void done(void* self, std::uint32_t task, std::exception_ptr& error) noexcept {
    auto& child = *static_cast<LoopChildRun*>(self);
    child.run_.end(task, 0, std::move(error), child.ready_);
    // Ended while the pump was parked (resumed by the loop): the pump goes on from the loop.
    if (child.parked_) child.loop_->schedule(std::exchange(child.parked_, {}));
  }

  ExecutorRun<U, Threads::one> run_;
  ReadyQueue ready_;
  Scheduler* loop_ = nullptr;
  std::coroutine_handle<> parent_;
  std::coroutine_handle<> parked_;  // the pump, while it waits for a child coroutine
};

/// A child graph's run on CoroutinePoolExecutor, attached to the parent's run as a nested
/// job: any worker runs its tasks, its coroutine tasks suspend as the parent's do, and
/// whoever sees it end posts the parent to the run's inbox. `users` (NestedJob) also counts
/// the workers ending a child coroutine outside run_one, so finish() can wait for all.
template <class U>
class PoolChildRun final : public StackedJob<PoolChildRun<U>> {
 public:
  PoolChildRun(TaskGraph<U>& child, const RunOptions& options, WorkerPool& pool, NestHost& host,
               Scheduler& scheduler)
      : run_(child, options, pool.max_workers(), WorkerPool::kMaxWorkers),
        pool_(pool),
        host_(host),
        scheduler_(scheduler) {
    this->ready_.push(run_.first_ready());
  }

  /// Makes the child's tasks visible to the pool; `parent` is posted once the child ends.
  /// The job may be finished and gone when this returns.
  void start(std::coroutine_handle<> parent) {
    parent_ = parent;
    // Set before attaching: once attached, the parent may resume on another worker.
    attached_ = true;
    WorkerPool& pool = pool_;
    try {
      host_.attach(*this);
    } catch (...) {
      attached_ = false;
      throw;
    }
    pool.notify_work();
  }

  /// Detaches the job (waiting for the workers still inside it) and ends the child's run.
  /// Throws: as ExecutorRun::finish.
  RunSummary finish() {
    if (attached_) host_.detach(*this);
    return run_.finish();
  }

  [[nodiscard]] bool finished() const noexcept override { return run_.finished(); }

  // Runs `task`; returns a task its end made ready, to run next here, or no_task.
  TaskId execute(std::size_t worker, TaskId task) {
    if (!run_.start(task, worker)) {
      post_parent_if_finished();
      return no_task;
    }
    if (run_.is_coroutine(task)) {
      std::coroutine_handle<> handle;
      try {
        handle = run_.start_coroutine(task, worker, CoroutineDone{&PoolChildRun::done, this, task});
      } catch (...) {  // no memory for its frame
        return take_ready(run_.end(task, worker, std::current_exception()));
      }
      SchedulerScope scope(&scheduler_);
      handle.resume();  // its end, now or later, goes through done()
      return no_task;
    }
    return take_ready(run_.end(task, worker, run_.invoke(task, worker)));
  }

 private:
  void push(std::span<const TaskId> tasks) {
    this->ready_.push(tasks);
    pool_.notify_work();
  }

  // Queues all but the first of `ready` for any worker and returns the first; with none,
  // posts the parent if the child has ended.
  TaskId take_ready(std::span<const TaskId> ready) {
    if (ready.empty()) {
      post_parent_if_finished();
      return no_task;
    }
    if (ready.size() > 1) push(ready.subspan(1));
    return ready[0];
  }

  static void done(void* self, std::uint32_t task, std::exception_ptr& error) noexcept {
    auto& job = *static_cast<PoolChildRun*>(self);
    // Counted from before the task ends: finish() cannot destroy the job under this call.
    job.users.fetch_add(1, std::memory_order_seq_cst);
    try {
      const std::span<const TaskId> ready = job.run_.end(task, current_worker.id, std::move(error));
      if (ready.empty()) {
        job.post_parent_if_finished();
      } else {
        job.push(ready);
      }
    } catch (...) {
      std::terminate();  // only allocation can fail here
    }
    job.users.fetch_sub(1, std::memory_order_release);
  }

  // Several workers may see the child end; the first posts the parent. The poster is inside
  // the job (counted in users), so finish() waits for it to leave.
  void post_parent_if_finished() {
    if (run_.finished() && !posted_.exchange(true, std::memory_order_acq_rel)) {
      scheduler_.schedule_remote(parent_);
    }
  }

  ExecutorRun<U> run_;
  WorkerPool& pool_;
  NestHost& host_;
  Scheduler& scheduler_;
  std::coroutine_handle<> parent_;
  bool attached_ = false;
  std::atomic<bool> posted_{false};
};

/// What `co_await ctx.run_async(child)` awaits; see the top of this file.
template <class U>
class [[nodiscard]] ChildRunAwaiter : public SchedulerAware {
 public:
  ChildRunAwaiter(TaskGraph<U>& child, RunOptions options)
      : child_(child), options_(std::move(options)) {}
  // g++ 12 moves the awaitable await_transform hands back; that is before await_ready.
  ChildRunAwaiter(ChildRunAwaiter&&) noexcept = default;
  ChildRunAwaiter(const ChildRunAwaiter&) = delete;
  ChildRunAwaiter& operator=(const ChildRunAwaiter&) = delete;
  ChildRunAwaiter& operator=(ChildRunAwaiter&&) = delete;

  /// Opens the child's run where the awaiting coroutine runs; true when it already ended
  /// (nothing to run, or run at once as Context::run runs it).
  bool await_ready() {
    Scheduler* scheduler = current_scheduler;
    const WorkerIdentity worker = current_worker;
    if (scheduler != nullptr && worker.pool != nullptr) {
      if (auto* host = dynamic_cast<NestHost*>(scheduler)) {
        // current_worker.pool is only ever set to a WorkerPool.
        auto& pool = *static_cast<WorkerPool*>(const_cast<void*>(worker.pool));
        pool_ = std::make_unique<PoolChildRun<U>>(child_, options_, pool, *host, *scheduler);
        return pool_->finished();
      }
    } else if (scheduler != nullptr && dynamic_cast<EventLoop*>(scheduler) != nullptr) {
      loop_ = std::make_unique<LoopChildRun<U>>(child_, options_);
      scheduler_ = scheduler;
      return loop_->finished();
    }
    summary_ = run_child(child_, options_);
    ran_ = true;
    return true;
  }

  void await_suspend(std::coroutine_handle<> self) {
    if (pool_) {
      pool_->start(self);
    } else {
      loop_->start(*scheduler_, self);
    }
  }

  /// The child's summary.
  /// Throws: TaskError naming the child's first failed task.
  RunSummary await_resume() {
    if (ran_) return summary_;
    // Destroyed on the way out, so the child graph is no longer running after the await.
    if (pool_) {
      const std::unique_ptr<PoolChildRun<U>> job = std::move(pool_);
      return job->finish();
    }
    const std::unique_ptr<LoopChildRun<U>> run = std::move(loop_);
    return run->finish();
  }

 private:
  TaskGraph<U>& child_;
  RunOptions options_;  // the child's run refers to it
  std::unique_ptr<LoopChildRun<U>> loop_;
  Scheduler* scheduler_ = nullptr;
  std::unique_ptr<PoolChildRun<U>> pool_;
  RunSummary summary_;
  bool ran_ = false;
};

}  // namespace taskmap::detail
