#pragma once
// WorkerPool: long-lived threads that run one PoolJob at a time. Idle workers park on an
// atomic (futex) instead of spinning; a job wakes them only when some are parked, so a busy
// pool pays no system call per task. The number of workers taking work can change at any
// time, also during a job: growing starts threads at once, shrinking lets the surplus
// workers finish the task in hand and park.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "taskmap/detail/work_stealing_deque.hpp"

namespace taskmap::detail {

/// Workers of a pool built with ncores 0: the hardware concurrency, 2 if unknown.
inline std::size_t default_workers() noexcept {
  const unsigned n = std::thread::hardware_concurrency();
  return n != 0 ? n : 2;
}

/// A unit of work for the pool: one run of one graph.
class PoolJob {
 public:
  virtual ~PoolJob() = default;
  /// Queues the first tasks; called once, under the pool's job lock, before any worker
  /// sees the job (so it may use the workers' deques as their owner).
  virtual void seed() = 0;
  /// Runs one ready task on `worker` if it finds one; false when it found none.
  virtual bool run_one(std::size_t worker) = 0;
  /// True when some task may be waiting to be run (a cheap hint, checked before parking).
  [[nodiscard]] virtual bool has_work() const noexcept = 0;
  /// True once the job is complete (no task queued or running).
  [[nodiscard]] virtual bool finished() const noexcept = 0;
};

/// The worker the current thread is, in the pool it belongs to (null outside pools).
struct WorkerIdentity {
  const void* pool = nullptr;
  std::size_t id = 0;
};
inline thread_local WorkerIdentity current_worker{};

class WorkerPool {
 public:
  static constexpr std::size_t kMaxWorkers = 256;

  explicit WorkerPool(std::size_t workers)
      : workers_(std::make_unique<std::unique_ptr<Worker>[]>(kMaxWorkers)) {
    set_max_workers(workers);
  }

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  ~WorkerPool() {
    stopping_.store(true, std::memory_order_seq_cst);
    wake_all();
    for (std::size_t i = 0; i < spawned_.load(std::memory_order_relaxed); ++i) {
      workers_[i]->thread.join();
    }
  }

  /// Workers that take work from now on, clamped to [1, kMaxWorkers]. Growing starts
  /// threads at once; shrinking lets surplus workers finish their current task and park.
  void set_max_workers(std::size_t count) {
    count = std::clamp<std::size_t>(count, 1, kMaxWorkers);
    std::lock_guard lock(resize_mutex_);
    for (std::size_t id = spawned_.load(std::memory_order_relaxed); id < count; ++id) {
      workers_[id] = std::make_unique<Worker>();
      workers_[id]->thread = std::thread([this, id] { worker_loop(id); });
      spawned_.store(id + 1, std::memory_order_release);
    }
    active_.store(count, std::memory_order_seq_cst);
    wake_all();
  }

  /// Threads started so far; worker ids below this have a deque.
  [[nodiscard]] std::size_t spawned() const noexcept {
    return spawned_.load(std::memory_order_acquire);
  }

  /// Worker `id`'s deque: its owner pushes and pops, anyone steals.
  [[nodiscard]] WorkStealingDeque& deque(std::size_t id) noexcept { return workers_[id]->deque; }

  [[nodiscard]] std::size_t max_workers() const noexcept {
    return active_.load(std::memory_order_relaxed);
  }

  /// True when the calling thread is one of this pool's workers.
  [[nodiscard]] bool on_worker_thread() const noexcept { return current_worker.pool == this; }

  /// Runs `job` on the workers until it finishes; the caller waits. One job at a time:
  /// concurrent calls queue up.
  void execute(PoolJob& job) {
    std::lock_guard lock(job_mutex_);
    job.seed();
    job_.store(&job, std::memory_order_seq_cst);
    wake_all();
    // Sleep until the job is finished; the worker that finishes it bumps done_epoch_.
    for (;;) {
      const std::uint32_t seen = done_epoch_.load(std::memory_order_seq_cst);
      if (job.finished()) break;
      done_epoch_.wait(seen, std::memory_order_seq_cst);
    }
    job_.store(nullptr, std::memory_order_seq_cst);
    // No worker may still be reading the job when the caller destroys it.
    for (std::size_t i = 0; i < spawned(); ++i) {
      while (workers_[i]->in_job.load(std::memory_order_seq_cst)) std::this_thread::yield();
    }
  }

