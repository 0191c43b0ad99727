#pragma once
/// @file graph.hpp
/// TaskGraph<T>, create_graph and everything that inspects a graph.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <limits>
#include <ranges>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/graph_build.hpp"
#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/ready_order.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/store.hpp"
#include "taskmap/task_fn.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap {

/// Task name -> function: Python's funcs dict. Taken by value, so callers may move it in.
template <class T>
using FuncMap = std::unordered_map<std::string, TaskFn<T>>;

/// Task name -> the names it depends on, in the order their values are fed.
/// Its key set is the graph's task set.
using DependencyMap = std::unordered_map<std::string, std::vector<std::string>>;

/// Task name -> value.
template <class T>
using ResultMap = std::unordered_map<std::string, T>;

/// An input range of (name, function) pairs for create_graph, e.g.
/// `std::vector<std::pair<std::string, TaskFn<T>>>` or a FuncMap<T>: each name converts to
/// `std::string_view`, each function to TaskFn<T> (a lambda, a function pointer, a TaskFn...).
template <class R, class T>
concept TaskFunctionRange =
    std::ranges::input_range<R> && detail::NamedPair<std::ranges::range_reference_t<R>> &&
    std::convertible_to<detail::SecondOf<std::ranges::range_reference_t<R>>, TaskFn<T>>;

/// An input range of (name, dependency names) pairs for create_graph, e.g.
/// `std::vector<std::pair<std::string, std::vector<std::string>>>` or a DependencyMap: each
/// name, and each element of each dependency list, converts to `std::string_view`.
template <class R>
concept DependencyRange =
    std::ranges::input_range<R> && detail::NamedPair<std::ranges::range_reference_t<R>> &&
    std::ranges::input_range<detail::SecondOf<std::ranges::range_reference_t<R>>> &&
    std::convertible_to<
        std::ranges::range_reference_t<detail::SecondOf<std::ranges::range_reference_t<R>>>,
        std::string_view>;

/// A list of task names. A std::vector<std::string> that also compares equal to a
/// std::set or std::unordered_set holding the same names, for order-free checks.
class NameList : public std::vector<std::string> {
 public:
  using std::vector<std::string>::vector;
  /// An empty list.
  NameList() = default;
  /// The names, in this order.
  explicit NameList(std::vector<std::string> names) : std::vector<std::string>(std::move(names)) {}

  /// True when `list` holds exactly the names of `set`, each once, in any order.
  friend bool operator==(const NameList& list, const std::set<std::string>& set) {
    return std::set<std::string>(list.begin(), list.end()) == set && list.size() == set.size();
  }
  /// True when `list` holds exactly the names of `set`, each once, in any order.
  friend bool operator==(const NameList& list, const std::unordered_set<std::string>& set) {
    return std::unordered_set<std::string>(list.begin(), list.end()) == set &&
           list.size() == set.size();
  }
};

/// A set of tasks of which at most `max_concurrency` run at once (e.g. two database tasks).
struct ConcurrencyGroup {
  /// How many members may run at once (at least 1).
  std::size_t max_concurrency = 1;
  /// The member tasks' names.
  std::vector<std::string> tasks = {};
};

/// Options of create_graph; an aggregate for designated initialisers:
/// `{.io_bound = {"fetch"}, .done = {"a"}, .results = {{"a", 5}}, .priority = {{"x", 10}}, .name =
/// "etl"}`.
template <class T>
struct GraphOptions {
  /// Tasks that mostly wait (I/O); executors start them before the others.
  std::vector<std::string> io_bound = {};
  /// Tasks that never run: already done (Python's caching).
  std::vector<std::string> done = {};
  /// Seeded values, fed to dependents of done tasks.
  ResultMap<T> results = {};
  /// Higher starts earlier among ready tasks of the same io_bound class (default 0).
  std::unordered_map<std::string, int> priority = {};
  /// The graph's name, used in messages and logs.
  std::string name = "taskmap";
  /// Group name -> limit and members. A task belongs to at most one group.
  std::unordered_map<std::string, ConcurrencyGroup> groups = {};
  /// Task name -> what it declares for a store (version, input files, targets, transient).
  std::unordered_map<std::string, Persistence> persistence = {};
  /// Task name -> its trigger rule, for tasks that run on another rule than all_success
  /// (e.g. `{{"report", taskmap::Trigger::all_done()}}`).
  std::unordered_map<std::string, Trigger> triggers = {};
};

