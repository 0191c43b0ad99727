#pragma once
// Child graphs run from a task on a WorkerPool (Context::run, Context::map): the pool runs one
// job at a time, so a child graph is not a job of its own but a NestedJob attached to the
// pool's current job (a NestHost). Every worker looking for work in that job tries the
// attached jobs first, so the child's tasks run in parallel on the pool; the worker whose
// task started the child helps run it until it ends (no deadlock with one worker). A job with
// nothing attached pays one relaxed load per look.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "taskmap/detail/task_id.hpp"
#include "taskmap/detail/worker_pool.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap::detail {

/// A child graph's run as pool work: found by workers through the NestHost it is attached
/// to. `users` counts the workers inside run_one, so the owner can wait for them to leave
/// before the job is destroyed.
class NestedJob : public PoolJob {
 public:
  std::atomic<std::size_t> users{0};
};

/// A pool job that child graphs attach to (ParallelRun).
/// Thread safety: attach, detach and run_nested may be called from any worker.
class NestHost {
 public:
  /// Makes `job` visible to every worker looking for work in this job.
  void attach(NestedJob& job) {
    std::lock_guard lock(nested_mutex_);
    nested_.push_back(&job);
    nested_count_.store(nested_.size(), std::memory_order_seq_cst);
  }

  /// Hides `job` and waits until no worker is inside it: it may then be destroyed.
  void detach(NestedJob& job) noexcept {
    {
      std::lock_guard lock(nested_mutex_);
      nested_.erase(std::find(nested_.begin(), nested_.end(), &job));
      nested_count_.store(nested_.size(), std::memory_order_seq_cst);
    }
    while (job.users.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  }

  /// Runs one task of a job attached after `waited` (all of them when null) on `worker`;
  /// false when none had a ready task. The newest job first: it is the deepest, whose end
  /// lets the others go on. A worker waiting for `waited` helps only newer jobs, so the
  /// waits stacked on one thread go to ever newer jobs and cannot come back to an older one.
  bool run_nested(std::size_t worker, const NestedJob* waited = nullptr) {
    NestedJob* chosen = nullptr;
    {
      std::lock_guard lock(nested_mutex_);
      for (std::size_t i = nested_.size(); i-- > 0;) {
        if (nested_[i] == waited) break;
        if (nested_[i]->has_work()) {
          chosen = nested_[i];
          chosen->users.fetch_add(1, std::memory_order_relaxed);
          break;
        }
      }
    }
    if (chosen == nullptr) return false;
    const bool ran = chosen->run_one(worker);
    chosen->users.fetch_sub(1, std::memory_order_release);
    return ran;
  }

  /// True when some job may be attached: the hot path's check, a relaxed load, as a worker
  /// that misses a job just attached sees it at its next look (attach is followed by a
  /// wake-up, and a worker about to park asks nested_has_work).
  [[nodiscard]] bool maybe_nested() const noexcept {
    return nested_count_.load(std::memory_order_relaxed) != 0;
  }
  /// True when an attached job has a ready task (asked before a worker parks).
  [[nodiscard]] bool nested_has_work() const noexcept {
    if (nested_count_.load(std::memory_order_seq_cst) == 0) return false;
    std::lock_guard lock(nested_mutex_);
    return std::any_of(nested_.begin(), nested_.end(),
                       [](const NestedJob* job) { return job->has_work(); });
  }

 private:
  std::atomic<std::size_t> nested_count_{0};
  mutable std::mutex nested_mutex_;
  std::vector<NestedJob*> nested_;
};

/// The ready tasks of a child graph's run on a pool: one locked stack (a child is usually
/// small, and its tasks come from every worker), popped newest first.
/// Thread safety: every member may be called from any thread.
class LockedReadyStack {
 public:
  /// The newest task, or no_task when none is ready.
  TaskId pop() {
    if (size_.load(std::memory_order_relaxed) == 0) return no_task;
    std::lock_guard lock(mutex_);
    if (tasks_.empty()) return no_task;
    const TaskId task = tasks_.back();
    tasks_.pop_back();
    size_.store(tasks_.size(), std::memory_order_seq_cst);
    return task;
  }

  /// Adds `tasks`, to be popped in their order (pushed in reverse).
  void push(std::span<const TaskId> tasks) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = tasks.size(); i-- > 0;) tasks_.push_back(tasks[i]);
    size_.store(tasks_.size(), std::memory_order_seq_cst);
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_.load(std::memory_order_seq_cst); }

 private:
  std::mutex mutex_;
  std::vector<TaskId> tasks_;
  std::atomic<std::size_t> size_{0};
};

