// Run history and OAuth tokens of SqliteStateStore.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fmt/format.h>

#include "engine/state/sqlite/db.h"
#include "engine/state/sqlite_state_store.h"

namespace hubsync::state {

using model::ErrorKind;
using model::make_error;

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
      "updated_at, issued_at, hub_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (portal_id) DO UPDATE SET "
      "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
      "expires_at = excluded.expires_at, scopes = excluded.scopes, "
      "updated_at = excluded.updated_at, issued_at = excluded.issued_at, "
      "hub_id = excluded.hub_id");
  Status result = q ? q->bind(t.portal_id, t.access_token, t.refresh_token, t.expires_at_ms,
                              scopes, now_ms(), t.issued_at_ms, t.hub_id)
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
      "SELECT access_token, refresh_token, expires_at, scopes, updated_at, issued_at, hub_id "
      "FROM oauth_tokens WHERE portal_id = ?");
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
  t.issued_at_ms = q->int64(5);
  t.hub_id = q->int64(6);
  return std::optional<OAuthTokens>(std::move(t));
}

}  // namespace hubsync::state
