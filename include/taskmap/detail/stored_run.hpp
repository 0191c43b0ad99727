#pragma once
// StoredRun<T>: a run's side of a Store. Before a task starts, RunCore asks whether its
// record is valid (then the task takes the recorded value and does not run); after it
// succeeds, RunCore records it. Both need what the task was fed: the digest of each
// dependency's value, which StoredRun keeps per task as values are made or taken.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "taskmap/codec.hpp"
#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/store.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap::detail {

/// What a task's value looks like to the records of its dependents.
struct FedValue {
  enum class Kind : std::uint8_t {
    none,     // no value: feeds nothing
    known,    // a value whose bytes have `digest`
    unknown,  // a value that cannot be encoded (no Codec): dependents are never recorded
  };
  Kind kind = Kind::none;
  Digest digest;
};

/// The TaskFacts of one task, with the storage its views point into.
class FactsBuffer {
 public:
  /// False when a dependency fed a value that cannot be encoded.
  template <class T>
  bool fill(const GraphState<T>& g, TaskId task, const std::vector<FedValue>& values) {
    names_.clear();
    fed_.clear();
    for (const std::uint32_t dep : g.deps_of(task)) {
      const FedValue& value = values[dep];
      if (value.kind == FedValue::Kind::unknown) {
        unknown_dependency_ = g.names[dep];
        return false;
      }
      names_.emplace_back(g.names[dep]);
      fed_.push_back(value.kind == FedValue::Kind::known ? std::optional<Digest>(value.digest)
                                                         : std::nullopt);
    }
    facts_.name = g.names[task];
    facts_.declared = &declared_of(g, task);
    facts_.dependencies = names_;
    facts_.fed = fed_;
    return true;
  }
  [[nodiscard]] const TaskFacts& facts() const noexcept { return facts_; }
  /// After fill() returned false: the dependency whose value cannot be encoded.
  [[nodiscard]] std::string_view unknown_dependency() const noexcept { return unknown_dependency_; }

  /// What `task` declared, or the defaults.
  template <class T>
  static const Persistence& declared_of(const GraphState<T>& g, TaskId task) {
    static const Persistence defaults;
    const auto found = g.persistence.find(g.names[task]);
    return found == g.persistence.end() ? defaults : found->second;
  }

 private:
  std::vector<std::string_view> names_;
  std::vector<std::optional<Digest>> fed_;
  std::string_view unknown_dependency_;
  TaskFacts facts_;
};

/// The value a task holds, as its dependents' records see it.
template <class T>
FedValue fed_value(const GraphState<T>& g, const Store& store, TaskId task) {
  const std::optional<T>& value = g.results[task];
  if (!value) return {};
  if constexpr (Encodable<T>) {
    return {FedValue::Kind::known, store.digest(encode(*value))};
  } else {
    return {FedValue::Kind::unknown, {}};
  }
}

/// Why a task with a trigger rule is never taken from a record nor recorded, or null: an
/// n_success or n_done task may start before every dependency ended, so what it is fed
/// depends on timing.
template <class T>
const char* unrecordable_rule(const GraphState<T>& g, TaskId task) noexcept {
  if (!g.has_rule(task)) return nullptr;
  const Trigger::Kind kind = g.triggers[task].kind();
  if (kind == Trigger::Kind::n_success || kind == Trigger::Kind::n_done) {
    return " runs it on whichever dependencies end first: never taken from a record";
  }
  return nullptr;
}

/// The reason given for a task with a trigger rule that runs after a dependency that did not
/// succeed: its record could not tell that dependency from one that returned no value, so
/// it is neither taken from a record nor recorded.
inline constexpr const char* kFedAfterFailure =
    " runs it after a dependency that did not succeed: never taken from a record";

/// True when `task` (with a rule, about to start or just ended) was fed no value for a
/// dependency that did not succeed. Its dependencies all ended before it was queued.
template <class T>
bool fed_after_failure(const GraphState<T>& g, TaskId task) noexcept {
  if (!g.has_rule(task)) return false;
  for (const std::uint32_t dep : g.deps_of(task)) {
    if (g.status[dep] != TaskStatus::done) return true;
  }
  return false;
}

