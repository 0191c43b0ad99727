#pragma once
// The parts of a run every executor shares: preparing the graph (who waits on whom, who is
// ready, who is doomed by an earlier failure), calling one task, skipping the dependents of
// a failure, and ending the run (summary, raise_errors).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/describe_exception.hpp"
#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/inlining.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/detail/trigger_tally.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap::detail {

/// Waiting count of a task this run will not start (done, failed, skipped): so high that
/// decrements from finishing dependencies never bring it to zero.
inline constexpr std::uint32_t kNotWaiting = 1u << 31;

/// Marks the graph as running for the lifetime of the guard.
/// Throws: Error if another executor is running the graph.
template <class T>
class RunGuard {
 public:
  explicit RunGuard(GraphState<T>& graph) : graph_(graph) {
    if (!graph_.running.try_set()) {
      throw Error(fmt::format("graph '{}' is already being run", graph_.name));
    }
  }
  RunGuard(const RunGuard&) = delete;
  RunGuard& operator=(const RunGuard&) = delete;
  ~RunGuard() {
    // If the run ends by an exception (an observer threw), no task stays "running".
    if (std::uncaught_exceptions() > uncaught_) {
      for (TaskStatus& status : graph_.status) {
        if (status == TaskStatus::running) status = TaskStatus::pending;
      }
    }
    graph_.running.clear();
  }

 private:
  GraphState<T>& graph_;
  int uncaught_ = std::uncaught_exceptions();
};

/// The error recorded on the dependents of a failed or skipped task.
template <class T>
std::exception_ptr ancestor_error(const GraphState<T>& graph, std::uint32_t task) {
  if (graph.status[task] == TaskStatus::skipped && graph.errors[task]) return graph.errors[task];
  return std::make_exception_ptr(AncestorFailed(graph.names[task]));
}

/// Skips every pending transitive dependent of `root` (which failed or was skipped), calling
/// on_skip(id) for each; a dependent with a trigger rule is not skipped but counts the end of
/// a dependency that did not succeed: on_met(id) when that meets its rule, and skipped in turn
/// (with a TriggerUnmet) when its rule can no longer be met. A skipped task records `error`,
/// or the error of the skipped task it descends from. With `kConcurrent`, statuses change by
/// compare-and-swap, so failures that overlap on other threads skip each task once. `stack`
/// is scratch space.
template <bool kConcurrent, class T, class OnSkip, class OnMet>
void skip_dependents(GraphState<T>& graph, TaskId root, const std::exception_ptr& error,
                     std::vector<TaskId>& stack, TriggerTally& tally, OnSkip&& on_skip,
                     OnMet&& on_met) {
  const auto skip = [&](TaskId task, const std::exception_ptr& why) {
    if constexpr (kConcurrent) {
      TaskStatus expected = TaskStatus::pending;
      if (!std::atomic_ref<TaskStatus>(graph.status[task])
               .compare_exchange_strong(expected, TaskStatus::skipped, std::memory_order_acq_rel)) {
        return;
      }
    } else {
      if (graph.status[task] != TaskStatus::pending) return;
      graph.status[task] = TaskStatus::skipped;
    }
    graph.errors[task] = why;
    graph.results[task].reset();
    on_skip(task);
    stack.push_back(task);
  };
  stack.clear();
  stack.push_back(root);
  while (!stack.empty()) {
    const TaskId task = stack.back();
    stack.pop_back();
    // Below the root, every task on the stack was skipped here and holds its error.
    const std::exception_ptr why = task == root ? error : graph.errors[task];
    for (const TaskId child : graph.children_of(task)) {
      if (graph.has_rule(child)) [[unlikely]] {
        const RuleTurn turn = tally.count<kConcurrent>(graph, child, false);
        if (turn == RuleTurn::met) {
          on_met(child);
        } else if (turn == RuleTurn::unmet) {
          skip(child, tally.unmet_error(graph, child));
        }
        continue;
      }
      skip(child, why);
    }
  }
}

