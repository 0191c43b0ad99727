#pragma once
// Cycle detection by Kahn's algorithm: O(tasks + edges), no recursion, so it copes with
// chains of millions of tasks and finds a cycle hidden behind any number of acyclic ones.

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/huge_pages.hpp"
#include "taskmap/detail/messages.hpp"
#include "taskmap/errors.hpp"

namespace taskmap::detail {

/// Kahn's order of the tasks (the order a FIFO run starts them in) in `order`, and an empty
/// result when the graph is acyclic; otherwise one cycle as a closed path of task ids, each
/// depending on the next, starting at its smallest name. Precondition: children are current.
template <class T>
std::vector<std::uint32_t> find_cycle(const GraphState<T>& graph,
                                      std::vector<std::uint32_t>& order) {
  const std::size_t n = graph.size();
  std::vector<std::uint32_t> waiting;
  resize_huge(waiting, n);
  std::vector<std::uint32_t> ready;
  reserve_huge(ready, n);
  for (std::uint32_t task = 0; task < n; ++task) {
    waiting[task] = graph.dep_offsets[task + 1] - graph.dep_offsets[task];
    if (waiting[task] == 0) ready.push_back(task);
  }
  for (std::size_t head = 0; head < ready.size(); ++head) {
    for (const std::uint32_t child : graph.children_of(ready[head])) {
      if (--waiting[child] == 0) ready.push_back(child);
    }
  }
  if (ready.size() == n) {
    order = std::move(ready);
    return {};
  }

  // Every task left over waits on another left-over task, so following such dependencies
  // from any of them must revisit a task: that closes a cycle.
  std::uint32_t start = 0;
  while (waiting[start] == 0) ++start;
  std::vector<std::uint32_t> position(n, UINT32_MAX);
  std::vector<std::uint32_t> path;
  std::uint32_t task = start;
  while (position[task] == UINT32_MAX) {
    position[task] = static_cast<std::uint32_t>(path.size());
    path.push_back(task);
    for (const std::uint32_t dep : graph.deps_of(task)) {
      if (waiting[dep] != 0) {
        task = dep;
        break;
      }
    }
  }
  std::vector<std::uint32_t> cycle(path.begin() + position[task], path.end());
  auto smallest = std::min_element(cycle.begin(), cycle.end(),
                                   [&](auto a, auto b) { return graph.names[a] < graph.names[b]; });
  std::rotate(cycle.begin(), smallest, cycle.end());
  cycle.push_back(cycle.front());
  return cycle;
}

/// Returns Kahn's order of the tasks. Throws: CycleError with the cycle's path when the graph
/// has one.
template <class T>
std::vector<std::uint32_t> check_acyclic(const GraphState<T>& graph) {
  std::vector<std::uint32_t> order;
  const std::vector<std::uint32_t> cycle = find_cycle(graph, order);
  if (cycle.empty()) return order;
  std::vector<std::string> names;
  names.reserve(cycle.size());
  for (const std::uint32_t task : cycle) names.push_back(graph.names[task]);
  std::string message =
      fmt::format("graph '{}' has a dependency cycle: {}", graph.name, cycle_path(names));
  throw CycleError(std::move(message), std::move(names));
}

}  // namespace taskmap::detail

namespace taskmap::detail {

/// Starts loading the cache line at `address`.
inline void prefetch_line(const void* address) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(address);
#else
  static_cast<void>(address);
#endif
}

/// Renumbers the tasks so that id i is the i-th of `order`. With Kahn's order, a run then
/// visits its per-task arrays front to back instead of in hash order: far fewer cache misses.
template <class T>
void renumber(GraphState<T>& graph, const std::vector<std::uint32_t>& order) {
  const std::size_t n = graph.size();
  // Already in that order (tasks listed dependencies first, or without dependencies): every
  // permutation below would be the identity, and at a million tasks it touches ~100 MB.
  bool identity = true;
  for (std::uint32_t i = 0; i < n && identity; ++i) identity = order[i] == i;
  if (identity) return;
  std::vector<std::uint32_t> new_id(n);
  for (std::uint32_t i = 0; i < n; ++i) new_id[order[i]] = i;
  // Kahn's order visits the old ids at random, so each gather below loads a line it will need
  // kAhead steps later; at a million tasks the arrays are far larger than the caches.
  constexpr std::size_t kAhead = 16;
  auto permute = [&](auto& values) {
    std::remove_reference_t<decltype(values)> moved;
    reserve_huge(moved, n);
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) prefetch_line(&values[order[i + kAhead]]);
      moved.push_back(std::move(values[order[i]]));
    }
    values.swap(moved);
  };
  permute(graph.names);
  permute(graph.funcs);
  permute(graph.io_bound);
  permute(graph.priority);
  permute(graph.group_of);
  permute(graph.status);
  permute(graph.results);
  permute(graph.errors);
  std::vector<std::uint32_t> offsets(n + 1);
  std::vector<std::uint32_t> deps;
  deps.reserve(graph.deps.size());
  for (std::uint32_t i = 0; i < n; ++i) {
    if (i + kAhead < n) prefetch_line(&graph.dep_offsets[order[i + kAhead]]);
    if (i + kAhead / 2 < n)
      prefetch_line(graph.deps.data() + graph.dep_offsets[order[i + kAhead / 2]]);
    offsets[i] = static_cast<std::uint32_t>(deps.size());
    for (const std::uint32_t dep : graph.deps_of(order[i])) deps.push_back(new_id[dep]);
  }
  offsets[n] = static_cast<std::uint32_t>(deps.size());
  graph.dep_offsets.swap(offsets);
  graph.deps.swap(deps);
  graph.index.remap(new_id);
  graph.rebuild_children();
}

}  // namespace taskmap::detail
