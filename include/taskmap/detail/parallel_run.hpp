#pragma once
// A run of one graph on a WorkerPool (ParallelRun), and run_on_pool, the whole run the
// thread-pool executors share: ThreadPoolExecutor without timers, CoroutinePoolExecutor with.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "taskmap/detail/event_loop.hpp"
#include "taskmap/detail/events.hpp"
#include "taskmap/detail/run_state.hpp"
#include "taskmap/detail/scheduler.hpp"
#include "taskmap/detail/timer_service.hpp"
#include "taskmap/detail/work_stealing_deque.hpp"
#include "taskmap/detail/worker_pool.hpp"
#include "taskmap/executors/sequential.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap {

namespace detail {

/// One run of one graph on a WorkerPool. With a TimerService, coroutine tasks suspend: a
/// waiting coroutine frees its worker and is resumed later by any worker (the run is then
/// the coroutines' Scheduler). Without one, coroutine tasks are driven to completion on
/// the worker that starts them.
template <class T>
class ParallelRun final : public PoolJob, public Scheduler {
 public:
  ParallelRun(GraphState<T>& graph, const RunOptions& options, WorkerPool& pool,
              TimerService* timers = nullptr)
      : g_(graph),
        options_(options),
        pool_(pool),
        timers_(timers),
        events_(options.observers, graph.name, graph.names),
        ordered_(graph.has_order_hints()),
        slots_(WorkerPool::kMaxWorkers),
        groups_(graph.groups.size()) {
    for (std::size_t i = 0; i < groups_.size(); ++i) {
      groups_[i].max_concurrency = graph.groups[i].max_concurrency;
    }
  }

  /// Prepares the graph on the calling thread: who waits on whom, who is ready, who is
  /// skipped because of an earlier failure. Returns false when there is nothing to run.
  bool prepare(RunSummary& summary) {
    std::vector<std::uint32_t> waiting;
    prepare_run(g_, waiting, initial_, [&](std::uint32_t task) {
      ++summary.skipped;
      emit(EventKind::skipped, task, 0, &g_.errors[task]);
    });
    waiting_ = std::make_unique<std::atomic<std::uint32_t>[]>(g_.size());
    for (std::size_t i = 0; i < g_.size(); ++i) {
      waiting_[i].store(waiting[i], std::memory_order_relaxed);
    }
    in_flight_.store(initial_.size(), std::memory_order_relaxed);
    for (const std::uint32_t task : initial_) emit(EventKind::queued, task, 0);
    return !initial_.empty();
  }

  void seed() override {
    for (std::size_t i = 0; i < pool_.spawned(); ++i) pool_.deque(i).clear();
    if (ordered_) {
      for (const std::uint32_t task : initial_) heap_push(task);
      return;
    }
    // Round-robin, so every worker starts with a share. Owners pop their newest first, so
    // push in reverse to start in id order.
    const std::size_t workers =
        std::max<std::size_t>(1, std::min(pool_.max_workers(), pool_.spawned()));
    for (std::size_t i = initial_.size(); i-- > 0;) pool_.deque(i % workers).push(initial_[i]);
  }

  bool run_one(std::size_t worker) override {
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
    std::uint32_t task = take(worker);
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
    if (ordered_) return heap_size_.load(std::memory_order_seq_cst) != 0;
    for (std::size_t i = 0; i < pool_.spawned(); ++i) {
      if (!pool_.deque(i).looks_empty()) return true;
    }
    return false;
  }

  [[nodiscard]] bool finished() const noexcept override {
    return in_flight_.load(std::memory_order_seq_cst) == 0;
  }

  /// After the pool returned: counts and cancellation.
  void finish(RunSummary& summary) {
    for (const Slot& slot : slots_) {
      summary.succeeded += slot.succeeded;
      summary.failed += slot.failed;
      summary.skipped += slot.skipped;
    }
    cancel_pending(g_, options_, [&](std::uint32_t task) {
      ++summary.cancelled;
      emit(EventKind::cancelled, task, 0);
    });
  }

  /// The first exception an observer threw during the run (after finish()), or null.
  [[nodiscard]] const std::exception_ptr& observer_error() const noexcept {
    return observer_error_;
  }

  [[nodiscard]] EventSink& events() noexcept { return events_; }

  [[nodiscard]] std::uint32_t first_failure() const noexcept {
    return first_failure_.load(std::memory_order_relaxed);
  }

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
  struct alignas(kCacheLine) Slot {
    std::vector<const T*> inputs;
    std::vector<std::uint32_t> ready;
    std::vector<std::uint32_t> stack;
    std::size_t succeeded = 0;
    std::size_t failed = 0;
    std::size_t skipped = 0;
    std::uint64_t rng = 0;
    // The coroutine task this worker is starting, and the task its end handed this worker
    // if it ended before its first resume returned (no suspension): run next, like a plain
    // task's first ready dependent, without a deque round trip or a wake-up.
    std::uint32_t starting = no_task;
    std::uint32_t handoff = no_task;
  };

