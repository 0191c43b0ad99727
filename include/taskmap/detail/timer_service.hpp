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

namespace taskmap::detail {

class TimerService {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  TimerService() = default;
  TimerService(const TimerService&) = delete;
  TimerService& operator=(const TimerService&) = delete;
  ~TimerService() {
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
      timers_.push_back(Timer{deadline, next_++, handle, &target});
      std::push_heap(timers_.begin(), timers_.end(), Later{});
    }
    cv_.notify_one();
  }

 private:
  struct Timer {
    time_point deadline;
    std::uint64_t order;
    std::coroutine_handle<> handle;
    Scheduler* target;
  };
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const noexcept {
      return a.deadline != b.deadline ? a.deadline > b.deadline : a.order > b.order;
    }
  };

  void loop() {
    std::unique_lock lock(mutex_);
    std::vector<Timer> due;
    while (!stopping_) {
      if (timers_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const time_point now = std::chrono::steady_clock::now();
      if (const time_point next = timers_.front().deadline; next > now) {
        // A copy: wait_until reads its deadline after waking, and a push_back meanwhile
        // may have moved the vector's elements.
        cv_.wait_until(lock, next);
        continue;
      }
      while (!timers_.empty() && timers_.front().deadline <= now) {
        std::pop_heap(timers_.begin(), timers_.end(), Later{});
        due.push_back(timers_.back());
        timers_.pop_back();
      }
      lock.unlock();
      for (const Timer& timer : due) timer.target->schedule_remote(timer.handle);
      due.clear();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Timer> timers_;
  std::uint64_t next_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace taskmap::detail
