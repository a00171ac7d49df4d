// Dead letters and the conflict log of SqliteStateStore.
#include <algorithm>
#include <array>
#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "engine/state/sqlite/db.h"
#include "engine/state/sqlite_state_store.h"

namespace hubsync::state {

using model::ErrorKind;
using model::make_error;

namespace {

ErrorKind kind_from_string(const std::string& s) {
  for (auto k : {ErrorKind::transient, ErrorKind::rate_limited, ErrorKind::conflict,
                 ErrorKind::invalid_record, ErrorKind::auth, ErrorKind::fatal}) {
    if (s == model::to_string(k)) return k;
  }
  return ErrorKind::fatal;
}

#define HUBSYNC_DL_COLUMNS                                                                  \
  "id, mapping, direction, pg_key, hubspot_id, payload_json, error_kind, http_status, "     \
  "category, message, attempts, next_retry_at, first_failed_at, last_failed_at, status, " \
  "discard_reason, in_queue"

DeadLetter read_dead_letter(const sqlite::Stmt& q) {
  DeadLetter d;
  d.id = q.int64(0);
  d.mapping = q.text(1);
  d.direction = direction_from_string(q.text(2)).value_or(Direction::to_hubspot);
  d.pg_key = q.text(3);
  d.hubspot_id = q.text(4);
  d.payload_json = q.text(5);
  d.error_kind = kind_from_string(q.text(6));
  d.http_status = static_cast<int>(q.int64(7));
  d.category = q.text(8);
  d.message = q.text(9);
  d.attempts = static_cast<int>(q.int64(10));
  d.next_retry_at_ms = q.opt_int64(11);
  d.first_failed_at_ms = q.int64(12);
  d.last_failed_at_ms = q.int64(13);
  d.status = q.text(14) == "discarded" ? DeadLetterStatus::discarded : DeadLetterStatus::pending;
  d.discard_reason = q.text(15);
  d.in_queue = q.int64(16) != 0;
  return d;
}

Result<std::vector<DeadLetter>> read_dead_letters(sqlite::Stmt& q) {
  std::vector<DeadLetter> out;
  while (true) {
    auto row = q.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(read_dead_letter(q));
  }
  return out;
}

}  // namespace

Result<std::optional<DeadLetter>> SqliteStateStore::pending_dead_letter_locked(
    const DeadLetter& dl) {
  // A record is its pg_key when it has one (its HubSpot id may be learnt
  // between attempts), else its HubSpot id.
  auto q = db_->prepare("SELECT " HUBSYNC_DL_COLUMNS " FROM dead_letters "
                        "WHERE mapping = ?1 AND direction = ?2 AND status = 'pending' AND "
                        "(CASE WHEN ?3 <> '' THEN pg_key = ?3 ELSE pg_key = '' AND hubspot_id = ?4 END)");
  if (!q) return std::move(q).error();
  q->bind(dl.mapping, to_string(dl.direction), dl.pg_key, dl.hubspot_id);
  auto found = read_dead_letters(*q);
  if (!found) return std::move(found).error();
  if (found->empty()) return std::optional<DeadLetter>();
  return std::optional<DeadLetter>(std::move(found->front()));
}

Result<std::int64_t> SqliteStateStore::add_dead_letter_locked(const DeadLetter& dl) {
  const TimeMs first = dl.first_failed_at_ms != 0 ? dl.first_failed_at_ms : now_ms();
  const TimeMs last = dl.last_failed_at_ms != 0 ? dl.last_failed_at_ms : first;
  auto existing = pending_dead_letter_locked(dl);
  if (!existing) return std::move(existing).error();
  // A record that fails again while its letter waits for a retry not yet
  // due (read again by a sweep's overlap or another pass, pushed again by a
  // merge) is the same failure: it neither counts as a try nor moves the
  // retry, else back-to-back runs would use up the schedule in seconds.
  const bool waiting = *existing && (*existing)->next_retry_at_ms && *(*existing)->next_retry_at_ms > last;
  const int attempts = (*existing ? (*existing)->attempts : 0) + (waiting ? 0 : std::max(dl.attempts, 1));
  std::optional<TimeMs> next;
  if (waiting) next = (*existing)->next_retry_at_ms;
  else if (dl.next_retry_at_ms) next = retry_.next_retry_at(attempts, last);
  if (*existing) {
    auto u = db_->prepare(
        "UPDATE dead_letters SET hubspot_id = ?, payload_json = ?, error_kind = ?, "
        "http_status = ?, category = ?, message = ?, attempts = ?, next_retry_at = ?, "
        "last_failed_at = ?, in_queue = 0 WHERE id = ?");
    if (!u) return std::move(u).error();
    const std::string hubspot_id = dl.hubspot_id.empty() ? (*existing)->hubspot_id : dl.hubspot_id;
    if (auto s = u->bind(hubspot_id, dl.payload_json, model::to_string(dl.error_kind),
                         dl.http_status, dl.category, dl.message, attempts, next, last,
                         (*existing)->id)
                     .run();
        !s) {
      return std::move(s).error();
    }
    if (!next) log_gave_up((*existing)->id, dl.error_kind, dl.http_status);
    return (*existing)->id;
  }
  auto ins = db_->prepare(
      "INSERT INTO dead_letters (mapping, direction, pg_key, hubspot_id, payload_json, "
      "error_kind, http_status, category, message, attempts, next_retry_at, first_failed_at, "
      "last_failed_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')");
  if (!ins) return std::move(ins).error();
  if (auto s = ins->bind(dl.mapping, to_string(dl.direction), dl.pg_key, dl.hubspot_id,
                         dl.payload_json, model::to_string(dl.error_kind), dl.http_status,
                         dl.category, dl.message, attempts, next, first, last)
                   .run();
      !s) {
    return std::move(s).error();
  }
  return db_->last_insert_rowid();
}

void SqliteStateStore::log_gave_up(std::int64_t id, model::ErrorKind kind, int http_status) {
  log_->error("dead letter gave up retrying id={} kind={} http_status={}: needs an operator", id,
              model::to_string(kind), http_status);
}

Result<std::int64_t> SqliteStateStore::add_dead_letter(const DeadLetter& dl) {
  std::lock_guard lock(mu_);
  // Synced to disk like a batch commit: the change it stands for is marked
  // done in Postgres next, and a power loss must not lose both.
  std::int64_t added = 0;
  auto done = durable_txn([&]() -> Status {
    auto r = add_dead_letter_locked(dl);
    if (!r) return std::move(r).error();
    added = *r;
    return {};
  });
  auto id = done ? Result<std::int64_t>(added) : Result<std::int64_t>(std::move(done).error());
  if (id) {
    log_->warn("dead letter mapping={} direction={} id={} kind={} http_status={} category={}",
               dl.mapping, to_string(dl.direction), *id, model::to_string(dl.error_kind),
               dl.http_status, dl.category);
  }
  return id;
}

Result<std::optional<DeadLetter>> SqliteStateStore::get_dead_letter(std::int64_t id) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT " HUBSYNC_DL_COLUMNS " FROM dead_letters WHERE id = ?");
  if (!q) return std::move(q).error();
  auto row = q->bind(id).step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<DeadLetter>();
  return std::optional<DeadLetter>(read_dead_letter(*q));
}

