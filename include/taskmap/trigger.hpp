#pragma once
/// @file trigger.hpp
/// Trigger: when a task runs, judged by how its dependencies ended — after all of them
/// succeeded (the default), after all of them ended whatever the outcome, or after n of them
/// succeeded or ended. Declared per task in GraphOptions::triggers or TaskGraph::set_trigger.

#include <cstdint>
#include <string>

namespace taskmap {

/// A task's trigger rule. A dependency has *ended* when it is done, failed or skipped, and
/// *succeeded* when it is done (also when a store found it up to date).
///
/// A task whose rule is not all_success is never skipped merely because a dependency failed:
/// it runs once its rule holds, fed the values of the dependencies that succeeded by then,
/// and is skipped (with a TriggerUnmet error) as soon as its rule can no longer hold.
class Trigger {
 public:
  /// The kinds of rule.
  enum class Kind : std::uint8_t {
    all_success,  ///< every dependency succeeded (the default)
    all_done,     ///< every dependency ended
    n_success,    ///< at least n dependencies succeeded
    n_done,       ///< at least n dependencies ended
  };

  /// all_success.
  constexpr Trigger() noexcept = default;

  /// Runs once every dependency succeeded; a failure skips the task (the default).
  [[nodiscard]] static constexpr Trigger all_success() noexcept { return {}; }
  /// Runs once every dependency ended, whatever the outcome; never skipped by them.
  [[nodiscard]] static constexpr Trigger all_done() noexcept { return {Kind::all_done, 0}; }
  /// Runs as soon as `n` dependencies succeeded, even while others still run; skipped once
  /// more than (dependencies - n) ended without succeeding. `n` must be 1..dependencies.
  [[nodiscard]] static constexpr Trigger n_success(std::uint32_t n) noexcept {
    return {Kind::n_success, n};
  }
  /// Runs as soon as `n` dependencies ended, whatever the outcome. `n` must be
  /// 1..dependencies.
  [[nodiscard]] static constexpr Trigger n_done(std::uint32_t n) noexcept {
    return {Kind::n_done, n};
  }

  /// The kind of rule.
  [[nodiscard]] constexpr Kind kind() const noexcept { return kind_; }
  /// The n of n_success and n_done; 0 for the others.
  [[nodiscard]] constexpr std::uint32_t n() const noexcept { return n_; }
  /// True for every rule but all_success, the default.
  [[nodiscard]] constexpr bool is_special() const noexcept { return kind_ != Kind::all_success; }

  /// Rules are equal when kind and n are.
  friend constexpr bool operator==(Trigger, Trigger) noexcept = default;

 private:
  constexpr Trigger(Kind kind, std::uint32_t n) noexcept : kind_(kind), n_(n) {}

  Kind kind_ = Kind::all_success;
  std::uint32_t n_ = 0;
};

/// The rule as written in code: "all_success", "all_done", "n_success(2)", "n_done(3)".
[[nodiscard]] inline std::string to_string(Trigger trigger) {
  switch (trigger.kind()) {
    case Trigger::Kind::all_success:
      return "all_success";
    case Trigger::Kind::all_done:
      return "all_done";
    case Trigger::Kind::n_success:
      return "n_success(" + std::to_string(trigger.n()) + ")";
    case Trigger::Kind::n_done:
      return "n_done(" + std::to_string(trigger.n()) + ")";
  }
  return "unknown";
}

}  // namespace taskmap