template <class T>
class TaskGraph;

namespace detail {
/// The one door from the public API to a graph's internals, for executors and helpers.
struct GraphAccess {
  template <class T>
  static GraphState<T>& state(TaskGraph<T>& graph) noexcept {
    return graph.state_;
  }
  template <class T>
  static const GraphState<T>& state(const TaskGraph<T>& graph) noexcept {
    return graph.state_;
  }
};
}  // namespace detail

/// A graph of named tasks with T-valued results, and the state of each task.
/// Build one with create_graph (or add_task), run it with an executor, then inspect it.
/// Thread safety: const members may be called concurrently with each other, but not with
/// a running executor or a non-const member.
template <class T>
class TaskGraph {
 public:
  /// The type of every task's result.
  using value_type = T;

  /// An empty graph.
  explicit TaskGraph(std::string name = "taskmap") { state_.name = std::move(name); }

  /// Adds a task that depends on tasks already in the graph. Returns *this for chaining.
  /// Throws: DuplicateTaskError, MissingFunctionError (empty fn), MissingDependencyError,
  /// CycleError (a task depending on itself); the graph is unchanged when it throws.
  TaskGraph& add_task(std::string name, TaskFn<T> fn, const std::vector<std::string>& deps = {});

  /// The graph's name.
  [[nodiscard]] const std::string& name() const noexcept { return state_.name; }
  /// How many tasks the graph has.
  [[nodiscard]] std::size_t size() const noexcept { return state_.size(); }
  /// True when the graph has a task of that name.
  [[nodiscard]] bool contains(std::string_view task) const noexcept {
    return state_.find(task) != no_task;
  }
  /// Every task name, sorted.
  [[nodiscard]] NameList tasks() const;
  /// The task's dependencies, in feeding order. Throws: UnknownTaskError.
  [[nodiscard]] NameList dependencies(std::string_view task) const;

  /// The task's status. Throws: UnknownTaskError.
  [[nodiscard]] TaskStatus status(std::string_view task) const {
    return state_.status[state_.require(task)];
  }
  /// The task's value. Throws: UnknownTaskError; BadResultAccess naming the task and its
  /// status when it has no value.
  [[nodiscard]] const T& result(std::string_view task) const;
  /// True when the task holds a value. Throws: UnknownTaskError.
  [[nodiscard]] bool has_result(std::string_view task) const {
    return state_.results[state_.require(task)].has_value();
  }
  /// Name -> value of every task that holds a value.
  [[nodiscard]] ResultMap<T> results() const;
  /// The exception of a failed task (as thrown) or of a skipped one (a taskmap::AncestorFailed);
  /// null for any other status. Throws: UnknownTaskError.
  [[nodiscard]] std::exception_ptr error(std::string_view task) const {
    return state_.errors[state_.require(task)];
  }

  /// Tasks that succeeded or were marked done, sorted by name.
  [[nodiscard]] NameList done() const { return with_status(TaskStatus::done); }
  /// Tasks that failed, sorted by name.
  [[nodiscard]] NameList failed() const { return with_status(TaskStatus::failed); }
  /// Tasks skipped because an ancestor failed, sorted by name.
  [[nodiscard]] NameList skipped() const { return with_status(TaskStatus::skipped); }
  /// Tasks that could start now (pending or cancelled, every dependency done): io_bound
  /// first, then higher priority, then by name.
  [[nodiscard]] NameList ready_tasks() const;
  /// Every transitive dependent of the task, sorted by name (Python's get_all_children).
  /// Throws: UnknownTaskError.
  [[nodiscard]] NameList children(std::string_view task) const;

  /// Replaces a task's function; reset_tasks then reruns it.
  /// Throws: UnknownTaskError; MissingFunctionError for an empty fn; Error while running.
  void set_func(std::string_view task, TaskFn<T> fn);

