#pragma once
// Building a graph: interning names, attaching functions, resolving dependencies and options
// (each step reporting every offending task in one error), concurrency groups, and the final
// cycle check and renumbering. create_graph and TaskGraph::add_task are thin calls into here.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <ranges>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/huge_pages.hpp"
#include "taskmap/detail/messages.hpp"
#include "taskmap/detail/topology.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap::detail {

/// A std::pair, std::tuple or std::array of two whose first part converts to a task name:
/// an entry of create_graph's input ranges.
template <class E>
concept NamedPair = std::tuple_size<std::remove_cvref_t<E>>::value == 2 && requires(E& entry) {
  { std::get<0>(entry) } -> std::convertible_to<std::string_view>;
  std::get<1>(entry);
};

/// The second part of such an entry, as std::get gives it.
template <class E>
using SecondOf = decltype(std::get<1>(std::declval<E&>()));

/// Most tasks a graph may hold: ids and counts stay far below the "no task" id.
inline constexpr std::size_t kMaxTasks = std::numeric_limits<std::uint32_t>::max() / 2 - 1;

/// A container whose keys cannot repeat: its insert says whether it inserted.
template <class C>
concept UniqueKeys = requires(C& container, const typename C::value_type& value) {
  {container.insert(value).second};
};

/// How the build may read one input range `R` (as forwarded: an lvalue reference type for
/// an lvalue range).
template <class R>
struct InputRange {
  using Reference = std::ranges::range_reference_t<R>;
  /// Elements may be moved from: the range yields rvalues, or it is an owning range (not a
  /// view of someone else's elements) handed over as an rvalue.
  static constexpr bool movable =
      !std::is_lvalue_reference_v<Reference> ||
      (!std::is_lvalue_reference_v<R> && !std::ranges::view<std::remove_cvref_t<R>>);
  /// Elements stay where they are until the build ends, so pointers to them stay valid.
  static constexpr bool stable =
      std::is_lvalue_reference_v<Reference> && std::ranges::forward_range<R>;
  /// True when the keys cannot repeat (a map or set with unique keys).
  static constexpr bool unique_keys = UniqueKeys<std::remove_cvref_t<R>>;
};

/// The element's part `I`, moved from when the range allows it.
template <std::size_t I, bool Move, class E>
decltype(auto) part(E& entry) {
  using std::get;
  if constexpr (Move) {
    return get<I>(std::move(entry));
  } else {
    return get<I>(entry);
  }
}

/// A task name as the graph stores it: moved in when it comes as a `std::string` rvalue.
template <class N>
std::string to_name(N&& name) {
  if constexpr (std::is_same_v<std::remove_cvref_t<N>, std::string>) {
    return std::string(std::forward<N>(name));
  } else {
    return std::string(std::string_view(name));
  }
}

/// True when names read from the dependency lists of `Deps` stay valid until the build ends
/// without being copied: the lists are held by the elements of a stable range, or their
/// names are views (`std::string_view`, `const char*`) of strings the caller holds.
template <class Deps>
constexpr bool dependency_names_stable() {
  using Inner = std::remove_reference_t<decltype(std::get<1>(
      std::declval<std::ranges::range_reference_t<Deps>&>()))>;
  using Name = std::ranges::range_reference_t<Inner>;
  using Plain = std::remove_cvref_t<Name>;
  return (InputRange<Deps>::stable && std::is_lvalue_reference_v<Name>) ||
         std::is_same_v<Plain, std::string_view> || std::is_same_v<Plain, const char*> ||
         std::is_same_v<Plain, char*>;
}

[[noreturn]] inline void throw_too_many(std::string_view graph, std::size_t tasks) {
  throw GraphError(
      fmt::format("graph '{}' has {} tasks; at most {} are supported", graph, tasks, kMaxTasks));
}

/// Throws DuplicateTaskError for `names` (any order, repeats allowed), sorted and unique.
[[noreturn]] inline void throw_duplicates(std::string_view graph, std::string_view what,
                                          std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string message =
      fmt::format("graph '{}': more than one {} for task(s) {}", graph, what, quoted_list(names));
  throw DuplicateTaskError(std::move(message), std::move(names));
}

