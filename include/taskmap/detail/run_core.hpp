#pragma once
// RunCore: one run of one graph with every rule of a run written once — preparing the graph,
// admitting tasks to their concurrency groups, starting, calling and ending tasks, recording
// failures and skipping what they doom, fail_fast and stop requests, reporting to observers
// while guarding against their exceptions, and ending the run. Executors keep only how they
// schedule; they reach this through the public taskmap::ExecutorRun.

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
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "taskmap/detail/cache_line.hpp"
#include "taskmap/detail/continue_signal.hpp"
#include "taskmap/detail/events.hpp"
#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/huge_pages.hpp"
#include "taskmap/detail/inlining.hpp"
#include "taskmap/detail/ready_order.hpp"
#include "taskmap/detail/run_state.hpp"
#include "taskmap/detail/stored_run.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/observer.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/run_summary.hpp"
#include "taskmap/task.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap {

/// How many threads call a run's per-task members (ExecutorRun's second parameter).
enum class Threads : std::uint8_t {
  one,   ///< one thread makes every call: no atomic operations, no locks
  many,  ///< several threads call at once, each with its own worker id
};

}  // namespace taskmap

namespace taskmap::detail {

/// A lock for state that only one thread touches: locking it costs nothing.
struct NoLock {
  void lock() noexcept {}
  void unlock() noexcept {}
};

template <class T, Threads kThreads>
class RunCore {
  static constexpr bool kMany = kThreads == Threads::many;

 public:
  RunCore(GraphState<T>& graph, const RunOptions& options, std::size_t workers,
          std::size_t worker_ids)
      : start_(std::chrono::steady_clock::now()),
        g_(graph),
        options_(options),
        guard_(graph),
        events_(options.observers, graph.name, graph.names, graph.triggers),
        observed_(events_.active()),
        ordered_(graph.has_order_hints()),
        more_slots_(std::max<std::size_t>(worker_ids, 1) - 1),
        groups_(graph.groups.size()) {
    advise_huge_pages(first_ready_.get(), g_.size() * sizeof(TaskId));
    advise_huge_pages(waiting_.get(), g_.size() * sizeof(std::uint32_t));
    for (std::size_t i = 0; i < groups_.size(); ++i) {
      groups_[i].max_concurrency = graph.groups[i].max_concurrency;
    }
    events_.run_started(g_.status, workers);
    if (!graph.triggers.empty()) {
      tally_ = TriggerTally(g_.size());
      rule_tasks_ = static_cast<std::size_t>(std::count_if(
          graph.triggers.begin(), graph.triggers.end(), [](Trigger t) { return t.is_special(); }));
    }
    first_ready_count_ =
        prepare_run(g_, waiting_.get(), first_ready_.get(), tally_, [&](TaskId task) {
          ++summary_.skipped;
          emit(EventKind::skipped, task, 0, &g_.errors[task]);
        });
    in_flight_ = first_ready_count_;
    if (options.store != nullptr) {
      stored_ = std::make_unique<StoredRun<T>>(g_, *options.store);
      try {
        stored_->begin();
      } catch (...) {
        // No destructor runs for a constructor that throws: observers see the run end here.
        events_.run_finished(summary_, true);
        throw;
      }
    }
    special_ = !groups_.empty() || stored_ != nullptr || tally_.active();
    for (const TaskId task : first_ready()) emit(EventKind::queued, task, 0);
  }

  RunCore(const RunCore&) = delete;
  RunCore& operator=(const RunCore&) = delete;

  ~RunCore() {
    // Ended without finish() (the executor threw): observers still see the run end.
    if (!finished_) events_.run_finished(summary_, true);
  }

