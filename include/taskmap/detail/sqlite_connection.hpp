#pragma once
// SqliteConnection and SqliteStatement: owners of SQLite's connection and statement handles
// for SqliteStore, with its error messages (each names the database file and what was being
// done) and its retries of a busy database. A connection is used by one thread at a time
// (SQLITE_OPEN_NOMUTEX): the store hands each to one thread, so SQLite's own mutexes would
// only cost time.

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "taskmap/errors.hpp"

namespace taskmap::detail {

/// `name` as an error message shows it: at most 100 bytes (then the length), control bytes as
/// \xHH, so a name of 10 kB or one holding NUL still gives a readable message.
inline std::string printable_name(std::string_view name) {
  constexpr std::size_t kShown = 100;
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out = "'";
  for (const char c : name.substr(0, kShown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  out += '\'';
  if (name.size() > kShown) out += " (" + std::to_string(name.size()) + " bytes)";
  return out;
}

/// How long a connection waits for another's lock inside one call (sqlite3_busy_timeout),
/// and how long BEGIN IMMEDIATE and COMMIT keep retrying a busy database in all.
inline constexpr std::chrono::milliseconds kSqliteBusyTimeout{5000};
inline constexpr std::chrono::milliseconds kSqliteRetryBound{30000};

class SqliteStatement;

class SqliteConnection {
 public:
  // Opens `file` (already absolute, so no name is taken for a URI); `describe` starts every
  // message. Throws StoreError when the file cannot be opened.
  SqliteConnection(const std::filesystem::path& file, std::string describe, int flags)
      : describe_(std::move(describe)) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(file.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(db);  // sqlite3_open_v2 returns a handle to close even when it fails
    if (rc != SQLITE_OK) fail(rc, "cannot open it");
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(kSqliteBusyTimeout.count()));
    // The file may come from anywhere: its schema must not run SQL functions on our behalf,
    // and ordinary SQL must not be able to corrupt it.
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  }

  [[nodiscard]] sqlite3* get() const noexcept { return db_.get(); }
  [[nodiscard]] const std::string& describe() const noexcept { return describe_; }

  // Throws StoreError: "<describe>: <what>: <SQLite's message> (<code's name>)".
  [[noreturn]] void fail(int rc, std::string_view what) const {
    std::string message = describe_;
    // The first statement on a file fails so when it is not a database: say that first.
    if ((rc & 0xff) == SQLITE_NOTADB) message += ": is not an SQLite database";
    message += ": ";
    message += what;
    message += ": ";
    // sqlite3_errmsg describes the connection's last error, which is rc's unless a call
    // between them failed too; a failed open may leave no connection at all.
    message += db_ && sqlite3_extended_errcode(db_.get()) == rc ? sqlite3_errmsg(db_.get())
                                                                : sqlite3_errstr(rc);
    message += " (SQLite error " + std::to_string(rc) + ")";
    throw StoreError(message);
  }

  // Runs `sql` (statements without results, or whose results are not needed); throws
  // StoreError saying `what` failed.
  void exec(const char* sql, std::string_view what) const {
    const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(rc, what);
  }

  // Steps `statement` (BEGIN IMMEDIATE, COMMIT, a PRAGMA) until it is not refused for a busy
  // or locked database, backing off from 1 ms to 100 ms between tries, for at most
  // kSqliteRetryBound in all: busy_timeout alone does not cover every case (SQLite returns
  // SQLITE_BUSY at once where waiting could deadlock). Returns the last result code, the
  // statement not yet reset (a PRAGMA's row is still readable).
  inline int step_retrying(SqliteStatement& statement) const;

 private:
  struct Close {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, Close> db_;
  std::string describe_;
};

class SqliteStatement {
 public:
  // Throws StoreError naming `sql` when it cannot be prepared (e.g. the file is not a
  // database, or a table has another layout).
  SqliteStatement(const SqliteConnection& db, std::string_view sql) {
    sqlite3_stmt* statement = nullptr;
    const int rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    statement_.reset(statement);
    if (rc != SQLITE_OK) db.fail(rc, "cannot prepare " + std::string(sql));
  }

  [[nodiscard]] sqlite3_stmt* get() const noexcept { return statement_.get(); }

  // Binds bytes as a BLOB, never as NULL: SQLite binds NULL for a null pointer, which an
  // empty string_view may hold. The bytes must outlive the statement's next reset().
  int bind_blob(int index, std::string_view bytes) noexcept {
    static constexpr char kEmpty = 0;
    return sqlite3_bind_blob64(statement_.get(), index, bytes.empty() ? &kEmpty : bytes.data(),
                               bytes.size(), SQLITE_STATIC);
  }
  int bind_int64(int index, std::int64_t value) noexcept {
    return sqlite3_bind_int64(statement_.get(), index, value);
  }
  int step() noexcept { return sqlite3_step(statement_.get()); }
  // Also drops the bindings, so the bytes bound need not outlive the statement's use.
  void reset() noexcept {
    sqlite3_reset(statement_.get());
    sqlite3_clear_bindings(statement_.get());
  }

  // Column `i` of the current row as bytes (empty for a NULL or empty BLOB).
  [[nodiscard]] std::string_view column_bytes(int i) const noexcept {
    const void* data = sqlite3_column_blob(statement_.get(), i);
    const int size = sqlite3_column_bytes(statement_.get(), i);
    if (data == nullptr || size <= 0) return {};
    return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
  }
  [[nodiscard]] int column_type(int i) const noexcept {
    return sqlite3_column_type(statement_.get(), i);
  }
  [[nodiscard]] std::int64_t column_int64(int i) const noexcept {
    return sqlite3_column_int64(statement_.get(), i);
  }

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
  };
  std::unique_ptr<sqlite3_stmt, Finalize> statement_;
};

inline int SqliteConnection::step_retrying(SqliteStatement& statement) const {
  const auto deadline = std::chrono::steady_clock::now() + kSqliteRetryBound;
  std::chrono::milliseconds pause{1};
  for (;;) {
    const int rc = statement.step();
    const int primary = rc & 0xff;
    if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) ||
        std::chrono::steady_clock::now() + pause > deadline) {
      return rc;
    }
    statement.reset();
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds{100});
  }
}

}  // namespace taskmap::detail
