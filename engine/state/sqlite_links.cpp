// Links (identity map, merges) and synced base values of SqliteStateStore.
#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "engine/state/sqlite/db.h"
#include "engine/state/sqlite_state_store.h"

namespace hubsync::state {

using model::ErrorKind;
using model::make_error;

namespace {
// Merges are flattened when recorded, so one hop is normal; the bound only
// guards against a cycle written by some other tool.
constexpr int kMaxMergeHops = 32;
// How long a departed link is kept: HubSpot keeps an archived object 90 days.
constexpr TimeMs kDepartedKeptMs = 90LL * 24 * 60 * 60 * 1000;
}  // namespace

Result<std::optional<Link>> SqliteStateStore::link_by_pg_key_locked(const std::string& mapping,
                                                                    const std::string& pg_key) {
  auto q = db_->prepare("SELECT hubspot_id, created_at, updated_at, match_key FROM links "
                        "WHERE mapping = ? AND pg_key = ?");
  if (!q) return std::move(q).error();
  auto row = q->bind(mapping, pg_key).step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<Link>();
  return std::optional<Link>(
      Link{mapping, pg_key, q->text(0), q->int64(1), q->int64(2), q->opt_text(3)});
}

Result<std::optional<Link>> SqliteStateStore::link_by_hubspot_id_locked(
    const std::string& mapping, const std::string& hubspot_id) {
  auto q = db_->prepare("SELECT pg_key, created_at, updated_at, match_key FROM links "
                        "WHERE mapping = ? AND hubspot_id = ?");
  if (!q) return std::move(q).error();
  auto row = q->bind(mapping, hubspot_id).step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<Link>();
  return std::optional<Link>(
      Link{mapping, q->text(0), hubspot_id, q->int64(1), q->int64(2), q->opt_text(3)});
}

Result<std::string> SqliteStateStore::resolve_locked(const std::string& mapping,
                                                     const std::string& hubspot_id) {
  std::string current = hubspot_id;
  for (int hop = 0; hop < kMaxMergeHops; ++hop) {
    auto q = db_->prepare(
        "SELECT survivor_id FROM merged_ids WHERE mapping = ? AND hubspot_id = ?");
    if (!q) return std::move(q).error();
    auto row = q->bind(mapping, current).step();
    if (!row) return std::move(row).error();
    if (!*row) return current;
    current = q->text(0);
  }
  return make_error(ErrorKind::fatal,
                    fmt::format("state store {}: merge chain of hubspot id {} in mapping {} "
                                "does not end (cycle?)",
                                path_, hubspot_id, mapping));
}

Status SqliteStateStore::upsert_link_locked(const std::string& mapping, const std::string& pg_key,
                                            const std::string& hubspot_id,
                                            const std::optional<std::string>& match_key) {
  auto owner = link_by_hubspot_id_locked(mapping, hubspot_id);
  if (!owner) return std::move(owner).error();
  if (*owner && (*owner)->pg_key != pg_key) {
    return make_error(ErrorKind::conflict,
                      fmt::format("state store {}: mapping {}: hubspot id {} is already linked to "
                                  "pg_key {}, cannot link it to {}",
                                  path_, mapping, hubspot_id, (*owner)->pg_key, pg_key));
  }
  auto q = db_->prepare(
      "INSERT INTO links (mapping, pg_key, hubspot_id, created_at, updated_at, match_key) "
      "VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (mapping, pg_key) DO UPDATE SET "
      "hubspot_id = excluded.hubspot_id, updated_at = excluded.updated_at, "
      "match_key = coalesce(excluded.match_key, links.match_key) "
      "WHERE links.hubspot_id <> excluded.hubspot_id "
      "OR links.match_key IS NOT excluded.match_key AND excluded.match_key IS NOT NULL");
  if (!q) return std::move(q).error();
  return q->bind(mapping, pg_key, hubspot_id, now_ms(), match_key).run();
}

Result<std::optional<Link>> SqliteStateStore::find_link_by_match_key(const std::string& mapping,
                                                                     const std::string& match_key) {
  std::lock_guard lock(mu_);
  // Without statistics SQLite would scan the mapping's links by primary key.
  auto q = db_->prepare("SELECT pg_key, hubspot_id, created_at, updated_at FROM links "
                        "INDEXED BY links_by_match_key WHERE mapping = ? AND match_key = ? LIMIT 1");
  if (!q) return std::move(q).error();
  auto row = q->bind(mapping, match_key).step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<Link>();
  return std::optional<Link>(
      Link{mapping, q->text(0), q->text(1), q->int64(2), q->int64(3), match_key});
}

Result<std::size_t> SqliteStateStore::backfill_match_keys(const std::string& mapping,
                                                          const std::string& field,
                                                          bool fold_case) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  auto q = db_->prepare(
      "UPDATE links SET match_key = (SELECT CASE WHEN ?3 THEN lower(s.value) ELSE s.value END "
      "  FROM synced s WHERE s.mapping = links.mapping AND s.pg_key = links.pg_key "
      "  AND s.field = ?2 AND s.value IS NOT NULL AND s.value <> '') "
      "WHERE mapping = ?1 AND match_key IS NULL");
  if (!q) return std::move(q).error();
  if (auto s = q->bind(mapping, field, fold_case ? 1 : 0).run(); !s) return std::move(s).error();
  return static_cast<std::size_t>(db_->changes());
}