  [[nodiscard]] const GraphState<T>& graph() const noexcept { return g_; }
  [[nodiscard]] std::span<const TaskId> first_ready() const noexcept {
    return {first_ready_.get(), first_ready_count_};
  }
  /// Hands over the buffer holding first_ready() (room for every task); first_ready() is
  /// empty afterwards.
  [[nodiscard]] std::unique_ptr<TaskId[]> take_first_ready() noexcept {
    first_ready_count_ = 0;
    return std::move(first_ready_);
  }
  [[nodiscard]] OrderHints hints() const noexcept { return {&g_.io_bound, &g_.priority}; }
  [[nodiscard]] bool ordered() const noexcept { return ordered_; }
  [[nodiscard]] std::uint64_t run_id() const noexcept { return events_.run_id(); }

  [[nodiscard]] bool stopping() const noexcept {
    return halt_.load(std::memory_order_relaxed) || options_.stop_token.stop_requested();
  }

  [[nodiscard]] bool finished() const noexcept {
    if constexpr (kMany) {
      return in_flight_.load(std::memory_order_seq_cst) == 0;
    } else {
      return in_flight_ == 0;
    }
  }

  TASKMAP_DETAIL_ALWAYS_INLINE bool start(TaskId task, std::size_t worker) {
    if (stopping()) {
      // Never started: stays pending (cancelled after a stop).
      drop(task, false);
      return false;
    }
    if (special_) [[unlikely]]
      return start_special(task, worker);
    set_status(task, TaskStatus::running, std::memory_order_relaxed);
    return announce_start(task, worker);
  }

  [[nodiscard]] bool is_coroutine(TaskId task) const noexcept {
    return g_.funcs[task].is_coroutine() && !reused(task);
  }

  [[nodiscard]] bool up_to_date(TaskId task) const noexcept { return reused(task); }

  TASKMAP_DETAIL_ALWAYS_INLINE std::exception_ptr invoke(TaskId task, std::size_t worker) noexcept {
    try {
      Slot& slot = slot_of(worker);
      if (special_) [[unlikely]] {
        if (reused(task)) return nullptr;
        gather_special(task, slot.inputs);
      } else {
        gather_inputs(g_, task, slot.inputs);
      }
      Context ctx(g_.name, g_.names[task], options_.stop_token, worker);
      g_.funcs[task].invoke(ctx, slot.inputs, g_.results[task]);
      return nullptr;
    } catch (...) {
      return std::current_exception();
    }
  }

  std::coroutine_handle<> start_coroutine(TaskId task, std::size_t worker,
                                          const CoroutineDone& done) {
    Slot& slot = slot_of(worker);
    gather_special(task, slot.inputs);
    const Context ctx(g_.name, g_.names[task], options_.stop_token, worker);
    return g_.funcs[task].start_coroutine(ctx, slot.inputs, g_.results[task], done);
  }

  TASKMAP_DETAIL_ALWAYS_INLINE std::span<const TaskId> end(TaskId task, std::size_t worker,
                                                           std::exception_ptr error) {
    Slot& slot = slot_of(worker);
    // Room for every child, a resumed group member and every task with a rule (a failure
    // may meet the rules of tasks below it), so the stores below never grow it.
    const std::size_t most = g_.children_of(task).size() + 1 + rule_tasks_;
    if (slot.ready.size() < most) grow_ready(slot, most);
    ReadyBuffer buffer{slot.ready.data()};
    end_into(slot, task, worker, std::move(error), buffer);
    return {slot.ready.data(), buffer.count};
  }

  /// end(), handing each task that became ready to `queue.push(task)` as it is found. With
  /// Threads::many, `queue` must be private to the caller until this returns: a task another
  /// worker took before settle() counted it could end first and let the run finish early.
  template <class Queue>
  TASKMAP_DETAIL_ALWAYS_INLINE void end(TaskId task, std::size_t worker, std::exception_ptr error,
                                        Queue&& queue) {
    end_into(slot_of(worker), task, worker, std::move(error), queue);
  }

  /// A started task leaves the run without ending: it is pending again, so the run's end
  /// marks it cancelled (a stop request cancelled its continuation's named task).
  void cancel_started(TaskId task) {
    set_status(task, TaskStatus::pending, std::memory_order_relaxed);
    drop(task, true);
  }