  /// Called by a job after it queued work: wakes a parked worker if there is one.
  void notify_work() noexcept {
    // A read-modify-write, not a fence (ThreadSanitizer does not model fences): it orders
    // the caller's push before this read of idle_, pairing with the parking worker's
    // increment of idle_ before its last look at the deques. One of the two sees the other.
    if (idle_.fetch_add(0, std::memory_order_seq_cst) > 0) {
      work_epoch_.fetch_add(1, std::memory_order_seq_cst);
      work_epoch_.notify_one();
    }
  }

  /// Called by the worker that finished a job.
  void notify_done() noexcept {
    done_epoch_.fetch_add(1, std::memory_order_seq_cst);
    done_epoch_.notify_all();
  }

 private:
  struct Worker {
    WorkStealingDeque deque;
    alignas(kCacheLine) std::atomic<bool> in_job{false};
    std::thread thread;
  };

  void wake_all() noexcept {
    work_epoch_.fetch_add(1, std::memory_order_seq_cst);
    work_epoch_.notify_all();
  }

  void worker_loop(std::size_t id) {
    current_worker = WorkerIdentity{this, id};
    Worker& self = *workers_[id];
    int spins = 0;
    for (;;) {
      const std::uint32_t seen = work_epoch_.load(std::memory_order_seq_cst);
      if (stopping_.load(std::memory_order_seq_cst)) return;
      bool worked = false;
      if (id < active_.load(std::memory_order_seq_cst)) {
        self.in_job.store(true, std::memory_order_seq_cst);
        if (PoolJob* job = job_.load(std::memory_order_seq_cst)) {
          while (id < active_.load(std::memory_order_relaxed) && job->run_one(id)) worked = true;
        }
        self.in_job.store(false, std::memory_order_seq_cst);
      }
      if (worked) {
        spins = 0;
        continue;
      }
      // Nothing found: look again a few times (work often arrives within microseconds),
      // then park until someone announces work.
      if (++spins < 32) {
        std::this_thread::yield();
        continue;
      }
      spins = 0;
      idle_.fetch_add(1, std::memory_order_seq_cst);
      bool recheck = false;
      if (id < active_.load(std::memory_order_seq_cst)) {
        self.in_job.store(true, std::memory_order_seq_cst);
        if (PoolJob* job = job_.load(std::memory_order_seq_cst)) recheck = job->has_work();
        self.in_job.store(false, std::memory_order_seq_cst);
      }
      if (!recheck) work_epoch_.wait(seen, std::memory_order_seq_cst);
      idle_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  std::mutex resize_mutex_;
  // Fixed array of kMaxWorkers slots, so growing never moves a worker others may be reading.
  std::unique_ptr<std::unique_ptr<Worker>[]> workers_;
  alignas(kCacheLine) std::atomic<std::size_t> spawned_{0};
  std::mutex job_mutex_;
  alignas(kCacheLine) std::atomic<PoolJob*> job_{nullptr};
  alignas(kCacheLine) std::atomic<std::size_t> active_{0};
  alignas(kCacheLine) std::atomic<std::size_t> idle_{0};
  // 32-bit on purpose: libstdc++ waits on futex-sized atomics directly, but on wider ones
  // through a futex shared by unrelated atomics, where notify_one can wake the wrong
  // waiter and lose the wakeup. Wrap-around is harmless: waits compare for equality.
  alignas(kCacheLine) std::atomic<std::uint32_t> work_epoch_{0};
  alignas(kCacheLine) std::atomic<std::uint32_t> done_epoch_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace taskmap::detail