Result<std::size_t> SqliteStateStore::count_links(const std::string& mapping) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT count(*) FROM links WHERE mapping = ?");
  if (!q) return std::move(q).error();
  q->bind(mapping);
  if (auto r = q->step(); !r) return std::move(r).error();
  return static_cast<std::size_t>(q->int64(0));
}

Result<std::map<std::string, std::size_t>> SqliteStateStore::count_links_by_mapping() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT mapping, count(*) FROM links GROUP BY mapping ORDER BY mapping");
  if (!q) return std::move(q).error();
  std::map<std::string, std::size_t> out;
  while (true) {
    auto r = q->step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    out[q->text(0)] = static_cast<std::size_t>(q->int64(1));
  }
  return out;
}

Result<std::vector<Link>> SqliteStateStore::list_links(const std::string& mapping,
                                                       const std::string& after,
                                                       std::size_t limit) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT pg_key, hubspot_id, created_at, updated_at, match_key FROM links "
                        "WHERE mapping = ? AND pg_key > ? ORDER BY pg_key LIMIT ?");
  if (!q) return std::move(q).error();
  q->bind(mapping, after, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<Link> out;
  while (true) {
    auto row = q->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(Link{mapping, q->text(0), q->text(1), q->int64(2), q->int64(3), q->opt_text(4)});
  }
  return out;
}

Status SqliteStateStore::upsert_link(const std::string& mapping, const std::string& pg_key,
                                     const std::string& hubspot_id) {
  std::lock_guard lock(mu_);
  return in_txn([&] { return upsert_link_locked(mapping, pg_key, hubspot_id); });
}

Result<std::optional<Link>> SqliteStateStore::find_link_by_pg_key(const std::string& mapping,
                                                                  const std::string& pg_key) {
  std::lock_guard lock(mu_);
  return link_by_pg_key_locked(mapping, pg_key);
}

Result<std::optional<Link>> SqliteStateStore::find_link_by_hubspot_id(
    const std::string& mapping, const std::string& hubspot_id) {
  std::lock_guard lock(mu_);
  auto direct = link_by_hubspot_id_locked(mapping, hubspot_id);
  if (!direct || *direct) return direct;
  auto survivor = resolve_locked(mapping, hubspot_id);
  if (!survivor) return std::move(survivor).error();
  if (*survivor == hubspot_id) return std::optional<Link>();
  return link_by_hubspot_id_locked(mapping, *survivor);
}

Result<std::string> SqliteStateStore::resolve_hubspot_id(const std::string& mapping,
                                                         const std::string& hubspot_id) {
  std::lock_guard lock(mu_);
  return resolve_locked(mapping, hubspot_id);
}

Result<bool> SqliteStateStore::remove_link(const std::string& mapping, const std::string& pg_key) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  auto q = db_->prepare("DELETE FROM links WHERE mapping = ? AND pg_key = ?");
  if (!q) return std::move(q).error();
  if (auto s = q->bind(mapping, pg_key).run(); !s) return std::move(s).error();
  return db_->changes() > 0;
}