  struct GroupState {
    std::mutex mutex;
    std::size_t running = 0;
    std::size_t max_concurrency = 1;
    std::deque<std::uint32_t> deferred;
  };

  struct HeapEntry {
    std::uint32_t task;
    std::uint64_t arrival;
  };

  std::atomic_ref<TaskStatus> status(std::uint32_t task) noexcept {
    return std::atomic_ref<TaskStatus>(g_.status[task]);
  }

  [[nodiscard]] bool halted() const noexcept {
    return halt_.load(std::memory_order_relaxed) || options_.stop_token.stop_requested();
  }

  // False when an observer threw: its exception ends the run (no new task starts) and
  // reaches the caller.
  bool emit(EventKind kind, std::uint32_t task, std::size_t worker,
            const std::exception_ptr* error = nullptr) noexcept {
    if (!events_.active()) return true;
    try {
      events_.emit(kind, task, worker, error);
      return true;
    } catch (...) {
      std::lock_guard lock(observer_error_mutex_);
      if (!observer_error_) observer_error_ = std::current_exception();
      halt_.store(true, std::memory_order_relaxed);
      return false;
    }
  }

  // --- ready queues -----------------------------------------------------------------

  std::uint32_t take(std::size_t worker) {
    if (ordered_) return heap_pop();
    std::uint32_t task = pool_.deque(worker).pop();
    if (task != no_task) return task;
    const std::size_t count = pool_.spawned();
    if (count < 2) return no_task;
    Slot& slot = slots_[worker];
    // Start at a random victim so thieves spread out.
    slot.rng ^= slot.rng << 13;
    slot.rng ^= slot.rng >> 7;
    slot.rng ^= slot.rng << 17;
    if (slot.rng == 0) slot.rng = 0x9E3779B97F4A7C15ull + worker;
    const std::size_t start = static_cast<std::size_t>(slot.rng % count);
    for (std::size_t round = 0; round < 2; ++round) {
      for (std::size_t k = 0; k < count; ++k) {
        const std::size_t victim = (start + k) % count;
        if (victim == worker) continue;
        task = pool_.deque(victim).steal();
        if (task != no_task) return task;
      }
    }
    return no_task;
  }

  void queue(std::size_t worker, std::uint32_t task) {
    if (ordered_) {
      std::lock_guard lock(heap_mutex_);
      heap_push_locked(task);
    } else {
      pool_.deque(worker).push(task);
    }
  }

  bool starts_before(std::uint32_t a, std::uint64_t arrival_a, std::uint32_t b,
                     std::uint64_t arrival_b) const noexcept {
    if (g_.io_bound[a] != g_.io_bound[b]) return g_.io_bound[a] > g_.io_bound[b];
    if (g_.priority[a] != g_.priority[b]) return g_.priority[a] > g_.priority[b];
    return arrival_a < arrival_b;
  }

  void heap_push(std::uint32_t task) {
    std::lock_guard lock(heap_mutex_);
    heap_push_locked(task);
  }

  void heap_push_locked(std::uint32_t task) {
    heap_.push_back(HeapEntry{task, arrival_++});
    std::push_heap(heap_.begin(), heap_.end(), [this](const HeapEntry& x, const HeapEntry& y) {
      return starts_before(y.task, y.arrival, x.task, x.arrival);
    });
    heap_size_.store(heap_.size(), std::memory_order_seq_cst);
  }

  std::uint32_t heap_pop() {
    std::lock_guard lock(heap_mutex_);
    if (heap_.empty()) return no_task;
    std::pop_heap(heap_.begin(), heap_.end(), [this](const HeapEntry& x, const HeapEntry& y) {
      return starts_before(y.task, y.arrival, x.task, x.arrival);
    });
    const std::uint32_t task = heap_.back().task;
    heap_.pop_back();
    heap_size_.store(heap_.size(), std::memory_order_seq_cst);
    return task;
  }

  // --- groups -----------------------------------------------------------------------

  // True when `task` may start now; otherwise it is parked in its group's queue.
  bool admit(std::uint32_t task) {
    const std::uint32_t group = g_.group_of[task];
    if (group == kNoGroup) return true;
    GroupState& state = groups_[group];
    std::lock_guard lock(state.mutex);
    if (state.running < state.max_concurrency) {
      ++state.running;
      return true;
    }
    state.deferred.push_back(task);
    return false;
  }

