#pragma once
// Building a graph: interning names, attaching functions, resolving dependencies and options
// (each step reporting every offending task in one error), concurrency groups, and the final
// cycle check and renumbering. create_graph and TaskGraph::add_task are thin calls into here.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/messages.hpp"
#include "taskmap/detail/topology.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap::detail {

/// Most tasks a graph may hold: ids and counts stay far below the "no task" id.
inline constexpr std::size_t kMaxTasks = std::numeric_limits<std::uint32_t>::max() / 2 - 1;

/// Name lookups go in batches of this many: hash a batch and prefetch its slots, then probe;
/// the batch's cache misses overlap (the index of a big graph is far larger than the caches).
inline constexpr std::size_t kLookupBatch = 16;

/// Interns every task name (the keys of `deps`) in map order; returns the number of edges.
/// Keys of a map are distinct, so every name is new.
template <class T, class Deps>
std::size_t intern_names(GraphState<T>& g, const Deps& deps) {
  std::uint32_t hashes[kLookupBatch];
  g.names.reserve(deps.size());
  g.index.reserve(deps.size());
  std::size_t edges = 0;
  for (auto it = deps.begin(); it != deps.end();) {
    const std::size_t first = g.names.size();
    std::size_t count = 0;
    for (; count < kLookupBatch && it != deps.end(); ++count, ++it) {
      g.names.push_back(it->first);
      edges += it->second.size();
      hashes[count] = NameIndex::hash(g.names.back());
      g.index.prefetch(hashes[count]);
    }
    for (std::size_t k = 0; k < count; ++k) {
      g.index.insert_new_hashed(static_cast<std::uint32_t>(first + k), hashes[k]);
    }
  }
  return edges;
}

/// Moves each task's function out of `funcs` (extra functions are ignored).
/// Throws: MissingFunctionError naming every task without one.
template <class T, class Funcs>
void attach_functions(GraphState<T>& g, Funcs& funcs) {
  g.funcs.resize(g.size());
  std::uint32_t hashes[kLookupBatch];
  typename Funcs::iterator batch[kLookupBatch];
  for (auto it = funcs.begin(); it != funcs.end();) {
    std::size_t count = 0;
    for (; count < kLookupBatch && it != funcs.end(); ++count, ++it) {
      batch[count] = it;
      hashes[count] = NameIndex::hash(it->first);
      g.index.prefetch(hashes[count]);
    }
    for (std::size_t k = 0; k < count; ++k) {
      const TaskId id = g.index.find_hashed(batch[k]->first, hashes[k], g.names);
      if (id != no_task) g.funcs[id] = std::move(batch[k]->second);
    }
  }
  std::vector<std::string> no_function;
  for (TaskId id = 0; id < g.size(); ++id) {
    if (!g.funcs[id]) no_function.push_back(g.names[id]);
  }
  if (no_function.empty()) return;
  std::sort(no_function.begin(), no_function.end());
  std::string message =
      fmt::format("graph '{}': no function for task(s) {}", g.name, quoted_list(no_function));
  throw MissingFunctionError(std::move(message), std::move(no_function));
}

/// Throws MissingDependencyError for `missing`, grouped by missing name (at most 20 shown).
[[noreturn]] inline void throw_missing_dependencies(
    std::string_view graph, std::vector<MissingDependencyError::Edge> missing) {
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
    detail += fmt::format("'{}' (needed by {})", missing[i].missing, quoted_list(dependents));
    i = j;
  }
  if (shown == 20) detail += "; ...";
  throw MissingDependencyError(
      fmt::format("graph '{}': dependencies that are not tasks: {}", graph, detail),
      std::move(missing));
}

/// Fills the dependencies CSR from `deps`, iterated in the same order as intern_names (so
/// the i-th entry is task i); ids are resolved in batches across tasks.
/// Throws: MissingDependencyError naming every edge to a name that is not a task.
template <class T, class Deps>
void resolve_dependencies(GraphState<T>& g, const Deps& deps, std::size_t edges) {
  g.dep_offsets.resize(g.size() + 1);
  g.dep_offsets[0] = 0;
  g.deps.resize(edges);
  std::vector<MissingDependencyError::Edge> missing;
  TaskId id = 0;
  std::uint32_t position = 0;
  std::uint32_t hashes[kLookupBatch];
  const std::string* batch[kLookupBatch];
  const std::string* owner[kLookupBatch];
  std::uint32_t slot[kLookupBatch];
  std::size_t count = 0;
  auto flush = [&] {
    for (std::size_t k = 0; k < count; ++k) {
      const TaskId dep_id = g.index.find_hashed(*batch[k], hashes[k], g.names);
      if (dep_id == no_task) missing.push_back({*owner[k], *batch[k]});
      g.deps[slot[k]] = dep_id;
    }
    count = 0;
  };
  for (const auto& [task, task_deps] : deps) {
    for (const std::string& dep : task_deps) {
      batch[count] = &dep;
      owner[count] = &task;
      slot[count] = position++;
      hashes[count] = NameIndex::hash(dep);
      g.index.prefetch(hashes[count]);
      if (++count == kLookupBatch) flush();
    }
    g.dep_offsets[++id] = position;
  }
  flush();
  if (!missing.empty()) throw_missing_dependencies(g.name, std::move(missing));
}