  RunSummary finish() {
    finished_ = true;
    add_counts(first_slot_);
    for (const std::unique_ptr<Slot>& slot : more_slots_) {
      if (slot) add_counts(*slot);
    }
    cancel_pending(g_, options_, [&](TaskId task) {
      ++summary_.cancelled;
      emit(EventKind::cancelled, task, 0);
    });
    // The run's records are made durable before it reports its end. A store that cannot
    // write them fails the run after its observers have seen it end, unless raise_errors
    // throws first: the tasks' own outcomes stay in the graph either way.
    std::exception_ptr store_error;
    if (stored_ != nullptr) {
      store_error = stored_->error();  // the store failed to answer for a task (it ran)
      try {
        options_.store->end_run();
      } catch (...) {
        if (!store_error) store_error = std::current_exception();
      }
    }
    summary_.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now() - start_);
    if (observer_error_) {
      events_.run_finished(summary_, true);
      std::rethrow_exception(observer_error_);
    }
    events_.run_finished(summary_);
    finish_run(g_, options_, first_failure_.load(std::memory_order_relaxed));
    if (store_error) std::rethrow_exception(store_error);
    return summary_;
  }

 private:
  using Lock = std::conditional_t<kMany, std::mutex, NoLock>;
  using Count = std::conditional_t<kMany, std::atomic<std::size_t>, std::size_t>;

  // Where end() writes the tasks it returns as a span: room was made beforehand.
  struct ReadyBuffer {
    TaskId* tasks;
    std::size_t count = 0;
    TASKMAP_DETAIL_ALWAYS_INLINE void push(TaskId task) noexcept { tasks[count++] = task; }
  };

  struct alignas(kCacheLine) Slot {
    std::vector<const T*> inputs;
    std::vector<TaskId> ready;  // end()'s result: its first entries, never shrunk
    std::vector<TaskId> stack;
    std::size_t succeeded = 0;
    std::size_t failed = 0;
    std::size_t skipped = 0;
    std::size_t up_to_date = 0;
    FactsBuffer facts;        // with a store: what the worker's current task was fed
    std::vector<TaskId> met;  // tasks whose rules a failure met, to be queued
  };

  struct GroupState {
    Lock mutex;
    std::size_t running = 0;
    std::size_t max_concurrency = 1;
    std::deque<TaskId> parked;
  };

  // The one body of both end()s; `slot` is worker `worker`'s, looked up once by the caller.
  // Groups and stores are checked once per task, in one flag: runs with neither (most) pay
  // one branch for both.
  template <class Queue>
  TASKMAP_DETAIL_ALWAYS_INLINE void end_into(Slot& slot, TaskId task, std::size_t worker,
                                             std::exception_ptr error, Queue& queue) {
    if (special_) [[unlikely]] {
      end_special(slot, task, worker, std::move(error), queue);
    } else {
      end_body<false>(slot, task, worker, std::move(error), queue);
    }
  }

  template <class Queue>
  TASKMAP_DETAIL_NOINLINE void end_special(Slot& slot, TaskId task, std::size_t worker,
                                           std::exception_ptr error, Queue& queue) {
    end_body<true>(slot, task, worker, std::move(error), queue);
  }

