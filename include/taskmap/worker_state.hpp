#pragma once
/// @file worker_state.hpp
/// WorkerState: an executor option that builds one value per worker (a database connection,
/// a scratch buffer, a random generator) for tasks to reach through
/// `Context::worker_state<S>()`. See docs/executors.md, "Per-worker state".

#include <concepts>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "taskmap/detail/worker_state_holder.hpp"

namespace taskmap {

namespace detail {

template <class F>
struct WorkerStateResult {
  using type = std::invoke_result_t<const F&>;
};
template <class F>
requires std::is_invocable_v<const F&, std::size_t>
struct WorkerStateResult<F> {
  using type = std::invoke_result_t<const F&, std::size_t>;
};

struct WorkerStateAccess;

}  // namespace detail

class WorkerStateSlot;

/// A factory of worker state: callable as `S(std::size_t worker)` or `S()`, returning the
/// value by value.
template <class F>
concept WorkerStateFactory = std::copy_constructible<std::decay_t<F>> &&
    (std::is_invocable_v<const std::decay_t<F>&, std::size_t> ||
     std::is_invocable_v<const std::decay_t<F>&>);

/// How an executor builds the state of each of its workers; empty (the default) for none.
/// Each worker builds its value the first time one of its tasks asks, with the factory
/// called on that worker's thread, and destroys it when the worker ends (docs/executors.md
/// says when that is on each executor). Copies share the factory.
/// Thread safety: the factory may be called from several workers at once.
class WorkerState {
 public:
  /// No worker state: tasks that ask get a WorkerStateError.
  WorkerState() noexcept = default;

  /// Builds each worker's value with `make(worker)` (or `make()`).
  template <WorkerStateFactory F>
  requires(!std::same_as<std::remove_cvref_t<F>, WorkerState>) explicit WorkerState(F&& make) {
    using Factory = std::decay_t<F>;
    using S = typename detail::WorkerStateResult<Factory>::type;
    static_assert(std::is_object_v<S> && !std::is_array_v<S> && !std::is_const_v<S>,
                  "a worker state factory returns the worker's value by value (not a reference, "
                  "an array, a const value or void)");
    maker_ = std::make_shared<const detail::WorkerStateMakerOf<S, Factory>>(std::forward<F>(make));
  }

  /// True when a factory is set.
  explicit operator bool() const noexcept { return maker_ != nullptr; }

 private:
  friend struct detail::WorkerStateAccess;
  friend class WorkerStateSlot;
  std::shared_ptr<const detail::WorkerStateMaker> maker_;
};

/// WorkerState built by `make`: `ThreadPoolExecutor pool(4, taskmap::worker_state([](std::size_t
/// worker) { return std::mt19937(worker); }));`, then `ctx.worker_state<std::mt19937>()`.
template <WorkerStateFactory F>
[[nodiscard]] WorkerState worker_state(F&& make) {
  return WorkerState(std::forward<F>(make));
}

/// One worker's state, for executors written against taskmap/executor.hpp: keep one per
/// worker, and bind it on the thread that runs the worker's tasks (`WorkerStateSlot::Bind
/// bind(slot);` around the calls to ExecutorRun::invoke); those tasks' worker_state() then
/// returns its value. The value is destroyed by reset() or with the slot.
/// Thread safety: bind it on one thread at a time; reset it only while it is not bound.
class WorkerStateSlot {
 public:
  /// Worker `worker`'s slot of an executor built with `state` (empty: the tasks it is bound
  /// for see no state, as on an executor without a factory).
  WorkerStateSlot(const WorkerState& state, std::size_t worker)
      : slot_(state.maker_, worker), offers_(static_cast<bool>(state)) {}

  /// Binds a slot to the calling thread while it lives, restoring the binding it found.
  class Bind {
   public:
    /// Tasks run on this thread from now on see `slot`'s value.
    explicit Bind(WorkerStateSlot& slot) noexcept
        : binding_(slot.offers_ ? &slot.slot_ : nullptr) {}

   private:
    detail::WorkerStateBinding binding_;
  };

  /// Destroys the value, if one was built (the worker ended); the next ask builds another.
  void reset() noexcept { slot_.reset(); }

 private:
  detail::WorkerStateHolder slot_;
  bool offers_;
};

namespace detail {

/// The executors' way to the factory.
struct WorkerStateAccess {
  static const std::shared_ptr<const WorkerStateMaker>& maker(const WorkerState& state) noexcept {
    return state.maker_;
  }
};

}  // namespace detail

}  // namespace taskmap
