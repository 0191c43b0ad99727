#pragma once
// Where a suspended coroutine task continues. Executors that run coroutine tasks install a
// Scheduler for the thread that resumes them; sleep_for and yield talk to it, and every
// other awaitable is wrapped (ComeBack) so that a resumption from a foreign thread is posted
// back to the scheduler instead of running the task there.

#include <chrono>
#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "taskmap/errors.hpp"

namespace taskmap::detail {

class Scheduler {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Scheduler() = default;
  /// Resumes `handle` soon. Called from a thread this scheduler runs coroutines on.
  virtual void schedule(std::coroutine_handle<> handle) = 0;
  /// Resumes `handle` soon. Called from any thread.
  virtual void schedule_remote(std::coroutine_handle<> handle) = 0;
  /// Resumes `handle` at `deadline` or soon after. Called from a scheduler thread.
  virtual void schedule_at(time_point deadline, std::coroutine_handle<> handle) = 0;
};

/// The scheduler of the coroutine task running on this thread, if any.
inline thread_local Scheduler* current_scheduler = nullptr;

/// Installs a scheduler for the current thread for the lifetime of the scope.
class SchedulerScope {
 public:
  explicit SchedulerScope(Scheduler* scheduler) noexcept
      : previous_(std::exchange(current_scheduler, scheduler)) {}
  SchedulerScope(const SchedulerScope&) = delete;
  SchedulerScope& operator=(const SchedulerScope&) = delete;
  ~SchedulerScope() { current_scheduler = previous_; }

 private:
  Scheduler* previous_;
};

inline Scheduler& require_scheduler(const char* what) {
  if (current_scheduler == nullptr) {
    throw Error(
        fmt::format("{} was awaited outside a coroutine task run by a taskmap executor", what));
  }
  return *current_scheduler;
}

/// Base of awaitables that deal with the scheduler themselves (not wrapped by ComeBack).
struct SchedulerAware {};

/// A coroutine that does nothing but post `target` back to `home` when resumed; handed to
/// foreign awaitables in place of the task's own handle. It frees itself when done.
struct Resumer {
  struct promise_type {
    Resumer get_return_object() noexcept {
      return Resumer{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }  // schedule_remote is noexcept
  };
  std::coroutine_handle<promise_type> handle;
};

inline Resumer resume_on(Scheduler* home, std::coroutine_handle<> target) {
  home->schedule_remote(target);
  co_return;
}

template <class A>
decltype(auto) get_awaiter(A&& awaitable) {
  if constexpr (requires { std::forward<A>(awaitable).operator co_await(); }) {
    return std::forward<A>(awaitable).operator co_await();
  } else if constexpr (requires { operator co_await(std::forward<A>(awaitable)); }) {
    return operator co_await(std::forward<A>(awaitable));
  } else {
    return std::forward<A>(awaitable);
  }
}

/// Wraps a foreign awaitable so its resumption, from whatever thread, continues the task on
/// the scheduler that was running it.
template <class A>
class ComeBack {
  using Stored = std::conditional_t<std::is_lvalue_reference_v<A>, A, std::remove_cvref_t<A>>;
  // The awaiter itself, or a reference to awaitable_ when the awaitable is its own awaiter.
  using Awaiter = decltype(get_awaiter(std::declval<Stored&>()));

 public:
  explicit ComeBack(A&& awaitable)
      : awaitable_(std::forward<A>(awaitable)), awaiter_(get_awaiter(awaitable_)) {}

  bool await_ready() { return awaiter_.await_ready(); }

  std::coroutine_handle<> await_suspend(std::coroutine_handle<> self) {
    Scheduler* home = current_scheduler;
    std::coroutine_handle<> handed = self;
    std::coroutine_handle<> resumer;
    if (home != nullptr) handed = resumer = resume_on(home, self).handle;
    using Result = decltype(awaiter_.await_suspend(handed));
    if constexpr (std::is_void_v<Result>) {
      awaiter_.await_suspend(handed);
      return std::noop_coroutine();
    } else if constexpr (std::is_same_v<Result, bool>) {
      if (awaiter_.await_suspend(handed)) return std::noop_coroutine();
      if (resumer) resumer.destroy();
      return self;  // not suspended after all: continue at once
    } else {
      return awaiter_.await_suspend(handed);
    }
  }

  decltype(auto) await_resume() { return awaiter_.await_resume(); }

 private:
  Stored awaitable_;
  Awaiter awaiter_;
};

}  // namespace taskmap::detail