/// Walks `deps` once, in its order: task i is its i-th entry. Interns each name (in batches
/// whose index slots are prefetched), fills dep_offsets, and leaves each dependency's hash in
/// g.deps and its name in the returned views (into `deps`, or into `owned` when the range
/// does not keep them); resolve_dependencies turns them into ids once every task is known.
/// Throws: GraphError (too many tasks), DuplicateTaskError naming every repeated task.
template <class T, class Deps>
std::vector<std::string_view> intern_tasks(GraphState<T>& g, Deps&& deps,
                                           std::deque<std::string>& owned) {
  using In = InputRange<Deps>;
  constexpr bool names_stable = dependency_names_stable<Deps>();
  g.dep_offsets.assign(1, 0);
  g.deps.clear();
  std::vector<std::string_view> edge_names;
  if constexpr (std::ranges::sized_range<Deps>) {
    const auto n = static_cast<std::size_t>(std::ranges::size(deps));
    if (n > kMaxTasks) throw_too_many(g.name, n);
    reserve_huge(g.names, n);
    g.index.reserve(n);
    reserve_huge(g.dep_offsets, n + 1);
    // Room for one dependency per task without regrowing; pages never written cost nothing.
    reserve_huge(g.deps, n);
    reserve_huge(edge_names, n);
  }
  std::vector<std::string> duplicates;
  std::uint32_t hashes[NameIndex::kLookupAhead];
  std::size_t waiting = 0;  // names pushed but not yet in the index
  auto flush = [&] {
    if constexpr (!std::ranges::sized_range<Deps>) g.index.reserve(g.names.size());
    const std::size_t first = g.names.size() - waiting;
    for (std::size_t k = 0; k < waiting; ++k) {
      const auto id = static_cast<std::uint32_t>(first + k);
      if (g.index.insert_hashed(id, hashes[k], g.names) != id) duplicates.push_back(g.names[id]);
    }
    waiting = 0;
  };
  for (auto&& entry : deps) {
    if constexpr (!std::ranges::sized_range<Deps>) {
      if (g.names.size() == kMaxTasks) throw_too_many(g.name, kMaxTasks + 1);
    }
    g.names.push_back(to_name(part<0, In::movable>(entry)));
    hashes[waiting] = NameIndex::hash(g.names.back());
    g.index.prefetch(hashes[waiting]);
    if (++waiting == NameIndex::kLookupAhead) flush();
    for (auto&& dep : std::get<1>(entry)) {
      std::string_view name = dep;
      if constexpr (!names_stable) name = owned.emplace_back(name);
      edge_names.push_back(name);
      g.deps.push_back(NameIndex::hash(name));
    }
    g.dep_offsets.push_back(static_cast<std::uint32_t>(g.deps.size()));
  }
  flush();
  if (!duplicates.empty()) {
    throw_duplicates(g.name, "dependency list", std::move(duplicates));
  }
  return edge_names;
}