  // The one body of ending a task. kSpecial: the run has groups or a store — the task leaves
  // its group (which may resume a parked member), and, with a store, one taken from its
  // record is counted as up to date, one that ran and returned is recorded (which fails it
  // when its targets are missing or its value cannot be encoded).
  template <bool kSpecial, class Queue>
  TASKMAP_DETAIL_ALWAYS_INLINE void end_body(Slot& slot, TaskId task, std::size_t worker,
                                             std::exception_ptr error, Queue& queue) {
    // A task that returned a Continue<T> ends when its continuation does: the signal comes
    // as an error, so a task that returned a value pays nothing here.
    if (error) [[unlikely]] {
      if (!end_continued(task, error)) return;
    }
    TaskId resumed = no_task;
    bool from_record = false;
    if constexpr (kSpecial) {
      resumed = leave_group(task, true);
      if (stored_ != nullptr) {
        from_record = stored_->reused(task);
        if (!from_record) error = end_stored(slot, task, std::move(error));
      }
    }
    std::size_t ready = 0;
    if (!error) {
      set_status(task, TaskStatus::done, std::memory_order_release);
      if (!from_record) {
        ++slot.succeeded;
        emit(EventKind::finished, task, worker);
      } else {
        ++slot.up_to_date;
      }
      for (const TaskId child : g_.children_of(task)) {
        if constexpr (kSpecial) {
          if (g_.has_rule(child)) {
            // A success never makes a rule unmet.
            if (tally_.count<kMany>(g_, child, true) == RuleTurn::met) {
              ++ready;
              queue.push(child);
              emit(EventKind::queued, child, worker);
            }
            continue;
          }
        }
        if (release_one_dependency(child)) {
          ++ready;
          queue.push(child);
          emit(EventKind::queued, child, worker);
        }
      }
    } else {
      record_failure(slot, task, worker, error);
      if constexpr (kSpecial) {
        for (const TaskId met : slot.met) {
          ++ready;
          queue.push(met);
          emit(EventKind::queued, met, worker);
        }
        slot.met.clear();
      }
    }
    settle(ready);
    if constexpr (kSpecial) {
      if (resumed != no_task) queue.push(resumed);  // already in flight
    }
  }

  // `error` ended `task`: when it is a continuation's signal, runs the continuation here, to
  // its end, and leaves the outcome in `error` (null: the value is stored) and the task's
  // result. False when a stop request cancelled the continuation: the task is then pending
  // again and has left the run. Its group place is held while the continuation runs.
  // A ContinuationCancelled (the continuation ran, and was cancelled, in another process)
  // ends the task the same way.
  TASKMAP_DETAIL_NOINLINE bool end_continued(TaskId task, std::exception_ptr& error) {
    bool cancelled_elsewhere = false;
    const std::shared_ptr<ContinuationChain<T>> chain =
        continuation_of<T>(error, cancelled_elsewhere);
    if (chain == nullptr && !cancelled_elsewhere) return true;  // a real failure
    if (cancelled_elsewhere && !options_.stop_token.stop_requested()) {
      // Cancelled by a stop this run was not asked for (another MPI rank's own token): a
      // task left pending would be counted nowhere, so it fails instead.
      error = std::make_exception_ptr(
          Error("task '" + g_.names[task] +
                "': a stop request where it ran cancelled its continuation, though this run "
                "was not asked to stop"));
      return true;
    }
    error = nullptr;
    if (chain != nullptr && chain->run(g_.name, g_.names[task], options_.stop_token,
                                       g_.results[task], error) != ContinuationEnd::cancelled) {
      return true;
    }
    cancel_started(task);
    return false;
  }

  // Worker `worker`'s slot. Only worker 0's is made with the run: a pool's run may see any
  // of 256 worker ids but usually uses a few, so the others are made when first used.
  TASKMAP_DETAIL_ALWAYS_INLINE Slot& slot_of(std::size_t worker) {
    if (worker == 0) return first_slot_;
    std::unique_ptr<Slot>& slot = more_slots_[worker - 1];
    if (!slot) [[unlikely]]
      slot = std::make_unique<Slot>();
    return *slot;
  }

  void add_counts(const Slot& slot) noexcept {
    summary_.succeeded += slot.succeeded;
    summary_.failed += slot.failed;
    summary_.skipped += slot.skipped;
    summary_.up_to_date += slot.up_to_date;
  }

  void set_status(TaskId task, TaskStatus status, std::memory_order order) noexcept {
    if constexpr (kMany) {
      std::atomic_ref<TaskStatus>(g_.status[task]).store(status, order);
    } else {
      static_cast<void>(order);
      g_.status[task] = status;
    }
  }

