#pragma once
// EventLoop: a single-threaded scheduler for coroutine tasks (ready queue, timer heap, and a
// locked inbox for resumptions posted from other threads).
// Waiting is event-driven: the loop sleeps on a condition variable until the next timer is
// due or another thread posts a resumption; it never polls.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

#include "taskmap/detail/scheduler.hpp"
#include "taskmap/detail/timer_heap.hpp"

namespace taskmap::detail {

/// A template only so that its code is compiled in the programs that run coroutines.
template <class = void>
class BasicEventLoop final : public Scheduler {
 public:
  BasicEventLoop() = default;
  BasicEventLoop(const BasicEventLoop&) = delete;
  BasicEventLoop& operator=(const BasicEventLoop&) = delete;

  /// Queues `handle` from the loop's own thread (also before the loop runs).
  void post(std::coroutine_handle<> handle) { ready_.push_back(handle); }

  void schedule(std::coroutine_handle<> handle) override {
    if (current_scheduler == this) {
      ready_.push_back(handle);
    } else {
      schedule_remote(handle);
    }
  }

  void schedule_remote(std::coroutine_handle<> handle) override {
    // Notify under the lock: once it is released the loop may finish and be destroyed.
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(handle);
    inbox_pending_.store(true, std::memory_order_release);
    inbox_cv_.notify_one();
  }

  void schedule_at(time_point deadline, std::coroutine_handle<> handle) override {
    timers_.push(deadline, handle);
  }

  /// True when nothing is queued here: no ready coroutine, no timer.
  [[nodiscard]] bool empty() const noexcept { return ready_.empty() && timers_.empty(); }

  /// One round: takes posted resumptions, fires due timers, resumes the coroutines ready now.
  /// With `block`, first sleeps until a timer is due or another thread posts, if nothing is
  /// ready. Must run on the loop's thread.
  void run_once(bool block) {
    SchedulerScope scope(this);
    take_inbox();
    fire_due_timers();
    if (ready_.empty() && block) {
      wait_for_event();
      take_inbox();
      fire_due_timers();
    }
    for (std::size_t n = ready_.size(); n > 0 && !ready_.empty(); --n) {
      const std::coroutine_handle<> handle = ready_.front();
      ready_.pop_front();
      handle.resume();
    }
  }

 private:
  struct Here {};  // timers of a loop resume on the loop

  void take_inbox() {
    if (!inbox_pending_.load(std::memory_order_acquire)) return;
    std::lock_guard lock(inbox_mutex_);
    for (const auto handle : inbox_) ready_.push_back(handle);
    inbox_.clear();
    inbox_pending_.store(false, std::memory_order_relaxed);
  }

  void fire_due_timers() {
    if (timers_.empty()) return;
    timers_.pop_due(std::chrono::steady_clock::now(),
                    [this](const auto& timer) { ready_.push_back(timer.handle); });
  }

  void wait_for_event() {
    std::unique_lock lock(inbox_mutex_);
    auto posted = [this] { return !inbox_.empty(); };
    if (timers_.empty()) {
      inbox_cv_.wait(lock, posted);
    } else {
      inbox_cv_.wait_until(lock, timers_.next_deadline(), posted);
    }
  }

  std::deque<std::coroutine_handle<>> ready_;
  TimerHeap<Here> timers_;
  std::mutex inbox_mutex_;
  std::condition_variable inbox_cv_;
  std::vector<std::coroutine_handle<>> inbox_;
  std::atomic<bool> inbox_pending_{false};
};

/// A single-threaded scheduler for coroutine tasks (see BasicEventLoop).
using EventLoop = BasicEventLoop<>;

}  // namespace taskmap::detail