/// Moves (or copies) each task's function out of `funcs`, walked once in its order. An entry
/// whose name is the task of the same position (both ranges filled in one loop, or two maps
/// filled alike) is taken without a lookup; the others are looked up together afterwards.
/// Functions for names that are not tasks are ignored.
/// Throws: DuplicateTaskError naming every name given more than one function;
/// MissingFunctionError naming every task without one (or with an empty one).
/// `attached[id]` is 1 for tasks whose function is already in g.funcs (sized to the tasks);
/// the first entry of `funcs` has position `position` for the in-order match.
template <class T, class Funcs>
void attach_functions(GraphState<T>& g, Funcs&& funcs, std::vector<std::uint8_t>& attached,
                      std::size_t position = 0) {
  using In = InputRange<Funcs>;
  const std::size_t n = g.size();
  std::vector<std::string> duplicates;
  std::set<std::string, std::less<>> extras;  // names that are not tasks, when they may repeat
  auto take = [&](TaskId id, std::string_view name, auto&& fn) {
    if (id == no_task) {
      if constexpr (!In::unique_keys) {
        if (!extras.emplace(name).second) duplicates.emplace_back(name);
      }
      return;
    }
    if (attached[id] != 0) {
      duplicates.emplace_back(name);
      return;
    }
    attached[id] = 1;
    g.funcs[id] = TaskFn<T>(std::forward<decltype(fn)>(fn));
  };
  using Entry = std::remove_reference_t<typename In::Reference>;
  std::vector<Entry*> later;  // stable ranges only: entries to look up
  std::vector<std::uint32_t> later_hashes;
  for (auto&& entry : funcs) {
    const std::string_view name = std::get<0>(entry);
    if (position < n && attached[position] == 0 && g.names[position] == name) {
      take(static_cast<TaskId>(position), name, part<1, In::movable>(entry));
    } else if constexpr (In::stable) {
      later.push_back(&entry);
      later_hashes.push_back(NameIndex::hash(name));
    } else {
      take(g.find(name), name, part<1, In::movable>(entry));
    }
    ++position;
  }
  if constexpr (In::stable) {
    g.index.find_each(
        later.size(), later_hashes.data(), g.names,
        [&](std::size_t i) { return std::string_view(std::get<0>(*later[i])); },
        [&](std::size_t i) {
#if defined(__GNUC__) || defined(__clang__)
          __builtin_prefetch(later[i]);
#else
          static_cast<void>(i);
#endif
        },
        [&](std::size_t i, TaskId id) {
          take(id, std::get<0>(*later[i]), part<1, In::movable>(*later[i]));
        });
  }
  if (!duplicates.empty()) throw_duplicates(g.name, "function", std::move(duplicates));
  std::vector<std::string> no_function;
  for (TaskId id = 0; id < n; ++id) {
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

/// Turns the hashes intern_tasks left in g.deps into the ids of the named tasks, in order.
/// Throws: MissingDependencyError naming every edge to a name that is not a task.
template <class T>
void resolve_dependencies(GraphState<T>& g, const std::vector<std::string_view>& edge_names) {
  std::vector<MissingDependencyError::Edge> missing;
  std::uint32_t owner = 0;
  g.index.find_each(
      edge_names.size(), g.deps.data(), g.names, [&](std::size_t e) { return edge_names[e]; },
      [&](std::size_t e) {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(edge_names[e].data());
#else
        static_cast<void>(e);
#endif
      },
      [&](std::size_t e, TaskId id) {
        if (id == no_task) {
          while (g.dep_offsets[owner + 1] <= e) ++owner;
          missing.push_back({g.names[owner], std::string(edge_names[e])});
        }
        g.deps[e] = id;
      });
  if (!missing.empty()) throw_missing_dependencies(g.name, std::move(missing));
}

/// Records each task's concurrency group. Throws: GraphError for a limit of 0 or a task in
/// two groups. Precondition: every member name is a task.
template <class T, class Groups>
void assign_groups(GraphState<T>& g, const Groups& groups) {
  assign_huge(g.group_of, g.size(), kNoGroup);
  g.groups.clear();
  // Sorted by name, so group ids and messages do not depend on hash order. The names are
  // sorted as strings, with the one std::sort instantiation the build already has.
  std::vector<std::string> sorted;
  sorted.reserve(groups.size());
  for (const auto& entry : groups) sorted.push_back(entry.first);
  std::sort(sorted.begin(), sorted.end());
  for (const std::string& group : sorted) {
    const auto& spec = groups.find(group)->second;
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
  assign_huge(g.io_bound, n, std::uint8_t{0});
  assign_huge(g.priority, n, 0);
  assign_huge(g.status, n, TaskStatus::pending);
  resize_huge(g.results, n);
  resize_huge(g.errors, n);
  std::vector<std::string> unknown;
  std::string unknown_detail;
  // One instantiation for every field (each is a std::vector<std::string>).
  auto check = [&](std::string_view field, const std::vector<std::string>& names_of_field) {
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
  check("persistence", keys(opts.persistence));
  check("triggers", keys(opts.triggers));
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
  for (auto& [task, declared] : opts.persistence)
    g.persistence.insert_or_assign(task, std::move(declared));
}

/// Gives each task named in `triggers` its rule, once ids are final (after renumbering).
/// Throws: TriggerError naming every task whose rule its dependencies can never meet.
template <class T, class Triggers>
void apply_triggers(GraphState<T>& g, const Triggers& triggers) {
  std::vector<std::pair<std::string, std::string>> bad;  // name, what is wrong
  for (const auto& [task, trigger] : triggers) {
    const TaskId id = g.find(task);
    const std::size_t deps_count = g.deps_of(id).size();
    if (trigger_fits(trigger, deps_count)) {
      g.set_trigger(id, trigger);
    } else {
      bad.emplace_back(task, fmt::format("'{}' has {} and {} dependencies", task,
                                         to_string(trigger), deps_count));
    }
  }
  if (bad.empty()) return;
  std::sort(bad.begin(), bad.end());
  std::vector<std::string> names;
  std::string detail;
  for (auto& [task, text] : bad) {
    detail += (detail.empty() ? "" : "; ") + text;
    names.push_back(std::move(task));
  }
  throw TriggerError(fmt::format("graph '{}': a trigger's n must be from 1 to the task's number "
                                 "of dependencies: {}",
                                 g.name, detail),
                     std::move(names));
}

/// create_graph's work on an empty, named state, from a range of (name, function) pairs and
/// a range of (name, dependency names) pairs, each walked once. Task ids follow `deps`'
/// order until the final renumbering. Throws: see create_graph.
template <class T, class Funcs, class Deps, class Options>
void build_graph(GraphState<T>& g, Funcs&& funcs, Deps&& deps, Options& opts) {
  // Intern every name once; the rest of the build and every run work on indices.
  std::deque<std::string> owned;  // dependency names the input does not keep
  const std::vector<std::string_view> edge_names = intern_tasks(g, std::forward<Deps>(deps), owned);
  assign_huge(g.funcs, g.size(), TaskFn<T>{});
  std::vector<std::uint8_t> attached(g.size(), 0);
  attach_functions(g, std::forward<Funcs>(funcs), attached);
  resolve_dependencies(g, edge_names);
  apply_options(g, opts);
  g.rebuild_children();
  renumber(g, check_acyclic(g));
  apply_triggers(g, opts.triggers);
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
