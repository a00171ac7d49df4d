// Link tables from HubSpot: for the objects of a link's `from` end, a pair
// associated in HubSpot and missing in Postgres is inserted; a row whose
// pair was synced before and is gone from HubSpot is deleted. Rows new in
// Postgres (no base) are the push's, and so are synced rows deleted in
// Postgres: their pairs, still in HubSpot until the push, are not inserted
// again.
#include "engine/pipeline/pull.h"
#include "engine/pipeline/pull_item.h"

namespace hubsync::pipeline {

using model::Status;

namespace {
constexpr const char* kFromId = "from_id";
constexpr const char* kToId = "to_id";

std::string base_of(const state::SyncedFields& base, const char* field) {
  auto f = base.find(field);
  return f == base.end() ? std::string() : f->second.value.value_or("");
}

using Pairs = std::set<std::pair<std::string, std::string>>;  // (from id, to id)

// The pairs of synced rows deleted in Postgres whose deletion the push has
// not yet taken to HubSpot (by hand, or cascaded from a deleted end).
model::Result<Pairs> deleted_pairs(DatabasePort& db, state::StateStore& state, const mapping::Mapping& link) {
  auto keys = db.pending_deletes(link);
  if (!keys.ok()) return std::move(keys).error();
  Pairs out;
  if (keys->empty()) return out;
  auto synced = state.get_synced_many(link.name, *keys);
  if (!synced.ok()) return std::move(synced).error();
  for (const auto& [key, base] : *synced) out.emplace(base_of(base, kFromId), base_of(base, kToId));
  return out;
}
}  // namespace

Status Puller::pull_link_rows(Batch& b, const mapping::Mapping& link) {
  const mapping::LinkMapping& l = *link.link;
  auto f_it = all_.find(l.from_mapping);
  auto t_it = all_.find(l.to_mapping);
  if (f_it == all_.end() || t_it == all_.end()) return {};
  const mapping::Mapping& from = *f_it->second;
  const mapping::Mapping& to = *t_it->second;
  auto type = types_.get(link.name, from.object.path(), to.object.path(), l.type_id, l.type_label);
  if (!type.ok()) return std::move(type).error();
  std::vector<std::string> ids, from_keys;
  std::map<std::string, std::string> from_key_of;  // hubspot id -> from key text
  for (const auto& it : b.items)
    if (!it.done && !it.pg_key.empty() && !it.record.hubspot_id.empty()) {
      ids.push_back(it.record.hubspot_id);
      from_keys.push_back(key_text(it.pg_key));
      from_key_of[it.record.hubspot_id] = key_text(it.pg_key);
    }
  if (ids.empty()) return {};
  auto read = crm_.associations(from.object.path(), to.object.path(), ids);
  if (!read.ok()) return std::move(read).error();
  auto rows = db_.read_rows_by(link, l.from_column, from_keys, false);
  if (!rows.ok()) return std::move(rows).error();
  LinkPlan plan;
  if (auto st = plan_link_rows(link, to, targets_of(*read, *type), from_key_of, *rows, b, plan); !st.ok())
    return st;
  return apply_link_rows(b, link, plan);
}

Status Puller::plan_link_rows(const mapping::Mapping& link, const mapping::Mapping& to,
                              const std::map<std::string, std::set<std::string>>& targets,
                              const std::map<std::string, std::string>& from_key_of,
                              const std::vector<Row>& rows, Batch& b, LinkPlan& plan) {
  const mapping::LinkMapping& l = *link.link;
  std::vector<std::string> row_keys;
  std::map<std::pair<std::string, std::string>, const Row*> by_pair;  // (from key, to key) -> row
  for (const auto& r : rows) {
    row_keys.push_back(r.key.encoded());
    auto f = r.ref_keys.find(l.from_column);
    auto t = r.ref_keys.find(l.to_column);
    if (f != r.ref_keys.end() && f->second && t != r.ref_keys.end() && t->second)
      by_pair[{*f->second, *t->second}] = &r;
  }
  auto synced = state_.get_synced_many(link.name, row_keys);
  if (!synced.ok()) return std::move(synced).error();
  auto deleted = deleted_pairs(db_, state_, link);
  if (!deleted.ok()) return std::move(deleted).error();
  for (const auto& [from_id, to_ids] : targets) {
    auto fk = from_key_of.find(from_id);
    if (fk == from_key_of.end()) continue;
    for (const auto& to_id : to_ids) {
      auto to_link = state_.find_link_by_hubspot_id(to.name, to_id);
      if (!to_link.ok()) return std::move(to_link).error();
      if (!*to_link) {
        ++b.stats.deferred;  // the other end has no row yet: a later pull adds the pair
        continue;
      }
      const std::string to_key = key_text((*to_link)->pg_key);
      state::SyncedFields pair{{kFromId, state::SyncedField{from_id, 0, b.now}},
                               {kToId, state::SyncedField{to_id, 0, b.now}}};
      if (auto r = by_pair.find({fk->second, to_key}); r != by_pair.end()) {
        if (!synced->count(r->second->key.encoded()))
          plan.adopted.push_back({r->second->key.encoded(), "", pair});
        continue;
      }
      // Deleted in Postgres since it synced: the push removes it from HubSpot.
      if (deleted->count({from_id, to_id})) continue;
      plan.inserts.push_back({std::nullopt, {{l.from_column, model::Value::text(fk->second)},
                                             {l.to_column, model::Value::text(to_key)}},
                                            {}, false});
      plan.insert_pairs.emplace_back(from_id, to_id);
    }
  }
  if (link.deletes == mapping::DeletePolicy::ignore) return {};
  for (const auto& [key, base] : *synced) {
    const std::string from_id = base_of(base, kFromId), to_id = base_of(base, kToId);
    auto t = targets.find(from_id);
    if (from_id.empty() || to_id.empty() || t == targets.end() || t->second.count(to_id)) continue;
    if (auto k = model::RecordKey::decode(key, link.key.size())) plan.deletes.push_back(*k);
  }
  return {};
}

Status Puller::apply_link_rows(Batch& b, const mapping::Mapping& link, LinkPlan& plan) {
  state::BatchCommit commit{link.name, std::move(plan.adopted), {}, {}};
  if (!plan.inserts.empty()) {
    auto out = db_.apply_rows(link, plan.inserts);
    if (!out.ok()) return std::move(out).error();
    for (std::size_t k = 0; k < out->size(); ++k) {
      const auto& [from_id, to_id] = plan.insert_pairs[k];
      if (const auto& e = (*out)[k].error) {
        state::DeadLetter dl;
        dl.mapping = link.name;
        dl.direction = state::Direction::to_postgres;
        dl.hubspot_id = from_id;
        dl.payload_json = "{\"from\":" + model::json_quote(from_id) + ",\"to\":" + model::json_quote(to_id) + "}";
        dl.error_kind = e->kind;
        dl.category = e->category;
        dl.message = e->message;
        dl.first_failed_at_ms = dl.last_failed_at_ms = dl.next_retry_at_ms.emplace(b.now);
        b.dead.push_back(std::move(dl));
        ++b.stats.dead_lettered;
        continue;
      }
      commit.records.push_back({(*out)[k].key.encoded(), "",
                                {{kFromId, state::SyncedField{from_id, 0, b.now}},
                                 {kToId, state::SyncedField{to_id, 0, b.now}}}});
      ++b.stats.associations;
    }
  }
  if (!plan.deletes.empty()) {
    if (auto st = db_.delete_rows(link, plan.deletes); !st.ok()) return st;
    for (const auto& k : plan.deletes) commit.removed_pg_keys.push_back(k.encoded());
    b.stats.associations += static_cast<std::int64_t>(plan.deletes.size());
  }
  if (commit.records.empty() && commit.removed_pg_keys.empty()) return {};
  return state_.commit_batch(commit);
}

}  // namespace hubsync::pipeline