/// Records each task's concurrency group. Throws: GraphError for a limit of 0 or a task in
/// two groups. Precondition: every member name is a task.
template <class T, class Groups>
void assign_groups(GraphState<T>& g, const Groups& groups) {
  g.group_of.assign(g.size(), kNoGroup);
  g.groups.clear();
  // Sorted by name, so group ids and messages do not depend on hash order.
  std::vector<const typename Groups::value_type*> sorted;
  for (const auto& entry : groups) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  for (const auto* entry : sorted) {
    const auto& [group, spec] = *entry;
    if (spec.max_concurrency == 0) {
      throw GraphError(
          fmt::format("graph '{}': group '{}' has max_concurrency 0, so its tasks could never run",
                      g.name, group));
    }
    const auto id = static_cast<GroupId>(g.groups.size());
    g.groups.push_back({group, spec.max_concurrency});
    for (const std::string& task : spec.tasks) {
      GroupId& slot = g.group_of[g.find(task)];
      if (slot != kNoGroup && slot != id) {
        throw GraphError(fmt::format("graph '{}': task '{}' is in two groups, '{}' and '{}'",
                                     g.name, task, g.groups[slot].name, group));
      }
      slot = id;
    }
  }
}

/// Applies create_graph's options: io_bound, done, seeded results, priorities, groups.
/// Every name is resolved before any is reported, so one error names all unknown tasks.
/// Throws: UnknownTaskError; GraphError from assign_groups.
template <class T, class Options>
void apply_options(GraphState<T>& g, Options& opts) {
  const std::size_t n = g.size();
  g.io_bound.assign(n, 0);
  g.priority.assign(n, 0);
  g.status.assign(n, TaskStatus::pending);
  g.results.resize(n);
  g.errors.resize(n);
  std::vector<std::string> unknown;
  std::string unknown_detail;
  auto check = [&](std::string_view field, auto&& names_of_field) {
    std::vector<std::string> bad;
    for (const auto& task : names_of_field) {
      if (g.find(task) == no_task) bad.push_back(task);
    }
    if (bad.empty()) return;
    std::sort(bad.begin(), bad.end());
    if (!unknown_detail.empty()) unknown_detail += "; ";
    unknown_detail += fmt::format("{}: {}", field, quoted_list(bad));
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
  assign_groups(g, opts.groups);
}

/// create_graph's work on an empty, named state. Throws: see create_graph.
template <class T, class Funcs, class Deps, class Options>
void build_graph(GraphState<T>& g, Funcs& funcs, const Deps& deps, Options& opts) {
  if (deps.size() > kMaxTasks) {
    throw GraphError(fmt::format("graph '{}' has {} tasks; at most {} are supported", g.name,
                                 deps.size(), kMaxTasks));
  }
  // Intern every name once; the rest of the build and every run work on indices.
  const std::size_t edges = intern_names(g, deps);
  attach_functions(g, funcs);
  resolve_dependencies(g, deps, edges);
  apply_options(g, opts);
  g.rebuild_children();
  renumber(g, check_acyclic(g));
}

/// add_task's checks: the new task's dependency ids, in order.
/// Throws: DuplicateTaskError, MissingFunctionError (empty fn), CycleError (a task depending
/// on itself), MissingDependencyError, GraphError (full).
template <class T>
std::vector<TaskId> check_new_task(const GraphState<T>& g, const std::string& name,
                                   const TaskFn<T>& fn, const std::vector<std::string>& deps) {
  if (g.find(name) != no_task) {
    throw DuplicateTaskError(fmt::format("graph '{}' already has a task '{}'", g.name, name),
                             {name});
  }
  if (!fn) {
    throw MissingFunctionError(fmt::format("graph '{}': no function for task '{}'", g.name, name),
                               {name});
  }
  std::vector<TaskId> dep_ids;
  dep_ids.reserve(deps.size());
  std::vector<MissingDependencyError::Edge> missing;
  for (const std::string& dep : deps) {
    if (dep == name) {
      throw CycleError(
          fmt::format("graph '{}' has a dependency cycle: {} -> {}", g.name, name, name),
          {name, name});
    }
    const TaskId id = g.find(dep);
    if (id == no_task) {
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
                    quoted_list(names)),
        std::move(missing));
  }
  if (g.size() + 1 > kMaxTasks) throw GraphError(fmt::format("graph '{}' is full", g.name));
  return dep_ids;
}

}  // namespace taskmap::detail
