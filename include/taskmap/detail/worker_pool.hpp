#pragma once
// WorkerPool: long-lived threads that run one PoolJob at a time. Idle workers park on an
// atomic (futex) instead of spinning; a job wakes them only when some are parked, so a busy
// pool pays no system call per task. The number of workers taking work can change at any
// time, also during a job: growing starts threads at once, shrinking lets the surplus
// workers finish the task in hand and park.
//
// The thread that calls execute() from outside the pool helps: it takes worker 0's place
// (its deque, its id) and runs tasks itself while it waits, and the pool's thread 0 stays
// parked for that job, so no more than max_workers threads run tasks at once. Workers are
// woken only when ready tasks wait that the caller is not taking: a job whose ready work never
// exceeds one task at a time runs on the caller alone, with no wake-up and no handoff.
//
// Worker state (taskmap/worker_state.hpp): each worker id has one slot. A pool thread binds
// its slot for its whole life and destroys the value itself when it is retired (as soon as
// it stops taking tasks) and when it ends; the helping caller binds worker 0's slot while it
// helps, when thread 0 takes no tasks. So a value is only ever used by one thread at a time,
// and worker 0's by whichever thread is worker 0 at the moment.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "taskmap/detail/cache_line.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/detail/work_stealing_deque.hpp"
#include "taskmap/detail/worker_state_holder.hpp"

// 1 when built with ThreadSanitizer (g++ defines __SANITIZE_THREAD__; clang answers
// __has_feature), which does not model fences: notify_work orders its read differently there.
#if defined(__SANITIZE_THREAD__)
#define TASKMAP_DETAIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TASKMAP_DETAIL_TSAN 1
#endif
#endif
#ifndef TASKMAP_DETAIL_TSAN
#define TASKMAP_DETAIL_TSAN 0
#endif

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
  /// Queues the first tasks on the deques of workers 0 to `workers` - 1; called once, under
  /// the pool's job lock, before any worker sees the job (so it may use the workers' deques
  /// as their owner). Returns true when more than one task is ready, so other workers should
  /// be woken.
  virtual bool seed(std::size_t workers) = 0;
  /// Runs one ready task on `worker` if it finds one; false when it found none.
  virtual bool run_one(std::size_t worker) = 0;
  /// True when some task may be waiting to be run (a cheap hint, checked before parking).
  [[nodiscard]] virtual bool has_work() const noexcept = 0;
  /// True once the job is complete (no task queued or running).
  [[nodiscard]] virtual bool finished() const noexcept = 0;
};

/// The worker the current thread is, in the pool it belongs to (null outside pools). A
/// thread helping with a job it called is worker 0 of that pool until the job ends.
struct WorkerIdentity {
  const void* pool = nullptr;
  std::size_t id = 0;
};
inline thread_local WorkerIdentity current_worker{};

/// What one worker keeps between the tasks of a job, and from one job to the next (so a
/// run allocates and clears nothing per worker): the coroutine task it is starting, the
/// task that coroutine's end handed it, and its victim-choosing random state.
struct alignas(kCacheLine) WorkerScratch {
  TaskId starting = no_task;
  TaskId handoff = no_task;
  std::uint64_t rng = 0;
};

/// A template only so that its code is compiled in the programs that start a pool.
template <class = void>
class BasicWorkerPool {
 public:
  static constexpr std::size_t kMaxWorkers = 256;

  /// `maker` (null for none) builds each worker's state.
  explicit BasicWorkerPool(std::size_t workers,
                           std::shared_ptr<const WorkerStateMaker> maker = nullptr)
      : maker_(std::move(maker)),
        workers_(std::make_unique<std::unique_ptr<Worker>[]>(kMaxWorkers)) {
    set_max_workers(workers);
  }

  BasicWorkerPool(const BasicWorkerPool&) = delete;
  BasicWorkerPool& operator=(const BasicWorkerPool&) = delete;