  /// Declares what a task tells a store (version, input files, targets, transient),
  /// replacing an earlier declaration. Returns *this for chaining.
  /// Throws: UnknownTaskError; Error while running.
  TaskGraph& set_persistence(std::string_view task, Persistence declared) {
    state_.throw_if_running("declare persistence in");
    const TaskId id = state_.require(task);
    state_.persistence.insert_or_assign(state_.names[id], std::move(declared));
    return *this;
  }
  /// Gives the task its trigger rule. Returns *this.
  /// Throws: UnknownTaskError; TriggerError when n is 0 or above the task's number of
  /// dependencies; Error while the graph runs.
  TaskGraph& set_trigger(std::string_view task, Trigger trigger) {
    state_.throw_if_running("set a trigger in");
    state_.set_trigger(state_.require(task), trigger);
    return *this;
  }
  /// The task's trigger rule (all_success unless one was given). Throws: UnknownTaskError.
  [[nodiscard]] Trigger trigger(std::string_view task) const {
    const TaskId id = state_.require(task);
    return state_.triggers.empty() ? Trigger{} : state_.triggers[id];
  }
  /// What the task declared for a store: the defaults when it declared nothing.
  /// Throws: UnknownTaskError.
  [[nodiscard]] Persistence persistence(std::string_view task) const {
    const TaskId id = state_.require(task);
    const auto found = state_.persistence.find(state_.names[id]);
    return found == state_.persistence.end() ? Persistence{} : found->second;
  }

 private:
  friend struct detail::GraphAccess;
  template <class U>
  friend TaskGraph<U> create_graph(FuncMap<U>, DependencyMap, GraphOptions<U>);

  [[nodiscard]] NameList with_status(TaskStatus wanted) const;

  detail::GraphState<T> state_;
};

/// Builds and validates a graph from Python-style maps. The task set is the key set of
/// `deps`; extra functions are ignored.
/// Throws: MissingFunctionError, MissingDependencyError, UnknownTaskError (a name in an
/// option that is not a task), CycleError — each naming every task involved.
template <class T>
[[nodiscard]] TaskGraph<T> create_graph(FuncMap<T> funcs, DependencyMap deps,
                                        GraphOptions<T> opts = {});

/// Builds and validates a graph from any range of (name, function) pairs and any range of
/// (name, dependency names) pairs, such as vectors of pairs: the cheapest input for big
/// graphs, as no map is built. The tasks are the names of `deps`, numbered in its order;
/// functions for other names are ignored. Each range is walked once; an rvalue range that
/// owns its elements (a moved-in vector) has its names and functions moved out. Either
/// argument may also be a braced FuncMap / DependencyMap literal.
/// Throws: DuplicateTaskError naming every task listed twice in `deps` or every name given
/// two functions; then the errors of the map overload, in the same order.
template <class T, class Funcs = FuncMap<T>, class Deps = DependencyMap>
requires TaskFunctionRange<Funcs, T> && DependencyRange<Deps> &&
    (!(std::same_as<std::remove_cvref_t<Funcs>, FuncMap<T>> &&
       std::same_as<std::remove_cvref_t<Deps>, DependencyMap>))
        [[nodiscard]] TaskGraph<T> create_graph(Funcs&& funcs, Deps&& deps,
                                                GraphOptions<T> opts = {});

// ---------------------------------------------------------------------------------------
// Implementation

template <class T>
TaskGraph<T> create_graph(FuncMap<T> funcs, DependencyMap deps, GraphOptions<T> opts) {
  TaskGraph<T> graph(std::move(opts.name));
  detail::build_graph(graph.state_, std::move(funcs), std::move(deps), opts);
  return graph;
}

template <class T, class Funcs, class Deps>
requires TaskFunctionRange<Funcs, T> && DependencyRange<Deps> &&
    (!(std::same_as<std::remove_cvref_t<Funcs>, FuncMap<T>> &&
       std::same_as<std::remove_cvref_t<Deps>, DependencyMap>))
        TaskGraph<T> create_graph(Funcs&& funcs, Deps&& deps, GraphOptions<T> opts) {
  TaskGraph<T> graph(std::move(opts.name));
  detail::build_graph(detail::GraphAccess::state(graph), std::forward<Funcs>(funcs),
                      std::forward<Deps>(deps), opts);
  return graph;
}

