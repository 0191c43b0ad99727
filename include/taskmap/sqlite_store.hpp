#pragma once
/// @file sqlite_store.hpp
/// SqliteStore: a RecordStore in one SQLite database file, which several threads and
/// processes may share. Needs the taskmap::sqlite target (SQLite and xxHash).

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "taskmap/detail/sqlite_connection.hpp"
#include "taskmap/detail/sqlite_schema.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/record_store.hpp"

namespace taskmap {

/// Records in the SQLite database `file` (created when missing), one row per name, each
/// committed batch durable even through a power loss. Other SqliteStores, in this process or
/// others, may use the same file at the same time.
/// Throws: StoreError from the constructor when the file cannot be opened or created, is
/// read-only, is not an SQLite database, or holds tables named taskmap_records or
/// taskmap_meta of another layout or format version.
/// Thread safety: as RecordStore.
class SqliteStore final : public RecordStore {
 public:
  /// Opens or creates `file`; changes are written as `durability` says.
  explicit SqliteStore(std::filesystem::path file, Durability durability = {});
  /// Writes what is queued, when it can, and closes the file.
  ~SqliteStore() override { close(); }

  /// "SQLite database <file>".
  [[nodiscard]] std::string describe() const override { return describe_; }

 protected:
  void read(std::span<const std::string_view> names,
            std::span<std::optional<std::string>> out) override;
  void write(std::span<const Change> batch) override;

 private:
  // A connection for loads with its statements. Loads from several threads each take one
  // from the idle ones, or open one, so they run in parallel with each other and with the
  // writer (WAL lets readers and one writer proceed together).
  struct Reader {
    explicit Reader(detail::SqliteConnection connection)
        : db(std::move(connection)),
          begin(db, "BEGIN"),
          end(db, "COMMIT"),
          select(db, detail::kSqliteSelectRecord) {}
    detail::SqliteConnection db;
    detail::SqliteStatement begin;
    detail::SqliteStatement end;
    detail::SqliteStatement select;
  };

  // The writer thread's connection and statements.
  struct Writer {
    explicit Writer(detail::SqliteConnection connection)
        : db(std::move(connection)),
          transaction(db),
          save(db, detail::kSqliteSaveRecord),
          erase(db, detail::kSqliteEraseRecord) {}
    detail::SqliteConnection db;
    detail::SqliteTransaction transaction;
    detail::SqliteStatement save;
    detail::SqliteStatement erase;
  };

  // Idle readers kept for the next loads; more are closed when returned.
  static constexpr std::size_t kIdleReaders = 4;

  [[nodiscard]] detail::SqliteConnection connect(int flags) const {
    return detail::SqliteConnection(absolute_, describe_, flags);
  }
  std::unique_ptr<Reader> take_reader();
  void return_reader(std::unique_ptr<Reader> reader);

  // Absolute: readers opened later must not depend on the working directory, and SQLite
  // could read a relative name starting "file:" as a URI.
  std::filesystem::path absolute_;
  std::string describe_;
  std::unique_ptr<Writer> writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Reader>> idle_readers_;
};

inline SqliteStore::SqliteStore(std::filesystem::path file, Durability durability)
    : RecordStore(durability),
      absolute_(std::filesystem::absolute(file)),
      describe_("SQLite database " + file.string()) {
  detail::SqliteConnection db = connect(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  // SQLite opens a file it may not write read-only without a word; a store must write.
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    throw StoreError(describe_ + ": is read-only (a store must write its records)");
  }
  {
    // The first statement reads the file: a file that is not a database fails here. WAL
    // lets loads go on while a batch is committed, and processes share the file through
    // its shared-memory index; the mode is kept in the file, so this is once per file.
    detail::SqliteStatement wal(db, "PRAGMA journal_mode=WAL");
    const int rc = db.step_retrying(wal);
    if (rc != SQLITE_ROW) db.fail(rc, "cannot switch it to write-ahead logging");
  }
  // FULL: each COMMIT also syncs the log, so a batch is durable through a power loss once
  // written (NORMAL syncs only at checkpoints: safe from a killed process, not from a
  // machine that stops). A batch is at most every Durability::max_delay, so the one sync
  // per batch costs little; docs/sqlite-store.md has the measurements.
  db.exec("PRAGMA synchronous=FULL", "cannot set synchronous=FULL");
  detail::prepare_sqlite_schema(db);
  writer_ = std::make_unique<Writer>(std::move(db));
  open();
}

inline std::unique_ptr<SqliteStore::Reader> SqliteStore::take_reader() {
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Reader> reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
  }
  // Not SQLITE_OPEN_READONLY: a reader of a WAL database still writes its shared-memory index.
  return std::make_unique<Reader>(connect(SQLITE_OPEN_READWRITE));
}

