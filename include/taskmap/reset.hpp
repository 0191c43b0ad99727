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
#include "taskmap/store.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap {

/// A range of task names: std::vector<std::string>, NameList, std::set<std::string_view>...
template <class R>
concept TaskNameRange = std::ranges::input_range<R> &&
    std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>;

namespace detail {

// Resets `roots` and their transitive dependents; with a store, also forgets their records,
// so the next run (in any process) runs them.
template <class T>
void reset_to_pending(GraphState<T>& graph, std::span<const std::uint32_t> roots, Store* store) {
  graph.ensure_children();
  std::vector<std::string_view> names;
  if (graph.reset_marks.size() != graph.size()) graph.reset_marks.resize(graph.size(), 0);
  auto reset = [&](std::uint32_t task) {
    graph.status[task] = TaskStatus::pending;
    graph.results[task].reset();
    graph.errors[task] = nullptr;
    graph.reset_marks[task] = 1;
    if (store != nullptr) names.emplace_back(graph.names[task]);
  };
  for (const std::uint32_t task : roots) reset(task);
  for (const std::uint32_t task : graph.descendants(roots)) reset(task);
  if (store != nullptr) store->forget(names);
}

template <class T>
void reset_failed_impl(TaskGraph<T>& graph, Store* store) {
  GraphState<T>& g = GraphAccess::state(graph);
  g.throw_if_running("reset tasks of");
  std::vector<std::uint32_t> failed;
  for (std::uint32_t task = 0; task < g.size(); ++task) {
    if (g.status[task] == TaskStatus::failed) failed.push_back(task);
  }
  reset_to_pending(g, failed, store);
}

template <class T, class Range>
void reset_tasks_impl(TaskGraph<T>& graph, const Range& tasks, Store* store) {
  GraphState<T>& g = GraphAccess::state(graph);
  g.throw_if_running("reset tasks of");
  const std::vector<std::uint32_t> roots = g.resolve(tasks, "reset_tasks");
  reset_to_pending(g, roots, store);
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
  detail::reset_failed_impl(graph, nullptr);
}
/// reset_failed_tasks that also forgets the reset tasks' records in `store`.
/// Throws: Error while the graph is running.
template <class T>
void reset_failed_tasks(TaskGraph<T>& graph, Store& store) {
  detail::reset_failed_impl(graph, &store);
}

/// Puts the named tasks and all their transitive dependents back to pending, clearing their
/// results and errors (e.g. after set_func, or when their inputs changed).
/// Throws: UnknownTaskError naming every unknown name (nothing is reset then); Error while
/// the graph is running.
template <class T, TaskNameRange Names>
void reset_tasks(TaskGraph<T>& graph, const Names& tasks) {
  detail::reset_tasks_impl(graph, tasks, nullptr);
}
/// reset_tasks with a braced list of names: `reset_tasks(g, {"a", "b"})`.
template <class T>
void reset_tasks(TaskGraph<T>& graph, std::initializer_list<std::string_view> tasks) {
  detail::reset_tasks_impl(graph, tasks, nullptr);
}
/// reset_tasks of one task: `reset_tasks(g, "a")`.
template <class T>
void reset_tasks(TaskGraph<T>& graph, std::string_view task) {
  detail::reset_tasks_impl(graph, std::initializer_list<std::string_view>{task}, nullptr);
}
/// reset_tasks that also forgets the reset tasks' records in `store`, so no later run, in
/// this process or another, takes them as up to date.
/// Throws: as reset_tasks.
template <class T, TaskNameRange Names>
void reset_tasks(TaskGraph<T>& graph, const Names& tasks, Store& store) {
  detail::reset_tasks_impl(graph, tasks, &store);
}
/// reset_tasks with a braced list of names and a store.
template <class T>
void reset_tasks(TaskGraph<T>& graph, std::initializer_list<std::string_view> tasks, Store& store) {
  detail::reset_tasks_impl(graph, tasks, &store);
}
/// reset_tasks of one task, with a store.
template <class T>
void reset_tasks(TaskGraph<T>& graph, std::string_view task, Store& store) {
  detail::reset_tasks_impl(graph, std::initializer_list<std::string_view>{task}, &store);
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