template <class T>
TaskGraph<T>& TaskGraph<T>::add_task(std::string name, TaskFn<T> fn,
                                     const std::vector<std::string>& deps) {
  state_.throw_if_running("add a task to");
  const std::vector<TaskId> dep_ids = detail::check_new_task(state_, name, fn, deps);
  state_.append_task(std::move(name), std::move(fn), dep_ids);
  return *this;
}

template <class T>
NameList TaskGraph<T>::tasks() const {
  NameList out(state_.names.begin(), state_.names.end());
  std::sort(out.begin(), out.end());
  return out;
}

template <class T>
NameList TaskGraph<T>::dependencies(std::string_view task) const {
  NameList out;
  for (const std::uint32_t dep : state_.deps_of(state_.require(task))) {
    out.push_back(state_.names[dep]);
  }
  return out;
}

template <class T>
const T& TaskGraph<T>::result(std::string_view task) const {
  const std::uint32_t id = state_.require(task);
  if (!state_.results[id].has_value()) {
    const TaskStatus status = state_.status[id];
    throw BadResultAccess(status == TaskStatus::done
                              ? fmt::format("task '{}' of graph '{}' is done but produced no value",
                                            task, state_.name)
                              : fmt::format("task '{}' of graph '{}' has no result (status: {})",
                                            task, state_.name, to_string(status)),
                          std::string(task));
  }
  return *state_.results[id];
}

template <class T>
ResultMap<T> TaskGraph<T>::results() const {
  ResultMap<T> out;
  for (std::uint32_t id = 0; id < state_.size(); ++id) {
    if (state_.results[id].has_value()) out.emplace(state_.names[id], *state_.results[id]);
  }
  return out;
}

template <class T>
NameList TaskGraph<T>::with_status(TaskStatus wanted) const {
  NameList out;
  for (std::uint32_t id = 0; id < state_.size(); ++id) {
    if (state_.status[id] == wanted) out.push_back(state_.names[id]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

template <class T>
NameList TaskGraph<T>::ready_tasks() const {
  std::vector<std::uint32_t> ready;
  for (std::uint32_t id = 0; id < state_.size(); ++id) {
    const TaskStatus status = state_.status[id];
    if (status != TaskStatus::pending && status != TaskStatus::cancelled) continue;
    const auto deps = state_.deps_of(id);
    if (std::all_of(deps.begin(), deps.end(),
                    [&](std::uint32_t dep) { return state_.status[dep] == TaskStatus::done; })) {
      ready.push_back(id);
    }
  }
  const detail::OrderHints hints{&state_.io_bound, &state_.priority};
  std::sort(ready.begin(), ready.end(), [&](TaskId a, TaskId b) {
    const int by_hints = hints.compare(a, b);
    return by_hints != 0 ? by_hints < 0 : state_.names[a] < state_.names[b];
  });
  NameList out;
  out.reserve(ready.size());
  for (const std::uint32_t id : ready) out.push_back(state_.names[id]);
  return out;
}

template <class T>
NameList TaskGraph<T>::children(std::string_view task) const {
  const std::uint32_t root = state_.require(task);
  const std::vector<std::uint32_t> found =
      state_.descendants(std::span<const std::uint32_t>(&root, 1));
  NameList out;
  out.reserve(found.size());
  for (const std::uint32_t id : found) out.push_back(state_.names[id]);
  std::sort(out.begin(), out.end());
  return out;
}

template <class T>
void TaskGraph<T>::set_func(std::string_view task, TaskFn<T> fn) {
  state_.throw_if_running("change a function of");
  const std::uint32_t id = state_.require(task);
  if (!fn) {
    throw MissingFunctionError(
        fmt::format("graph '{}': set_func got an empty function for task '{}'", state_.name, task),
        {std::string(task)});
  }
  state_.funcs[id] = std::move(fn);
}

}  // namespace taskmap
