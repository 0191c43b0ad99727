#pragma once
// TriggerTally: for each task with a trigger rule (other than all_success), how many of its
// dependencies have ended and how many succeeded during a run, and the one rule of when
// that makes the task ready (its rule is met) or skipped (its rule can no longer be met).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>

#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/task_status.hpp"
#include "taskmap/trigger.hpp"

namespace taskmap::detail {

/// How many of a task's dependencies have ended, and succeeded, as its graph stands.
struct EndedDependencies {
  std::uint32_t total = 0;
  std::uint32_t ended = 0;
  std::uint32_t succeeded = 0;
};

/// Counts `task`'s dependencies that are done, failed or skipped (ended) and done
/// (succeeded), from their statuses; for a graph that is not running.
template <class T>
EndedDependencies ended_dependencies(const GraphState<T>& g, TaskId task) noexcept {
  EndedDependencies out;
  for (const std::uint32_t dep : g.deps_of(task)) {
    const TaskStatus status = g.status[dep];
    ++out.total;
    out.ended +=
        status == TaskStatus::done || status == TaskStatus::failed || status == TaskStatus::skipped;
    out.succeeded += status == TaskStatus::done;
  }
  return out;
}

/// What one dependency's end did to a task with a rule.
enum class RuleTurn : std::uint8_t {
  none,   // nothing yet, or its rule was decided before
  met,    // its rule is now met: the task is ready
  unmet,  // its rule can no longer be met: the task is skipped
};

/// Both counts of a task sit in one word, ended in the low half and succeeded in the high
/// half, so one fetch_add both counts a dependency and tells its caller the state before and
/// after: as "met" and "unmet" only ever turn from false to true, and never both, exactly
/// one caller sees each turn, whichever threads end the dependencies.
class TriggerTally {
 public:
  TriggerTally() = default;
  /// Room for `tasks` tasks; only runs of graphs with rules make one.
  explicit TriggerTally(std::size_t tasks) : words_(new std::uint64_t[tasks]) {}

  [[nodiscard]] bool active() const noexcept { return words_ != nullptr; }

  /// Sets `task`'s counts from the dependencies that ended before the run (one thread, before
  /// the run's tasks start); returns met or unmet when they already decide its rule.
  template <class T>
  RuleTurn start(const GraphState<T>& g, TaskId task) noexcept {
    const EndedDependencies now = ended_dependencies(g, task);
    words_[task] = pack(now.ended, now.succeeded);
    const Trigger rule = g.triggers[task];
    if (met(rule, now.total, now.ended, now.succeeded)) return RuleTurn::met;
    if (unmet(rule, now.total, now.ended, now.succeeded)) return RuleTurn::unmet;
    return RuleTurn::none;
  }

  /// `task` will not wait this run (it ended before): its dependencies' ends change nothing.
  void decided(TaskId task) noexcept { words_[task] = pack(kAll, kAll); }

  /// One dependency of `task` ended, successfully or not.
  template <bool kConcurrent, class T>
  RuleTurn count(const GraphState<T>& g, TaskId task, bool succeeded) noexcept {
    const Trigger rule = g.triggers[task];
    const auto total = static_cast<std::uint32_t>(g.deps_of(task).size());
    const std::uint64_t add = succeeded ? kOne | (kOne << 32) : kOne;
    std::uint64_t before = 0;
    if constexpr (kConcurrent) {
      before =
          std::atomic_ref<std::uint64_t>(words_[task]).fetch_add(add, std::memory_order_acq_rel);
    } else {
      before = words_[task];
      words_[task] = before + add;
    }
    const std::uint64_t after = before + add;
    const bool met_before = met(rule, total, ended_of(before), succeeded_of(before));
    const bool unmet_before = unmet(rule, total, ended_of(before), succeeded_of(before));
    if (met_before || unmet_before) return RuleTurn::none;
    if (met(rule, total, ended_of(after), succeeded_of(after))) return RuleTurn::met;
    if (unmet(rule, total, ended_of(after), succeeded_of(after))) return RuleTurn::unmet;
    return RuleTurn::none;
  }

  /// The error recorded on `task` when its rule turned unmet. n_success(n) turns unmet once
  /// total - n + 1 dependencies did not succeed: the message names that many, the same on
  /// every executor (more may fail on other threads at the same moment).
  template <class T>
  static std::exception_ptr unmet_error(const GraphState<T>& g, TaskId task) {
    const auto total = static_cast<std::uint32_t>(g.deps_of(task).size());
    const Trigger rule = g.triggers[task];
    const std::uint32_t failed =
        rule.kind() == Trigger::Kind::n_success ? total - rule.n() + 1 : 1;  // else all_success
    return std::make_exception_ptr(TriggerUnmet(g.names[task], rule, failed, total));
  }

  /// True when `rule` holds with these counts.
  static constexpr bool met(Trigger rule, std::uint32_t total, std::uint32_t ended,
                            std::uint32_t succeeded) noexcept {
    switch (rule.kind()) {
      case Trigger::Kind::all_success:
        return succeeded >= total;
      case Trigger::Kind::all_done:
        return ended >= total;
      case Trigger::Kind::n_success:
        return succeeded >= rule.n();
      case Trigger::Kind::n_done:
        return ended >= rule.n();
    }
    return false;
  }

  /// True when `rule` can no longer hold, whatever the dependencies still running do.
  static constexpr bool unmet(Trigger rule, std::uint32_t total, std::uint32_t ended,
                              std::uint32_t succeeded) noexcept {
    const std::uint32_t failed = ended - succeeded;
    switch (rule.kind()) {
      case Trigger::Kind::all_success:
        return failed > 0;
      case Trigger::Kind::all_done:
      case Trigger::Kind::n_done:
        return false;  // every dependency ends some day
      case Trigger::Kind::n_success:
        // Too few can still succeed: n of the total, with `failed` of them gone.
        return failed > total - rule.n();
    }
    return false;
  }

 private:
  static constexpr std::uint64_t kOne = 1;
  // Counts that meet every rule, with room left for every dependency to be counted again.
  static constexpr std::uint32_t kAll = 1u << 30;
  static constexpr std::uint64_t pack(std::uint32_t ended, std::uint32_t succeeded) noexcept {
    return ended | (std::uint64_t{succeeded} << 32);
  }
  static constexpr std::uint32_t ended_of(std::uint64_t word) noexcept {
    return static_cast<std::uint32_t>(word);
  }
  static constexpr std::uint32_t succeeded_of(std::uint64_t word) noexcept {
    return static_cast<std::uint32_t>(word >> 32);
  }

  std::unique_ptr<std::uint64_t[]> words_;
};

}  // namespace taskmap::detail
