// Workflow action executions of SqliteStateStore (migration 0005): one per
// callbackId, so a HubSpot retry gets the recorded answer instead of a
// second run, and blocked executions are completed through the callback API.
#include <fmt/format.h>

#include "engine/state/sqlite/db.h"
#include "engine/state/sqlite_state_store.h"

namespace hubsync::state {

namespace {

#define HUBSYNC_ACTION_COLUMNS                                                                  \
  "callback_id, action, object_id, request_body, state, blocked, delivered, callback_attempts, " \
  "next_callback_at_ms, last_error, created_at_ms, updated_at_ms"

ActionExecution read_execution(const sqlite::Stmt& q) {
  ActionExecution e;
  e.callback_id = q.text(0);
  e.action = q.text(1);
  e.object_id = q.text(2);
  e.request_body = q.text(3);
  e.done = q.text(4) == "done";
  e.blocked = q.int64(5) != 0;
  e.delivered = q.int64(6) != 0;
  e.callback_attempts = static_cast<int>(q.int64(7));
  e.next_callback_at_ms = q.int64(8);
  e.last_error = q.text(9);
  e.created_at_ms = q.int64(10);
  e.updated_at_ms = q.int64(11);
  return e;
}

}  // namespace

Result<std::optional<ActionExecution>> SqliteStateStore::action_locked(const std::string& callback_id) {
  auto q = db_->prepare("SELECT " HUBSYNC_ACTION_COLUMNS " FROM action_executions WHERE callback_id = ?");
  if (!q) return std::move(q).error();
  q->bind(callback_id);
  auto row = q->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<ActionExecution>{};
  ActionExecution e = read_execution(*q);
  auto o = db_->prepare("SELECT name, value FROM action_outputs WHERE callback_id = ? ORDER BY name");
  if (!o) return std::move(o).error();
  o->bind(callback_id);
  while (true) {
    auto r = o->step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    e.outputs[o->text(0)] = o->text(1);
  }
  return std::optional<ActionExecution>(std::move(e));
}

Result<std::pair<ActionExecution, bool>> SqliteStateStore::begin_action(const ActionExecution& in) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  std::pair<ActionExecution, bool> out;
  Status s = durable_txn([&]() -> Status {
    auto existing = action_locked(in.callback_id);
    if (!existing) return std::move(existing).error();
    if (*existing) {
      out = {std::move(**existing), false};
      return {};
    }
    const TimeMs now = in.created_at_ms != 0 ? in.created_at_ms : now_ms();
    auto q = db_->prepare(
        "INSERT INTO action_executions (callback_id, action, object_id, request_body, state, created_at_ms, "
        "updated_at_ms) VALUES (?, ?, ?, ?, 'running', ?, ?)");
    if (!q) return std::move(q).error();
    if (auto r = q->bind(in.callback_id, in.action, in.object_id, in.request_body, now, now).run(); !r) return r;
    ActionExecution e;
    e.callback_id = in.callback_id;
    e.action = in.action;
    e.object_id = in.object_id;
    e.request_body = in.request_body;
    e.created_at_ms = e.updated_at_ms = now;
    out = {std::move(e), true};
    return {};
  });
  if (!s) return std::move(s).error();
  return out;
}

Result<std::optional<ActionExecution>> SqliteStateStore::get_action(const std::string& callback_id) {
  std::lock_guard lock(mu_);
  return action_locked(callback_id);
}

Status SqliteStateStore::finish_action(const std::string& callback_id,
                                       const std::map<std::string, std::string>& outputs) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  return durable_txn([&]() -> Status {
    auto existing = action_locked(callback_id);
    if (!existing) return std::move(existing).error();
    if (!*existing)
      return model::make_error(model::ErrorKind::invalid_record,
                               fmt::format("state store {}: no action execution {}", path_, callback_id));
    if ((*existing)->done) return {};
    auto q = db_->prepare(
        "UPDATE action_executions SET state = 'done', updated_at_ms = ?1, "
        "next_callback_at_ms = MAX(next_callback_at_ms, ?1) WHERE callback_id = ?2");
    if (!q) return std::move(q).error();
    const TimeMs now = now_ms();
    if (auto r = q->bind(now, callback_id).run(); !r) return r;
    for (const auto& [name, value] : outputs) {
      auto o = db_->prepare("INSERT INTO action_outputs (callback_id, name, value) VALUES (?, ?, ?)");
      if (!o) return std::move(o).error();
      if (auto r = o->bind(callback_id, name, value).run(); !r) return r;
    }
    return {};
  });
}

