#pragma once
/// @file flow.hpp
/// Flow<T>: builds a TaskGraph<T> from handles instead of names. Each add returns a handle
/// to the new task, and the handles passed to add become the task's dependencies, in order:
/// `auto a = f.add(load); auto c = f.add(merge, a, f.add(parse, a));`.

#include <any>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/flow_check.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/task_fn.hpp"

namespace taskmap {

/// True when `Flow<T>::add(fn, handles...)` compiles for an F and these handle types: F fits a
/// task shape, each handle feeds one parameter (or all of them a std::span<const T> one), and
/// in a Flow<std::any> each parameter takes the type its handle's task returns.
template <class F, class T, class... Handles>
concept FlowAddable = detail::FlowAdd<F, T, Handles...>::ok;

/// A handle to one task of a Flow: what `Flow<T>::add` returns and takes as dependencies.
/// R is the type of the task's value: T; in a Flow<std::any>, the type the std::any holds
/// (std::any when unknown); void when the task returns none. Cheap to copy.
template <class R>
class FlowNode {
 public:
  /// The type of the task's value (void: none; std::any: unknown).
  using value_type = R;

  /// An empty handle, of no Flow; add refuses it with MissingDependencyError.
  FlowNode() = default;
  /// The same task with its value type forgotten, e.g. to keep handles of different types in
  /// one vector; a parameter it feeds is then checked when the task runs.
  template <class U>
  requires(std::same_as<R, std::any> && !std::same_as<U, std::any>)
      FlowNode(const FlowNode<U>& other)  // NOLINT(google-explicit-constructor): like a base
      : flow_(other.flow_), index_(other.index_), name_(other.name_) {}

  /// The task's name in the graph that build returns.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  template <class>
  friend class Flow;
  template <class>
  friend class FlowNode;

  FlowNode(std::uint64_t flow, std::size_t index, std::string name)
      : flow_(flow), index_(index), name_(std::move(name)) {}

  std::uint64_t flow_ = 0;
  std::size_t index_ = 0;
  std::string name_;
};

/// Builds a TaskGraph<T> from handles, as python-taskgraph's `@delayed` does: `add(fn,
/// handles...)` appends a task fed by the handles' tasks, in argument order, and returns its
/// handle. Tasks are named `task0`, `task1`, ... (the prefix is the constructor's) or by the
/// name given to add. Per-task options (priority, io_bound, groups, triggers, persistence,
/// done, results) go to build in GraphOptions<T>, under `handle.name()`.
/// A Flow is move-only: handles tell Flows apart, and a copy would accept the handles of both.
/// Thread safety: none; use one Flow from one thread at a time.
template <class T>
class Flow {
 public:
  /// The type of every task's result.
  using value_type = T;

  /// An empty Flow whose generated task names are `prefix` followed by the task's position.
  explicit Flow(std::string prefix = "task")
      : id_(detail::next_flow_id()), prefix_(std::move(prefix)) {}
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;
  /// Takes `other`'s tasks and prefix, and its handles with them; `other` is left empty, with
  /// the default prefix, and handles from before the move are foreign to it.
  Flow(Flow&& other) noexcept
      : id_(std::exchange(other.id_, detail::next_flow_id())),
        prefix_(std::exchange(other.prefix_, "task")),
        funcs_(std::exchange(other.funcs_, {})),
        deps_(std::exchange(other.deps_, {})),
        names_(std::exchange(other.names_, {})) {}
  /// As the move constructor; this Flow's earlier handles become foreign to it.
  Flow& operator=(Flow&& other) noexcept {
    if (this != &other) {
      id_ = std::exchange(other.id_, detail::next_flow_id());
      prefix_ = std::exchange(other.prefix_, "task");
      funcs_ = std::exchange(other.funcs_, {});
      deps_ = std::exchange(other.deps_, {});
      names_ = std::exchange(other.names_, {});
    }
    return *this;
  }
  ~Flow() = default;

  /// Appends a task named by the prefix and its position, fed by `deps`' tasks in order (or,
  /// for a std::span<const T> parameter, by any number of handles, or one range of them).
  /// A mismatch of handles and parameters is a compile error (see FlowAddable).
  /// A TaskFn<T> takes any number of handles, checked when it runs (ArityError, TypeError).
  /// Throws: DuplicateTaskError when the generated name was given to an earlier task;
  /// MissingDependencyError for a handle of another Flow or an empty one, naming both tasks;
  /// MissingFunctionError for an empty function (a null pointer, an empty TaskFn).
  /// The Flow is unchanged when it throws.
  template <class F, class... Handles>
  requires(!std::convertible_to<F, std::string_view>) auto add(F&& fn, const Handles&... deps)
      -> FlowNode<detail::flow_value_t<F, T>> {
    return append(fmt::format("{}{}", prefix_, funcs_.size()), true, std::forward<F>(fn), deps...);
  }