Result<bool> SqliteStateStore::move_link(const std::string& mapping, const std::string& from_pg_key,
                                         const std::string& to_pg_key) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  return in_txn([&]() -> Result<bool> {
    auto from = link_by_pg_key_locked(mapping, from_pg_key);
    if (!from) return std::move(from).error();
    auto taken = link_by_pg_key_locked(mapping, to_pg_key);
    if (!taken) return std::move(taken).error();
    if (!*from || *taken) return false;
    auto run = [&](const std::string& sql, auto... args) -> Status {
      auto q = db_->prepare(sql.c_str());
      if (!q) return std::move(q).error();
      if (auto st = q->bind(args...).run(); !st) return std::move(st).error();
      return {};
    };
    // What an unlinked row under the new key left behind gives way first.
    for (const char* table : {"synced", "write_intents", "write_intent_fields", "postgres_intents"})
      if (auto st = run(std::string("DELETE FROM ") + table + " WHERE mapping = ? AND pg_key = ?", mapping, to_pg_key);
          !st.ok())
        return std::move(st).error();
    for (const char* table : {"links", "synced", "write_intents", "write_intent_fields", "postgres_intents"})
      if (auto st = run(std::string("UPDATE ") + table + " SET pg_key = ? WHERE mapping = ? AND pg_key = ?",
                        to_pg_key, mapping, from_pg_key);
          !st.ok())
        return std::move(st).error();
    return true;
  });
}

Result<MergeOutcome> SqliteStateStore::repoint_merged(const std::string& mapping,
                                                      const std::vector<std::string>& absorbed_ids,
                                                      const std::string& survivor_id,
                                                      TimeMs merged_at_ms) {
  std::lock_guard lock(mu_);
  return in_txn([&]() -> Result<MergeOutcome> {
    // The survivor is live again if some older record said otherwise.
    auto unalias = db_->prepare("DELETE FROM merged_ids WHERE mapping = ? AND hubspot_id = ?");
    if (!unalias) return std::move(unalias).error();
    if (auto s = unalias->bind(mapping, survivor_id).run(); !s) return std::move(s).error();

    MergeOutcome out;
    auto existing = link_by_hubspot_id_locked(mapping, survivor_id);
    if (!existing) return std::move(existing).error();
    if (*existing) out.survivor_pg_key = (*existing)->pg_key;

    for (const auto& absorbed : absorbed_ids) {
      if (absorbed == survivor_id) continue;
      {
        auto alias = db_->prepare(
            "INSERT INTO merged_ids (mapping, hubspot_id, survivor_id, merged_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (mapping, hubspot_id) DO UPDATE SET "
            "survivor_id = excluded.survivor_id, merged_at = excluded.merged_at");
        if (!alias) return std::move(alias).error();
        if (auto s = alias->bind(mapping, absorbed, survivor_id, merged_at_ms).run(); !s) {
          return std::move(s).error();
        }
      }
      {
        // Flatten: ids absorbed earlier into `absorbed` now point at the survivor.
        auto flatten = db_->prepare(
            "UPDATE merged_ids SET survivor_id = ? WHERE mapping = ? AND survivor_id = ?");
        if (!flatten) return std::move(flatten).error();
        if (auto s = flatten->bind(survivor_id, mapping, absorbed).run(); !s) {
          return std::move(s).error();
        }
      }
      auto link = link_by_hubspot_id_locked(mapping, absorbed);
      if (!link) return std::move(link).error();
      if (!*link) continue;
      const std::string pg_key = (*link)->pg_key;
      if (!out.survivor_pg_key) {
        auto move = db_->prepare(
            "UPDATE links SET hubspot_id = ?, updated_at = ? WHERE mapping = ? AND pg_key = ?");
        if (!move) return std::move(move).error();
        if (auto s = move->bind(survivor_id, now_ms(), mapping, pg_key).run(); !s) {
          return std::move(s).error();
        }
        out.survivor_pg_key = pg_key;
      } else {
        auto drop = db_->prepare("DELETE FROM links WHERE mapping = ? AND pg_key = ?");
        if (!drop) return std::move(drop).error();
        if (auto s = drop->bind(mapping, pg_key).run(); !s) return std::move(s).error();
        out.orphaned_pg_keys.push_back(pg_key);
      }
    }
    log_->info("hubspot merge recorded mapping={} survivor={} absorbed={} orphaned={}", mapping,
               survivor_id, absorbed_ids.size(), out.orphaned_pg_keys.size());
    return out;
  });
}

// --- synced ---

Result<SyncedFields> SqliteStateStore::get_synced(const std::string& mapping,
                                                  const std::string& pg_key) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT field, value, side_changed_at, synced_at, hs_value, source_wins FROM synced "
      "WHERE mapping = ? AND pg_key = ?");
  if (!q) return std::move(q).error();
  q->bind(mapping, pg_key);
  SyncedFields out;
  while (true) {
    auto row = q->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.emplace(q->text(0), SyncedField{q->opt_text(1), q->int64(2), q->int64(3), q->opt_text(4), q->int64(5) != 0});
  }
  return out;
}