  // A group member is done with the group: it frees its place if it held one (`started`),
  // then, if the group has a free place and parked members, one of them is returned to be
  // queued again (it is still in flight, and is admitted like any task); else empty. Keeps
  // the invariant that a group with a free place has no parked members, also when a member
  // handed the turn is dropped without running (fail_fast, stop).
  std::uint32_t leave_group(std::uint32_t task, bool started) {
    const std::uint32_t group = g_.group_of[task];
    if (group == kNoGroup) return no_task;
    GroupState& state = groups_[group];
    std::lock_guard lock(state.mutex);
    if (started) --state.running;
    if (state.running >= state.max_concurrency || state.deferred.empty()) {
      return no_task;
    }
    const std::uint32_t next = state.deferred.front();
    state.deferred.pop_front();
    return next;
  }

  // --- running one task ---------------------------------------------------------------

  // One task that leaves the run: in_flight goes down by one, plus `added` new ones.
  void settle(std::size_t added) {
    if (added == 1) return;
    if (added > 1) {
      in_flight_.fetch_add(added - 1, std::memory_order_seq_cst);
      return;
    }
    if (in_flight_.fetch_sub(1, std::memory_order_seq_cst) == 1) pool_.notify_done();
  }

  // Runs `task` on `worker`; returns a ready task to run next on this worker, or empty.
  std::uint32_t execute(std::size_t worker, std::uint32_t task) {
    if (halted()) {
      // Never started: stays pending (cancelled after a stop). If it was handed a group's
      // turn, pass the turn on, or the group's parked tasks would wait forever.
      const std::uint32_t next = leave_group(task, false);
      settle(0);
      return next;
    }
    if (!admit(task)) return no_task;  // still in flight, parked in its group
    Slot& slot = slots_[worker];
    status(task).store(TaskStatus::running, std::memory_order_relaxed);
    if (!emit(EventKind::started, task, worker)) {
      status(task).store(TaskStatus::pending, std::memory_order_relaxed);  // as if never started
      if (const std::uint32_t resumed = leave_group(task, true); resumed != no_task) {
        queue(worker, resumed);
      }
      settle(0);
      return no_task;
    }
    gather_inputs(g_, task, slot.inputs);
    Context ctx(g_.name, g_.names[task], options_.stop_token, worker);
    const TaskFn<T>& fn = g_.funcs[task];
    if (timers_ != nullptr && fn.is_coroutine()) {
      // Start the coroutine here; when it waits, this worker moves on, and whichever worker
      // resumes it last finishes the task (still in flight until then).
      std::coroutine_handle<> handle;
      try {
        handle = fn.start_coroutine(ctx, slot.inputs, g_.results[task],
                                    CoroutineDone{&ParallelRun::coroutine_done, this, task});
      } catch (...) {  // no memory for its frame
        g_.results[task].reset();
        g_.errors[task] = std::current_exception();
        return finish(worker, task, false);
      }
      SchedulerScope scope(this);
      slot.starting = task;
      handle.resume();
      slot.starting = no_task;
      return std::exchange(slot.handoff, no_task);
    }
    bool ok = true;
    try {
      fn.invoke(ctx, slot.inputs, g_.results[task]);
    } catch (...) {
      ok = false;
      g_.results[task].reset();
      g_.errors[task] = std::current_exception();
    }
    return finish(worker, task, ok);
  }

  static void coroutine_done(void* self, std::uint32_t task, std::exception_ptr& error) noexcept {
    static_cast<ParallelRun*>(self)->finish_coroutine(task, error);
  }

  // A coroutine task ended, on the worker that resumed it last.
  void finish_coroutine(std::uint32_t task, std::exception_ptr& error) noexcept {
    const std::size_t worker = current_worker.id;
    const bool ok = !error;
    if (!ok) {
      g_.results[task].reset();
      g_.errors[task] = std::move(error);
    }
    try {
      const std::uint32_t next = finish(worker, task, ok);
      if (next == no_task) return;
      if (slots_[worker].starting == task) {
        slots_[worker].handoff = next;  // execute() on this worker returns it
      } else {
        queue(worker, next);
        pool_.notify_work();
      }
    } catch (...) {
      std::terminate();  // only allocation can fail here
    }
  }

