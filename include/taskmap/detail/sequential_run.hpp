#pragma once
// The run skeleton of the single-threaded executors (SequentialExecutor, CoroutineExecutor):
// preparing the graph, the ready queue in start order, recording how each task ended
// (skipping the dependents of a failure, readying the others), and ending the run.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <vector>

#include "taskmap/detail/events.hpp"
#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/run_state.hpp"
#include "taskmap/observer.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/run_summary.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap::detail {

/// Ready tasks in start order. Without io_bound or priority hints it is a plain FIFO;
/// with them a heap ordered by (io_bound, priority, arrival).
class SequentialReadyQueue {
 public:
  template <class T>
  SequentialReadyQueue(const GraphState<T>& graph, std::size_t capacity)
      : io_bound_(graph.io_bound), priority_(graph.priority), ordered_(graph.has_order_hints()) {
    // Each task is queued at most once per run: pushing never reallocates.
    if (!ordered_) {
      fifo_.reserve(capacity);
    } else {
      heap_.reserve(capacity);
    }
  }

  void push(std::uint32_t task) {
    if (!ordered_) {
      fifo_.push_back(task);
    } else {
      heap_.push_back(Entry{task, arrival_++});
      std::push_heap(heap_.begin(), heap_.end(), Later{this});
    }
  }

  [[nodiscard]] bool empty() const noexcept {
    return ordered_ ? heap_.empty() : head_ == fifo_.size();
  }

  std::uint32_t pop() {
    if (!ordered_) return fifo_[head_++];
    std::pop_heap(heap_.begin(), heap_.end(), Later{this});
    const std::uint32_t task = heap_.back().task;
    heap_.pop_back();
    return task;
  }

  /// Takes everything still queued.
  template <class F>
  void drain(F&& f) {
    while (!empty()) f(pop());
  }

 private:
  struct Entry {
    std::uint32_t task;
    std::uint64_t arrival;
  };
  // Heap comparator: true when a should start after b.
  struct Later {
    const SequentialReadyQueue* queue;
    bool operator()(const Entry& a, const Entry& b) const noexcept {
      const auto& io = queue->io_bound_;
      const auto& prio = queue->priority_;
      if (io[a.task] != io[b.task]) return io[a.task] < io[b.task];
      if (prio[a.task] != prio[b.task]) return prio[a.task] < prio[b.task];
      return a.arrival > b.arrival;
    }
  };

  const std::vector<std::uint8_t>& io_bound_;
  const std::vector<int>& priority_;
  bool ordered_;
  std::vector<std::uint32_t> fifo_;
  std::size_t head_ = 0;
  std::vector<Entry> heap_;
  std::uint64_t arrival_ = 0;
};

/// One run of one graph on one thread. The executor pops tasks with start_next(), calls
/// them, and reports with succeeded() or failed(); an observer's exception stops the run
/// (no task starts after it) and is rethrown by finish().
template <class T>
class SequentialRun {
 public:
  SequentialRun(GraphState<T>& graph, const RunOptions& options)
      : g_(graph),
        options_(options),
        guard_(graph),
        events_(options.observers, graph.name, graph.names),
        observed_(events_.active()),
        ready_(graph, graph.size()) {
    events_.run_started(g_.status, 1);
    std::vector<std::uint32_t> initial;
    prepare_run(g_, waiting_, initial, [&](std::uint32_t task) { on_skip(task); });
    for (const std::uint32_t task : initial) {
      ready_.push(task);
      if (observed_) emit(EventKind::queued, task);
    }
  }

  /// True when a task may start now: one is ready and nothing asked to stop.
  [[nodiscard]] bool can_start() const noexcept {
    return !ready_.empty() && !halted_ && !options_.stop_token.stop_requested();
  }

  /// Takes the next ready task and marks it running; returns kNone if an observer refused
  /// it (the run then halts). `inputs` receives the values fed to it. Precondition: can_start().
  std::uint32_t start_next(std::vector<const T*>& inputs) {
    const std::uint32_t task = ready_.pop();
    g_.status[task] = TaskStatus::running;
    if (observed_ && !emit(EventKind::started, task)) {
      g_.status[task] = TaskStatus::pending;  // as if never started
      return kNone;
    }
    gather_inputs(g_, task, inputs);
    return task;
  }

  /// Records that `task` finished with its value stored, and readies its dependents.
  void succeeded(std::uint32_t task) noexcept {
    g_.status[task] = TaskStatus::done;
    ++summary_.succeeded;
    if (observed_) emit(EventKind::finished, task);
    for (const std::uint32_t child : g_.children_of(task)) {
      if (--waiting_[child] == 0) {
        ready_.push(child);
        if (observed_) emit(EventKind::queued, child);
      }
    }
  }

  /// Records that `task` threw `error` (moved from), and skips its dependents.
  void failed(std::uint32_t task, std::exception_ptr& error) noexcept {
    g_.results[task].reset();
    g_.errors[task] = std::move(error);
    g_.status[task] = TaskStatus::failed;
    ++summary_.failed;
    if (first_failure_ == kNone) first_failure_ = task;
    if (observed_) emit(EventKind::failed, task, &g_.errors[task]);
    skip_dependents(g_, task, ancestor_error(g_, task), waiting_, scratch_,
                    [&](std::uint32_t skipped) { on_skip(skipped); });
    if (options_.fail_fast) halted_ = true;
  }

  /// Ends the run: cancels what a stop left unstarted, reports the end, and throws an
  /// observer's exception, or TaskError with raise_errors.
  RunSummary finish(std::chrono::steady_clock::time_point start) {
    cancel_pending(g_, options_, [&](std::uint32_t task) {
      ++summary_.cancelled;
      if (observed_) emit(EventKind::cancelled, task);
    });
    summary_.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now() - start);
    if (observer_error_) {
      events_.run_finished(summary_, true);
      std::rethrow_exception(observer_error_);
    }
    events_.run_finished(summary_);
    finish_run(g_, options_, first_failure_);
    return summary_;
  }

  static constexpr std::uint32_t kNone = UINT32_MAX;

 private:
  void on_skip(std::uint32_t task) noexcept {
    ++summary_.skipped;
    if (observed_) emit(EventKind::skipped, task, &g_.errors[task]);
  }

  // False when an observer threw: the run halts and finish() rethrows the first exception.
  // The queue itself never throws here: it was reserved for every task.
  bool emit(EventKind kind, std::uint32_t task,
            const std::exception_ptr* error = nullptr) noexcept {
    try {
      events_.emit(kind, task, 0, error);
      return true;
    } catch (...) {
      if (!observer_error_) observer_error_ = std::current_exception();
      halted_ = true;
      return false;
    }
  }

  GraphState<T>& g_;
  const RunOptions& options_;
  RunGuard<T> guard_;
  EventSink events_;
  const bool observed_;  // checked once: most runs have no observers
  SequentialReadyQueue ready_;
  std::vector<std::uint32_t> waiting_;
  std::vector<std::uint32_t> scratch_;
  RunSummary summary_;
  std::uint32_t first_failure_ = kNone;
  bool halted_ = false;
  std::exception_ptr observer_error_;
};

}  // namespace taskmap::detail
