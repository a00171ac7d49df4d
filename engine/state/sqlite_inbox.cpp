// The webhook inbox of SqliteStateStore.
#include <algorithm>
#include <cstdint>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/state/sqlite/db.h"
#include "engine/state/sqlite_state_store.h"

namespace hubsync::state {

Result<std::size_t> SqliteStateStore::append_inbox(const std::vector<InboxEvent>& events) {
  std::lock_guard lock(mu_);
  const TimeMs now = now_ms();
  // The webhook receiver acknowledges HubSpot only after this returns, and
  // HubSpot never resends an acknowledged event: the commit must survive a
  // power loss too, so it is synced to disk (synchronous=FULL) whatever the
  // store's configured level.
  std::size_t added = 0;
  Status s = durable_txn([&]() -> Status {
    added = 0;
    for (const auto& e : events) {
      if (e.event_id.empty()) {
        return model::make_error(
            model::ErrorKind::invalid_record,
            fmt::format("state store {}: inbox event without event_id (object {} {})", path_,
                        e.object_type, e.object_id));
      }
      auto q = db_->prepare(
          "INSERT INTO inbox (event_id, subscription_id, subscription_type, object_type, "
          "object_id, occurred_at, property_name, property_value, raw_json, received_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (subscription_id, event_id) DO NOTHING");
      if (!q) return std::move(q).error();
      if (auto r = q->bind(e.event_id, e.subscription_id, e.subscription_type, e.object_type,
                           e.object_id, e.occurred_at_ms, e.property_name, e.property_value,
                           e.raw_json, e.received_at_ms != 0 ? e.received_at_ms : now)
                       .run();
          !r) {
        return r;
      }
      added += static_cast<std::size_t>(db_->changes());
    }
    return {};
  });
  if (!s) return std::move(s).error();
  if (!events.empty()) log_->debug("inbox append n={} new={}", events.size(), added);
  return added;
}

Result<std::vector<InboxEvent>> SqliteStateStore::claim_inbox(std::size_t limit, TimeMs now,
                                                              std::int64_t lease_ms) {
  std::lock_guard lock(mu_);
  return in_txn([&]() -> Result<std::vector<InboxEvent>> {
    std::vector<InboxEvent> out;
    {
      auto q = db_->prepare(
          "SELECT seq, event_id, subscription_id, subscription_type, object_type, object_id, "
          "occurred_at, property_name, property_value, raw_json, received_at, attempts "
          "FROM inbox WHERE processed_at IS NULL "
          "AND (claimed_until IS NULL OR claimed_until <= ?) "
          "ORDER BY occurred_at, seq LIMIT ?");
      if (!q) return std::move(q).error();
      q->bind(now, sqlite::sql_limit(limit));
      while (true) {
        auto row = q->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        InboxEvent e;
        e.seq = q->int64(0);
        e.event_id = q->text(1);
        e.subscription_id = q->text(2);
        e.subscription_type = q->text(3);
        e.object_type = q->text(4);
        e.object_id = q->text(5);
        e.occurred_at_ms = q->int64(6);
        e.property_name = q->text(7);
        e.property_value = q->opt_text(8);
        e.raw_json = q->text(9);
        e.received_at_ms = q->int64(10);
        e.attempts = static_cast<int>(q->int64(11)) + 1;
        out.push_back(std::move(e));
      }
    }
    for (const auto& e : out) {
      auto u = db_->prepare(
          "UPDATE inbox SET attempts = attempts + 1, claimed_until = ? WHERE seq = ?");
      if (!u) return std::move(u).error();
      if (auto s = u->bind(now + lease_ms, e.seq).run(); !s) return std::move(s).error();
    }
    return out;
  });
}

Status SqliteStateStore::mark_inbox_processed(const std::vector<std::int64_t>& seqs,
                                              TimeMs processed_at_ms) {
  std::lock_guard lock(mu_);
  return in_txn([&]() -> Status {
    for (const auto seq : seqs) {
      auto q = db_->prepare(
          "UPDATE inbox SET processed_at = ?, claimed_until = NULL "
          "WHERE seq = ? AND processed_at IS NULL");
      if (!q) return std::move(q).error();
      if (auto s = q->bind(processed_at_ms, seq).run(); !s) return s;
    }
    return {};
  });
}

Status SqliteStateStore::release_inbox(const std::vector<std::int64_t>& seqs) {
  std::lock_guard lock(mu_);
  return in_txn([&]() -> Status {
    for (const auto seq : seqs) {
      auto q = db_->prepare(
          "UPDATE inbox SET claimed_until = NULL WHERE seq = ? AND processed_at IS NULL");
      if (!q) return std::move(q).error();
      if (auto s = q->bind(seq).run(); !s) return s;
    }
    return {};
  });
}

Result<std::size_t> SqliteStateStore::purge_inbox(TimeMs before_ms) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  auto q = db_->prepare("DELETE FROM inbox WHERE processed_at IS NOT NULL AND processed_at < ?");
  if (!q) return std::move(q).error();
  if (auto s = q->bind(before_ms).run(); !s) return std::move(s).error();
  return static_cast<std::size_t>(db_->changes());
}

Result<std::size_t> SqliteStateStore::count_inbox_pending() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT count(*) FROM inbox WHERE processed_at IS NULL");
  if (!q) return std::move(q).error();
  if (auto r = q->step(); !r) return std::move(r).error();
  return static_cast<std::size_t>(q->int64(0));
}

Result<std::vector<InboxBacklog>> SqliteStateStore::inbox_backlog() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT object_type, count(*), min(received_at) FROM inbox WHERE processed_at IS NULL "
      "GROUP BY object_type ORDER BY object_type");
  if (!q) return std::move(q).error();
  std::vector<InboxBacklog> out;
  while (true) {
    auto r = q->step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    out.push_back({q->text(0), q->int64(1), q->int64(2)});
  }
  return out;
}

}  // namespace hubsync::state
