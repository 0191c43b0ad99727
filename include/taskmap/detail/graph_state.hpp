#pragma once
// GraphState<T>: everything a TaskGraph holds, as flat arrays indexed by dense task ids.
// Executors and the reset helpers work on this; TaskGraph is its public face.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/huge_pages.hpp"
#include "taskmap/detail/messages.hpp"
#include "taskmap/detail/name_index.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/store.hpp"
#include "taskmap/task_fn.hpp"
#include "taskmap/task_status.hpp"
#include "taskmap/trigger.hpp"

namespace taskmap::detail {

/// Set while an executor runs the graph. Copies start unset: a copied graph is not running.
class RunFlag {
 public:
  RunFlag() = default;
  RunFlag(const RunFlag&) noexcept {}
  RunFlag& operator=(const RunFlag&) noexcept { return *this; }
  bool try_set() noexcept { return !flag_.exchange(true, std::memory_order_acquire); }
  void clear() noexcept { flag_.store(false, std::memory_order_release); }
  [[nodiscard]] bool is_set() const noexcept { return flag_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> flag_{false};
};

/// False for a rule no number of dependencies `deps_count` can meet: an n of 0 or above it.
constexpr bool trigger_fits(Trigger trigger, std::size_t deps_count) noexcept {
  const bool counted =
      trigger.kind() == Trigger::Kind::n_success || trigger.kind() == Trigger::Kind::n_done;
  return !counted || (trigger.n() >= 1 && trigger.n() <= deps_count);
}

template <class T>
struct GraphState {
  std::string name = "taskmap";
  std::vector<std::string> names;
  NameIndex index;
  std::vector<TaskFn<T>> funcs;
  // Dependencies in CSR form: deps[dep_offsets[i] .. dep_offsets[i+1]) in the order given.
  std::vector<std::uint32_t> dep_offsets{0};
  std::vector<std::uint32_t> deps;
  // Direct dependents in CSR form, rebuilt lazily after add_task.
  std::vector<std::uint32_t> child_offsets{0};
  std::vector<std::uint32_t> children;
  bool children_stale = false;
  std::vector<std::uint8_t> io_bound;
  std::vector<int> priority;
  // Concurrency groups: group_of[task] indexes groups, or is kNoGroup.
  struct Group {
    std::string name;
    std::size_t max_concurrency;
  };
  std::vector<GroupId> group_of;
  std::vector<Group> groups;
  std::vector<TaskStatus> status;
  std::vector<std::optional<T>> results;
  std::vector<std::exception_ptr> errors;
  // What tasks declared for a store, by name (few tasks declare anything).
  std::map<std::string, Persistence, std::less<>> persistence;
  // Trigger rules, per task; empty while every task has the default (all_success), so runs
  // of graphs without rules never look at it.
  std::vector<Trigger> triggers;
  // Tasks reset since they last ran (empty until a reset): a run with a store runs them
  // whatever their record says, so a reset after set_func is never undone by a record.
  std::vector<std::uint8_t> reset_marks;
  RunFlag running;

  [[nodiscard]] std::size_t size() const noexcept { return names.size(); }

  [[nodiscard]] std::span<const std::uint32_t> deps_of(std::uint32_t task) const noexcept {
    return {deps.data() + dep_offsets[task], deps.data() + dep_offsets[task + 1]};
  }

  /// Precondition: children are current (ensure_children).
  [[nodiscard]] std::span<const std::uint32_t> children_of(std::uint32_t task) const noexcept {
    return {children.data() + child_offsets[task], children.data() + child_offsets[task + 1]};
  }

  /// True when some task is io_bound or has a priority, so ready tasks need ordering.
  [[nodiscard]] bool has_order_hints() const noexcept {
    return std::any_of(io_bound.begin(), io_bound.end(), [](std::uint8_t b) { return b != 0; }) ||
           std::any_of(priority.begin(), priority.end(), [](int p) { return p != 0; });
  }

  /// True when `task` has a rule other than all_success.
  [[nodiscard]] bool has_rule(std::uint32_t task) const noexcept {
    return !triggers.empty() && triggers[task].is_special();
  }

  /// Gives `task` its rule. Throws: TriggerError when its dependencies can never meet it.
  void set_trigger(std::uint32_t task, Trigger trigger) {
    const std::size_t deps_count = deps_of(task).size();
    if (!trigger_fits(trigger, deps_count)) {
      throw TriggerError(fmt::format("graph '{}': task '{}' has the trigger {}, which needs n from "
                                     "1 to its number of dependencies ({})",
                                     name, names[task], to_string(trigger), deps_count),
                         {names[task]});
    }
    if (triggers.empty()) {
      if (!trigger.is_special()) return;
      triggers.resize(size());
    }
    triggers[task] = trigger;
  }

  [[nodiscard]] std::uint32_t find(std::string_view task) const noexcept {
    return index.find(task, names);
  }

  /// Throws: UnknownTaskError naming the task.
  [[nodiscard]] std::uint32_t require(std::string_view task) const {
    const std::uint32_t id = find(task);
    if (id == no_task) {
      throw UnknownTaskError(fmt::format("graph '{}' has no task '{}'", name, task),
                             {std::string(task)});
    }
    return id;
  }