inline void SqliteStore::return_reader(std::unique_ptr<Reader> reader) {
  std::lock_guard lock(readers_mutex_);
  if (idle_readers_.size() < kIdleReaders) idle_readers_.push_back(std::move(reader));
}

inline void SqliteStore::read(std::span<const std::string_view> names,
                              std::span<std::optional<std::string>> out) {
  std::unique_ptr<Reader> reader = take_reader();
  const detail::SqliteConnection& db = reader->db;
  // One read transaction for all names: one snapshot, and the log's read lock taken once
  // rather than per name (one name needs none: its SELECT is a transaction).
  const bool transaction = names.size() > 1;
  int rc = SQLITE_DONE;
  if (transaction) {
    rc = db.step_retrying(reader->begin);
    reader->begin.reset();
    if (rc != SQLITE_DONE) db.fail(rc, "cannot start reading");
  }
  // Names in key order (SQLite orders BLOBs as memcmp does, and so does string_view): each
  // lookup then reads pages the last one left in the cache. 100,000 names in a random order
  // took 1.0-1.5 s unsorted, 0.2-0.5 s sorted (sorting included).
  std::vector<std::size_t> order(names.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return names[a] < names[b]; });
  // On a throw the reader is dropped with its open transaction: closing ends it.
  for (const std::size_t i : order) {
    detail::SqliteStatement& select = reader->select;
    select.bind_blob(1, names[i]);
    rc = select.step();
    if (rc == SQLITE_ROW) {
      // A row that is not as written (a damaged page) reads as no record: its task reruns.
      const std::string_view record = select.column_bytes(1);
      if (select.column_type(0) == SQLITE_INTEGER && select.column_type(1) == SQLITE_BLOB &&
          select.column_int64(0) == detail::sqlite_record_checksum(names[i], record)) {
        out[i].emplace(record);
      }
    } else if (rc != SQLITE_DONE) {
      db.fail(rc, "cannot read the record of task " + detail::printable_name(names[i]));
    }
    select.reset();
  }
  if (transaction) {
    rc = reader->end.step();
    reader->end.reset();
    if (rc != SQLITE_DONE) db.fail(rc, "cannot finish reading");
  }
  return_reader(std::move(reader));
}

inline void SqliteStore::write(std::span<const Change> batch) {
  if (batch.empty()) return;
  Writer& w = *writer_;
  const detail::SqliteConnection& db = w.db;
  w.transaction.start(db, "cannot lock it to write " + std::to_string(batch.size()) + " records");
  try {
    for (const Change& change : batch) {
      detail::SqliteStatement& statement = change.bytes ? w.save : w.erase;
      statement.bind_blob(1, change.name);
      if (change.bytes) {
        statement.bind_int64(2, detail::sqlite_record_checksum(change.name, *change.bytes));
        statement.bind_blob(3, *change.bytes);
      }
      const int rc = statement.step();
      statement.reset();
      if (rc != SQLITE_DONE) {
        db.fail(rc, std::string(change.bytes ? "cannot save" : "cannot erase") +
                        " the record of task " + detail::printable_name(change.name));
      }
    }
    w.transaction.finish(db, "cannot commit " + std::to_string(batch.size()) +
                                 " records (the first of task " +
                                 detail::printable_name(batch.front().name) + ")");
  } catch (...) {
    w.transaction.abandon(db);
    throw;
  }
}

}  // namespace taskmap
