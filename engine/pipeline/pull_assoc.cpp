// Associations made or removed in HubSpot: they never move an object's
// last-modified time, so each pulled batch (and a periodic pass over every
// linked object) reads them. A foreign key column follows its association
// through the three-way merge; a link table gains and loses rows.
#include "engine/pipeline/pull.h"
#include "engine/pipeline/pull_item.h"
#include "engine/pipeline/sync_helpers.h"

#include <algorithm>
#include <set>

namespace hubsync::pipeline {

using model::ErrorKind;
using model::Status;

std::map<std::string, std::set<std::string>> targets_of(const std::vector<Associated>& all,
                                                        const AssociationType& type) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& a : all) {
    auto& set = out[a.from_id];
    for (const auto& t : a.to)
      for (const auto& ty : t.types)
        if (ty.type_id == type.type_id) set.insert(t.to_id);
  }
  return out;
}

std::string key_text(const std::string& pg_key) {
  auto k = model::RecordKey::decode(pg_key, 1);
  return k ? k->parts.front() : pg_key;
}

Status Puller::pull_associations(Batch& b) {
  if (m_.link) return pull_link_rows(b, m_);
  if (auto st = pull_foreign_keys(b); !st.ok()) return st;
  for (const auto& [name, other] : all_)
    if (other->link && other->link->from_mapping == m_.name && other->pulls())
      if (auto st = pull_link_rows(b, *other); !st.ok()) return st;
  return {};
}

Status Puller::pull_foreign_keys(Batch& b) {
  for (const auto& a : m_.associations) {
    if (!mapping::writes_postgres(a.direction)) continue;
    auto target = all_.find(a.to_mapping);
    if (target == all_.end()) continue;
    const mapping::Mapping& to = *target->second;
    auto type = types_.get(m_.name, m_.object.path(), to.object.path(), a.type_id, a.type_label);
    if (!type.ok()) return std::move(type).error();
    std::vector<Item*> items;
    std::vector<std::string> ids;
    for (auto& it : b.items)
      if (!it.done && !it.pg_key.empty() && it.row && !it.record.hubspot_id.empty()) {
        items.push_back(&it);
        ids.push_back(it.record.hubspot_id);
      }
    if (ids.empty()) continue;
    auto read = crm_.associations(m_.object.path(), to.object.path(), ids);
    if (!read.ok()) return std::move(read).error();
    const auto targets = targets_of(*read, *type);
    std::vector<Item*> writing;
    std::vector<RowWrite> writes;
    for (Item* it : items) {
      auto fk = decide_foreign_key(b, *it, a, to, targets);
      if (!fk.ok()) return std::move(fk).error();
      if (!*fk) continue;
      auto key = model::RecordKey::decode(it->pg_key, m_.key.size());
      if (!key) continue;
      writes.push_back({*key, {{a.column, **fk}}, it->row->version, false});
      writing.push_back(it);
    }
    if (writes.empty()) continue;
    auto out = db_.apply_rows(m_, writes);
    if (!out.ok()) return std::move(out).error();
    for (std::size_t k = 0; k < writing.size(); ++k) {
      if ((*out)[k].error) {
        write_refused(b, *writing[k], *(*out)[k].error);
        continue;
      }
      writing[k]->row->version = (*out)[k].version;
      ++b.stats.associations;
    }
  }
  return {};
}

// The merge of one foreign key: Postgres's side is the HubSpot id of the
// row it points at, HubSpot's the associated object (the one of the base if
// it is still there). Returns the column's new value when Postgres must
// change (NULL: the association was removed), nullopt otherwise; records
// the new base for the column in the batch.
model::Result<std::optional<model::Value>> Puller::decide_foreign_key(
    Batch& b, Item& it, const mapping::AssociationMapping& a, const mapping::Mapping& to,
    const std::map<std::string, std::set<std::string>>& targets) {
  using Out = std::optional<model::Value>;
  const std::string field = assoc_field(a.column);
  std::optional<std::string> base;
  if (auto f = it.base.find(field); f != it.base.end()) base = f->second.value.value_or("");
  std::string pg;
  if (auto ref = it.row->ref_keys.find(a.column); ref != it.row->ref_keys.end() && ref->second) {
    auto parent = state_.find_link_by_pg_key(to.name, *ref->second);
    if (!parent.ok()) return std::move(parent).error();
    if (*parent) {
      pg = (*parent)->hubspot_id;
    } else if (base) {
      // The row it points at has no object (deleted in HubSpot since): take
      // the key as unchanged since the last agreement, so a move made in
      // HubSpot is still followed.
      pg = *base;
    } else {
      return Out();  // its parent is not in HubSpot yet: the push waits for it
    }
  }
  std::string hs;
  if (auto t = targets.find(it.record.hubspot_id); t != targets.end() && !t->second.empty())
    hs = base && t->second.count(*base) ? *base : *t->second.begin();
  // HubSpot keeps no time for an association: `newest` has only Postgres's
  // (known or not), and a time that is known, or a tie, goes to Postgres.
  const bool newest = m_.conflict == mapping::ConflictPolicy::newest;
  auto d = reconcile::decide({base, pg, hs, it.pg_times.of({a.column}), 0}, a.direction,
                             newest ? mapping::ConflictPolicy::postgres : m_.conflict);
  if (d.conflict) {
    d.rule = m_.conflict;
    it.conflicts.push_back(conflict_of(m_.name, it.pg_key, it.record.hubspot_id, field, pg, hs, base, d, b.now,
                                       newest ? " (HubSpot keeps no time for associations: Postgres's change wins)" : ""));
    ++b.stats.conflicts;
    // Postgres won: the push that follows moves HubSpot's pair, so the base
    // becomes the pair HubSpot holds now (the base's pair may be gone).
    if (d.action == reconcile::Action::write_hubspot)
      b.records.push_back({it.pg_key, "", {{field, state::SyncedField{hs, 0, b.now}}}});
  }
  if (d.action == reconcile::Action::adopt)
    b.records.push_back({it.pg_key, "", {{field, state::SyncedField{hs, 0, b.now}}}});
  if (d.action != reconcile::Action::write_postgres) return Out();
  if (hs.empty()) {
    b.records.push_back({it.pg_key, "", {{field, state::SyncedField{std::string(), 0, b.now}}}});
    return Out(model::Value::null());
  }
  auto parent = state_.find_link_by_hubspot_id(to.name, hs);
  if (!parent.ok()) return std::move(parent).error();
  if (!*parent) {
    // The parent has no row yet (its webhook not processed, a filter): the
    // key waits, and the child is pulled again once the parent may be there.
    it.waits_for = to.name + " object " + hs;
    return Out();
  }
  b.records.push_back({it.pg_key, "", {{field, state::SyncedField{hs, 0, b.now}}}});
  return Out(model::Value::text(key_text((*parent)->pg_key)));
}

}  // namespace hubsync::pipeline