/// Prepares a run: cancelled tasks become pending again; each pending task gets the count
/// of dependencies it still waits for in `waiting` (every other task kNotWaiting); those with
/// none are written to `ready` (in id order), and their count is returned; pending tasks
/// below a failed or skipped task are skipped (on_skip per task). A task with a trigger rule
/// counts instead what its dependencies did before the run in `tally`: it is ready when that
/// meets its rule, skipped when its rule can no longer be met, and otherwise waits on `tally`
/// (its `waiting` is kNotWaiting). `waiting` and `ready` each have room for every task and may
/// start uninitialised: this one pass writes them, so a run of a big graph pays no separate
/// pass to clear them.
template <class T, class OnSkip>
std::size_t prepare_run(GraphState<T>& graph, std::uint32_t* waiting, TaskId* ready,
                        TriggerTally& tally, OnSkip&& on_skip) {
  graph.ensure_children();
  const std::size_t n = graph.size();
  const bool rules = !graph.triggers.empty();
  std::size_t ready_count = 0;
  std::vector<std::uint32_t> doomed;  // (task, failed-or-skipped dependency) pairs
  for (std::uint32_t task = 0; task < n; ++task) {
    TaskStatus& status = graph.status[task];
    if (status == TaskStatus::cancelled) status = TaskStatus::pending;
    if (status != TaskStatus::pending) {
      waiting[task] = kNotWaiting;
      if (rules && graph.triggers[task].is_special()) tally.decided(task);
      continue;
    }
    if (rules && graph.triggers[task].is_special()) [[unlikely]] {
      waiting[task] = kNotWaiting;
      const RuleTurn turn = tally.start(graph, task);
      if (turn == RuleTurn::met) {
        ready[ready_count++] = task;
      } else if (turn == RuleTurn::unmet) {
        doomed.push_back(task);
        doomed.push_back(no_task);  // by its own rule
      }
      continue;
    }
    std::uint32_t count = 0;
    TaskId doomed_by = no_task;
    for (const std::uint32_t dep : graph.deps_of(task)) {
      const TaskStatus dep_status = graph.status[dep];
      if (dep_status == TaskStatus::pending || dep_status == TaskStatus::cancelled) {
        ++count;
      } else if (dep_status == TaskStatus::failed || dep_status == TaskStatus::skipped) {
        doomed_by = dep;
      }
    }
    if (doomed_by != no_task) {
      waiting[task] = kNotWaiting;
      doomed.push_back(task);
      doomed.push_back(doomed_by);
      continue;
    }
    waiting[task] = count;
    if (count == 0) ready[ready_count++] = task;
  }
  std::vector<std::uint32_t> stack;
  for (std::size_t i = 0; i < doomed.size(); i += 2) {
    const std::uint32_t task = doomed[i];
    if (graph.status[task] != TaskStatus::pending) continue;  // already skipped via another
    const std::exception_ptr error = doomed[i + 1] == no_task
                                         ? tally.unmet_error(graph, task)
                                         : ancestor_error(graph, doomed[i + 1]);
    graph.status[task] = TaskStatus::skipped;
    graph.errors[task] = error;
    graph.results[task].reset();
    waiting[task] = kNotWaiting;
    on_skip(task);
    skip_dependents<false>(
        graph, task, error, stack, tally,
        [&](TaskId skipped) {
          waiting[skipped] = kNotWaiting;
          on_skip(skipped);
        },
        [&](TaskId met) { ready[ready_count++] = met; });
  }
  // Tasks whose rules a skip above met came last: the ready list stays in id order.
  if (rules && !doomed.empty()) std::sort(ready, ready + ready_count);
  return ready_count;
}

/// After a stop: every task the run would still have started becomes cancelled (the next
/// run starts it); on_cancel(id) for each.
template <class T, class OnCancel>
void cancel_pending(GraphState<T>& graph, const RunOptions& options, OnCancel&& on_cancel) {
  if (!options.stop_token.stop_requested()) return;
  for (std::uint32_t task = 0; task < graph.size(); ++task) {
    if (graph.status[task] != TaskStatus::pending) continue;
    graph.status[task] = TaskStatus::cancelled;
    on_cancel(task);
  }
}

/// Collects the values fed to `task`: its dependencies' results, in order, skipping those
/// without a value.
template <class T>
TASKMAP_DETAIL_ALWAYS_INLINE void gather_inputs(const GraphState<T>& graph, std::uint32_t task,
                                                std::vector<const T*>& inputs) {
  inputs.clear();
  for (const std::uint32_t dep : graph.deps_of(task)) {
    const std::optional<T>& value = graph.results[dep];
    if (value.has_value()) inputs.push_back(&*value);
  }
}

/// gather_inputs for a task with a trigger rule: a dependency that has not succeeded (failed,
/// skipped, or still running under an n_* rule) is fed as null. A dependency's status is read
/// with acquire, after which its value, written before its status, is complete.
template <class T>
void gather_inputs_after_rule(const GraphState<T>& graph, std::uint32_t task,
                              std::vector<const T*>& inputs) {
  inputs.clear();
  for (const std::uint32_t dep : graph.deps_of(task)) {
    const TaskStatus status =
        std::atomic_ref<TaskStatus>(const_cast<TaskStatus&>(graph.status[dep]))
            .load(std::memory_order_acquire);
    if (status != TaskStatus::done) {
      inputs.push_back(nullptr);
      continue;
    }
    const std::optional<T>& value = graph.results[dep];
    if (value.has_value()) inputs.push_back(&*value);
  }
}

/// Throws TaskError for `task` (the first failure of the run) with its exception nested.
template <class T>
[[noreturn]] void raise_task_error(const GraphState<T>& graph, std::uint32_t task) {
  const std::exception_ptr original = graph.errors[task];
  try {
    std::rethrow_exception(original);
  } catch (...) {
    const std::string what = describe_current_exception();
    std::throw_with_nested(TaskError(
        fmt::format("task '{}' of graph '{}' failed: {}", graph.names[task], graph.name, what),
        graph.names[task], original));
  }
}

/// With raise_errors, throws for the run's first failure, or else for the graph's first
/// failed task (by name) left from an earlier run.
template <class T>
void finish_run(const GraphState<T>& graph, const RunOptions& options,
                std::uint32_t first_failure) {
  if (!options.raise_errors) return;
  if (first_failure != no_task) raise_task_error(graph, first_failure);
  TaskId earliest = no_task;
  for (std::uint32_t task = 0; task < graph.size(); ++task) {
    if (graph.status[task] != TaskStatus::failed) continue;
    if (earliest == no_task || graph.names[task] < graph.names[earliest]) earliest = task;
  }
  if (earliest != no_task) raise_task_error(graph, earliest);
}

}  // namespace taskmap::detail
