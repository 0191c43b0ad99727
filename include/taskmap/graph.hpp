#pragma once
/// @file graph.hpp
/// TaskGraph<T>, create_graph and everything that inspects a graph.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/messages.hpp"
#include "taskmap/detail/topology.hpp"
#include "taskmap/errors.hpp"
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

/// A list of task names. A std::vector<std::string> that also compares equal to a
/// std::set or std::unordered_set holding the same names, for order-free checks.
class NameList : public std::vector<std::string> {
 public:
  using std::vector<std::string>::vector;
  NameList() = default;
  explicit NameList(std::vector<std::string> names) : std::vector<std::string>(std::move(names)) {}

  friend bool operator==(const NameList& list, const std::set<std::string>& set) {
    return std::set<std::string>(list.begin(), list.end()) == set && list.size() == set.size();
  }
  friend bool operator==(const NameList& list, const std::unordered_set<std::string>& set) {
    return std::unordered_set<std::string>(list.begin(), list.end()) == set &&
           list.size() == set.size();
  }
};

/// A set of tasks of which at most `max_concurrency` run at once (e.g. two database tasks).
struct ConcurrencyGroup {
  std::size_t max_concurrency = 1;
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
    return state_.find(task) != detail::NameIndex::npos;
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

// ---------------------------------------------------------------------------------------
// Implementation

namespace detail {

/// Records each task's concurrency group. Throws: GraphError for a limit of 0 or a task in
/// two groups. Precondition: every member name is a task.
template <class T>
void assign_groups(GraphState<T>& g,
                   const std::unordered_map<std::string, ConcurrencyGroup>& groups) {
  g.group_of.assign(g.size(), NameIndex::npos);
  g.groups.clear();
  // Sorted by name, so group ids and messages do not depend on hash order.
  std::vector<const std::pair<const std::string, ConcurrencyGroup>*> sorted;
  for (const auto& entry : groups) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  for (const auto* entry : sorted) {
    const auto& [group, spec] = *entry;
    if (spec.max_concurrency == 0) {
      throw GraphError(
          fmt::format("graph '{}': group '{}' has max_concurrency 0, so its tasks could never run",
                      g.name, group));
    }
    const auto id = static_cast<std::uint32_t>(g.groups.size());
    g.groups.push_back({group, spec.max_concurrency});
    for (const std::string& task : spec.tasks) {
      std::uint32_t& slot = g.group_of[g.find(task)];
      if (slot != NameIndex::npos && slot != id) {
        throw GraphError(fmt::format("graph '{}': task '{}' is in two groups, '{}' and '{}'",
                                     g.name, task, g.groups[slot].name, group));
      }
      slot = id;
    }
  }
}

}  // namespace detail

template <class T>
TaskGraph<T> create_graph(FuncMap<T> funcs, DependencyMap deps, GraphOptions<T> opts) {
  TaskGraph<T> graph(std::move(opts.name));
  detail::GraphState<T>& g = graph.state_;
  const std::size_t n = deps.size();
  if (n >= std::numeric_limits<std::uint32_t>::max() / 2) {
    throw GraphError(fmt::format("graph '{}' has {} tasks; at most {} are supported", g.name, n,
                                 std::numeric_limits<std::uint32_t>::max() / 2 - 1));
  }

  // Intern every name once; the rest of the build and every run work on indices.
  // The table is far larger than the caches, so lookups go in batches: hash a batch and
  // prefetch its slots, then probe; the batch's cache misses overlap.
  constexpr std::size_t kBatch = 16;
  std::uint32_t hashes[kBatch];
  g.names.reserve(n);
  g.index.reserve(n);
  std::size_t edges = 0;
  for (auto it = deps.begin(); it != deps.end();) {
    const std::size_t first = g.names.size();
    std::size_t count = 0;
    for (; count < kBatch && it != deps.end(); ++count, ++it) {
      g.names.push_back(it->first);
      edges += it->second.size();
      hashes[count] = detail::NameIndex::hash(g.names.back());
      g.index.prefetch(hashes[count]);
    }
    // Keys of a map are distinct, so every name is new.
    for (std::size_t k = 0; k < count; ++k) {
      g.index.insert_new_hashed(static_cast<std::uint32_t>(first + k), hashes[k]);
    }
  }

  g.funcs.resize(n);
  {
    typename FuncMap<T>::iterator batch[kBatch];
    for (auto it = funcs.begin(); it != funcs.end();) {
      std::size_t count = 0;
      for (; count < kBatch && it != funcs.end(); ++count, ++it) {
        batch[count] = it;
        hashes[count] = detail::NameIndex::hash(it->first);
        g.index.prefetch(hashes[count]);
      }
      for (std::size_t k = 0; k < count; ++k) {
        const std::uint32_t id = g.index.find_hashed(batch[k]->first, hashes[k], g.names);
        if (id != detail::NameIndex::npos) g.funcs[id] = std::move(batch[k]->second);
      }
    }
  }
  std::vector<std::string> no_function;
  for (std::uint32_t id = 0; id < n; ++id) {
    if (!g.funcs[id]) no_function.push_back(g.names[id]);
  }
  if (!no_function.empty()) {
    std::sort(no_function.begin(), no_function.end());
    std::string message = fmt::format("graph '{}': no function for task(s) {}", g.name,
                                      detail::quoted_list(no_function));
    throw MissingFunctionError(std::move(message), std::move(no_function));
  }

  g.dep_offsets.resize(n + 1);
  g.dep_offsets[0] = 0;
  std::vector<MissingDependencyError::Edge> missing;
  {
    // Same iteration order as the interning pass, so the i-th entry is task i. Offsets come
    // from the list sizes; ids are resolved in batches across tasks into their slots.
    g.deps.resize(edges);
    std::uint32_t id = 0;
    std::uint32_t position = 0;
    const std::string* batch[kBatch];
    const std::string* owner[kBatch];
    std::uint32_t slot[kBatch];
    std::size_t count = 0;
    auto flush = [&] {
      for (std::size_t k = 0; k < count; ++k) {
        const std::uint32_t dep_id = g.index.find_hashed(*batch[k], hashes[k], g.names);
        if (dep_id == detail::NameIndex::npos) missing.push_back({*owner[k], *batch[k]});
        g.deps[slot[k]] = dep_id;
      }
      count = 0;
    };
    for (const auto& [task, task_deps] : deps) {
      for (const std::string& dep : task_deps) {
        batch[count] = &dep;
        owner[count] = &task;
        slot[count] = position++;
        hashes[count] = detail::NameIndex::hash(dep);
        g.index.prefetch(hashes[count]);
        if (++count == kBatch) flush();
      }
      g.dep_offsets[++id] = position;
    }
    flush();
  }
  if (!missing.empty()) {
    std::sort(missing.begin(), missing.end(), [](const auto& a, const auto& b) {
      return std::tie(a.missing, a.dependent) < std::tie(b.missing, b.dependent);
    });
    std::string detail;
    std::size_t shown = 0;
    for (std::size_t i = 0; i < missing.size() && shown < 20; ++shown) {
      std::vector<std::string_view> dependents;
      std::size_t j = i;
      for (; j < missing.size() && missing[j].missing == missing[i].missing; ++j) {
        dependents.push_back(missing[j].dependent);
      }
      if (!detail.empty()) detail += "; ";
      detail +=
          fmt::format("'{}' (needed by {})", missing[i].missing, detail::quoted_list(dependents));
      i = j;
    }
    if (shown == 20) detail += "; ...";
    throw MissingDependencyError(
        fmt::format("graph '{}': dependencies that are not tasks: {}", g.name, detail),
        std::move(missing));
  }

  g.io_bound.assign(n, 0);
  g.priority.assign(n, 0);
  g.status.assign(n, TaskStatus::pending);
  g.results.resize(n);
  g.errors.resize(n);
  // Resolve every option before reporting, so one error names all unknown tasks.
  std::vector<std::string> unknown;
  std::string unknown_detail;
  auto check = [&](std::string_view field, auto&& names_of_field) {
    std::vector<std::string> bad;
    for (const auto& task : names_of_field) {
      if (g.find(task) == detail::NameIndex::npos) bad.push_back(task);
    }
    if (bad.empty()) return;
    std::sort(bad.begin(), bad.end());
    if (!unknown_detail.empty()) unknown_detail += "; ";
    unknown_detail += fmt::format("{}: {}", field, detail::quoted_list(bad));
    unknown.insert(unknown.end(), bad.begin(), bad.end());
  };
  auto keys = [](const auto& map) {
    std::vector<std::string> out;
    out.reserve(map.size());
    for (const auto& entry : map) out.push_back(entry.first);
    return out;
  };
  check("io_bound", opts.io_bound);
  check("done", opts.done);
  check("results", keys(opts.results));
  check("priority", keys(opts.priority));
  for (const auto& [group, spec] : opts.groups) check("groups[" + group + "]", spec.tasks);
  if (!unknown.empty()) {
    std::sort(unknown.begin(), unknown.end());
    unknown.erase(std::unique(unknown.begin(), unknown.end()), unknown.end());
    throw UnknownTaskError(
        fmt::format("graph '{}': options name tasks that are not in the graph ({})", g.name,
                    unknown_detail),
        std::move(unknown));
  }
  for (const std::string& task : opts.io_bound) g.io_bound[g.find(task)] = 1;
  for (const std::string& task : opts.done) g.status[g.find(task)] = TaskStatus::done;
  for (auto& [task, value] : opts.results) g.results[g.find(task)].emplace(std::move(value));
  for (const auto& [task, prio] : opts.priority) g.priority[g.find(task)] = prio;
  detail::assign_groups(g, opts.groups);

  g.rebuild_children();
  detail::renumber(g, detail::check_acyclic(g));
  return graph;
}

template <class T>
TaskGraph<T>& TaskGraph<T>::add_task(std::string name, TaskFn<T> fn,
                                     const std::vector<std::string>& deps) {
  detail::GraphState<T>& g = state_;
  g.throw_if_running("add a task to");
  if (g.find(name) != detail::NameIndex::npos) {
    throw DuplicateTaskError(fmt::format("graph '{}' already has a task '{}'", g.name, name),
                             {name});
  }
  if (!fn) {
    throw MissingFunctionError(fmt::format("graph '{}': no function for task '{}'", g.name, name),
                               {name});
  }
  std::vector<std::uint32_t> dep_ids;
  dep_ids.reserve(deps.size());
  std::vector<MissingDependencyError::Edge> missing;
  for (const std::string& dep : deps) {
    if (dep == name) {
      throw CycleError(
          fmt::format("graph '{}' has a dependency cycle: {} -> {}", g.name, name, name),
          {name, name});
    }
    const std::uint32_t id = g.find(dep);
    if (id == detail::NameIndex::npos) {
      missing.push_back({name, dep});
    } else {
      dep_ids.push_back(id);
    }
  }
  if (!missing.empty()) {
    std::vector<std::string> names;
    for (const auto& edge : missing) names.push_back(edge.missing);
    throw MissingDependencyError(
        fmt::format("graph '{}': task '{}' depends on {}, not (yet) in the graph", g.name, name,
                    detail::quoted_list(names)),
        std::move(missing));
  }
  if (g.size() + 1 >= std::numeric_limits<std::uint32_t>::max() / 2) {
    throw GraphError(fmt::format("graph '{}' is full", g.name));
  }
  g.append_task(std::move(name), std::move(fn), dep_ids);
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
  std::sort(ready.begin(), ready.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (state_.io_bound[a] != state_.io_bound[b]) return state_.io_bound[a] > state_.io_bound[b];
    if (state_.priority[a] != state_.priority[b]) return state_.priority[a] > state_.priority[b];
    return state_.names[a] < state_.names[b];
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