  /// Appends a task named `name`, fed by `deps`' tasks in order, as the other add.
  /// Throws: DuplicateTaskError when the Flow has a task of that name; MissingDependencyError
  /// for a handle of another Flow or an empty one; MissingFunctionError for an empty
  /// function. The Flow is unchanged when it throws.
  template <class F, class... Handles>
  auto add(std::string_view name, F&& fn, const Handles&... deps)
      -> FlowNode<detail::flow_value_t<F, T>> {
    return append(std::string(name), false, std::forward<F>(fn), deps...);
  }

  /// How many tasks the Flow has.
  [[nodiscard]] std::size_t size() const noexcept { return deps_.size(); }

  /// A new TaskGraph<T> of the Flow's tasks, through create_graph (so `opts` works as there,
  /// naming tasks by `handle.name()`). The Flow is unchanged and may be built again; the
  /// graphs share stateful callables, as copies of a TaskFn do.
  /// Throws: the errors of create_graph, e.g. UnknownTaskError for an option's unknown name.
  [[nodiscard]] TaskGraph<T> build(GraphOptions<T> opts = {}) const& {
    return create_graph<T>(funcs_, deps_, std::move(opts));
  }
  /// As the other build, but moves the tasks into the graph, leaving the Flow empty; earlier
  /// handles are foreign to it afterwards.
  [[nodiscard]] TaskGraph<T> build(GraphOptions<T> opts = {}) && {
    Flow taken(std::move(*this));
    return create_graph<T>(std::move(taken.funcs_), std::move(taken.deps_), std::move(opts));
  }

 private:
  template <class F, class... Handles>
  FlowNode<detail::flow_value_t<F, T>> append(std::string name, bool generated, F&& fn,
                                              const Handles&... deps);
  template <class R>
  void check_handle(const FlowNode<R>& handle, const std::string& task) const;

  std::uint64_t id_;
  std::string prefix_;
  std::vector<std::pair<std::string, TaskFn<T>>> funcs_;
  std::vector<std::pair<std::string, std::vector<std::string>>> deps_;
  std::unordered_set<std::string> names_;
};

// ---------------------------------------------------------------------------------------
// Implementation

template <class T>
template <class F, class... Handles>
FlowNode<detail::flow_value_t<F, T>> Flow<T>::append(std::string name, bool generated, F&& fn,
                                                     const Handles&... deps) {
  if constexpr (detail::check_flow_add<F, T, Handles...>()) {
    if (names_.contains(name)) {
      throw DuplicateTaskError(
          generated ? fmt::format("taskmap::Flow: the generated name '{}' was given to an "
                                  "earlier task; name this task, or use another prefix",
                                  name)
                    : fmt::format("taskmap::Flow: the task name '{}' is given twice", name),
          {name});
    }
    std::vector<std::string> dep_names;
    const auto take = [&](const auto& handle) {
      check_handle(handle, name);
      dep_names.push_back(handle.name());
    };
    if constexpr (detail::FlowAdd<F, T, Handles...>::is_range) {
      const auto take_all = [&](const auto& range) {
        for (const auto& handle : range) take(handle);
      };
      (take_all(deps), ...);
    } else {
      dep_names.reserve(sizeof...(Handles));
      (take(deps), ...);
    }
    TaskFn<T> task(std::forward<F>(fn));
    if (!task) {  // a null function pointer, an empty std::function or TaskFn
      throw MissingFunctionError(
          fmt::format("taskmap::Flow: task '{}' was given an empty function", name), {name});
    }
    // Reserved first, so that nothing below can throw between the insert and the appends.
    funcs_.reserve(funcs_.size() + 1);
    deps_.reserve(deps_.size() + 1);
    names_.insert(name);
    const std::size_t index = deps_.size();
    funcs_.emplace_back(name, std::move(task));
    deps_.emplace_back(name, std::move(dep_names));
    return FlowNode<detail::flow_value_t<F, T>>(id_, index, std::move(name));
  } else {
    return {};
  }
}

template <class T>
template <class R>
void Flow<T>::check_handle(const FlowNode<R>& handle, const std::string& task) const {
  if (handle.flow_ == id_ && handle.index_ < deps_.size()) return;
  if (handle.flow_ == 0) {
    throw MissingDependencyError(
        fmt::format("taskmap::Flow: task '{}' was given an empty (default-constructed) handle",
                    task),
        {{task, handle.name()}});
  }
  throw MissingDependencyError(
      fmt::format("taskmap::Flow: task '{}' was given a handle to task '{}' of another Flow; a "
                  "handle feeds only tasks of the Flow whose add returned it",
                  task, handle.name()),
      {{task, handle.name()}});
}

}  // namespace taskmap
