#pragma once
// TimerService: one thread that resumes coroutines at their deadlines by posting them to
// their scheduler. Used by the coroutine pool, whose workers must not sleep on timers.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "taskmap/detail/scheduler.hpp"
#include "taskmap/detail/timer_heap.hpp"

namespace taskmap::detail {

/// A template only so that its code is compiled in the programs that use it.
template <class = void>
class BasicTimerService {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  BasicTimerService() = default;
  BasicTimerService(const BasicTimerService&) = delete;
  BasicTimerService& operator=(const BasicTimerService&) = delete;
  ~BasicTimerService() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  /// Posts `handle` to `target` at `deadline`. Any thread.
  void schedule_at(time_point deadline, std::coroutine_handle<> handle, Scheduler& target) {
    {
      std::lock_guard lock(mutex_);
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
      timers_.push(deadline, handle, &target);
    }
    cv_.notify_one();
  }

 private:
  using Timers = TimerHeap<Scheduler*>;

  void loop() {
    std::unique_lock lock(mutex_);
    std::vector<Timers::Timer> due;
    while (!stopping_) {
      if (timers_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const time_point now = std::chrono::steady_clock::now();
      if (const time_point next = timers_.next_deadline(); next > now) {
        cv_.wait_until(lock, next);  // a copy: wait_until reads it again after waking
        continue;
      }
      timers_.pop_due(now, [&](const Timers::Timer& timer) { due.push_back(timer); });
      lock.unlock();
      for (const Timers::Timer& timer : due) timer.target->schedule_remote(timer.handle);
      due.clear();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  Timers timers_;
  bool stopping_ = false;
  std::thread thread_;
};

/// One thread that resumes coroutines at their deadlines (see BasicTimerService).
using TimerService = BasicTimerService<>;

}  // namespace taskmap::detail
