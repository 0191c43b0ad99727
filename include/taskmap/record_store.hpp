#pragma once
/// @file record_store.hpp
/// RecordStore: the bytes a store keeps under task names between runs, made durable in
/// batches by a writer thread of its own. DirectoryStore and SqliteStore are record stores.

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "taskmap/detail/batched_writes.hpp"

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
/// before it, written or not.
/// Thread safety: every public member may be called from several threads at once.
class RecordStore {
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
  detail::BatchedWrites writes_;
};

}  // namespace taskmap
