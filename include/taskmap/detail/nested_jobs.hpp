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

/// One child graph's run on a pool, its ready tasks on one locked stack (a child is usually
/// small, and its tasks come from every worker).
template <class T>
class NestedRun final : public NestedJob {
 public:
  NestedRun(ExecutorRun<T>& run, WorkerPool& pool) : run_(run), pool_(pool) {
    const std::span<const TaskId> first = run_.first_ready();
    // Workers pop the newest first: push in reverse to start in id order.
    for (std::size_t i = first.size(); i-- > 0;) ready_.push_back(first[i]);
    ready_size_.store(ready_.size(), std::memory_order_seq_cst);
  }

  /// True when more than one task is ready; call before the job is attached.
  bool seed(std::size_t) override { return ready_.size() > 1; }

  bool run_one(std::size_t worker) override {
    TaskId task = pop();
    if (task == no_task) return false;
    while (task != no_task) task = execute(worker, task);
    return true;
  }

  [[nodiscard]] bool has_work() const noexcept override {
    return ready_size_.load(std::memory_order_seq_cst) != 0;
  }

  [[nodiscard]] bool finished() const noexcept override { return run_.finished(); }

 private:
  TaskId pop() {
    if (ready_size_.load(std::memory_order_relaxed) == 0) return no_task;
    std::lock_guard lock(mutex_);
    if (ready_.empty()) return no_task;
    const TaskId task = ready_.back();
    ready_.pop_back();
    ready_size_.store(ready_.size(), std::memory_order_seq_cst);
    return task;
  }

  // Runs `task`; returns one of the tasks its end made ready to run next here, or no_task.
  TaskId execute(std::size_t worker, TaskId task) {
    if (!run_.start(task, worker)) return no_task;
    const std::span<const TaskId> ready = run_.end(task, worker, run_.invoke(task, worker));
    if (ready.empty()) return no_task;
    if (ready.size() > 1) {
      {
        std::lock_guard lock(mutex_);
        for (std::size_t i = ready.size(); i-- > 1;) ready_.push_back(ready[i]);
        ready_size_.store(ready_.size(), std::memory_order_seq_cst);
      }
      pool_.notify_work();
    }
    return ready[0];
  }

  ExecutorRun<T>& run_;
  WorkerPool& pool_;
  std::mutex mutex_;
  std::vector<TaskId> ready_;
  std::atomic<std::size_t> ready_size_{0};
};

/// Runs `child` from a task running on the calling thread: in parallel on the pool whose
/// worker the thread is, if that pool's job takes child graphs, else inline on this thread.
/// The run's state lives on the heap: a recursion keeps one such call per level on the stack.
template <class T>
RunSummary run_child(TaskGraph<T>& child, const RunOptions& options) {
  const WorkerIdentity self = current_worker;
  if (self.pool != nullptr) {
    // current_worker.pool is only ever set to a WorkerPool.
    auto& pool = *static_cast<WorkerPool*>(const_cast<void*>(self.pool));
    auto* host = dynamic_cast<NestHost*>(pool.current_job());
    if (host != nullptr) {
      auto run = std::make_unique<ExecutorRun<T>>(child, options, pool.max_workers(),
                                                  WorkerPool::kMaxWorkers);
      auto job = std::make_unique<NestedRun<T>>(*run, pool);
      if (!run->finished()) {
        // Asked before attach: from then on workers pop from the job.
        const bool wide = job->seed(0);
        host->attach(*job);
        struct Detach {
          NestHost& host;
          NestedJob& job;
          ~Detach() { host.detach(job); }
        } detach{*host, *job};
        if (wide) pool.notify_work();
        // Help the child until it ends. With nothing of it ready (its tasks run elsewhere),
        // help the child graphs started after it (its own tasks' children among them).
        while (!job->finished()) {
          if (!job->run_one(self.id) && !host->run_nested(self.id, job.get())) {
            std::this_thread::yield();
          }
        }
      }
      return run->finish();
    }
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