  // True when `child`'s last unfinished dependency just finished.
  bool release_one_dependency(TaskId child) noexcept {
    if constexpr (kMany) {
      std::atomic_ref<std::uint32_t> waiting(waiting_[child]);
      // The last dependency to finish sees 1 and needs no read-modify-write.
      return waiting.load(std::memory_order_acquire) == 1 ||
             waiting.fetch_sub(1, std::memory_order_acq_rel) == 1;
    } else {
      return --waiting_[child] == 0;
    }
  }

  [[nodiscard]] bool reused(TaskId task) const noexcept {
    return stored_ != nullptr && stored_->reused(task);
  }

  // The values fed to `task` in a run with groups, a store or rules: a task with a rule is
  // fed null for each dependency that did not succeed.
  void gather_special(TaskId task, std::vector<const T*>& inputs) const {
    if (g_.has_rule(task)) {
      gather_inputs_after_rule(g_, task, inputs);
    } else {
      gather_inputs(g_, task, inputs);
    }
  }

  // start() after the task was admitted and marked running: observers see it start. False
  // when an observer threw: the task is as if never started.
  TASKMAP_DETAIL_ALWAYS_INLINE bool announce_start(TaskId task, std::size_t worker) {
    if (!emit(EventKind::started, task, worker)) [[unlikely]] {
      set_status(task, TaskStatus::pending, std::memory_order_relaxed);
      drop(task, true);
      return false;
    }
    return true;
  }

  // start() in a run with groups or a store: the task waits for a place in its group, and a
  // task whose record is valid takes its value and ends without running (invoke() does
  // nothing for it, end() does not record it).
  TASKMAP_DETAIL_NOINLINE bool start_special(TaskId task, std::size_t worker) {
    if (!admit(task)) return false;  // parked in its group, still in flight
    set_status(task, TaskStatus::running, std::memory_order_relaxed);
    if (stored_ != nullptr && stored_->reuse(task, slot_of(worker).facts)) {
      emit(EventKind::up_to_date, task, worker);
      return true;
    }
    return announce_start(task, worker);
  }

  // A task ran and returned in a run with a store: it is recorded, which fails it when
  // its targets are missing or its value cannot be encoded. One taken from its record
  // (reused) is not recorded again.
  TASKMAP_DETAIL_NOINLINE std::exception_ptr end_stored(Slot& slot, TaskId task,
                                                        std::exception_ptr error) {
    if (error) return error;
    try {
      stored_->record(task, slot.facts);
    } catch (...) {
      stored_->forget_value(task);
      return std::current_exception();
    }
    return nullptr;
  }

  TASKMAP_DETAIL_NOINLINE static void grow_ready(Slot& slot, std::size_t size) {
    slot.ready.resize(std::max(size, 2 * slot.ready.size()));
  }

  // The one place a failure is recorded: its error, status and count, the run's first
  // failure, the event, the dependents it dooms, and fail_fast.
  TASKMAP_DETAIL_NOINLINE void record_failure(Slot& slot, TaskId task, std::size_t worker,
                                              std::exception_ptr& error) {
    g_.results[task].reset();
    g_.errors[task] = std::move(error);
    set_status(task, TaskStatus::failed, std::memory_order_release);
    ++slot.failed;
    TaskId none = no_task;
    first_failure_.compare_exchange_strong(none, task, std::memory_order_relaxed);
    emit(EventKind::failed, task, worker, &g_.errors[task]);
    skip_dependents<kMany>(
        g_, task, ancestor_error(g_, task), slot.stack, tally_,
        [&](TaskId skipped) {
          ++slot.skipped;
          emit(EventKind::skipped, skipped, worker, &g_.errors[skipped]);
        },
        [&](TaskId met) { slot.met.push_back(met); });
    if (options_.fail_fast) halt_.store(true, std::memory_order_relaxed);
  }

  // True when `task` may start now; otherwise it is parked in its group until a member ends.
  bool admit(TaskId task) { return groups_.empty() || admit_to_group(task); }

