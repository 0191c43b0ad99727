#pragma once
/// @file store.hpp
/// Store: what a run asks of a place that remembers completed tasks between processes, and
/// Persistence: what a task declares so a store can tell whether its record is still valid.
/// The stores themselves (DirectoryStore, SqliteStore) have headers and targets of their own.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace taskmap {

/// How a file a task reads or writes is compared with the record of an earlier run.
enum class FileCheck : std::uint8_t {
  stamp,    ///< size and modification time in nanoseconds (the default: cheap)
  content,  ///< a hash of the bytes (reads the whole file)
  exists,   ///< only that it exists (for files made once and then edited by hand)
};

/// What a task declares for a store (GraphOptions::persistence, TaskGraph::set_persistence).
/// Every task of a run with a store is recorded unless it is transient; undeclared tasks
/// use the defaults.
struct Persistence {
  /// Bump it when the task's code changes: a record of another version is stale.
  std::string version = {};
  /// Files the task reads: a change to one makes its record stale.
  std::vector<std::string> inputs = {};
  /// Files the task must produce. After it runs each must exist, or it fails with
  /// TargetMissingError; a missing or changed target makes its record stale. Order does
  /// not matter.
  std::vector<std::string> targets = {};
  /// How input files are compared.
  FileCheck input_check = FileCheck::stamp;
  /// How targets are compared.
  FileCheck target_check = FileCheck::stamp;
  /// Always runs and is never recorded.
  bool transient = false;
};

/// 128 bits of a hash: of a value's bytes, or of everything a task's record depends on.
struct Digest {
  std::uint64_t low = 0;   ///< the low 64 bits
  std::uint64_t high = 0;  ///< the high 64 bits
  /// Equal when all 128 bits are.
  friend bool operator==(const Digest&, const Digest&) = default;
};

/// One task as a store sees it when deciding whether its record is valid. The views are
/// valid only during the call they are passed to.
struct TaskFacts {
  /// The task's name.
  std::string_view name;
  /// What it declared (the defaults when it declared nothing).
  const Persistence* declared = nullptr;
  /// Its dependencies' names, in feeding order.
  std::span<const std::string_view> dependencies;
  /// For each dependency, the digest of the value it fed, or nullopt when it fed none.
  std::span<const std::optional<Digest>> fed;
};

/// What a store found for a task.
struct StoreVerdict {
  /// True when the record is valid: the task need not run.
  bool up_to_date = false;
  /// The recorded value's bytes (Codec<T>), when up to date and the task had a value.
  std::optional<std::string> value;
  /// Why the task must run (empty when up to date), e.g. "version 2 -> 3".
  std::string reason;
};

/// Remembers completed tasks between runs and processes. A run given one
/// (`run(g, {.store = &store})`, any executor) skips each task whose record is valid, takes
/// its value from the record, and records each task that succeeds.
/// Thread safety: every member may be called from several threads at once.
class Store {
 public:
  virtual ~Store() = default;

  /// A run of `tasks` starts: the store may read their records in one pass.
  /// Throws: StoreError when the store cannot be read.
  virtual void begin_run(std::span<const std::string_view> tasks) = 0;

  /// Whether `task`'s record is valid, with the value and the reason.
  [[nodiscard]] virtual StoreVerdict check(const TaskFacts& task) = 0;

  /// `task` succeeded with `value` (bytes from Codec<T>; nullopt when it produced none or
  /// its type has no Codec): records it.
  /// Throws: TargetMissingError naming the declared targets that do not exist.
  virtual void record(const TaskFacts& task, const std::optional<std::string>& value) = 0;

  /// `task` succeeded but is not recorded (it is transient, or a value it produced or was
  /// fed has no Codec): only checks that its declared targets exist. Only `name` and
  /// `declared` of `task` are set.
  /// Throws: TargetMissingError naming the declared targets that do not exist.
  virtual void check_targets(const TaskFacts& task) = 0;

  /// The digest of a value's bytes, which dependents' records remember.
  [[nodiscard]] virtual Digest digest(std::string_view bytes) const = 0;

  /// Forgets the records of `tasks` (reset_tasks and reset_failed_tasks call it); durably, by
  /// the time it returns.
  /// Throws: StoreError when the records could not be erased.
  virtual void forget(std::span<const std::string_view> tasks) = 0;

  /// The run ended: every record it made is durable when this returns.
  /// Throws: StoreError when records could not be written.
  virtual void end_run() = 0;
};

}  // namespace taskmap
