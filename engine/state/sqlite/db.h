#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "engine/model/result.h"

namespace hubsync::state::sqlite {

using model::Error;
using model::Result;
using model::Status;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

/// What a caller should do about an SQLite result code: busy/locked and I/O
/// trouble may clear up (transient); constraint violations reject the data
/// (invalid_record); corruption, read-only, schema or open failures are fatal.
model::ErrorKind kind_for(int rc);

class Db;

/// A cached prepared statement lent out for one use; resets it and clears
/// its bindings when destroyed. Not thread-safe (the store serialises).
class Stmt {
 public:
  Stmt(Db& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  /// Binds parameters 1..n in order: integers, strings, optionals (nullopt
  /// binds NULL) and nullptr (NULL).
  template <class... A>
  Stmt& bind(const A&... args) {
    int i = 0;
    (bind_one(++i, args), ...);
    return *this;
  }
  template <class T>
  void bind_one(int i, const T& v) {
    if constexpr (std::is_same_v<T, std::nullptr_t>) {
      bind_null(i);
    } else if constexpr (std::is_integral_v<T>) {
      bind_int(i, static_cast<std::int64_t>(v));
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      bind_text(i, std::string_view(v));
    } else {
      if (v) {
        bind_one(i, *v);
      } else {
        bind_null(i);
      }
    }
  }

  /// Steps once: true when a row is available, false when done.
  Result<bool> step();
  /// Steps to completion of a statement that returns no rows.
  Status run();

  bool is_null(int col) const;
  std::int64_t int64(int col) const;
  std::string text(int col) const;
  std::optional<std::string> opt_text(int col) const;
  std::optional<std::int64_t> opt_int64(int col) const;

 private:
  void bind_null(int i);
  void bind_int(int i, std::int64_t v);
  void bind_text(int i, std::string_view v);
  Db* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = SQLITE_OK;
};

/// One SQLite connection with a prepared-statement cache. Not thread-safe.
class Db {
 public:
  /// Opens `path` with sqlite3_open_v2 flags; errors name the path.
  static Result<std::unique_ptr<Db>> open(const std::string& path, int flags);

  /// A cached statement for `sql` (prepared once, kept for the connection's
  /// life). The same SQL must not be in use twice at once.
  Result<Stmt> prepare(const char* sql);
  /// Runs one or more statements without results (DDL, BEGIN, PRAGMA).
  Status exec(const char* sql);

  /// An Error for result code `rc` while doing `what`, naming the file.
  Error error(int rc, std::string_view what) const;

  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }
  int changes() const { return sqlite3_changes(db_.get()); }
  sqlite3* raw() const { return db_.get(); }
  const std::string& path() const { return path_; }

 private:
  Db(DbHandle db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}
  DbHandle db_;
  std::string path_;
  // Declared after db_: destroyed first, so statements are finalised before
  // the connection closes.
  std::unordered_map<std::string, StmtHandle> cache_;
};

/// A C++ size as SQLite's LIMIT takes it (an int64, saturated).
inline std::int64_t sql_limit(std::size_t n) {
  return static_cast<std::int64_t>(std::min<std::size_t>(n, INT64_MAX));
}

}  // namespace hubsync::state::sqlite
