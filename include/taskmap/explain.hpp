#pragma once
/// @file explain.hpp
/// explain(): why the next run with a store would run a task, or skip it as up to date.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/stored_run.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/store.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap {

/// One line on what the next run of `graph` with `store` would do with `task`, and why:
/// "up to date", "no record", "version 2 -> 3", "input file data/a.csv changed (mtime)",
/// "dependency clean_a produced a different value", "target out.tif missing", or that a
/// dependency will run first (with its own reason). Reads the store; changes nothing in the
/// graph.
/// Throws: UnknownTaskError; StoreError when the store cannot be read.
template <class T>
[[nodiscard]] std::string explain(const TaskGraph<T>& graph, Store& store, std::string_view task) {
  using detail::FactsBuffer;
  using detail::FedValue;
  const detail::GraphState<T>& g = detail::GraphAccess::state(graph);
  const TaskId target = g.require(task);
  if (g.status[target] != TaskStatus::pending && g.status[target] != TaskStatus::cancelled) {
    return fmt::format("{} in this graph: a run does not start it until it is reset",
                       to_string(g.status[target]));
  }
  // The pending tasks it depends on, directly or not. Ids follow dependencies (every task
  // comes after those it depends on), so one pass in id order sees dependencies first.
  std::vector<std::uint8_t> needed(target + 1, 0);
  needed[target] = 1;
  for (TaskId id = target + 1; id-- > 0;) {
    if (needed[id] == 0) continue;
    for (const std::uint32_t dep : g.deps_of(id)) needed[dep] = 1;
  }
  std::vector<std::string_view> names;
  for (TaskId id = 0; id <= target; ++id) {
    if (needed[id] != 0 &&
        (g.status[id] == TaskStatus::pending || g.status[id] == TaskStatus::cancelled)) {
      names.emplace_back(g.names[id]);
    }
  }
  store.begin_run(names);

  std::vector<FedValue> values(g.size());
  // Why each needed task runs, and the task whose own reason that is (a stale ancestor's
  // reason is passed down, so a deep chain names its first cause, not every link).
  std::vector<std::optional<std::string>> runs(target + 1);
  std::vector<TaskId> cause(target + 1, no_task);
  FactsBuffer buffer;
  for (TaskId id = 0; id <= target; ++id) {
    if (needed[id] == 0) continue;
    const TaskStatus status = g.status[id];
    if (status == TaskStatus::done) {
      values[id] = detail::fed_value(g, store, id);
      continue;
    }
    cause[id] = id;
    if (status != TaskStatus::pending && status != TaskStatus::cancelled) {
      runs[id] = fmt::format("{} in this graph: a run does not start it until it is reset",
                             to_string(status));
      continue;
    }
    if (FactsBuffer::declared_of(g, id).transient) {
      runs[id] = "transient: always runs";
      continue;
    }
    if (g.has_rule(id)) {
      // Failed dependencies do not skip it; only a rule they can no longer let it meet does.
      const detail::EndedDependencies ended = detail::ended_dependencies(g, id);
      if (detail::TriggerTally::unmet(g.triggers[id], ended.total, ended.ended, ended.succeeded)) {
        runs[id] = fmt::format(
            "its trigger {} can no longer be met: this task is skipped until "
            "it is reset",
            to_string(g.triggers[id]));
        continue;
      }
      if (ended.ended > ended.succeeded && detail::unrecordable_rule(g, id) == nullptr) {
        runs[id] = "its trigger " + to_string(g.triggers[id]) + detail::kFedAfterFailure;
        continue;
      }
    }
    for (const std::uint32_t dep : g.deps_of(id)) {
      const TaskStatus dep_status = g.status[dep];
      if ((dep_status == TaskStatus::failed || dep_status == TaskStatus::skipped) &&
          !g.has_rule(id)) {
        runs[id] = fmt::format(
            "dependency {} is {} in this graph: this task is skipped until "
            "it is reset",
            g.names[dep], to_string(dep_status));
        break;
      }
      if (!runs[dep]) continue;
      cause[id] = cause[dep];
      runs[id] = cause[dep] == dep
                     ? fmt::format("dependency {} will run ({})", g.names[dep], *runs[dep])
                     : fmt::format("dependency {} will run (because of {}: {})", g.names[dep],
                                   g.names[cause[dep]], *runs[cause[dep]]);
      break;
    }
    if (runs[id]) continue;
    std::optional<T> value;
    runs[id] = detail::judge(g, store, id, values, buffer, value);
  }
  return runs[target] ? *runs[target] : std::string("up to date");
}

}  // namespace taskmap
