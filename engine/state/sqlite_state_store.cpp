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

int highest_embedded() {
  int v = 0;
  for (const auto& m : migrations::embedded_migrations()) v = std::max(v, m.version);
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
      log_(state_logger(options.logger)),
      lock_(std::move(lock)),
      db_(std::move(db)) {
  if (clock_ == nullptr) {
    own_clock_ = std::make_unique<ratelimit::SystemClock>();
    clock_ = own_clock_.get();
  }
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
  if (auto s = options.read_only ? store->check_schema_current() : store->migrate(); !s) {
    return std::move(s).error();
  }
  auto version = store->schema_version();
  if (!version) return std::move(version).error();
  store->log_->info("state store open path={} mode={} schema_version={}", options.path,
                    options.read_only ? "read_only" : "read_write", *version);
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
  const int known = highest_embedded();
  if (!applied.empty() && applied.rbegin()->first > known) {
    return make_error(ErrorKind::fatal,
                      fmt::format("state store {}: schema version {} is newer than this hubsync "
                                  "knows ({}); upgrade hubsync or use a matching state file",
                                  path_, applied.rbegin()->first, known));
  }
  for (const auto& m : migrations::embedded_migrations()) {
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
  const int known = highest_embedded();
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

// --- runs ---

namespace {
constexpr const char* kRunColumns =
    "id, mode, started_at, finished_at, pushed, pulled, skipped, archived, failed, conflicts, "
    "errors, duration_ms";

RunRecord read_run(const sqlite::Stmt& q) {
  RunRecord r;
  r.id = q.int64(0);
  r.mode = q.text(1);
  r.started_at_ms = q.int64(2);
  r.finished_at_ms = q.opt_int64(3);
  r.counts = {q.int64(4), q.int64(5), q.int64(6), q.int64(7), q.int64(8), q.int64(9)};
  r.errors = q.text(10);
  r.duration_ms = q.int64(11);
  return r;
}
}  // namespace

Result<std::int64_t> SqliteStateStore::start_run(const std::string& mode, TimeMs started_at_ms) {
  std::lock_guard lock(mu_);
  return in_txn([&]() -> Result<std::int64_t> {
    auto q = db_->prepare("INSERT INTO runs (mode, started_at) VALUES (?, ?)");
    if (!q) return std::move(q).error();
    if (auto s = q->bind(mode, started_at_ms).run(); !s) return std::move(s).error();
    return db_->last_insert_rowid();
  });
}

Status SqliteStateStore::finish_run(std::int64_t run_id, const RunSummary& s) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  auto q = db_->prepare(
      "UPDATE runs SET finished_at = ?, pushed = ?, pulled = ?, skipped = ?, archived = ?, "
      "failed = ?, conflicts = ?, errors = ?, duration_ms = ? WHERE id = ?");
  if (!q) return std::move(q).error();
  const RunCounts& c = s.counts;
  if (auto r = q->bind(s.finished_at_ms, c.pushed, c.pulled, c.skipped, c.archived, c.failed,
                       c.conflicts, s.errors, s.duration_ms, run_id)
                   .run();
      !r) {
    return r;
  }
  if (db_->changes() == 0) {
    return make_error(ErrorKind::invalid_record,
                      fmt::format("state store {}: no run with id {}", path_, run_id));
  }
  return {};
}

Result<std::vector<RunRecord>> SqliteStateStore::list_runs(std::size_t limit) {
  std::lock_guard lock(mu_);
  static const std::string sql =
      fmt::format("SELECT {} FROM runs ORDER BY started_at DESC, id DESC LIMIT ?", kRunColumns);
  auto q = db_->prepare(sql.c_str());
  if (!q) return std::move(q).error();
  q->bind(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<RunRecord> out;
  while (true) {
    auto row = q->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(read_run(*q));
  }
  return out;
}

Result<std::optional<RunRecord>> SqliteStateStore::last_run() {
  auto runs = list_runs(1);
  if (!runs) return std::move(runs).error();
  if (runs->empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(std::move(runs->front()));
}

// --- OAuth tokens ---

Status SqliteStateStore::save_oauth_tokens(const OAuthTokens& t) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  std::string scopes;
  for (const auto& s : t.scopes) scopes += (scopes.empty() ? "" : " ") + s;
  // A rotated refresh token must survive even a power loss: outside a
  // transaction, commit this one write with a synced WAL (synchronous=FULL).
  const bool own_sync = txn_depth_ == 0;
  if (own_sync) {
    if (auto s = db_->exec("PRAGMA synchronous = FULL"); !s) return s;
  }
  auto q = db_->prepare(
      "INSERT INTO oauth_tokens (portal_id, access_token, refresh_token, expires_at, scopes, "
      "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (portal_id) DO UPDATE SET "
      "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
      "expires_at = excluded.expires_at, scopes = excluded.scopes, "
      "updated_at = excluded.updated_at");
  Status result = q ? q->bind(t.portal_id, t.access_token, t.refresh_token, t.expires_at_ms,
                              scopes, now_ms())
                          .run()
                    : Status(std::move(q).error());
  if (own_sync) {
    // Back to the configured level; failing to lower it is harmless.
    (void)db_->exec(sync_pragma_);
  }
  if (!result) return result;
  log_->info("oauth tokens saved portal={}", t.portal_id);
  return {};
}

Result<std::optional<OAuthTokens>> SqliteStateStore::load_oauth_tokens(
    const std::string& portal_id) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT access_token, refresh_token, expires_at, scopes, updated_at FROM oauth_tokens "
      "WHERE portal_id = ?");
  if (!q) return std::move(q).error();
  auto row = q->bind(portal_id).step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<OAuthTokens>();
  OAuthTokens t;
  t.portal_id = portal_id;
  t.access_token = q->text(0);
  t.refresh_token = q->text(1);
  t.expires_at_ms = q->int64(2);
  const std::string scopes = q->text(3);
  std::size_t start = 0;
  while (start < scopes.size()) {
    std::size_t end = scopes.find(' ', start);
    if (end == std::string::npos) end = scopes.size();
    if (end > start) t.scopes.push_back(scopes.substr(start, end - start));
    start = end + 1;
  }
  t.updated_at_ms = q->int64(4);
  return std::optional<OAuthTokens>(std::move(t));
}

}  // namespace hubsync::state