Status SqliteStateStore::fail_action(const std::string& callback_id, const std::string& error) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  auto q = db_->prepare(
      "UPDATE action_executions SET last_error = ?1, updated_at_ms = ?2 WHERE callback_id = ?3 AND state = 'running'");
  if (!q) return std::move(q).error();
  if (auto r = q->bind(error.empty() ? std::string("failed") : error, now_ms(), callback_id).run(); !r) return r;
  if (db_->changes() > 0) return {};
  auto existing = action_locked(callback_id);
  if (!existing) return std::move(existing).error();
  if (*existing) return {};  // done: its answer stands
  return model::make_error(model::ErrorKind::invalid_record,
                           fmt::format("state store {}: no action execution {}", path_, callback_id));
}

Status SqliteStateStore::block_action(const std::string& callback_id) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  return durable_txn([&]() -> Status {
    // The completion waits a moment: HubSpot accepts one only once it has
    // recorded the BLOCK answer, which is still on its way.
    auto q = db_->prepare(
        "UPDATE action_executions SET blocked = 1, updated_at_ms = ?1, "
        "next_callback_at_ms = MAX(next_callback_at_ms, ?1 + 500) WHERE callback_id = ?2");
    if (!q) return std::move(q).error();
    return q->bind(now_ms(), callback_id).run();
  });
}

Result<std::vector<ActionExecution>> SqliteStateStore::actions_where_locked(const std::string& where,
                                                                            TimeMs now, std::size_t limit) {
  std::vector<std::string> ids;
  {
    const std::string sql =
        "SELECT callback_id FROM action_executions WHERE " + where + " ORDER BY next_callback_at_ms, callback_id LIMIT ?2";
    auto q = db_->prepare(sql.c_str());
    if (!q) return std::move(q).error();
    q->bind(now, static_cast<std::int64_t>(limit));
    while (true) {
      auto row = q->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      ids.push_back(q->text(0));
    }
  }
  std::vector<ActionExecution> out;
  for (const auto& id : ids) {
    auto e = action_locked(id);
    if (!e) return std::move(e).error();
    if (*e) out.push_back(std::move(**e));
  }
  return out;
}

Result<std::vector<ActionExecution>> SqliteStateStore::due_callbacks(TimeMs now, std::size_t limit) {
  std::lock_guard lock(mu_);
  return actions_where_locked(
      "state = 'done' AND blocked = 1 AND delivered = 0 AND next_callback_at_ms <= ?1", now, limit);
}

Result<std::vector<ActionExecution>> SqliteStateStore::unfinished_blocked_actions() {
  std::lock_guard lock(mu_);
  return actions_where_locked("state = 'running' AND blocked = 1 AND ?1 = ?1", 0, 100000);
}

Status SqliteStateStore::callback_attempted(const std::string& callback_id, const std::string& error,
                                            TimeMs next_at_ms) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  auto q = db_->prepare(
      "UPDATE action_executions SET callback_attempts = callback_attempts + 1, delivered = ?, "
      "last_error = ?, next_callback_at_ms = ?, updated_at_ms = ? WHERE callback_id = ?");
  if (!q) return std::move(q).error();
  return q->bind(error.empty() ? 1 : 0, error, next_at_ms, now_ms(), callback_id).run();
}

Result<std::size_t> SqliteStateStore::purge_actions(TimeMs before_ms) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  auto q = db_->prepare("DELETE FROM action_executions WHERE created_at_ms < ?");
  if (!q) return std::move(q).error();
  if (auto r = q->bind(before_ms).run(); !r) return std::move(r).error();
  return static_cast<std::size_t>(db_->changes());
}

Result<ActionSummary> SqliteStateStore::action_summary(TimeMs since_ms) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT (SELECT count(*) FROM action_executions WHERE created_at_ms >= ?1), "
      "(SELECT count(*) FROM action_executions WHERE created_at_ms >= ?1 AND state = 'running' "
      " AND last_error = ''), "
      "count(*), min(created_at_ms), "
      "(SELECT last_error FROM action_executions WHERE state = 'done' AND blocked = 1 AND delivered = 0 "
      " AND last_error <> '' ORDER BY updated_at_ms DESC LIMIT 1), "
      "(SELECT count(*) FROM action_executions WHERE created_at_ms >= ?1 AND state = 'running' "
      " AND last_error <> ''), "
      "(SELECT last_error FROM action_executions WHERE created_at_ms >= ?1 AND state = 'running' "
      " AND last_error <> '' ORDER BY updated_at_ms DESC LIMIT 1) "
      "FROM action_executions WHERE state = 'done' AND blocked = 1 AND delivered = 0");
  if (!q) return std::move(q).error();
  q->bind(since_ms);
  auto row = q->step();
  if (!row) return std::move(row).error();
  ActionSummary s;
  if (!*row) return s;
  s.executions = q->int64(0);
  s.running = q->int64(1);
  s.awaiting_callback = q->int64(2);
  s.oldest_awaiting_ms = q->opt_int64(3).value_or(0);
  s.last_error = q->opt_text(4).value_or("");
  s.failing = q->int64(5);
  s.last_failure = q->opt_text(6).value_or("");
  return s;
}

}  // namespace hubsync::state
