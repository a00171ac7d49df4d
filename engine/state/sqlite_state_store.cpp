#include "engine/state/sqlite_state_store.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <fmt/format.h>
#include <map>

#include "engine/state/migrations.h"
#include "engine/state/sqlite/db.h"
#include "engine/state/sqlite/file_lock.h"

namespace hubsync::state {

using model::ErrorKind;
using model::make_error;

namespace {

std::shared_ptr<spdlog::logger> state_logger(const std::shared_ptr<spdlog::logger>& given) {
  if (given) return given;
  if (auto existing = spdlog::get("state")) return existing;
  return spdlog::default_logger()->clone("state");
}

int highest_version(const std::vector<model::Migration>& all) {
  int v = 0;
  for (const auto& m : all) v = std::max(v, m.version);
  return v;
}

Status apply_pragmas(sqlite::Db& db, const SqliteOptions& o) {
  if (sqlite3_busy_timeout(db.raw(), static_cast<int>(o.busy_timeout.count())) != SQLITE_OK) {
    return db.error(SQLITE_ERROR, "set busy timeout");
  }
  if (o.read_only) return db.exec("PRAGMA query_only = ON");
  auto mode = db.prepare("PRAGMA journal_mode = WAL");
  if (!mode) return std::move(mode).error();
  auto row = mode->step();
  if (!row) return std::move(row).error();
  if (!*row || mode->text(0) != "wal") {
    return make_error(ErrorKind::fatal,
                      fmt::format("state store {}: cannot switch to WAL journal mode", db.path()));
  }
  if (auto s = db.exec(o.synchronous == Synchronous::full ? "PRAGMA synchronous = FULL"
                                                          : "PRAGMA synchronous = NORMAL");
      !s) {
    return s;
  }
  return db.exec("PRAGMA foreign_keys = ON");
}

}  // namespace

SqliteStateStore::SqliteStateStore(std::unique_ptr<sqlite::Db> db,
                                   std::unique_ptr<sqlite::PidLock> lock,
                                   const SqliteOptions& options)
    : path_(options.path),
      read_only_(options.read_only),
      sync_pragma_(options.synchronous == Synchronous::full ? "PRAGMA synchronous = FULL"
                                                             : "PRAGMA synchronous = NORMAL"),
      clock_(options.clock),
      migrations_(options.migrations != nullptr ? options.migrations
                                                : &migrations::embedded_migrations()),
      retry_(options.retry_schedule),
      log_(state_logger(options.logger)),
      lock_(std::move(lock)),
      db_(std::move(db)) {
  if (clock_ == nullptr) {
    own_clock_ = std::make_unique<ratelimit::SystemClock>();
    clock_ = own_clock_.get();
  }
}

Status SqliteStateStore::copy_file(const std::string& from, const std::string& to) {
  auto db = sqlite::Db::open(from, SQLITE_OPEN_READONLY);
  if (!db) return std::move(db).error();
  std::string sql = "VACUUM INTO '";
  for (char c : to) sql += c == '\'' ? std::string("''") : std::string(1, c);
  sql += "'";
  return (*db)->exec(sql.c_str());
}

SqliteStateStore::~SqliteStateStore() = default;

Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::open(const SqliteOptions& options) {
  if (options.path.empty()) {
    return make_error(ErrorKind::fatal, "state store: no path configured");
  }
  std::unique_ptr<sqlite::PidLock> lock;
  int flags = SQLITE_OPEN_NOMUTEX;
  if (options.read_only) {
    struct stat st {};
    if (::stat(options.path.c_str(), &st) != 0) {
      return make_error(ErrorKind::fatal,
                        fmt::format("state store {}: does not exist (nothing has run yet?)",
                                    options.path));
    }
    flags |= SQLITE_OPEN_READONLY;
  } else if (options.beside_writer) {
    flags |= SQLITE_OPEN_READWRITE;
  } else {
    auto l = sqlite::PidLock::acquire(options.path + ".lock");
    if (!l) return std::move(l).error();
    lock = std::make_unique<sqlite::PidLock>(std::move(l).value());
    // SQLite creates -wal and -shm with the database file's mode, so a 0600
    // database keeps the whole store private.
    if (auto s = sqlite::ensure_private_file(options.path); !s) return std::move(s).error();
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  }
  auto db = sqlite::Db::open(options.path, flags);
  if (!db) return std::move(db).error();
  if (auto s = apply_pragmas(**db, options); !s) return std::move(s).error();

  std::unique_ptr<SqliteStateStore> store(
      new SqliteStateStore(std::move(db).value(), std::move(lock), options));
  const bool own_schema = !options.read_only && !options.beside_writer;
  if (auto s = own_schema ? store->migrate() : store->check_schema_current(); !s) {
    return std::move(s).error();
  }
  auto version = store->schema_version();
  if (!version) return std::move(version).error();
  store->log_->info("state store open path={} mode={} schema_version={}", options.path,
                    options.read_only ? "read_only" : options.beside_writer ? "beside_writer" : "read_write", *version);
  return store;
}

Status SqliteStateStore::migrate() {
  if (auto s = db_->exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                         "applied_at INTEGER NOT NULL)");
      !s) {
    return s;
  }
  std::map<int, std::string> applied;
  {
    auto q = db_->prepare("SELECT version, name FROM schema_migrations");
    if (!q) return std::move(q).error();
    while (true) {
      auto row = q->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      applied.emplace(static_cast<int>(q->int64(0)), q->text(1));
    }
  }
  const int known = highest_version(*migrations_);
  if (!applied.empty() && applied.rbegin()->first > known) {
    return make_error(ErrorKind::fatal,
                      fmt::format("state store {}: schema version {} is newer than this hubsync "
                                  "knows ({}); upgrade hubsync or use a matching state file",
                                  path_, applied.rbegin()->first, known));
  }
  for (const auto& m : *migrations_) {
    if (auto it = applied.find(m.version); it != applied.end()) {
      if (it->second != m.name) {
        return make_error(ErrorKind::fatal,
                          fmt::format("state store {}: migration {} is recorded as '{}' but this "
                                      "hubsync calls it '{}'",
                                      path_, m.version, it->second, m.name));
      }
      continue;
    }
    // Each migration in its own transaction: a failure leaves the store at
    // the previous version.
    auto s = in_txn([&]() -> Status {
      if (auto e = db_->exec(m.sql); !e) return e;
      auto ins = db_->prepare(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
      if (!ins) return std::move(ins).error();
      return ins->bind(m.version, m.name, now_ms()).run();
    });
    if (!s) {
      model::Error e = std::move(s).error();
      e.message = fmt::format("migration {:04}_{}: {}", m.version, m.name, e.message);
      return e;
    }
    log_->info("state store migrated path={} version={} name={}", path_, m.version, m.name);
  }
  return {};
}

Status SqliteStateStore::check_schema_current() {
  auto v = schema_version();
  if (!v) return std::move(v).error();
  const int known = highest_version(*migrations_);
  if (*v > known) {
    return make_error(ErrorKind::fatal,
                      fmt::format("state store {}: schema version {} is newer than this hubsync "
                                  "knows ({}); upgrade hubsync",
                                  path_, *v, known));
  }
  if (*v < known) {
    return make_error(ErrorKind::fatal,
                      fmt::format("state store {}: schema version {} is older than this hubsync "
                                  "({}); open it once for writing to migrate it",
                                  path_, *v, known));
  }
  return {};
}

Result<int> SqliteStateStore::schema_version() {
  std::lock_guard lock(mu_);
  auto exists = db_->prepare(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  if (!exists) return std::move(exists).error();
  if (auto r = exists->step(); !r) return std::move(r).error();
  if (exists->int64(0) == 0) return 0;
  auto q = db_->prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!q) return std::move(q).error();
  if (auto r = q->step(); !r) return std::move(r).error();
  return static_cast<int>(q->int64(0));
}

Status SqliteStateStore::check_integrity() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("PRAGMA integrity_check");
  if (!q) return std::move(q).error();
  std::string problems;
  while (true) {
    auto row = q->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    const std::string line = q->text(0);
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  if (!problems.empty()) {
    return make_error(ErrorKind::fatal,
                      fmt::format("state store {}: integrity check failed: {}", path_, problems));
  }
  return {};
}

TimeMs SqliteStateStore::now_ms() const { return clock_->wall_ms(); }

Status SqliteStateStore::check_writable() const {
  if (!read_only_) return {};
  return make_error(ErrorKind::fatal,
                    fmt::format("state store {}: opened read-only, cannot write", path_));
}

Status SqliteStateStore::begin() {
  if (auto w = check_writable(); !w) return w;
  Status s = txn_depth_ == 0 ? db_->exec("BEGIN IMMEDIATE")
                             : db_->exec(fmt::format("SAVEPOINT sp{}", txn_depth_).c_str());
  if (s) ++txn_depth_;
  return s;
}

Status SqliteStateStore::commit() {
  const int level = txn_depth_ - 1;
  Status s = level == 0 ? db_->exec("COMMIT")
                        : db_->exec(fmt::format("RELEASE sp{}", level).c_str());
  if (s) --txn_depth_;
  return s;
}

void SqliteStateStore::rollback() {
  const int level = txn_depth_ - 1;
  --txn_depth_;
  // After some errors (I/O, disk full) SQLite has already rolled the whole
  // transaction back; then there is nothing left to undo.
  if (sqlite3_get_autocommit(db_->raw()) != 0) return;
  if (level == 0) {
    (void)db_->exec("ROLLBACK");
  } else {
    (void)db_->exec(fmt::format("ROLLBACK TO sp{0}; RELEASE sp{0}", level).c_str());
  }
}

Status SqliteStateStore::durable_txn(const std::function<Status()>& fn) {
  // Only an outermost transaction commits to disk; inside another one the
  // enclosing commit decides.
  const bool own_sync = txn_depth_ == 0;
  if (own_sync) {
    if (auto s = db_->exec("PRAGMA synchronous = FULL"); !s) return s;
  }
  Status result = in_txn(fn);
  if (own_sync) (void)db_->exec(sync_pragma_);  // failing to lower it is harmless
  return result;
}

Status SqliteStateStore::transaction(const std::function<Status()>& fn) {
  std::lock_guard lock(mu_);
  return in_txn(fn);
}

// --- checkpoints ---

Result<std::optional<Checkpoint>> SqliteStateStore::get_checkpoint(const std::string& mapping,
                                                                   const std::string& cursor_name) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT value, updated_at FROM checkpoints WHERE mapping = ? AND cursor_name = ?");
  if (!q) return std::move(q).error();
  auto row = q->bind(mapping, cursor_name).step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<Checkpoint>();
  return std::optional<Checkpoint>(Checkpoint{mapping, cursor_name, q->text(0), q->int64(1)});
}

Status SqliteStateStore::set_checkpoint(const std::string& mapping, const std::string& cursor_name,
                                        const std::string& value) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  auto q = db_->prepare(
      "INSERT INTO checkpoints (mapping, cursor_name, value, updated_at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (mapping, cursor_name) DO UPDATE SET value = excluded.value, "
      "updated_at = excluded.updated_at");
  if (!q) return std::move(q).error();
  return q->bind(mapping, cursor_name, value, now_ms()).run();
}

Status SqliteStateStore::remove_checkpoint(const std::string& mapping, const std::string& cursor_name) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  auto q = db_->prepare("DELETE FROM checkpoints WHERE mapping = ? AND cursor_name = ?");
  if (!q) return std::move(q).error();
  return q->bind(mapping, cursor_name).run();
}

}  // namespace hubsync::state
