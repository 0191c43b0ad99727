#pragma once
/// @file task.hpp
/// Task<R>: the lazy coroutine type of coroutine tasks, and the awaitables sleep_for() and
/// yield(). A Task starts when awaited and resumes its awaiter by symmetric transfer, so
/// chains of any length do not grow the stack.

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "taskmap/detail/frame_allocator.hpp"
#include "taskmap/detail/scheduler.hpp"
#include "taskmap/errors.hpp"

namespace taskmap {

template <class R = void>
class Task;

/// For executor authors: how a coroutine task started with TaskFn::start_coroutine reports
/// its end. `report(executor, task, error)` must not throw; error is null on success and
/// may be moved from.
struct CoroutineDone {
  /// Called once when the coroutine ends.
  void (*report)(void* executor, std::uint32_t task, std::exception_ptr& error) noexcept;
  void* executor;      ///< passed back to `report`
  std::uint32_t task;  ///< the task's id, passed back to `report`
  /// Reports the end: `report(executor, task, error)`.
  void operator()(std::exception_ptr& error) const noexcept { report(executor, task, error); }
};

namespace detail {

template <class X>
inline constexpr bool is_task_v = false;
template <class R>
inline constexpr bool is_task_v<Task<R>> = true;

class TaskPromiseBase : public CachedFrame {
 public:
  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      TaskPromiseBase& promise = self.promise();
      if (promise.root_.finish != nullptr) {
        promise.root_.finish(promise, self);  // stores the value, frees the frame, reports
        return std::noop_coroutine();
      }
      return promise.continuation_;
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { error_ = std::current_exception(); }

  /// Tasks, sleep_for and yield are awaited as they are; any other awaitable is wrapped so
  /// that, whichever thread resumes it (an I/O callback), the coroutine continues on the
  /// executor that runs it.
  template <class Awaitable>
  decltype(auto) await_transform(Awaitable&& awaitable) {
    if constexpr (is_task_v<std::remove_cvref_t<Awaitable>> ||
                  std::is_base_of_v<SchedulerAware, std::remove_cvref_t<Awaitable>>) {
      return std::forward<Awaitable>(awaitable);
    } else {
      return ComeBack<Awaitable>(std::forward<Awaitable>(awaitable));
    }
  }

  /// Set when an executor runs this task directly as a graph task (no frame awaits it):
  /// at the end, `finish` stores the value in `out`, destroys the frame and calls `done`.
  struct RootLink {
    void (*finish)(TaskPromiseBase& promise, std::coroutine_handle<> self) noexcept = nullptr;
    void* out = nullptr;
    CoroutineDone done{};
  };

  std::coroutine_handle<> continuation_ = std::noop_coroutine();
  std::exception_ptr error_;
  RootLink root_;
};

struct TaskAccess;

template <class R>
class TaskPromise : public TaskPromiseBase {
 public:
  Task<R> get_return_object() noexcept;
  template <class U>
  requires std::is_convertible_v<U&&, R>
  void return_value(U&& value) { value_.emplace(std::forward<U>(value)); }
  R take() {
    if (error_) std::rethrow_exception(error_);
    return std::move(*value_);
  }

 private:
  std::optional<R> value_;
};

template <>
class TaskPromise<void> : public TaskPromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() {
    if (error_) std::rethrow_exception(error_);
  }
};

}  // namespace detail

/// A lazy coroutine producing an R. Return it from a task function to make a coroutine task:
/// `[](int x) -> taskmap::Task<int> { co_await taskmap::sleep_for(10ms); co_return x + 1; }`.
/// Move-only; awaiting it (once) starts it and yields its value or rethrows its exception.
template <class R>
class [[nodiscard]] Task {
 public:
  /// The coroutine machinery the compiler uses.
  using promise_type = detail::TaskPromise<R>;
  /// What the coroutine produces.
  using value_type = R;

  /// A Task that holds no coroutine.
  Task() noexcept = default;
  /// Takes ownership of a coroutine (the compiler calls this through the promise).
  explicit Task(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}
  /// Takes the coroutine of `other`, which is left empty.
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  /// Destroys the coroutine held, if any, and takes the one of `other`.
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  /// True when the task holds a coroutine.
  explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

  /// Starts the coroutine and resumes the awaiting one with its value or exception.
  auto operator co_await() && noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> handle;
      bool await_ready() const noexcept { return !handle || handle.done(); }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        handle.promise().continuation_ = awaiting;
        return handle;
      }
      R await_resume() {
        if (!handle) throw Error("taskmap::Task: awaited an empty task");
        return handle.promise().take();
      }
    };
    return Awaiter{handle_};
  }

 private:
  friend struct detail::TaskAccess;
  std::coroutine_handle<promise_type> handle_;
};

namespace detail {
/// What executors need of a Task beyond awaiting it.
struct TaskAccess {
  template <class R>
  static std::coroutine_handle<TaskPromise<R>> release(Task<R>& task) noexcept {
    return std::exchange(task.handle_, {});
  }
};
}  // namespace detail

namespace detail {
template <class R>
Task<R> TaskPromise<R>::get_return_object() noexcept {
  return Task<R>(std::coroutine_handle<TaskPromise<R>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace detail

/// Suspends the calling coroutine task for `duration` without blocking its thread; other
/// tasks run meanwhile. On the sequential and thread-pool executors the task's thread waits.
/// Throws (when awaited): Error outside a taskmap executor.
class sleep_for : public detail::SchedulerAware {
 public:
  /// Waits `duration` from now.
  template <class Rep, class Period>
  explicit sleep_for(std::chrono::duration<Rep, Period> duration)
      : deadline_(std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration)) {}

  /// Always suspends.
  bool await_ready() const noexcept { return false; }
  /// Hands the coroutine to the executor's scheduler.
  void await_suspend(std::coroutine_handle<> self) const {
    detail::require_scheduler("taskmap::sleep_for").schedule_at(deadline_, self);
  }
  /// Nothing to return.
  void await_resume() const noexcept {}

 private:
  std::chrono::steady_clock::time_point deadline_;
};

/// Lets other ready tasks run before the calling coroutine task continues.
/// Throws (when awaited): Error outside a taskmap executor.
class yield : public detail::SchedulerAware {
 public:
  /// Always suspends.
  bool await_ready() const noexcept { return false; }
  /// Hands the coroutine to the executor's scheduler.
  void await_suspend(std::coroutine_handle<> self) const {
    detail::require_scheduler("taskmap::yield").schedule(self);
  }
  /// Nothing to return.
  void await_resume() const noexcept {}
};

}  // namespace taskmap