  ~BasicWorkerPool() {
    stopping_.store(true, std::memory_order_seq_cst);
    wake_all();
    for (std::size_t i = 0; i < spawned_.load(std::memory_order_relaxed); ++i) {
      workers_[i]->thread.join();
    }
  }

  /// Workers that take work from now on, clamped to [1, kMaxWorkers]. Growing starts
  /// threads at once; shrinking lets surplus workers finish their current task and park,
  /// each destroying its worker state first.
  void set_max_workers(std::size_t count) {
    count = std::clamp<std::size_t>(count, 1, kMaxWorkers);
    std::lock_guard lock(resize_mutex_);
    for (std::size_t id = spawned_.load(std::memory_order_relaxed); id < count; ++id) {
      workers_[id] = std::make_unique<Worker>(maker_, id);
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

  /// Worker `id`'s scratch state; only worker `id` touches it during a job.
  [[nodiscard]] WorkerScratch& scratch(std::size_t id) noexcept { return workers_[id]->scratch; }

  [[nodiscard]] std::size_t max_workers() const noexcept {
    return active_.load(std::memory_order_relaxed);
  }

  /// The job running now, or null; stays alive while the calling worker runs one of its tasks.
  [[nodiscard]] PoolJob* current_job() const noexcept {
    return job_.load(std::memory_order_acquire);
  }

  /// True when the calling thread is one of this pool's workers (or helps with its job).
  [[nodiscard]] bool on_worker_thread() const noexcept { return current_worker.pool == this; }

  /// Runs `job` until it finishes. One job at a time: concurrent calls queue up. With
  /// `caller_may_help`, a caller outside every pool helps as worker 0; a caller that is a
  /// worker of another pool (a task running a graph on this pool) only waits, as it did
  /// before callers helped.
  void execute(PoolJob& job, bool caller_may_help) {
    std::lock_guard lock(job_mutex_);
    const bool helps = caller_may_help && current_worker.pool == nullptr;
    const std::size_t workers = std::min(max_workers(), spawned());
    const bool wide = job.seed(workers);
    caller_helps_.store(helps, std::memory_order_relaxed);
    job_.store(&job, std::memory_order_seq_cst);
    if (helps) {
      if (wide) wake_workers();
      current_worker = WorkerIdentity{this, 0};
      {
        // Worker 0's state, free: thread 0 takes no task while the caller holds its place.
        const WorkerStateBinding binding(maker_ ? &workers_[0]->state : nullptr);
        help(job);
      }
      current_worker = WorkerIdentity{};
    } else {
      wake_all();  // thread 0 too: it takes part only in jobs whose caller does not help
      for (;;) {
        const std::uint32_t seen = caller_epoch_.load(std::memory_order_seq_cst);
        caller_parked_.store(true, std::memory_order_seq_cst);
        const bool finished = job.finished();
        if (!finished) caller_epoch_.wait(seen, std::memory_order_seq_cst);
        caller_parked_.store(false, std::memory_order_seq_cst);
        if (finished) break;
      }
    }
    job_.store(nullptr, std::memory_order_seq_cst);
    // No worker may still be reading the job when the caller destroys it.
    for (std::size_t i = 0; i < spawned(); ++i) {
      while (workers_[i]->in_job.load(std::memory_order_seq_cst)) std::this_thread::yield();
    }
  }

  /// Called by a job after it queued work: wakes a parked helping caller if there is one,
  /// else a parked worker if there is one.
  void notify_work() noexcept {
    // The fence orders the caller's push before this read of idle_, pairing with the
    // parking thread's seq_cst increment of idle_ before its seq_cst last look at the queues:
    // one of the two sees the other. A fence and a plain load, not a read-modify-write of
    // idle_: every task that readies two or more calls this, and a read-modify-write would
    // pull idle_'s cache line from core to core on each of them (a binary tree on two
    // workers: one transfer per task). ThreadSanitizer does not model fences (g++ refuses
    // them under -fsanitize=thread), so there the read-modify-write gives the same order.
#if TASKMAP_DETAIL_TSAN
    const std::uint64_t idle = idle_.fetch_add(0, std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint64_t idle = idle_.load(std::memory_order_relaxed);
#endif
    if (idle == 0) return;
    if (idle >= kCallerIdle) {
      // The caller parked with nothing to do: the work is its first.
      caller_epoch_.fetch_add(1, std::memory_order_seq_cst);
      caller_epoch_.notify_all();
      return;
    }
    work_epoch_.fetch_add(1, std::memory_order_seq_cst);
    work_epoch_.notify_one();
  }

  /// Called by the worker that finished a job: wakes the caller waiting for it.
  void notify_done() noexcept {
    caller_epoch_.fetch_add(1, std::memory_order_seq_cst);
    // Only when the caller sleeps: a notify costs a system call whenever any thread waits
    // on an atomic that libstdc++ hashes to the same waiter table entry (parked workers).
    if (caller_parked_.load(std::memory_order_seq_cst)) caller_epoch_.notify_all();
  }

 private:
  struct Worker {
    Worker(std::shared_ptr<const WorkerStateMaker> maker, std::size_t id) noexcept
        : state(std::move(maker), id) {}
    WorkStealingDeque deque;
    WorkerScratch scratch;
    alignas(kCacheLine) std::atomic<bool> in_job{false};
    std::thread thread;
    WorkerStateHolder state;  // bound on this worker's thread (and the helping caller's for 0)
  };

  // Added to idle_ while the helping caller is parked, so notify_work can tell it apart.
  static constexpr std::uint64_t kCallerIdle = std::uint64_t{1} << 32;
  // Look for work this many times, yielding in between, before parking: work often arrives
  // within microseconds, and parking and waking cost more.
  static constexpr int kSpins = 32;

  // Wakes every parked worker that may take work.
  void wake_workers() noexcept {
    work_epoch_.fetch_add(1, std::memory_order_seq_cst);
    work_epoch_.notify_all();
  }

  // Wakes every thread, also those waiting for a seat.
  void wake_all() noexcept {
    seats_epoch_.fetch_add(1, std::memory_order_seq_cst);
    seats_epoch_.notify_all();
    wake_workers();
  }

  // The caller's part of a job it helps with: run tasks as worker 0 until none is in flight;
  // with nothing to run, look again a few times, then park until work or the end arrives.
  // noexcept: a job that throws here (no memory) ends the program, as it does on a worker.
  void help(PoolJob& job) noexcept {
    int spins = 0;
    for (;;) {
      if (job.run_one(0)) {
        spins = 0;
        continue;
      }
      if (job.finished()) return;
      if (++spins < kSpins) {
        std::this_thread::yield();
        continue;
      }
      spins = 0;
      const std::uint32_t seen = caller_epoch_.load(std::memory_order_seq_cst);
      caller_parked_.store(true, std::memory_order_seq_cst);
      idle_.fetch_add(kCallerIdle, std::memory_order_seq_cst);
      const bool recheck = job.finished() || job.has_work();
      if (!recheck) caller_epoch_.wait(seen, std::memory_order_seq_cst);
      idle_.fetch_sub(kCallerIdle, std::memory_order_seq_cst);
      caller_parked_.store(false, std::memory_order_seq_cst);
    }
  }

  // True when worker `id` may take tasks of the job now: it is among the max_workers, and it
  // is not thread 0 while the caller holds that place (or no job runs: the next one's caller
  // may). Call with in_job set.
  [[nodiscard]] bool seated(std::size_t id, PoolJob* job) const noexcept {
    if (id >= active_.load(std::memory_order_seq_cst)) return false;
    return id != 0 || (job != nullptr && !caller_helps_.load(std::memory_order_relaxed));
  }

  void worker_loop(std::size_t id) {
    current_worker = WorkerIdentity{this, id};
    Worker& self = *workers_[id];
    const WorkerStateBinding binding(maker_ ? &self.state : nullptr);
    int spins = 0;
    bool parked = false;  // just woken from the wait for work
    for (;;) {
      const std::uint32_t seen = work_epoch_.load(std::memory_order_seq_cst);
      const std::uint32_t seen_seats = seats_epoch_.load(std::memory_order_seq_cst);
      if (stopping_.load(std::memory_order_seq_cst)) {
        self.state.reset();  // on the thread that used it
        return;
      }
      bool worked = false;
      self.in_job.store(true, std::memory_order_seq_cst);
      PoolJob* job = job_.load(std::memory_order_seq_cst);
      const bool may_work = seated(id, job);
      if (may_work && job != nullptr) {
        while (id < active_.load(std::memory_order_relaxed) && job->run_one(id)) worked = true;
      }
      self.in_job.store(false, std::memory_order_seq_cst);
      if (!may_work) {
        // Retired, or thread 0 with its place taken: wait for the seats to change, outside
        // idle_, so that notify_work never wakes this thread instead of one that can help.
        // A wake-up meant for a worker that came here instead is passed on.
        if (std::exchange(parked, false)) notify_work();
        // Retired (thread 0 never is: at least one worker stays): the worker has ended.
        if (id >= active_.load(std::memory_order_seq_cst)) self.state.reset();
        spins = 0;
        seats_epoch_.wait(seen_seats, std::memory_order_seq_cst);
        continue;
      }
      parked = false;
      if (worked) {
        spins = 0;
        continue;
      }
      // Nothing found: look again a few times, then park until someone announces work.
      if (++spins < kSpins) {
        std::this_thread::yield();
        continue;
      }
      spins = 0;
      idle_.fetch_add(1, std::memory_order_seq_cst);
      bool recheck = false;
      self.in_job.store(true, std::memory_order_seq_cst);
      job = job_.load(std::memory_order_seq_cst);
      if (seated(id, job) && job != nullptr) recheck = job->has_work();
      self.in_job.store(false, std::memory_order_seq_cst);
      if (!recheck) {
        work_epoch_.wait(seen, std::memory_order_seq_cst);
        parked = true;
      }
      idle_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  std::shared_ptr<const WorkerStateMaker> maker_;
  std::mutex resize_mutex_;
  // Fixed array of kMaxWorkers slots, so growing never moves a worker others may be reading.
  std::unique_ptr<std::unique_ptr<Worker>[]> workers_;
  alignas(kCacheLine) std::atomic<std::size_t> spawned_{0};
  std::mutex job_mutex_;
  alignas(kCacheLine) std::atomic<PoolJob*> job_{nullptr};
  std::atomic<bool> caller_helps_{false};  // of the job in job_; read with in_job set
  alignas(kCacheLine) std::atomic<std::size_t> active_{0};
  alignas(kCacheLine) std::atomic<std::uint64_t> idle_{0};  // parked workers (+ kCallerIdle)
  // 32-bit on purpose: libstdc++ waits on futex-sized atomics directly, but on wider ones
  // through a futex shared by unrelated atomics, where notify_one can wake the wrong
  // waiter and lose the wakeup. Wrap-around is harmless: waits compare for equality.
  alignas(kCacheLine) std::atomic<std::uint32_t> work_epoch_{0};
  // Bumped when which threads may take work changes: workers that may not wait on it.
  alignas(kCacheLine) std::atomic<std::uint32_t> seats_epoch_{0};
  // The caller of execute() waits on it: for the job's end, and, helping, for work.
  alignas(kCacheLine) std::atomic<std::uint32_t> caller_epoch_{0};
  std::atomic<bool> caller_parked_{false};  // the caller is in (or about to enter) its wait
  std::atomic<bool> stopping_{false};
};

/// Long-lived threads that run one PoolJob at a time (see BasicWorkerPool).
using WorkerPool = BasicWorkerPool<>;

}  // namespace taskmap::detail
