// Postgres intents: the values a pull is about to write to Postgres rows,
// kept until the batch's commit settles them (migration 0003).
#include "engine/state/sqlite/db.h"
#include "engine/state/sqlite_state_store.h"

namespace hubsync::state {

Status SqliteStateStore::record_postgres_intents(const std::string& mapping,
                                                const std::vector<PostgresIntent>& intents) {
  if (intents.empty()) return {};
  std::lock_guard lock(mu_);
  return durable_txn([&]() -> Status {
    for (const auto& in : intents) {
      if (auto s = delete_postgres_intent_locked(mapping, in.pg_key); !s) return s;
      for (const auto& [field, value] : in.fields) {
        auto q = db_->prepare("INSERT INTO postgres_intents (mapping, pg_key, field, value) VALUES (?, ?, ?, ?)");
        if (!q) return std::move(q).error();
        if (auto s = q->bind(mapping, in.pg_key, field, value).run(); !s) return s;
      }
    }
    return {};
  });
}

Status SqliteStateStore::delete_postgres_intent_locked(const std::string& mapping, const std::string& pg_key) {
  auto q = db_->prepare("DELETE FROM postgres_intents WHERE mapping = ? AND pg_key = ?");
  if (!q) return std::move(q).error();
  return q->bind(mapping, pg_key).run();
}

Result<std::vector<PostgresIntent>> SqliteStateStore::list_postgres_intents(const std::string& mapping) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT pg_key, field, value FROM postgres_intents WHERE mapping = ? ORDER BY pg_key, field");
  if (!q) return std::move(q).error();
  q->bind(mapping);
  std::vector<PostgresIntent> out;
  while (true) {
    auto row = q->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    std::string key = q->text(0);
    if (out.empty() || out.back().pg_key != key) out.push_back(PostgresIntent{std::move(key), {}});
    out.back().fields.emplace(q->text(1), q->opt_text(2));
  }
  return out;
}

}  // namespace hubsync::state
