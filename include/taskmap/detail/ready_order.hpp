#pragma once
// The ready order, written once: among tasks that could start, io_bound ones first, then
// higher priority; ties go to the task that became ready first (TaskGraph::ready_tasks, which
// knows no arrival, breaks them by name). ReadyTasks keeps ready tasks in that order for
// every executor that queues them in one place.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "taskmap/detail/huge_pages.hpp"
#include "taskmap/detail/inlining.hpp"
#include "taskmap/detail/task_id.hpp"

namespace taskmap::detail {

/// The graph's order hints, viewed: what decides which ready task starts first.
struct OrderHints {
  const std::vector<std::uint8_t>* io_bound;
  const std::vector<int>* priority;

  /// Negative when `a` starts before `b` by the hints, positive when after, 0 on a tie.
  [[nodiscard]] int compare(TaskId a, TaskId b) const noexcept {
    const std::uint8_t io_a = (*io_bound)[a];
    const std::uint8_t io_b = (*io_bound)[b];
    if (io_a != io_b) return io_a > io_b ? -1 : 1;
    const int prio_a = (*priority)[a];
    const int prio_b = (*priority)[b];
    if (prio_a != prio_b) return prio_a > prio_b ? -1 : 1;
    return 0;
  }
};

/// Ready tasks in start order. Without hints it is a plain FIFO; with them a heap ordered
/// by (io_bound, priority, arrival). Not synchronised.
class ReadyTasks {
 public:
  ReadyTasks(OrderHints hints, bool ordered, std::size_t capacity)
      : hints_(hints), ordered_(ordered) {
    // Most runs queue each task once: pushing then never reallocates.
    if (ordered_) {
      heap_.reserve(capacity);
    } else {
      // Left uninitialised: zeroing it would be one more pass over a big graph per run.
      capacity_ = std::max<std::size_t>(capacity, 1);
      fifo_.reset(new TaskId[capacity_]);
      advise_huge_pages(fifo_.get(), capacity_ * sizeof(TaskId));
    }
  }

  /// A queue that starts with `tasks[0, count)`, taking over their buffer (room for
  /// `capacity` tasks) as its FIFO when it has no hints: no second buffer, no copy.
  ReadyTasks(OrderHints hints, bool ordered, std::unique_ptr<TaskId[]> tasks, std::size_t count,
             std::size_t capacity)
      : hints_(hints), ordered_(ordered) {
    if (ordered_) {
      heap_.reserve(capacity);
      push(std::span<const TaskId>(tasks.get(), count));
    } else {
      fifo_ = std::move(tasks);
      capacity_ = capacity;
      tail_ = count;
    }
  }

  TASKMAP_DETAIL_ALWAYS_INLINE void push(TaskId task) {
    if (!ordered_) {
      // A plain store on the per-task path; growing is rare (a parked group member queued
      // again) and stays out of line.
      if (tail_ == capacity_) grow_fifo(1);
      fifo_[tail_++] = task;
      return;
    }
    heap_.push_back(Entry{task, arrival_++});
    std::push_heap(heap_.begin(), heap_.end(), Later{hints_});
  }

  TASKMAP_DETAIL_ALWAYS_INLINE void push(std::span<const TaskId> tasks) {
    if (!ordered_) {
      // One room check per batch: the copy below then only stores.
      if (capacity_ - tail_ < tasks.size()) grow_fifo(tasks.size());
      TaskId* out = fifo_.get() + tail_;
      for (const TaskId task : tasks) *out++ = task;
      tail_ += tasks.size();
      return;
    }
    for (const TaskId task : tasks) push(task);
  }

  [[nodiscard]] bool empty() const noexcept { return ordered_ ? heap_.empty() : head_ == tail_; }

  [[nodiscard]] std::size_t size() const noexcept {
    return ordered_ ? heap_.size() : tail_ - head_;
  }

  [[nodiscard]] bool by_hints() const noexcept { return ordered_; }

  /// The next task to start, or no_task when empty.
  TASKMAP_DETAIL_ALWAYS_INLINE TaskId pop() noexcept {
    if (!ordered_) {
      if (head_ == tail_) return no_task;
      const TaskId task = fifo_[head_++];
      if (head_ == tail_) head_ = tail_ = 0;  // empty: a long run reuses the front
      return task;
    }
    if (heap_.empty()) return no_task;
    std::pop_heap(heap_.begin(), heap_.end(), Later{hints_});
    const TaskId task = heap_.back().task;
    heap_.pop_back();
    return task;
  }

 private:
  // Makes room for `more` tasks after the queued ones.
  TASKMAP_DETAIL_NOINLINE void grow_fifo(std::size_t more) {
    const std::size_t capacity = std::max(capacity_ * 2, tail_ - head_ + more);
    std::unique_ptr<TaskId[]> bigger(new TaskId[capacity]);
    std::copy(fifo_.get() + head_, fifo_.get() + tail_, bigger.get());
    tail_ -= head_;
    head_ = 0;
    capacity_ = capacity;
    fifo_ = std::move(bigger);
  }

  struct Entry {
    TaskId task;
    std::uint64_t arrival;
  };
  // Heap comparator: true when a should start after b.
  struct Later {
    OrderHints hints;
    bool operator()(const Entry& a, const Entry& b) const noexcept {
      const int by_hints = hints.compare(a.task, b.task);
      return by_hints != 0 ? by_hints > 0 : a.arrival > b.arrival;
    }
  };

  OrderHints hints_;
  bool ordered_;
  std::unique_ptr<TaskId[]> fifo_;  // queued tasks are fifo_[head_, tail_)
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
  std::vector<Entry> heap_;
  std::uint64_t arrival_ = 0;
};

}  // namespace taskmap::detail