  /// Indices of the given names. Throws: UnknownTaskError naming every unknown one.
  template <class Range>
  [[nodiscard]] std::vector<std::uint32_t> resolve(const Range& tasks,
                                                   std::string_view what) const {
    std::vector<std::uint32_t> ids;
    std::vector<std::string> unknown;
    auto take = [&](std::string_view task, std::uint32_t id) {
      if (id == no_task) {
        unknown.emplace_back(task);
      } else {
        ids.push_back(id);
      }
    };
    using Reference = std::ranges::range_reference_t<const Range>;
    if constexpr (std::ranges::forward_range<const Range> &&
                  std::is_lvalue_reference_v<Reference>) {
      // Names that stay put: looked up in one prefetched batch, so resetting a million
      // named tasks does not wait on a cache miss per name.
      std::vector<std::string_view> wanted;
      std::vector<std::uint32_t> hashes;
      for (const auto& task : tasks) {
        wanted.emplace_back(task);
        hashes.push_back(NameIndex::hash(wanted.back()));
      }
      ids.reserve(wanted.size());
      index.find_each(
          wanted.size(), hashes.data(), names, [&](std::size_t i) { return wanted[i]; },
          [](std::size_t) {}, [&](std::size_t i, std::uint32_t id) { take(wanted[i], id); });
    } else {
      for (const auto& task : tasks) take(std::string_view(task), find(std::string_view(task)));
    }
    if (!unknown.empty()) {
      std::sort(unknown.begin(), unknown.end());
      unknown.erase(std::unique(unknown.begin(), unknown.end()), unknown.end());
      std::string message = fmt::format("{} names task(s) that graph '{}' does not have: {}", what,
                                        name, quoted_list(unknown));
      throw UnknownTaskError(std::move(message), std::move(unknown));
    }
    return ids;
  }

  void throw_if_running(std::string_view action) const {
    if (running.is_set()) {
      throw Error(fmt::format("cannot {} graph '{}' while it is running", action, name));
    }
  }

  /// Builds the dependents CSR from the dependencies (counting sort: O(tasks + edges)).
  void build_children_into(std::vector<std::uint32_t>& offsets,
                           std::vector<std::uint32_t>& list) const {
    const std::size_t n = size();
    assign_huge(offsets, n + 1, 0u);
    for (const std::uint32_t dep : deps) ++offsets[dep + 1];
    for (std::size_t i = 0; i < n; ++i) offsets[i + 1] += offsets[i];
    resize_huge(list, deps.size());
    std::vector<std::uint32_t> fill(offsets.begin(), offsets.end() - 1);
    for (std::uint32_t task = 0; task < n; ++task) {
      for (const std::uint32_t dep : deps_of(task)) list[fill[dep]++] = task;
    }
  }

  void rebuild_children() {
    build_children_into(child_offsets, children);
    children_stale = false;
  }

  void ensure_children() {
    if (children_stale) rebuild_children();
  }

  /// Every transitive dependent of `roots`, each once (a root only if another root reaches
  /// it). Works from a private copy of the dependents index when it is stale, so const
  /// callers never write.
  [[nodiscard]] std::vector<std::uint32_t> descendants(std::span<const std::uint32_t> roots) const {
    if (children_stale) {
      std::vector<std::uint32_t> offsets;
      std::vector<std::uint32_t> list;
      build_children_into(offsets, list);
      return descendants(roots, offsets, list);
    }
    return descendants(roots, child_offsets, children);
  }

  [[nodiscard]] std::vector<std::uint32_t> descendants(
      std::span<const std::uint32_t> roots, const std::vector<std::uint32_t>& offsets,
      const std::vector<std::uint32_t>& list) const {
    std::vector<std::uint8_t> seen(size(), 0);
    std::vector<std::uint32_t> found;
    std::vector<std::uint32_t> stack(roots.begin(), roots.end());
    while (!stack.empty()) {
      const std::uint32_t task = stack.back();
      stack.pop_back();
      for (std::uint32_t k = offsets[task]; k < offsets[task + 1]; ++k) {
        const std::uint32_t child = list[k];
        if (seen[child] != 0) continue;
        seen[child] = 1;
        found.push_back(child);
        stack.push_back(child);
      }
    }
    return found;
  }

  /// Appends one task whose dependencies are already resolved.
  void append_task(std::string task, TaskFn<T> fn, std::span<const std::uint32_t> dep_ids) {
    const auto id = static_cast<std::uint32_t>(names.size());
    names.push_back(std::move(task));
    index.insert(id, names);
    funcs.push_back(std::move(fn));
    deps.insert(deps.end(), dep_ids.begin(), dep_ids.end());
    dep_offsets.push_back(static_cast<std::uint32_t>(deps.size()));
    io_bound.push_back(0);
    priority.push_back(0);
    group_of.push_back(kNoGroup);
    status.push_back(TaskStatus::pending);
    if (!reset_marks.empty()) reset_marks.push_back(0);
    if (!triggers.empty()) triggers.emplace_back();
    results.emplace_back();
    errors.emplace_back();
    children_stale = true;
  }
};

}  // namespace taskmap::detail
