#pragma once
// SqliteStore's tables and SQL: taskmap_records holds one row per task name, with a checksum
// of the name and record (SQLite keeps no checksums of its own, so a flipped bit inside a
// record would otherwise load as a wrong result); taskmap_meta holds the format version. A
// file whose tables of those names were made otherwise is refused, never written.

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "taskmap/detail/xxhash.hpp"

#include "taskmap/detail/sqlite_connection.hpp"
#include "taskmap/errors.hpp"

namespace taskmap::detail {

/// The layout of SqliteStore's tables; a file with another version is refused.
inline constexpr std::int64_t kSqliteFormatVersion = 1;

// Exactly as SQLite keeps them in sqlite_master, which is how a foreign layout is told apart.
inline constexpr std::string_view kSqliteMetaTable =
    "CREATE TABLE taskmap_meta(key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL)";
// WITHOUT ROWID: rows are kept in the name's B-tree itself, so a lookup reads one tree, not
// an index and then the table, and each name is stored once.
inline constexpr std::string_view kSqliteRecordsTable =
    "CREATE TABLE taskmap_records(name BLOB PRIMARY KEY NOT NULL, checksum INTEGER NOT NULL, "
    "record BLOB NOT NULL) WITHOUT ROWID";

inline constexpr std::string_view kSqliteSelectRecord =
    "SELECT checksum, record FROM taskmap_records WHERE name = ?1";
inline constexpr std::string_view kSqliteSaveRecord =
    "INSERT OR REPLACE INTO taskmap_records(name, checksum, record) VALUES (?1, ?2, ?3)";
inline constexpr std::string_view kSqliteEraseRecord =
    "DELETE FROM taskmap_records WHERE name = ?1";

/// The checksum kept beside `record`: it covers the name too, so a record that ends up under
/// another name (a damaged page) does not pass either.
[[nodiscard]] inline std::int64_t sqlite_record_checksum(std::string_view name,
                                                         std::string_view record) noexcept {
  const XXH64_hash_t seed = XXH3_64bits(name.data(), name.size());
  return std::bit_cast<std::int64_t>(XXH3_64bits_withSeed(record.data(), record.size(), seed));
}

/// The transaction statements of one connection, prepared once.
struct SqliteTransaction {
  explicit SqliteTransaction(const SqliteConnection& db)
      : begin(db, "BEGIN IMMEDIATE"), commit(db, "COMMIT"), rollback(db, "ROLLBACK") {}

  // Takes the write lock, retrying while another connection holds it.
  void start(const SqliteConnection& db, std::string_view what) {
    const int rc = db.step_retrying(begin);
    begin.reset();
    if (rc != SQLITE_DONE) db.fail(rc, what);
  }
  void finish(const SqliteConnection& db, std::string_view what) {
    const int rc = db.step_retrying(commit);
    commit.reset();
    if (rc != SQLITE_DONE) db.fail(rc, what);
  }
  // Ends a failed transaction; SQLite may have rolled it back already (a full disk does).
  void abandon(const SqliteConnection& db) noexcept {
    if (sqlite3_get_autocommit(db.get()) == 0) {
      rollback.step();
      rollback.reset();
    }
  }

  SqliteStatement begin;
  SqliteStatement commit;
  SqliteStatement rollback;
};

/// Checks the tables of taskmap in `db`'s file, creating them when there are none.
/// Throws: StoreError when the file holds tables of those names of another layout or
/// version, or cannot be read or written.
inline void prepare_sqlite_schema(const SqliteConnection& db) {
  SqliteTransaction transaction(db);
  // Under the write lock, so two processes opening a new file do not both create the tables.
  transaction.start(db, "cannot lock it to check its tables");
  try {
    std::optional<std::string> meta;
    std::optional<std::string> records;
    SqliteStatement tables(db,
                           "SELECT name, type || ' ' || ifnull(sql, '') FROM sqlite_master "
                           "WHERE name IN ('taskmap_meta', 'taskmap_records')");
    int rc = SQLITE_ROW;
    while ((rc = tables.step()) == SQLITE_ROW) {
      const std::string_view name = tables.column_bytes(0);
      std::string definition(tables.column_bytes(1));
      (name == "taskmap_meta" ? meta : records) = std::move(definition);
    }
    if (rc != SQLITE_DONE) db.fail(rc, "cannot read its list of tables");
    const auto foreign = [&](std::string_view table, const std::string& why) {
      throw StoreError(db.describe() + ": its " + std::string(table) +
                       " was not made by taskmap (" + why + "); not touching it");
    };
    const auto as_table = [](std::string_view sql) { return "table " + std::string(sql); };
    if (meta) {
      if (*meta != as_table(kSqliteMetaTable)) foreign("taskmap_meta", *meta);
      SqliteStatement version(db, "SELECT value FROM taskmap_meta WHERE key = 'format_version'");
      rc = version.step();
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) db.fail(rc, "cannot read its format version");
      if (rc == SQLITE_DONE || version.column_type(0) != SQLITE_INTEGER ||
          version.column_int64(0) != kSqliteFormatVersion) {
        throw StoreError(
            db.describe() + ": holds taskmap records of format version " +
            (rc == SQLITE_DONE ? std::string("(none)") : std::string(version.column_bytes(0))) +
            "; this taskmap reads version " + std::to_string(kSqliteFormatVersion));
      }
    } else if (records) {
      foreign("taskmap_records", "no taskmap_meta beside it");
    } else {
      db.exec(std::string(kSqliteMetaTable).c_str(), "cannot create its table taskmap_meta");
      db.exec(("INSERT INTO taskmap_meta(key, value) VALUES ('format_version', " +
               std::to_string(kSqliteFormatVersion) + ")")
                  .c_str(),
              "cannot write its format version");
    }
    if (!records) {
      db.exec(std::string(kSqliteRecordsTable).c_str(), "cannot create its table taskmap_records");
    } else if (*records != as_table(kSqliteRecordsTable)) {
      foreign("taskmap_records", *records);
    }
    transaction.finish(db, "cannot commit its tables");
  } catch (...) {
    transaction.abandon(db);
    throw;
  }
}

}  // namespace taskmap::detail
