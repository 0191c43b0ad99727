#pragma once
// The timer heap, written once: coroutines waiting for a deadline, earliest first, and in the
// order they were added when deadlines tie. EventLoop and TimerService each keep one.

#include <algorithm>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <vector>

namespace taskmap::detail {

/// Waiting coroutines by deadline; `Target` is where each is resumed (an empty struct when
/// the owner knows). Not synchronised.
template <class Target>
class TimerHeap {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  struct Timer {
    time_point deadline;
    std::uint64_t order;
    std::coroutine_handle<> handle;
    Target target;
  };

  void push(time_point deadline, std::coroutine_handle<> handle, Target target = {}) {
    timers_.push_back(Timer{deadline, next_++, handle, target});
    std::push_heap(timers_.begin(), timers_.end(), Later{});
  }

  [[nodiscard]] bool empty() const noexcept { return timers_.empty(); }

  /// The earliest deadline, by value: a push may move the heap's elements. Precondition:
  /// not empty.
  [[nodiscard]] time_point next_deadline() const noexcept { return timers_.front().deadline; }

  /// Calls `fire(timer)` for every timer due at `now`, earliest first, and removes it.
  template <class Fire>
  void pop_due(time_point now, Fire&& fire) {
    while (!timers_.empty() && timers_.front().deadline <= now) {
      std::pop_heap(timers_.begin(), timers_.end(), Later{});
      const Timer timer = timers_.back();
      timers_.pop_back();
      fire(timer);
    }
  }

 private:
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const noexcept {
      return a.deadline != b.deadline ? a.deadline > b.deadline : a.order > b.order;
    }
  };

  std::vector<Timer> timers_;
  std::uint64_t next_ = 0;
};

}  // namespace taskmap::detail