  TASKMAP_DETAIL_NOINLINE bool admit_to_group(TaskId task) {
    const GroupId group = g_.group_of[task];
    if (group == kNoGroup) return true;
    GroupState& state = groups_[group];
    std::lock_guard lock(state.mutex);
    if (state.running < state.max_concurrency) {
      ++state.running;
      return true;
    }
    state.parked.push_back(task);
    return false;
  }

  // A group member is done with the group: it frees its place if it held one, then, if the
  // group has a free place and parked members, returns one of them to be queued again (it
  // is still in flight); else no_task. Keeps the invariant that a group with a free place
  // has no parked members.
  TaskId leave_group(TaskId task, bool held_place) {
    return groups_.empty() ? no_task : leave_group_slow(task, held_place);
  }

  TASKMAP_DETAIL_NOINLINE TaskId leave_group_slow(TaskId task, bool held_place) {
    const GroupId group = g_.group_of[task];
    if (group == kNoGroup) return no_task;
    GroupState& state = groups_[group];
    std::lock_guard lock(state.mutex);
    if (held_place) --state.running;
    if (state.running >= state.max_concurrency || state.parked.empty()) return no_task;
    const TaskId next = state.parked.front();
    state.parked.pop_front();
    return next;
  }

  // `task` leaves the run without running (the run is stopping). The group turn it held or
  // was handed goes on to the next parked member, which cannot run either.
  void drop(TaskId task, bool held_place) {
    TaskId next = leave_group(task, held_place);
    settle(0);
    while (next != no_task) {
      const TaskId after = leave_group(next, false);
      settle(0);
      next = after;
    }
  }

  // One task leaves the run: in_flight goes down by one, plus `added` new ones.
  void settle(std::size_t added) noexcept {
    if (added == 1) return;
    if constexpr (kMany) {
      if (added > 1) {
        in_flight_.fetch_add(added - 1, std::memory_order_seq_cst);
      } else {
        in_flight_.fetch_sub(1, std::memory_order_seq_cst);
      }
    } else {
      in_flight_ = in_flight_ + added - 1;
    }
  }

  // The one place an event is sent. False when an observer threw: its exception ends the
  // run (no new task starts) and finish() rethrows the first one.
  // The check stays inline on every task's path; the call to the observers does not.
  bool emit(EventKind kind, TaskId task, std::size_t worker,
            const std::exception_ptr* error = nullptr) noexcept {
    return !observed_ || emit_observed(kind, task, worker, error);
  }

  TASKMAP_DETAIL_NOINLINE bool emit_observed(EventKind kind, TaskId task, std::size_t worker,
                                             const std::exception_ptr* error) noexcept {
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

  std::chrono::steady_clock::time_point start_;
  GraphState<T>& g_;
  const RunOptions& options_;
  RunGuard<T> guard_;
  EventSink events_;
  const bool observed_;  // checked once: most runs have no observers
  const bool ordered_;
  bool special_ = false;  // the run has groups or a store: checked once per start and end
  // Both left uninitialised: prepare_run writes every entry it hands out in one pass.
  std::unique_ptr<TaskId[]> first_ready_{new TaskId[g_.size()]};
  std::size_t first_ready_count_ = 0;
  std::unique_ptr<std::uint32_t[]> waiting_{new std::uint32_t[g_.size()]};
  Slot first_slot_;
  std::vector<std::unique_ptr<Slot>> more_slots_;  // workers 1, 2, ...: each touches its own
  std::vector<GroupState> groups_;
  std::unique_ptr<StoredRun<T>> stored_;  // only in a run with a store
  TriggerTally tally_;                    // only in a run of a graph with trigger rules
  std::size_t rule_tasks_ = 0;            // tasks with a rule other than all_success
  RunSummary summary_;
  bool finished_ = false;
  alignas(kCacheLine) Count in_flight_{0};
  alignas(kCacheLine) std::atomic<bool> halt_{false};
  std::atomic<TaskId> first_failure_{no_task};
  Lock observer_error_mutex_;
  std::exception_ptr observer_error_;
};

}  // namespace taskmap::detail
