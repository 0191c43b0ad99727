#pragma once
// One worker's state (WorkerStateHolder), the type-erased factory that builds it, and the
// thread's binding to the slot of the worker it currently is. Context::worker_state reads
// the binding, so a context costs nothing more to build and a task that never asks pays
// nothing: executors bind a slot once per thread (the pools) or once per run (the executors
// that run on the calling thread), never per task.

#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "taskmap/detail/inlining.hpp"
#include "taskmap/detail/type_name.hpp"
#include "taskmap/errors.hpp"

namespace taskmap::detail {

/// Builds and destroys the values of one executor's workers, of one type.
class WorkerStateMaker {
 public:
  explicit WorkerStateMaker(const std::type_info& type) noexcept : type_(&type) {}
  WorkerStateMaker(const WorkerStateMaker&) = delete;
  WorkerStateMaker& operator=(const WorkerStateMaker&) = delete;
  virtual ~WorkerStateMaker() = default;
  /// A new value for `worker`, owned by the caller until destroy().
  [[nodiscard]] virtual void* make(std::size_t worker) const = 0;
  virtual void destroy(void* value) const noexcept = 0;
  [[nodiscard]] const std::type_info& type() const noexcept { return *type_; }

 private:
  const std::type_info* type_;
};

template <class S, class F>
class WorkerStateMakerOf final : public WorkerStateMaker {
 public:
  explicit WorkerStateMakerOf(F make) : WorkerStateMaker(typeid(S)), make_(std::move(make)) {}
  [[nodiscard]] void* make(std::size_t worker) const override {
    // The factory's prvalue initialises the value in place: S need not be movable.
    if constexpr (std::is_invocable_v<const F&, std::size_t>) {
      return new S(make_(worker));
    } else {
      static_cast<void>(worker);
      return new S(make_());
    }
  }
  void destroy(void* value) const noexcept override { delete static_cast<S*>(value); }

 private:
  F make_;
};

/// The value of one worker: built by the first task that asks, kept until reset().
/// Thread safety: used by one thread at a time (the worker's), as the executors arrange.
class WorkerStateHolder {
 public:
  WorkerStateHolder(std::shared_ptr<const WorkerStateMaker> maker, std::size_t worker,
                    const void* owner = nullptr) noexcept
      : maker_(std::move(maker)), worker_(worker), owner_(owner) {}
  WorkerStateHolder(const WorkerStateHolder&) = delete;
  WorkerStateHolder& operator=(const WorkerStateHolder&) = delete;
  ~WorkerStateHolder() { reset(); }

  /// Destroys the value, if one was built; the next ask builds a new one.
  void reset() noexcept {
    if (value_ != nullptr) maker_->destroy(std::exchange(value_, nullptr));
  }

  /// The value as `type` for task `task`, built now if it is not yet.
  /// Throws: WorkerStateError for another type, or (nesting the factory's exception) when
  /// building fails.
  [[nodiscard]] void* get(const std::string& task, const std::type_info& type) {
    if (value_ != nullptr && maker_->type() == type) [[likely]]
      return value_;
    return build(task, type);
  }

  [[nodiscard]] const void* owner() const noexcept { return owner_; }

 private:
  TASKMAP_DETAIL_NOINLINE void* build(const std::string& task, const std::type_info& type) {
    if (maker_->type() != type) {
      std::string requested = type_name(type);
      std::string built = type_name(maker_->type());
      std::string message = "task '" + task + "' asked for its worker's state as " + requested +
                            ", but the executor's worker state is " + built;
      throw WorkerStateError(std::move(message), task, std::move(requested), std::move(built));
    }
    try {
      value_ = maker_->make(worker_);
    } catch (...) {
      std::string built = type_name(maker_->type());
      std::throw_with_nested(WorkerStateError("task '" + task + "': building worker " +
                                                  std::to_string(worker_) + "'s state (" + built +
                                                  ") failed; the next task that asks tries again",
                                              task, built, built));
    }
    return value_;
  }

  std::shared_ptr<const WorkerStateMaker> maker_;
  std::size_t worker_;
  const void* owner_;  // the object that hands the slot out, to recognise nested runs
  void* value_ = nullptr;
};

/// The slot of the worker the current thread is; null where no executor offers state.
inline thread_local WorkerStateHolder* bound_worker_state = nullptr;

/// Binds `slot` (null: none) to the current thread while it lives; restores the binding it
/// found, so a graph run inside a task gives the task its own worker's value back.
class WorkerStateBinding {
 public:
  explicit WorkerStateBinding(WorkerStateHolder* slot) noexcept
      : previous_(std::exchange(bound_worker_state, slot)) {}
  WorkerStateBinding(const WorkerStateBinding&) = delete;
  WorkerStateBinding& operator=(const WorkerStateBinding&) = delete;
  ~WorkerStateBinding() { bound_worker_state = previous_; }

 private:
  WorkerStateHolder* previous_;
};

[[noreturn]] TASKMAP_DETAIL_NOINLINE inline void throw_no_worker_state(const std::string& task,
                                                                       const std::type_info& type) {
  std::string requested = type_name(type);
  std::string message = "task '" + task + "' asked for its worker's state (" + requested +
                        "), but the executor running it has no worker state (pass "
                        "taskmap::worker_state(factory) to the executor's constructor)";
  throw WorkerStateError(std::move(message), task, std::move(requested), "");
}

/// What Context::worker_state does: the bound slot's value as S.
template <class S>
S& worker_state_of(const std::string& task) {
  WorkerStateHolder* slot = bound_worker_state;
  if (slot == nullptr) [[unlikely]]
    throw_no_worker_state(task, typeid(S));
  return *static_cast<S*>(slot->get(task, typeid(S)));
}

/// Worker state for executors whose worker is the thread that calls run() (sequential,
/// coroutine): each run going on at once takes a slot of its own for its length and gives
/// it back, so one object may still run graphs on several threads at once, and a value is
/// never used by two runs at once. Values are built for worker 0, 1, ... in the order runs
/// first need a slot of their own; all live until the executor's last copy is destroyed.
class CallerWorkerStates {
 public:
  explicit CallerWorkerStates(std::shared_ptr<const WorkerStateMaker> maker) noexcept
      : maker_(std::move(maker)) {}

  /// A slot bound to the calling thread for one run. A run inside a task of a run of the
  /// same executor on this thread keeps the task's slot: the same worker, the same thread.
  class Lease {
   public:
    explicit Lease(CallerWorkerStates* states)
        : states_(states), slot_(states != nullptr ? states->take() : nullptr), binding_(slot_) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (slot_ != nullptr && owned_) states_->give_back(slot_);
    }

   private:
    CallerWorkerStates* states_;
    WorkerStateHolder* slot_;
    bool owned_ = slot_ != nullptr && slot_ != bound_worker_state;
    WorkerStateBinding binding_;
  };

 private:
  WorkerStateHolder* take() {
    if (bound_worker_state != nullptr && bound_worker_state->owner() == this) {
      return bound_worker_state;
    }
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      WorkerStateHolder* slot = free_.back();
      free_.pop_back();
      return slot;
    }
    free_.reserve(slots_.size() + 1);  // give_back never allocates
    slots_.push_back(std::make_unique<WorkerStateHolder>(maker_, slots_.size(), this));
    return slots_.back().get();
  }

  void give_back(WorkerStateHolder* slot) noexcept {
    std::lock_guard lock(mutex_);
    free_.push_back(slot);
  }

  std::shared_ptr<const WorkerStateMaker> maker_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<WorkerStateHolder>> slots_;
  std::vector<WorkerStateHolder*> free_;
};

}  // namespace taskmap::detail
