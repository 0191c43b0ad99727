#pragma once
/// @file task_fn.hpp
/// TaskFn<T>: a type-erased task function, and TaskCallable, the concept of what fits one.

#include <coroutine>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include "taskmap/detail/task_call.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/task.hpp"

namespace taskmap {

/// True when F can be a task of a TaskGraph<T>: it takes its dependencies' results as
/// parameters constructible from `const T&` (or all of them as `std::span<const T>`),
/// optionally after a leading `taskmap::Context&`, and returns T (or something convertible
/// to it), `std::optional<T>` or void — or a coroutine returning `taskmap::Task` of those; a
/// plain function may also return `taskmap::Continue<T>` (taskmap/continuation.hpp).
template <class F, class T>
concept TaskCallable = detail::Shape<std::decay_t<F>, T>::valid;

/// A task function of a TaskGraph<T>: any TaskCallable, type-erased. A small callable that is
/// trivially copyable and callable as const (a lambda capturing a pointer and a value, a
/// function pointer) is kept inside the TaskFn, with no allocation; any other callable is
/// shared on the heap, so copies of a TaskFn share a stateful callable's state (like a Python
/// function object) and a TaskFn is always cheap to copy.
/// Thread safety: invoking is as thread-safe as the callable it holds.
template <class T>
class TaskFn {
 public:
  /// The type of the task's result.
  using value_type = T;

  /// An empty function; a graph refuses it with MissingFunctionError.
  TaskFn() noexcept = default;
  /// An empty function, as from `nullptr`.
  TaskFn(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor): like std::function

  /// Wraps any callable that fits a task shape; anything else is a compile error.
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, TaskFn> &&
           !std::is_same_v<std::remove_cvref_t<F>, std::nullptr_t>)
      TaskFn(F&& fn) {  // NOLINT(google-explicit-constructor): braced FuncMap literals need it
    static_assert(TaskCallable<F, T>,
                  "taskmap::TaskFn<T>: this callable fits no task shape. A task takes its "
                  "dependencies' results as parameters constructible from const T& "
                  "(in dependency order) or all of them as std::span<const T>, optionally after "
                  "a leading taskmap::Context&, and returns T (or something convertible to T), "
                  "std::optional<T> (nullopt = no value), void (no value) or "
                  "taskmap::Continue<T>, or is a coroutine returning taskmap::Task<R> of one "
                  "of the first three.");
    if constexpr (TaskCallable<F, T>) {
      using Stored = std::decay_t<F>;
      if constexpr (std::is_pointer_v<std::remove_reference_t<F>> ||
                    detail::is_std_function_v<Stored>) {
        if (!static_cast<bool>(fn)) return;  // a null pointer or empty std::function stays empty
      }
      if constexpr (detail::stored_inline_v<Stored, T>) {
        ::new (static_cast<void*>(storage_)) Stored(std::forward<F>(fn));
      } else {
        ::new (static_cast<void*>(storage_))
            std::shared_ptr<void>(std::make_shared<Stored>(std::forward<F>(fn)));
      }
      ops_ = &detail::task_fn_ops<Stored, T>;
    }
  }

  /// A TaskFn holding the same callable (shared when it is on the heap).
  TaskFn(const TaskFn& other) noexcept : ops_(other.ops_) { copy_storage(other); }
  /// Takes `other`'s callable; `other` is left empty.
  TaskFn(TaskFn&& other) noexcept : ops_(other.ops_) {
    move_storage(other);
    other.ops_ = nullptr;
  }
  /// Holds the same callable as `other` (shared when it is on the heap).
  TaskFn& operator=(const TaskFn& other) noexcept {
    if (this != &other) {
      release();
      ops_ = other.ops_;
      copy_storage(other);
    }
    return *this;
  }
  /// Takes `other`'s callable; `other` is left empty.
  TaskFn& operator=(TaskFn&& other) noexcept {
    if (this != &other) {
      release();
      ops_ = other.ops_;
      move_storage(other);
      other.ops_ = nullptr;
    }
    return *this;
  }
  ~TaskFn() { release(); }

  /// True when the function holds a callable.
  explicit operator bool() const noexcept { return ops_ != nullptr; }

  /// Calls the function with the fed values; stores its value in `out` (reset for no value).
  /// A coroutine task is driven to completion on the calling thread.
  /// Throws: whatever the callable throws; ArityError or TypeError when the values do not fit.
  /// Precondition: not empty.
  void invoke(Context& ctx, std::span<const T* const> args, std::optional<T>& out) const {
    ops_->invoke(storage(), ctx, args, out);
  }

  /// True when the callable is a coroutine (returns a taskmap::Task). Precondition: not empty.
  [[nodiscard]] bool is_coroutine() const noexcept { return ops_->is_coroutine; }

  /// For executors: the task as a coroutine that has not started (plain functions are
  /// wrapped). Resume the handle at once: `args` must stay valid until the coroutine first
  /// suspends (it turns them into arguments first). When the task has ended, its value is
  /// in `out` (reset for no value) and `done` is called with its exception (null on
  /// success), on the thread that ran its last step; the coroutine then frees itself.
  /// `out` and this TaskFn must outlive it. Precondition: not empty.
  [[nodiscard]] std::coroutine_handle<> start_coroutine(const Context& ctx,
                                                        std::span<const T* const> args,
                                                        std::optional<T>& out,
                                                        const CoroutineDone& done) const {
    if (ops_->start_coroutine == nullptr) {
      return detail::drive_plain<T>(ops_, storage(), ctx, args, out, done).handle;
    }
    return ops_->start_coroutine(storage(), ctx, args, out, done);
  }

 private:
  // Calling through a const TaskFn is allowed to change a mutable callable's state: copies
  // of a TaskFn share a heap-stored callable, like Python function objects.
  void* storage() const noexcept { return const_cast<unsigned char*>(storage_); }
  std::shared_ptr<void>& shared() noexcept {
    return *std::launder(reinterpret_cast<std::shared_ptr<void>*>(storage_));
  }
  const std::shared_ptr<void>& shared() const noexcept {
    return *std::launder(reinterpret_cast<const std::shared_ptr<void>*>(storage_));
  }

  // ops_ is already other's: the storage follows what ops_ says it holds.
  void copy_storage(const TaskFn& other) noexcept {
    if (ops_ != nullptr && ops_->shared) {
      ::new (static_cast<void*>(storage_)) std::shared_ptr<void>(other.shared());
    } else {
      std::memcpy(storage_, other.storage_, sizeof storage_);
    }
  }
  void move_storage(TaskFn& other) noexcept {
    if (ops_ != nullptr && ops_->shared) {
      ::new (static_cast<void*>(storage_)) std::shared_ptr<void>(std::move(other.shared()));
      other.shared().~shared_ptr();
    } else {
      std::memcpy(storage_, other.storage_, sizeof storage_);
    }
  }
  void release() noexcept {
    if (ops_ != nullptr && ops_->shared) shared().~shared_ptr();
    ops_ = nullptr;
  }

  const detail::TaskFnOps<T>* ops_ = nullptr;
  // The callable itself when it is stored inline, otherwise a std::shared_ptr<void> to it.
  alignas(std::shared_ptr<void>) unsigned char storage_[detail::kTaskFnStorage] = {};
};

}  // namespace taskmap
