#pragma once
/// @file record_store.hpp
/// RecordStore: a Store that keeps one record per task name — what the task's validity
/// depends on, a fingerprint over it, and its value — made durable in batches by a writer
/// thread of its own. DirectoryStore and SqliteStore are record stores; they only say how
/// bytes are read and written. Part of taskmap::store (needs xxHash).

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/batched_writes.hpp"
#include "taskmap/detail/hashing.hpp"
#include "taskmap/detail/messages.hpp"
#include "taskmap/detail/task_record.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/store.hpp"

namespace taskmap {

/// How soon a saved record must be durable: once `max_delay` has passed since it was saved,
/// or once `max_batch` records wait, whichever comes first. A crash loses at most the
/// records of that window; their tasks run again.
struct Durability {
  /// The longest a saved record waits before it is written.
  std::chrono::milliseconds max_delay{100};
  /// The most records that wait before they are written at once.
  std::size_t max_batch = 1024;
};

/// Records kept under task names. save() and erase() queue a change and return; a writer
/// thread applies queued changes in batches through write(). load() sees every change made
/// before it, written or not. As a Store, a run reads every record it may need in one
/// load_many(), and a task's record is valid when its fingerprint — over its name, version,
/// the digests of the values fed to it, its input files and its targets — is the one
/// things have now.
/// Thread safety: every public member may be called from several threads at once.
class RecordStore : public Store {
 public:
  /// One queued change: `bytes` to keep under `name`, or nullopt to erase its record.
  using Change = detail::RecordChange;

  /// Starts the writer thread.
  explicit RecordStore(Durability durability = {}) : writes_(durability) {}
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;
  /// Writes what is queued, when it can (errors are dropped), and stops the writer thread.
  virtual ~RecordStore() = default;

  /// The record kept under `name`, or nullopt when there is none or it cannot be read intact.
  /// Throws: StoreError when the store cannot be read at all.
  [[nodiscard]] std::optional<std::string> load(std::string_view name) {
    std::optional<std::string> record;
    load_many({&name, 1}, {&record, 1});
    return record;
  }

  /// `out[i]` = load(names[i]) for every i, in one pass over the store.
  /// Throws: StoreError when the store cannot be read at all; std::invalid_argument when the
  /// spans' sizes differ.
  void load_many(std::span<const std::string_view> names,
                 std::span<std::optional<std::string>> out) {
    writes_.load_many(
        names, out,
        [this](std::span<const std::string_view> missing,
               std::span<std::optional<std::string>> found) { read(missing, found); });
  }

  /// Keeps `bytes` under `name`, replacing any record; durable within the Durability bounds.
  /// A write that fails is reported by the next flush().
  void save(std::string name, std::string bytes) {
    writes_.queue({std::move(name), std::move(bytes)});
  }

  /// Erases the records kept under `names` (names without one are ignored), as save() does.
  void erase(std::span<const std::string_view> names) {
    for (const std::string_view name : names) writes_.queue({std::string(name), std::nullopt});
  }

  /// Returns once every change queued before the call is durable.
  /// Throws: StoreError for the first write that failed since the last flush() (its
  /// changes are lost: their tasks run again).
  void flush() { writes_.flush(); }

  /// Where the records are, for messages: e.g. "SQLite database results.db".
  [[nodiscard]] virtual std::string describe() const = 0;

  // Store: what runs ask.

  void begin_run(std::span<const std::string_view> tasks) override {
    std::vector<std::optional<std::string>> records(tasks.size());
    load_many(tasks, records);
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      prefetched_.insert_or_assign(std::string(tasks[i]), std::move(records[i]));
    }
  }

  [[nodiscard]] StoreVerdict check(const TaskFacts& task) override {
    const std::optional<std::string> bytes = take_prefetched(task.name);
    detail::TaskRecord now = detail::TaskRecord::of(task, std::nullopt);
    StoreVerdict verdict;
    std::optional<detail::TaskRecord> stored;
    if (!bytes) {
      verdict.reason = "no record";
    } else if (stored = detail::TaskRecord::from_bytes(*bytes); !stored) {
      verdict.reason = "its record cannot be read (damaged, or written by another version)";
    } else {
      verdict.reason = stored->stale_reason(now);
      if (verdict.reason.empty() && stored->fingerprint != now.fingerprint) {
        verdict.reason = "its fingerprint changed";
      }
    }
    if (verdict.reason.empty()) {
      verdict.up_to_date = true;
      verdict.value = std::move(stored->value);
      return verdict;
    }
    // The task will run: its record will say what its input files were as it started.
    std::lock_guard lock(mutex_);
    started_inputs_.insert_or_assign(std::string(task.name), std::move(now.inputs));
    return verdict;
  }

