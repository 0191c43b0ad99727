#pragma once
/// @file reset.hpp
/// Helpers that prepare a graph for another run: reset what failed or changed, or mark
/// tasks done so they never run.

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <ranges>
#include <span>
#include <string_view>
#include <vector>

#include "taskmap/detail/graph_state.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap {

/// A range of task names: std::vector<std::string>, NameList, std::set<std::string_view>...
template <class R>
concept TaskNameRange = std::ranges::input_range<R> &&
    std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>;

namespace detail {

template <class T>
void reset_to_pending(GraphState<T>& graph, std::span<const std::uint32_t> roots) {
  graph.ensure_children();
  auto reset = [&](std::uint32_t task) {
    graph.status[task] = TaskStatus::pending;
    graph.results[task].reset();
    graph.errors[task] = nullptr;
  };
  for (const std::uint32_t task : roots) reset(task);
  for (const std::uint32_t task : graph.descendants(roots)) reset(task);
}

template <class T, class Range>
void reset_tasks_impl(TaskGraph<T>& graph, const Range& tasks) {
  GraphState<T>& g = GraphAccess::state(graph);
  g.throw_if_running("reset tasks of");
  const std::vector<std::uint32_t> roots = g.resolve(tasks, "reset_tasks");
  reset_to_pending(g, roots);
}

template <class T, class Range>
void mark_as_done_impl(TaskGraph<T>& graph, const Range& tasks, bool except) {
  GraphState<T>& g = GraphAccess::state(graph);
  g.throw_if_running("mark tasks done in");
  const std::vector<std::uint32_t> named =
      g.resolve(tasks, except ? "mark_as_done_except" : "mark_as_done");
  std::vector<std::uint8_t> selected(g.size(), except ? 1 : 0);
  for (const std::uint32_t task : named) selected[task] = except ? 0 : 1;
  for (std::uint32_t task = 0; task < g.size(); ++task) {
    if (selected[task] == 0) continue;
    g.status[task] = TaskStatus::done;
    g.errors[task] = nullptr;
  }
}

}  // namespace detail

/// Puts every failed task and all its transitive dependents back to pending, clearing their
/// results and errors, so the next run retries exactly them.
/// Throws: Error while the graph is running.
template <class T>
void reset_failed_tasks(TaskGraph<T>& graph) {
  detail::GraphState<T>& g = detail::GraphAccess::state(graph);
  g.throw_if_running("reset tasks of");
  std::vector<std::uint32_t> failed;
  for (std::uint32_t task = 0; task < g.size(); ++task) {
    if (g.status[task] == TaskStatus::failed) failed.push_back(task);
  }
  detail::reset_to_pending(g, failed);
}

/// Puts the named tasks and all their transitive dependents back to pending, clearing their
/// results and errors (e.g. after set_func, or when their inputs changed).
/// Throws: UnknownTaskError naming every unknown name (nothing is reset then); Error while
/// the graph is running.
template <class T, TaskNameRange Names>
void reset_tasks(TaskGraph<T>& graph, const Names& tasks) {
  detail::reset_tasks_impl(graph, tasks);
}
/// reset_tasks with a braced list of names: `reset_tasks(g, {"a", "b"})`.
template <class T>
void reset_tasks(TaskGraph<T>& graph, std::initializer_list<std::string_view> tasks) {
  detail::reset_tasks_impl(graph, tasks);
}
/// reset_tasks of one task: `reset_tasks(g, "a")`.
template <class T>
void reset_tasks(TaskGraph<T>& graph, std::string_view task) {
  detail::reset_tasks_impl(graph, std::initializer_list<std::string_view>{task});
}

/// Marks the named tasks done (their results, if any, are kept and fed to dependents); they
/// will not run. Throws: UnknownTaskError (nothing is marked then); Error while running.
template <class T, TaskNameRange Names>
void mark_as_done(TaskGraph<T>& graph, const Names& tasks) {
  detail::mark_as_done_impl(graph, tasks, false);
}
/// mark_as_done with a braced list of names: `mark_as_done(g, {"a", "b"})`.
template <class T>
void mark_as_done(TaskGraph<T>& graph, std::initializer_list<std::string_view> tasks) {
  detail::mark_as_done_impl(graph, tasks, false);
}
/// mark_as_done of one task: `mark_as_done(g, "a")`.
template <class T>
void mark_as_done(TaskGraph<T>& graph, std::string_view task) {
  detail::mark_as_done_impl(graph, std::initializer_list<std::string_view>{task}, false);
}

/// Marks every task done except the named ones. Throws: UnknownTaskError; Error while running.
template <class T, TaskNameRange Names>
void mark_as_done_except(TaskGraph<T>& graph, const Names& tasks) {
  detail::mark_as_done_impl(graph, tasks, true);
}
/// mark_as_done_except with a braced list of names: `mark_as_done_except(g, {"a", "b"})`.
template <class T>
void mark_as_done_except(TaskGraph<T>& graph, std::initializer_list<std::string_view> tasks) {
  detail::mark_as_done_impl(graph, tasks, true);
}
/// mark_as_done_except of one task: `mark_as_done_except(g, "a")`.
template <class T>
void mark_as_done_except(TaskGraph<T>& graph, std::string_view task) {
  detail::mark_as_done_impl(graph, std::initializer_list<std::string_view>{task}, true);
}

}  // namespace taskmap
