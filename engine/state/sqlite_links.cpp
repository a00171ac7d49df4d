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
}  // namespace

Result<std::optional<Link>> SqliteStateStore::link_by_pg_key_locked(const std::string& mapping,
                                                                    const std::string& pg_key) {
  auto q = db_->prepare(
      "SELECT hubspot_id, created_at, updated_at FROM links WHERE mapping = ? AND pg_key = ?");
  if (!q) return std::move(q).error();
  auto row = q->bind(mapping, pg_key).step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<Link>();
  return std::optional<Link>(Link{mapping, pg_key, q->text(0), q->int64(1), q->int64(2)});
}

Result<std::optional<Link>> SqliteStateStore::link_by_hubspot_id_locked(
    const std::string& mapping, const std::string& hubspot_id) {
  auto q = db_->prepare(
      "SELECT pg_key, created_at, updated_at FROM links WHERE mapping = ? AND hubspot_id = ?");
  if (!q) return std::move(q).error();
  auto row = q->bind(mapping, hubspot_id).step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<Link>();
  return std::optional<Link>(Link{mapping, q->text(0), hubspot_id, q->int64(1), q->int64(2)});
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
                                            const std::string& hubspot_id) {
  auto owner = link_by_hubspot_id_locked(mapping, hubspot_id);
  if (!owner) return std::move(owner).error();
  if (*owner && (*owner)->pg_key != pg_key) {
    return make_error(ErrorKind::conflict,
                      fmt::format("state store {}: mapping {}: hubspot id {} is already linked to "
                                  "pg_key {}, cannot link it to {}",
                                  path_, mapping, hubspot_id, (*owner)->pg_key, pg_key));
  }
  auto q = db_->prepare(
      "INSERT INTO links (mapping, pg_key, hubspot_id, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (mapping, pg_key) DO UPDATE SET "
      "hubspot_id = excluded.hubspot_id, updated_at = excluded.updated_at "
      "WHERE hubspot_id <> excluded.hubspot_id");
  if (!q) return std::move(q).error();
  return q->bind(mapping, pg_key, hubspot_id, now_ms()).run();
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
      "SELECT field, value, side_changed_at, synced_at FROM synced "
      "WHERE mapping = ? AND pg_key = ?");
  if (!q) return std::move(q).error();
  q->bind(mapping, pg_key);
  SyncedFields out;
  while (true) {
    auto row = q->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.emplace(q->text(0), SyncedField{q->opt_text(1), q->int64(2), q->int64(3)});
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
        "INSERT INTO synced (mapping, pg_key, field, value, side_changed_at, synced_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (mapping, pg_key, field) DO UPDATE SET "
        "value = excluded.value, side_changed_at = excluded.side_changed_at, "
        "synced_at = excluded.synced_at");
    if (!q) return std::move(q).error();
    if (auto s = q->bind(mapping, pg_key, field, f.value, f.side_changed_at_ms, f.synced_at_ms)
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

Status SqliteStateStore::commit_batch(const BatchCommit& batch) {
  std::lock_guard lock(mu_);
  return in_txn([&]() -> Status {
    for (const auto& r : batch.records) {
      if (!r.hubspot_id.empty()) {
        if (auto s = upsert_link_locked(batch.mapping, r.pg_key, r.hubspot_id); !s) return s;
      }
      if (auto s = put_synced_locked(batch.mapping, r.pg_key, r.fields); !s) return s;
    }
    for (const auto& key : batch.removed_pg_keys) {
      for (const char* sql : {"DELETE FROM links WHERE mapping = ? AND pg_key = ?",
                              "DELETE FROM synced WHERE mapping = ? AND pg_key = ?"}) {
        auto q = db_->prepare(sql);
        if (!q) return std::move(q).error();
        if (auto s = q->bind(batch.mapping, key).run(); !s) return s;
      }
    }
    return {};
  });
}

}  // namespace hubsync::state