Result<std::map<std::string, SyncedFields>> SqliteStateStore::get_synced_many(
    const std::string& mapping, const std::vector<std::string>& pg_keys) {
  std::lock_guard lock(mu_);
  std::map<std::string, SyncedFields> out;
  for (const auto& key : pg_keys) {
    auto fields = get_synced(mapping, key);
    if (!fields) return std::move(fields).error();
    if (!fields->empty()) out.emplace(key, std::move(fields).value());
  }
  return out;
}

Status SqliteStateStore::put_synced_locked(const std::string& mapping, const std::string& pg_key,
                                           const SyncedFields& fields) {
  for (const auto& [field, f] : fields) {
    auto q = db_->prepare(
        "INSERT INTO synced (mapping, pg_key, field, value, side_changed_at, synced_at, hs_value, source_wins) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mapping, pg_key, field) DO UPDATE SET "
        "value = excluded.value, side_changed_at = excluded.side_changed_at, "
        "synced_at = excluded.synced_at, hs_value = excluded.hs_value, source_wins = excluded.source_wins");
    if (!q) return std::move(q).error();
    if (auto s = q->bind(mapping, pg_key, field, f.value, f.side_changed_at_ms, f.synced_at_ms,
                         f.hs_value, static_cast<std::int64_t>(f.source_wins))
                     .run();
        !s) {
      return s;
    }
  }
  return {};
}

Status SqliteStateStore::put_synced(const std::string& mapping, const std::string& pg_key,
                                    const SyncedFields& fields) {
  std::lock_guard lock(mu_);
  return in_txn([&] { return put_synced_locked(mapping, pg_key, fields); });
}

Result<bool> SqliteStateStore::remove_synced(const std::string& mapping,
                                             const std::string& pg_key) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  auto q = db_->prepare("DELETE FROM synced WHERE mapping = ? AND pg_key = ?");
  if (!q) return std::move(q).error();
  if (auto s = q->bind(mapping, pg_key).run(); !s) return std::move(s).error();
  return db_->changes() > 0;
}

Result<std::int64_t> SqliteStateStore::forget_field(const std::string& mapping, const std::string& field) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  auto q = db_->prepare("DELETE FROM synced WHERE mapping = ? AND field = ?");
  if (!q) return std::move(q).error();
  if (auto s = q->bind(mapping, field).run(); !s) return std::move(s).error();
  return static_cast<std::int64_t>(db_->changes());
}

Result<std::int64_t> SqliteStateStore::overwrite_field(const std::string& mapping, const std::string& field) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return std::move(w).error();
  return in_txn([&]() -> Result<std::int64_t> {
    auto mark = db_->prepare("UPDATE synced SET source_wins = 1 WHERE mapping = ? AND field = ?");
    if (!mark) return std::move(mark).error();
    if (auto s = mark->bind(mapping, field).run(); !s) return std::move(s).error();
    auto add = db_->prepare(
        "INSERT INTO synced (mapping, pg_key, field, value, side_changed_at, synced_at, source_wins) "
        "SELECT mapping, pg_key, ?, NULL, 0, 0, 1 FROM links WHERE mapping = ? "
        "ON CONFLICT (mapping, pg_key, field) DO NOTHING");
    if (!add) return std::move(add).error();
    if (auto s = add->bind(field, mapping).run(); !s) return std::move(s).error();
    auto n = db_->prepare("SELECT count(*) FROM synced WHERE mapping = ? AND field = ? AND source_wins = 1");
    if (!n) return std::move(n).error();
    n->bind(mapping, field);
    auto row = n->step();
    if (!row) return std::move(row).error();
    return n->int64(0);
  });
}

