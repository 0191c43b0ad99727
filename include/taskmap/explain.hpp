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
  std::vector<std::optional<std::string>> runs(target + 1);  // why each needed task runs
  FactsBuffer buffer;
  for (TaskId id = 0; id <= target; ++id) {
    if (needed[id] == 0) continue;
    const TaskStatus status = g.status[id];
    if (status == TaskStatus::done) {
      values[id] = detail::fed_value(g, store, id);
      continue;
    }
    if (status != TaskStatus::pending && status != TaskStatus::cancelled) {
      runs[id] = fmt::format("dependency {} is {}: it must be reset first", g.names[id],
                             to_string(status));
      continue;
    }
    for (const std::uint32_t dep : g.deps_of(id)) {
      if (!runs[dep]) continue;
      runs[id] = fmt::format("dependency {} will run ({})", g.names[dep], *runs[dep]);
      break;
    }
    if (runs[id]) continue;
    std::optional<T> value;
    runs[id] = detail::judge(g, store, id, values, buffer, value);
  }
  return runs[target] ? *runs[target] : std::string("up to date");
}

}  // namespace taskmap