  // Records how `task` ended, releases its group place, and readies its dependents; returns
  // one of them to run next on this worker, or empty.
  std::uint32_t finish(std::size_t worker, std::uint32_t task, bool ok) {
    Slot& slot = slots_[worker];
    slot.ready.clear();
    const std::uint32_t resumed = leave_group(task, true);
    if (ok) {
      status(task).store(TaskStatus::done, std::memory_order_release);
      ++slot.succeeded;
      emit(EventKind::finished, task, worker);
      for (const std::uint32_t child : g_.children_of(task)) {
        std::atomic<std::uint32_t>& waiting = waiting_[child];
        // The last dependency to finish sees 1 and needs no read-modify-write.
        if (waiting.load(std::memory_order_acquire) == 1 ||
            waiting.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          slot.ready.push_back(child);
          emit(EventKind::queued, child, worker);
        }
      }
    } else {
      status(task).store(TaskStatus::failed, std::memory_order_release);
      ++slot.failed;
      std::uint32_t none = UINT32_MAX;
      first_failure_.compare_exchange_strong(none, task, std::memory_order_relaxed);
      emit(EventKind::failed, task, worker, &g_.errors[task]);
      skip_below(worker, task);
      if (options_.fail_fast) halt_.store(true, std::memory_order_relaxed);
    }

    settle(slot.ready.size());
    if (resumed != no_task) slot.ready.push_back(resumed);  // already in flight
    const std::size_t added = slot.ready.size();
    if (added == 0) return no_task;
    if (ordered_) {
      for (const std::uint32_t ready : slot.ready) queue(worker, ready);
      pool_.notify_work();
      return no_task;
    }
    // Keep the first for this worker (no deque round trip); offer the rest to thieves.
    for (std::size_t i = 1; i < added; ++i) queue(worker, slot.ready[i]);
    if (added > 1) pool_.notify_work();
    return slot.ready[0];
  }

  // Skips every pending transitive dependent of the failed `task`. Statuses change by
  // compare-and-swap, so overlapping failures skip each task once.
  void skip_below(std::size_t worker, std::uint32_t task) {
    Slot& slot = slots_[worker];
    const std::exception_ptr error = std::make_exception_ptr(AncestorFailed(g_.names[task]));
    slot.stack.clear();
    slot.stack.push_back(task);
    while (!slot.stack.empty()) {
      const std::uint32_t parent = slot.stack.back();
      slot.stack.pop_back();
      for (const std::uint32_t child : g_.children_of(parent)) {
        TaskStatus expected = TaskStatus::pending;
        if (!status(child).compare_exchange_strong(expected, TaskStatus::skipped,
                                                   std::memory_order_acq_rel)) {
          continue;
        }
        g_.errors[child] = error;
        g_.results[child].reset();
        ++slot.skipped;
        emit(EventKind::skipped, child, worker, &g_.errors[child]);
        slot.stack.push_back(child);
      }
    }
  }

  GraphState<T>& g_;
  const RunOptions& options_;
  std::vector<std::uint32_t> initial_;
  WorkerPool& pool_;
  TimerService* timers_;
  EventSink events_;
  const bool ordered_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> waiting_;
  std::vector<Slot> slots_;
  std::vector<GroupState> groups_;
  alignas(kCacheLine) std::atomic<std::size_t> in_flight_{0};
  alignas(kCacheLine) std::atomic<bool> halt_{false};
  std::atomic<std::uint32_t> first_failure_{UINT32_MAX};
  std::mutex heap_mutex_;
  std::vector<HeapEntry> heap_;
  std::uint64_t arrival_ = 0;
  std::atomic<std::size_t> heap_size_{0};
  std::mutex observer_error_mutex_;
  std::exception_ptr observer_error_;
  std::mutex inbox_mutex_;
  std::deque<std::coroutine_handle<>> inbox_;
  std::atomic<std::size_t> inbox_size_{0};
};

}  // namespace detail

namespace detail {

/// A whole run on a pool: prepare, hand the job to the workers, sum up. With `timers`,
/// coroutine tasks suspend instead of blocking their worker.
template <class T>
RunSummary run_on_pool(WorkerPool& pool, TimerService* timers, TaskGraph<T>& graph,
                       const RunOptions& options) {
  if (pool.on_worker_thread()) {
    // A task of this pool runs a graph on it: waiting for the pool from one of its own
    // workers could deadlock, so the nested graph runs inline on this worker.
    return SequentialExecutor{}.run(graph, options);
  }
  const auto start = std::chrono::steady_clock::now();
  GraphState<T>& g = GraphAccess::state(graph);
  RunGuard<T> guard(g);
  RunSummary summary;
  ParallelRun<T> job(g, options, pool, timers);
  job.events().run_started(g.status, pool.max_workers());
  if (job.prepare(summary)) pool.execute(job);
  job.finish(summary);
  summary.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now() - start);
  if (job.observer_error()) {
    job.events().run_finished(summary, true);
    std::rethrow_exception(job.observer_error());
  }
  job.events().run_finished(summary);
  finish_run(g, options, job.first_failure());
  return summary;
}

}  // namespace detail

}  // namespace taskmap