Result<std::vector<DeadLetter>> SqliteStateStore::list_dead_letters(const DeadLetterFilter& f) {
  std::lock_guard lock(mu_);
  // One cached statement serves every filter: an unset filter binds NULL.
  auto q = db_->prepare("SELECT " HUBSYNC_DL_COLUMNS " FROM dead_letters "
                        "WHERE (?1 IS NULL OR mapping = ?1) AND (?2 IS NULL OR direction = ?2) "
                        "AND (?3 IS NULL OR status = ?3) "
                        "ORDER BY last_failed_at DESC, id DESC LIMIT ?4");
  if (!q) return std::move(q).error();
  std::optional<std::string> direction;
  if (f.direction) direction = to_string(*f.direction);
  std::optional<std::string> status;
  if (f.status) status = to_string(*f.status);
  q->bind(f.mapping, direction, status, sqlite::sql_limit(f.limit));
  return read_dead_letters(*q);
}

Result<std::vector<DeadLetter>> SqliteStateStore::due_dead_letters(TimeMs now,
                                                                   std::size_t limit) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT " HUBSYNC_DL_COLUMNS " FROM dead_letters "
                        "WHERE status = 'pending' AND in_queue = 0 AND next_retry_at IS NOT NULL "
                        "AND next_retry_at <= ? ORDER BY next_retry_at, id LIMIT ?");
  if (!q) return std::move(q).error();
  q->bind(now, sqlite::sql_limit(limit));
  return read_dead_letters(*q);
}

Status SqliteStateStore::record_dead_letter_failure(std::int64_t id, const FailedAttempt& a) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  auto q = db_->prepare(
      "UPDATE dead_letters SET attempts = attempts + 1, error_kind = ?, http_status = ?, "
      "category = ?, message = ?, last_failed_at = ?, next_retry_at = ? "
      "WHERE id = ? AND status = 'pending'");
  if (!q) return std::move(q).error();
  const TimeMs at = a.failed_at_ms != 0 ? a.failed_at_ms : now_ms();
  if (auto s = q->bind(model::to_string(a.error_kind), a.http_status, a.category, a.message, at,
                       a.next_retry_at_ms, id)
                   .run();
      !s) {
    return s;
  }
  if (db_->changes() == 0) {
    return make_error(ErrorKind::invalid_record,
                      fmt::format("state store {}: no pending dead letter with id {}", path_, id));
  }
  if (!a.next_retry_at_ms) log_gave_up(id, a.error_kind, a.http_status);
  return {};
}