  void record(const TaskFacts& task, const std::optional<std::string>& value) override {
    std::optional<std::vector<detail::FileFact>> inputs;
    {
      std::lock_guard lock(mutex_);
      if (auto found = started_inputs_.find(task.name); found != started_inputs_.end()) {
        inputs = std::move(found->second);
        started_inputs_.erase(found);
      }
    }
    detail::TaskRecord record = detail::TaskRecord::of(task, std::move(inputs));
    throw_if_missing(task.name, record.targets);
    record.value = value;
    save(std::string(task.name), record.to_bytes());
  }

  void check_targets(const TaskFacts& task) override {
    {
      std::lock_guard lock(mutex_);
      if (auto found = started_inputs_.find(task.name); found != started_inputs_.end()) {
        started_inputs_.erase(found);
      }
    }
    throw_if_missing(task.name, detail::file_facts(task.declared->targets, FileCheck::exists));
  }

  [[nodiscard]] Digest digest(std::string_view bytes) const override {
    return detail::hash128(bytes);
  }

  void forget(std::span<const std::string_view> tasks) override {
    {
      std::lock_guard lock(mutex_);
      for (const std::string_view task : tasks) {
        if (auto found = prefetched_.find(task); found != prefetched_.end()) {
          prefetched_.erase(found);
        }
      }
    }
    erase(tasks);
    // Durable before reset_tasks returns, and its failure reported there: a forgotten record
    // that a failed erase left on disk would make the next run skip the reset task.
    flush();
  }

  void end_run() override { flush(); }

 protected:
  /// Reads the records of `names` into `out` (same size, every entry nullopt on entry),
  /// leaving nullopt where there is none or it is not intact. Called from any thread,
  /// concurrently with write().
  /// Throws: StoreError when the store cannot be read at all.
  virtual void read(std::span<const std::string_view> names,
                    std::span<std::optional<std::string>> out) = 0;

  /// Applies `batch` (at most one change per name) and returns once it is durable. Called
  /// from the writer thread only.
  /// Throws: StoreError naming the store and the first record it could not write.
  virtual void write(std::span<const Change> batch) = 0;

  /// Writes what is queued and stops the writer thread. A derived store calls it first in
  /// its destructor, while the members write() uses still exist; later calls do nothing.
  void close() noexcept {
    writes_.stop([this](std::span<const Change> batch) { write(batch); });
  }

  /// The writer thread starts applying changes with write(). A derived store calls it last
  /// in its constructor, once write() can run; changes queued before wait for it.
  void open() {
    writes_.start([this](std::span<const Change> batch) { write(batch); });
  }

 private:
  static void throw_if_missing(std::string_view task,
                               const std::vector<detail::FileFact>& targets) {
    std::vector<std::string> missing;
    for (const detail::FileFact& target : targets) {
      if (!target.exists) missing.push_back(target.path);
    }
    if (missing.empty()) return;
    std::string message = fmt::format("task '{}' did not produce its target(s): {}", task,
                                      detail::quoted_list(missing));
    throw TargetMissingError(std::move(message), std::string(task), std::move(missing));
  }

  std::optional<std::string> take_prefetched(std::string_view task) {
    {
      std::lock_guard lock(mutex_);
      if (auto found = prefetched_.find(task); found != prefetched_.end()) {
        std::optional<std::string> bytes = std::move(found->second);
        prefetched_.erase(found);
        return bytes;
      }
    }
    return load(task);
  }

  detail::BatchedWrites writes_;
  std::mutex mutex_;
  // Records read by begin_run, each taken by the check of its task.
  std::map<std::string, std::optional<std::string>, std::less<>> prefetched_;
  // Input files as each task was checked, for its record when it ends.
  std::map<std::string, std::vector<detail::FileFact>, std::less<>> started_inputs_;
};

}  // namespace taskmap