/// The one rule of whether `task` may be taken from its record instead of running: it is
/// not transient, every value fed to it has a digest, the store finds its record valid, and
/// the recorded value decodes as T. Returns why it must run, or nullopt when it need not:
/// then values[task] is its value's digest and `value` holds the decoded value (or nothing,
/// when it had none).
template <class T>
std::optional<std::string> judge(const GraphState<T>& g, Store& store, TaskId task,
                                 std::vector<FedValue>& values, FactsBuffer& buffer,
                                 std::optional<T>& value) {
  if (FactsBuffer::declared_of(g, task).transient) return "transient: always runs";
  if (const char* why = unrecordable_rule(g, task)) {
    return "its trigger " + to_string(g.triggers[task]) + why;
  }
  if (!g.reset_marks.empty() && g.reset_marks[task] != 0) {
    return "reset in this graph since it last ran";
  }
  if (!buffer.fill(g, task, values)) {
    return "dependency " + std::string(buffer.unknown_dependency()) +
           " fed a value that has no Codec";
  }
  StoreVerdict verdict = store.check(buffer.facts());
  if (!verdict.up_to_date) return std::move(verdict.reason);
  value.reset();
  if (!verdict.value) {
    values[task] = {};
    return std::nullopt;
  }
  if constexpr (Encodable<T>) {
    try {
      value = decode<T>(*verdict.value);
    } catch (...) {  // a user's Codec that rejects bytes its own way: the same as bad bytes
      value.reset();
    }
    if (!value) return "its recorded value does not decode as this graph's value type";
    values[task] = {FedValue::Kind::known, store.digest(*verdict.value)};
    return std::nullopt;
  } else {
    return "its recorded value cannot be decoded: this graph's value type has no Codec";
  }
}

template <class T>
class StoredRun {
 public:
  StoredRun(GraphState<T>& graph, Store& store)
      : g_(graph), store_(store), values_(graph.size()), reused_(graph.size(), 0) {}

  /// After prepare_run: the digests of the values held from before this run, and one read
  /// of the records of the tasks it may start.
  void begin() {
    std::vector<std::string_view> wanted;
    for (TaskId task = 0; task < g_.size(); ++task) {
      const TaskStatus status = g_.status[task];
      if (status == TaskStatus::done) {
        values_[task] = fed_value(g_, store_, task);
      } else if (status == TaskStatus::pending && !FactsBuffer::declared_of(g_, task).transient) {
        wanted.emplace_back(g_.names[task]);
      }
    }
    store_.begin_run(wanted);
  }

  /// True when `task`'s record is valid: its value is in place and it must not run. A store
  /// that cannot tell (it throws) lets the task run, and its error is kept for the end of
  /// the run (error()).
  bool reuse(TaskId task, FactsBuffer& buffer) {
    if (unrecordable_rule(g_, task) == nullptr && fed_after_failure(g_, task)) return false;
    std::optional<T> value;
    try {
      if (judge(g_, store_, task, values_, buffer, value)) return false;
    } catch (...) {
      std::lock_guard lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
      return false;
    }
    g_.results[task] = std::move(value);
    reused_[task] = 1;
    return true;
  }

  /// The first error the store threw while the run asked about a task, or null.
  [[nodiscard]] std::exception_ptr error() const {
    std::lock_guard lock(error_mutex_);
    return error_;
  }

  [[nodiscard]] bool reused(TaskId task) const noexcept { return reused_[task] != 0; }

  /// `task` failed after record() kept the digest of its value (its targets were missing):
  /// it feeds nothing, and a dependent's record must not say otherwise.
  void forget_value(TaskId task) noexcept { values_[task] = {}; }

  /// `task` ran and returned: keeps the digest of its value for its dependents and records
  /// it, unless it is transient or its record could not be trusted (its value, or one fed to
  /// it, has no Codec).
  /// Throws: TargetMissingError; whatever the value's Codec throws.
  void record(TaskId task, FactsBuffer& buffer) {
    if (!g_.reset_marks.empty()) g_.reset_marks[task] = 0;  // it ran: its new record counts
    std::optional<std::string> bytes;
    const std::optional<T>& value = g_.results[task];
    bool recordable = true;
    if (value) {
      if constexpr (Encodable<T>) {
        bytes = encode(*value);
        values_[task] = {FedValue::Kind::known, store_.digest(*bytes)};
      } else {
        values_[task] = {FedValue::Kind::unknown, {}};
        recordable = false;
      }
    } else {
      values_[task] = {};
    }
    const Persistence& declared = FactsBuffer::declared_of(g_, task);
    if (!recordable || declared.transient || unrecordable_rule(g_, task) != nullptr ||
        fed_after_failure(g_, task) || !buffer.fill(g_, task, values_)) {
      // Not recorded, but its targets are checked all the same.
      TaskFacts facts;
      facts.name = g_.names[task];
      facts.declared = &declared;
      store_.check_targets(facts);
      return;
    }
    store_.record(buffer.facts(), bytes);
  }

 private:
  GraphState<T>& g_;
  Store& store_;
  std::vector<FedValue> values_;
  std::vector<std::uint8_t> reused_;
  mutable std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace taskmap::detail