Status SqliteStateStore::reschedule_dead_letters(const std::vector<std::int64_t>& ids,
                                                TimeMs at_ms) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  return in_txn([&]() -> Status {
    for (auto id : ids) {
      auto q = db_->prepare("UPDATE dead_letters SET next_retry_at = ?, in_queue = 0 "
                            "WHERE id = ? AND status = 'pending'");
      if (!q) return std::move(q).error();
      if (auto s = q->bind(at_ms, id).run(); !s) return s;
    }
    return {};
  });
}

Status SqliteStateStore::mark_dead_letters_queued(const std::vector<std::int64_t>& ids) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  return in_txn([&]() -> Status {
    for (auto id : ids) {
      auto q = db_->prepare(
          "UPDATE dead_letters SET in_queue = 1 WHERE id = ? AND status = 'pending'");
      if (!q) return std::move(q).error();
      if (auto s = q->bind(id).run(); !s) return s;
    }
    return {};
  });
}

Result<bool> SqliteStateStore::resolve_dead_letter(std::int64_t id) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  auto q = db_->prepare("DELETE FROM dead_letters WHERE id = ?");
  if (!q) return std::move(q).error();
  if (auto s = q->bind(id).run(); !s) return std::move(s).error();
  return db_->changes() > 0;
}

Result<std::size_t> SqliteStateStore::resolve_dead_letters_for(const std::string& mapping,
                                                              Direction direction,
                                                              const std::vector<std::string>& pg_keys) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  std::size_t removed = 0;
  auto st = in_txn([&]() -> Status {
    for (const auto& key : pg_keys) {
      auto q = db_->prepare(
          "DELETE FROM dead_letters WHERE mapping = ? AND direction = ? AND pg_key = ? "
          "AND status = 'pending'");
      if (!q) return std::move(q).error();
      if (auto s = q->bind(mapping, to_string(direction), key).run(); !s) return s;
      removed += static_cast<std::size_t>(db_->changes());
    }
    return {};
  });
  if (!st.ok()) return std::move(st).error();
  return removed;
}

Result<std::size_t> SqliteStateStore::resolve_pulled_dead_letters(
    const std::string& mapping, const std::vector<std::string>& hubspot_ids) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  std::size_t removed = 0;
  auto st = in_txn([&]() -> Status {
    for (const auto& id : hubspot_ids) {
      auto q = db_->prepare(
          "DELETE FROM dead_letters WHERE mapping = ? AND direction = 'to_postgres' "
          "AND hubspot_id = ? AND status = 'pending'");
      if (!q) return std::move(q).error();
      if (auto s = q->bind(mapping, id).run(); !s) return s;
      removed += static_cast<std::size_t>(db_->changes());
    }
    return {};
  });
  if (!st.ok()) return std::move(st).error();
  return removed;
}

Status SqliteStateStore::discard_dead_letter(std::int64_t id, const std::string& reason) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  auto q = db_->prepare(
      "UPDATE dead_letters SET status = 'discarded', discard_reason = ?, next_retry_at = NULL "
      "WHERE id = ?");
  if (!q) return std::move(q).error();
  if (auto s = q->bind(reason, id).run(); !s) return s;
  if (db_->changes() == 0) {
    return make_error(ErrorKind::invalid_record,
                      fmt::format("state store {}: no dead letter with id {}", path_, id));
  }
  return {};
}

// --- conflicts ---

Result<std::int64_t> SqliteStateStore::record_conflict(const ConflictRecord& c) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  auto q = db_->prepare(
      "INSERT INTO conflicts (mapping, pg_key, hubspot_id, field, pg_value, hs_value, "
      "base_value, winner, rule, decided_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!q) return std::move(q).error();
  if (auto s = q->bind(c.mapping, c.pg_key, c.hubspot_id, c.field, c.pg_value, c.hs_value,
                       c.base_value, to_string(c.winner), c.rule,
                       c.decided_at_ms != 0 ? c.decided_at_ms : now_ms(), c.run_id)
                   .run();
      !s) {
    return std::move(s).error();
  }
  return db_->last_insert_rowid();
}

Result<std::vector<ConflictRecord>> SqliteStateStore::list_conflicts(const std::string& mapping,
                                                                     std::size_t limit) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT id, mapping, pg_key, hubspot_id, field, pg_value, hs_value, base_value, winner, "
      "rule, decided_at, run_id FROM conflicts WHERE (?1 = '' OR mapping = ?1) "
      "ORDER BY decided_at DESC, id DESC LIMIT ?2");
  if (!q) return std::move(q).error();
  q->bind(mapping, sqlite::sql_limit(limit));
  std::vector<ConflictRecord> out;
  while (true) {
    auto row = q->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    ConflictRecord c;
    c.id = q->int64(0);
    c.mapping = q->text(1);
    c.pg_key = q->text(2);
    c.hubspot_id = q->text(3);
    c.field = q->text(4);
    c.pg_value = q->opt_text(5);
    c.hs_value = q->opt_text(6);
    c.base_value = q->opt_text(7);
    c.winner = q->text(8) == "hubspot" ? Side::hubspot : Side::postgres;
    c.rule = q->text(9);
    c.decided_at_ms = q->int64(10);
    c.run_id = q->opt_int64(11);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace hubsync::state