/// A nested job whose ready tasks wait on a LockedReadyStack. `Job::execute(worker, task)`
/// runs one task and returns one its end made ready, to run next on this worker, or no_task.
template <class Job>
class StackedJob : public NestedJob {
 public:
  /// True when more than one task is ready; call before the job is attached.
  bool seed(std::size_t) override { return ready_.size() > 1; }

  bool run_one(std::size_t worker) override {
    TaskId task = ready_.pop();
    if (task == no_task) return false;
    while (task != no_task) task = static_cast<Job*>(this)->execute(worker, task);
    return true;
  }

  [[nodiscard]] bool has_work() const noexcept override { return ready_.size() != 0; }

 protected:
  LockedReadyStack ready_;
};

/// One child graph's run on a pool (Context::run).
template <class T>
class NestedRun final : public StackedJob<NestedRun<T>> {
 public:
  NestedRun(ExecutorRun<T>& run, WorkerPool& pool) : run_(run), pool_(pool) {
    this->ready_.push(run.first_ready());
  }

  [[nodiscard]] bool finished() const noexcept override { return run_.finished(); }

  // Runs `task`; returns one of the tasks its end made ready to run next here, or no_task.
  TaskId execute(std::size_t worker, TaskId task) {
    if (!run_.start(task, worker)) return no_task;
    const std::span<const TaskId> ready = run_.end(task, worker, run_.invoke(task, worker));
    if (ready.empty()) return no_task;
    if (ready.size() > 1) {
      this->ready_.push(ready.subspan(1));
      pool_.notify_work();
    }
    return ready[0];
  }

 private:
  ExecutorRun<T>& run_;
  WorkerPool& pool_;
};

/// Where the calling thread may run a nested job: the pool whose worker it is and that pool's
/// current job, when the job takes nested jobs (`host` null otherwise).
struct NestSite {
  WorkerPool* pool = nullptr;
  NestHost* host = nullptr;
  std::size_t worker = 0;
};

/// The calling thread's NestSite.
inline NestSite current_nest_site() {
  const WorkerIdentity self = current_worker;
  if (self.pool == nullptr) return {};
  // current_worker.pool is only ever set to a WorkerPool.
  auto& pool = *static_cast<WorkerPool*>(const_cast<void*>(self.pool));
  return {&pool, dynamic_cast<NestHost*>(pool.current_job()), self.id};
}

/// Attaches `job` to `site`'s host (waking workers when `wide`) and runs it on the calling
/// worker until it has finished, helping, while none of its work is left for this worker,
/// the nested jobs started after it (those its own tasks started among them). When this
/// returns, the job is detached and no worker is inside it.
inline void run_attached(const NestSite& site, NestedJob& job, bool wide) {
  site.host->attach(job);
  struct Detach {
    NestHost& host;
    NestedJob& job;
    ~Detach() { host.detach(job); }
  } detach{*site.host, job};
  if (wide) site.pool->notify_work();
  while (!job.finished()) {
    if (!job.run_one(site.worker) && !site.host->run_nested(site.worker, &job)) {
      std::this_thread::yield();
    }
  }
}

/// Runs `child` from a task running on the calling thread: in parallel on the pool whose
/// worker the thread is, if that pool's job takes child graphs, else inline on this thread.
/// The run's state lives on the heap: a recursion keeps one such call per level on the stack.
template <class T>
RunSummary run_child(TaskGraph<T>& child, const RunOptions& options) {
  if (const NestSite site = current_nest_site(); site.host != nullptr) {
    auto run = std::make_unique<ExecutorRun<T>>(child, options, site.pool->max_workers(),
                                                WorkerPool::kMaxWorkers);
    auto job = std::make_unique<NestedRun<T>>(*run, *site.pool);
    // seed() is asked before attach: from then on workers pop from the job.
    if (!run->finished()) run_attached(site, *job, job->seed(0));
    return run->finish();
  }
  // SequentialExecutor's loop, with the run on the heap.
  auto run = std::make_unique<ExecutorRun<T, Threads::one>>(child, options);
  ReadyQueue ready = run->first_ready_queue();
  for (TaskId task = ready.pop(); task != no_task; task = ready.pop()) {
    if (!run->start(task, 0)) continue;
    run->end(task, 0, run->invoke(task, 0), ready);
  }
  return run->finish();
}

}  // namespace taskmap::detail
