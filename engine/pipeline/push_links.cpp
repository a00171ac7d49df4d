// Link mappings: each row of a link table is one association between two
// mapped objects. Inserting the row associates them, deleting it removes the
// association; the synced base holds the pair last written.
#include <set>

#include "engine/pipeline/push.h"
#include "engine/pipeline/push_item.h"

namespace hubsync::pipeline {

using model::ErrorKind;
using model::Result;
using model::Status;

namespace {
constexpr const char* kFromId = "from_id";
constexpr const char* kToId = "to_id";
}  // namespace

Status Pusher::process_links(std::vector<Item>& items, PushStats& stats) {
  const mapping::LinkMapping& link = *m_.link;
  auto from_it = all_.find(link.from_mapping);
  auto to_it = all_.find(link.to_mapping);
  if (from_it == all_.end() || to_it == all_.end())
    return model::make_error(ErrorKind::fatal, "mapping " + m_.name + ": link ends " +
                                                   link.from_mapping + " / " + link.to_mapping +
                                                   " are not loaded mappings");
  const mapping::Mapping& from = *from_it->second;
  const mapping::Mapping& to = *to_it->second;
  auto type = association_type_for(from.object.path(), to.object.path(), link.type_id, link.type_label);
  if (!type.ok()) return std::move(type).error();

  const std::int64_t now = clock_.wall_ms();
  std::vector<std::string> pg_keys;
  for (const auto& it : items) pg_keys.push_back(it.pg_key);
  auto synced = state_.get_synced_many(m_.name, pg_keys);
  if (!synced.ok()) return std::move(synced).error();

  auto hubspot_id_of = [&](const mapping::Mapping& side, const model::Fields& row,
                           const std::string& column) -> Result<std::string> {
    auto v = row.find(column);
    if (v == row.end() || v->second.is_null()) return std::string();
    auto found = state_.find_link_by_pg_key(side.name, v->second.canonical());
    if (!found.ok()) return std::move(found).error();
    return *found ? (*found)->hubspot_id : std::string();
  };

  std::vector<AssociationInput> creates;
  std::vector<std::pair<std::string, std::string>> removes;
  std::vector<std::pair<std::size_t, AssociationInput>> pending;  // item -> pair to record
  std::vector<std::string> removed;
  for (std::size_t i = 0; i < items.size(); ++i) {
    Item& it = items[i];
    std::string base_from, base_to;
    if (auto s = synced->find(it.pg_key); s != synced->end()) {
      if (auto f = s->second.find(kFromId); f != s->second.end()) base_from = f->second.value.value_or("");
      if (auto t = s->second.find(kToId); t != s->second.end()) base_to = t->second.value.value_or("");
    }
    const bool gone = !it.row || !it.row->in_filter;
    if (gone) {
      if (!base_from.empty() && !base_to.empty() && m_.deletes != mapping::DeletePolicy::ignore) {
        removes.emplace_back(base_from, base_to);
        removed.push_back(it.pg_key);
        it.outcome = ChangeOutcome::archived;
        ++stats.archived;
      } else {
        it.outcome = it.row ? ChangeOutcome::filtered : ChangeOutcome::unchanged;
        ++(it.row ? stats.filtered : stats.unchanged);
      }
      continue;
    }
    auto from_id = hubspot_id_of(from, it.row->fields, link.from_column);
    if (!from_id.ok()) return std::move(from_id).error();
    auto to_id = hubspot_id_of(to, it.row->fields, link.to_column);
    if (!to_id.ok()) return std::move(to_id).error();
    if (from_id->empty() || to_id->empty()) {
      // An end has no HubSpot object yet (not pushed, filtered or failed):
      // wait for it rather than drop the association.
      it.retry_later = true;
      it.retry_delay_ms = opt_.defer_ms;
      ++stats.deferred;
      continue;
    }
    if (*from_id == base_from && *to_id == base_to) {
      it.outcome = ChangeOutcome::unchanged;
      ++stats.unchanged;
      continue;
    }
    if (!base_from.empty() && !base_to.empty()) removes.emplace_back(base_from, base_to);
    AssociationInput in{*from_id, *to_id, *type};
    creates.push_back(in);
    pending.emplace_back(i, in);
  }

  if (!removes.empty())
    if (auto st = crm_.unassociate(from.object.path(), to.object.path(), removes); !st.ok()) return st;
  std::vector<state::SyncedRecord> records;
  std::vector<state::DeadLetter> dead;
  if (!creates.empty()) {
    auto out = crm_.associate(from.object.path(), to.object.path(), creates);
    if (!out.ok()) return std::move(out).error();
    for (std::size_t k = 0; k < pending.size(); ++k) {
      Item& it = items[pending[k].first];
      const auto& o = (*out)[k];
      if (o.ok()) {
        it.outcome = ChangeOutcome::synced;
        ++stats.associations;
        records.push_back({it.pg_key, "",
                           {{kFromId, state::SyncedField{pending[k].second.from_id, it.changed_at_ms, now}},
                            {kToId, state::SyncedField{pending[k].second.to_id, it.changed_at_ms, now}}}});
      } else if (o.error->retryable()) {
        it.retry_later = true;
        it.retry_delay_ms = opt_.transient_retry_ms;
        ++stats.retried;
      } else {
        const std::string payload = "{\"from\":" + model::json_quote(pending[k].second.from_id) +
                                    ",\"to\":" + model::json_quote(pending[k].second.to_id) + "}";
        dead.push_back(make_dead_letter(it, *o.error, "", payload, now));
        ++stats.dead_lettered;
      }
    }
  }
  return finish(items, dead, records, removed, stats);
}

}  // namespace hubsync::pipeline
