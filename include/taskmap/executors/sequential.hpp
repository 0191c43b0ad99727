#pragma once
/// @file executors/sequential.hpp
/// SequentialExecutor and run(): every task on the calling thread.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <queue>
#include <vector>

#include "taskmap/detail/events.hpp"
#include "taskmap/detail/run_state.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap {

/// Runs a graph on the calling thread, one task at a time: io_bound tasks first, then higher
/// priority, then in the order tasks became ready. Holds no state between runs.
/// Thread safety: one object may run several graphs concurrently from different threads.
class SequentialExecutor {
 public:
  /// Runs every pending (or cancelled) task of `graph` whose ancestors have not failed.
  /// Throws: TaskError with `raise_errors`; Error if the graph is already running;
  /// anything an observer throws.
  template <class T>
  RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {}) const;
};

static_assert(Executor<SequentialExecutor>);

/// Runs `graph` on the calling thread with a SequentialExecutor.
template <class T>
RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {}) {
  return SequentialExecutor{}.run(graph, options);
}

// ---------------------------------------------------------------------------------------
// Implementation

namespace detail {

/// Ready tasks in start order. Without io_bound or priority hints it is a plain FIFO;
/// with them a heap ordered by (io_bound, priority, arrival).
class SequentialReadyQueue {
 public:
  template <class T>
  SequentialReadyQueue(const GraphState<T>& graph, std::size_t capacity)
      : io_bound_(graph.io_bound), priority_(graph.priority), ordered_(graph.has_order_hints()) {
    if (!ordered_) fifo_.reserve(capacity);
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

}  // namespace detail

template <class T>
RunSummary SequentialExecutor::run(TaskGraph<T>& graph, const RunOptions& options) const {
  const auto start = std::chrono::steady_clock::now();
  detail::GraphState<T>& g = detail::GraphAccess::state(graph);
  detail::RunGuard<T> guard(g);
  detail::EventSink events(options.observers, g.name, g.names);
  events.run_started(g.status, 1);
  const bool observed = events.active();  // checked once: most runs have no observers
  RunSummary summary;
  auto on_skip = [&](std::uint32_t task) {
    ++summary.skipped;
    events.emit(EventKind::skipped, task, 0, &g.errors[task]);
  };

  std::vector<std::uint32_t> waiting;
  std::vector<std::uint32_t> initial;
  detail::prepare_run(g, waiting, initial, on_skip);
  detail::SequentialReadyQueue ready(g, g.size());
  for (const std::uint32_t task : initial) {
    ready.push(task);
    events.emit(EventKind::queued, task, 0);
  }

  std::vector<const T*> inputs;
  std::vector<std::uint32_t> scratch;
  std::uint32_t first_failure = UINT32_MAX;
  while (!ready.empty()) {
    if (options.stop_token.stop_requested()) break;
    const std::uint32_t task = ready.pop();
    g.status[task] = TaskStatus::running;
    if (observed) events.emit(EventKind::started, task, 0);
    detail::gather_inputs(g, task, inputs);
    Context ctx(g.name, g.names[task], options.stop_token, 0);
    try {
      g.funcs[task].invoke(ctx, inputs, g.results[task]);
    } catch (...) {
      g.results[task].reset();
      g.errors[task] = std::current_exception();
      g.status[task] = TaskStatus::failed;
      ++summary.failed;
      if (first_failure == UINT32_MAX) first_failure = task;
      events.emit(EventKind::failed, task, 0, &g.errors[task]);
      detail::skip_dependents(g, task, detail::ancestor_error(g, task), waiting, scratch, on_skip);
      if (options.fail_fast) break;
      continue;
    }
    g.status[task] = TaskStatus::done;
    ++summary.succeeded;
    if (observed) events.emit(EventKind::finished, task, 0);
    for (const std::uint32_t child : g.children_of(task)) {
      if (--waiting[child] == 0) {
        ready.push(child);
        if (observed) events.emit(EventKind::queued, child, 0);
      }
    }
  }

  detail::cancel_pending(g, options, [&](std::uint32_t task) {
    ++summary.cancelled;
    events.emit(EventKind::cancelled, task, 0);
  });
  summary.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now() - start);
  events.run_finished(summary);
  detail::finish_run(g, options, first_failure);
  return summary;
}

}  // namespace taskmap