Status SqliteStateStore::commit_batch(const BatchCommit& batch) {
  std::lock_guard lock(mu_);
  return durable_txn([&]() -> Status {
    // Removals first: a link may move from a deleted row to a new one.
    const TimeMs now = now_ms();
    if (!batch.removed_pg_keys.empty()) {
      auto q = db_->prepare("DELETE FROM departed_links WHERE departed_at_ms < ?");
      if (!q) return std::move(q).error();
      if (auto s = q->bind(now - kDepartedKeptMs).run(); !s) return s;
    }
    for (const auto& key : batch.removed_pg_keys) {
      // The link departs with the row: departed_from() remembers it.
      auto kept = db_->prepare("INSERT OR REPLACE INTO departed_links (mapping, pg_key, hubspot_id, departed_at_ms) "
                               "SELECT mapping, pg_key, hubspot_id, ? FROM links WHERE mapping = ? AND pg_key = ?");
      if (!kept) return std::move(kept).error();
      if (auto s = kept->bind(now, batch.mapping, key).run(); !s) return s;
      for (const char* sql : {"DELETE FROM links WHERE mapping = ? AND pg_key = ?",
                              "DELETE FROM synced WHERE mapping = ? AND pg_key = ?"}) {
        auto q = db_->prepare(sql);
        if (!q) return std::move(q).error();
        if (auto s = q->bind(batch.mapping, key).run(); !s) return s;
      }
    }
    for (const auto& r : batch.records) {
      if (!r.hubspot_id.empty()) {
        if (auto s = upsert_link_locked(batch.mapping, r.pg_key, r.hubspot_id, r.match_key); !s)
          return s;
      }
      if (auto s = put_synced_locked(batch.mapping, r.pg_key, r.fields); !s) return s;
    }
    for (const auto& key : batch.intents_done)
      if (auto s = delete_intent_locked(batch.mapping, key); !s) return s;
    for (const auto& key : batch.postgres_intents_done)
      if (auto s = delete_postgres_intent_locked(batch.mapping, key); !s) return s;
    return {};
  });
}

Result<bool> SqliteStateStore::departed_from(const std::string& mapping, const std::string& pg_key,
                                             const std::string& hubspot_id) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT 1 FROM departed_links WHERE mapping = ? AND pg_key = ? AND hubspot_id = ? AND "
                        "departed_at_ms >= ?");
  if (!q) return std::move(q).error();
  auto row = q->bind(mapping, pg_key, hubspot_id, now_ms() - kDepartedKeptMs).step();
  if (!row) return std::move(row).error();
  return *row;
}

// --- write intents ---

Status SqliteStateStore::record_intents(const std::string& mapping,
                                       const std::vector<WriteIntent>& intents) {
  if (intents.empty()) return {};
  std::lock_guard lock(mu_);
  return durable_txn([&]() -> Status {
    for (const auto& in : intents) {
      if (auto s = delete_intent_locked(mapping, in.pg_key); !s) return s;
      auto q = db_->prepare(
          "INSERT INTO write_intents (mapping, pg_key, hubspot_id, match_value, started_at) "
          "VALUES (?, ?, ?, ?, ?)");
      if (!q) return std::move(q).error();
      if (auto s = q->bind(mapping, in.pg_key, in.hubspot_id, in.match_value, in.started_at_ms)
                       .run();
          !s) {
        return s;
      }
      for (const auto& [field, f] : in.fields) {
        auto fq = db_->prepare(
            "INSERT INTO write_intent_fields (mapping, pg_key, field, value, side_changed_at) "
            "VALUES (?, ?, ?, ?, ?)");
        if (!fq) return std::move(fq).error();
        if (auto s = fq->bind(mapping, in.pg_key, field, f.value, f.side_changed_at_ms).run(); !s)
          return s;
      }
    }
    return {};
  });
}

Status SqliteStateStore::delete_intent_locked(const std::string& mapping,
                                              const std::string& pg_key) {
  for (const char* sql : {"DELETE FROM write_intents WHERE mapping = ? AND pg_key = ?",
                          "DELETE FROM write_intent_fields WHERE mapping = ? AND pg_key = ?"}) {
    auto q = db_->prepare(sql);
    if (!q) return std::move(q).error();
    if (auto s = q->bind(mapping, pg_key).run(); !s) return s;
  }
  return {};
}

Result<std::vector<WriteIntent>> SqliteStateStore::list_intents(const std::string& mapping) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT pg_key, hubspot_id, match_value, started_at FROM write_intents "
      "WHERE mapping = ? ORDER BY started_at, pg_key");
  if (!q) return std::move(q).error();
  q->bind(mapping);
  std::vector<WriteIntent> out;
  while (true) {
    auto row = q->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(WriteIntent{q->text(0), q->text(1), q->text(2), {}, q->int64(3)});
  }
  for (auto& in : out) {
    auto fq = db_->prepare("SELECT field, value, side_changed_at FROM write_intent_fields "
                           "WHERE mapping = ? AND pg_key = ?");
    if (!fq) return std::move(fq).error();
    fq->bind(mapping, in.pg_key);
    while (true) {
      auto row = fq->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      in.fields.emplace(fq->text(0), SyncedField{fq->opt_text(1), fq->int64(2), 0});
    }
  }
  return out;
}

}  // namespace hubsync::state
