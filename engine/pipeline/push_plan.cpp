// What each row of a push batch needs: archive, nothing, or which fields to
// write (the three-way merge decides), and whose HubSpot object it is.
#include "engine/pipeline/push.h"
#include "engine/pipeline/push_item.h"

#include <algorithm>
#include <set>

#include "engine/pipeline/sync_helpers.h"
#include "engine/reconcile/merge.h"

namespace hubsync::pipeline {

using model::ErrorKind;
using model::Status;

Status Pusher::load_links(Batch& b) {
  std::vector<std::string> pg_keys;
  for (const auto& it : b.items) pg_keys.push_back(it.pg_key);
  auto synced = state_.get_synced_many(m_.name, pg_keys);
  if (!synced.ok()) return std::move(synced).error();
  for (auto& it : b.items) {
    auto link = state_.find_link_by_pg_key(m_.name, it.pg_key);
    if (!link.ok()) return std::move(link).error();
    if (*link) it.hubspot_id = (*link)->hubspot_id;
    if (auto s = synced->find(it.pg_key); s != synced->end()) it.base = std::move(s->second);
  }
  return {};
}

void Pusher::plan_item(Batch& b, std::size_t i) {
  Item& it = b.items[i];
  if (!it.row) return plan_gone(b, i, "deleted");
  if (soft_deleted(m_, *it.row)) return plan_gone(b, i, "soft-deleted");
  if (it.row->error) return dead_letter(b, it, *it.row->error, "{}");
  if (!it.row->in_filter) return plan_gone(b, i, "left the filter");
  auto props = m_.to_hubspot(it.row->fields);
  if (!props.ok()) return dead_letter(b, it, props.error(), "{}");
  auto compare = m_.compare_from_postgres(it.row->fields);
  if (!compare.ok()) return dead_letter(b, it, compare.error(), props_json(*props));
  Write w;
  w.item = i;
  w.compare = std::move(*compare);
  w.all_props = std::move(*props);
  if (auto mv = w.all_props.find(m_.match_property); mv != w.all_props.end()) w.match_value = mv->second;
  w.match_key = match_key_of(m_, w.match_value);
  if (!it.hubspot_id.empty()) {
    choose_fields(b, w, &it.base);
    b.updates.push_back(std::move(w));  // also with nothing to send: associations may be due
    return;
  }
  if (w.match_value.empty()) {
    // The filter that leaves such rows out, spelt for a plain column name.
    const std::string col = m_.match_column();
    const bool plain = !col.empty() && std::all_of(col.begin(), col.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    const std::string how = "match property " + m_.match_property + " is empty: a row needs one to be matched "
                            "with a HubSpot object; leave such rows out of the sync with filter.postgres" +
                            (plain ? " (\"" + col + " IS NOT NULL AND " + col + " <> ''\")" : std::string());
    return dead_letter(b, it, model::make_error(ErrorKind::invalid_record, how), props_json(w.all_props));
  }
  choose_fields(b, w, nullptr);
  b.upserts.push_back(std::move(w));
}

void Pusher::plan_gone(Batch& b, std::size_t i, const char* why) {
  Item& it = b.items[i];
  const bool left_filter = std::string(why) == "left the filter";
  if (m_.deletes == mapping::DeletePolicy::ignore || (left_filter && m_.keep_leaving)) {
    it.outcome = left_filter ? ChangeOutcome::filtered : ChangeOutcome::ignored;
    ++(left_filter ? b.stats.filtered : b.stats.ignored);
    return;
  }
  if (!it.hubspot_id.empty()) {
    it.detail = why;
    b.archives.push_back(i);
    return;
  }
  if (left_filter) {
    it.outcome = ChangeOutcome::filtered;
    ++b.stats.filtered;
    return;
  }
  mark_unchanged(it, b.stats, "not in HubSpot");
}

// Picks the fields the merge says must go to HubSpot. HubSpot is not read
// here, so it counts as unchanged since the base; with no base (a first
// link) an empty value is never sent, so it cannot clear what HubSpot has.
bool Pusher::choose_fields(Batch& b, Write& w, const state::SyncedFields* base) {
  const Item& it = b.items[w.item];
  w.sent_fields.clear();
  w.props.clear();
  for (const auto& f : m_.fields) {
    if (!f.to_hubspot()) continue;
    reconcile::FieldState fs;
    if (base) take_base(fs, *base, f.id);
    fs.pg = w.compare[f.id];
    fs.pg_changed_at_ms = it.times.of(f.columns);
    auto d = reconcile::decide(fs, f.direction, f.conflict);
    if (d.action != reconcile::Action::write_hubspot) continue;
    w.sent_fields.push_back(f.id);
    for (const auto& p : f.properties) {
      const std::string& v = w.all_props[p];
      if (!base && v.empty()) continue;  // a first link never clears (a split field's empty part)
      w.props[p] = v;
    }
  }
  if (!base) w.props[m_.match_property] = w.match_value;
  return !w.sent_fields.empty();
}

// Rows not linked yet that kept their object's id (Mapping::
// object_id_column): after a lost state file or a renamed mapping their
// match value may have changed since, and an upsert by it would make a
// second object. Such a row updates the object it names when HubSpot has it
// and no other row syncs it (a first link: nothing empty is sent);
// otherwise it is upserted as any new row. A failed read leaves the row for
// a later pass rather than risk the duplicate.
Status Pusher::resolve_recorded_ids(Batch& b) {
  const std::string column = m_.object_id_column();
  if (column.empty()) return {};
  std::vector<Write*> asking;
  std::vector<std::string> ids;
  for (auto& w : b.upserts) {
    const auto& fields = b.items[w.item].row->fields;
    auto v = fields.find(column);
    if (v == fields.end() || v->second.is_null() || v->second.canonical().empty()) continue;
    auto owner = state_.find_link_by_hubspot_id(m_.name, v->second.canonical());
    if (!owner.ok()) return std::move(owner).error();
    if (*owner) continue;  // another row syncs it: the match value decides, as for any row
    asking.push_back(&w);
    ids.push_back(v->second.canonical());
  }
  // Merged into another object since: the survivor, unless another row
  // syncs it. Two rows keeping one id: the first takes it, the other goes
  // by its match value.
  std::vector<Write*> found;
  std::set<std::string> taken;
  auto st = read_each(b, asking, ids, ReadRequest{{m_.match_property}, {}, "", false},
                      [&](Write& w, const ReadOutcome& o) {
                        if (!o.merged_into.empty()) {
                          auto owner = state_.find_link_by_hubspot_id(m_.name, o.record->hubspot_id);
                          if (!owner.ok() || *owner) return;
                        }
                        if (!taken.insert(o.record->hubspot_id).second) return;
                        Item& it = b.items[w.item];
                        it.hubspot_id = o.record->hubspot_id;
                        w.by_recorded_id = true;
                        b.records.push_back({it.pg_key, it.hubspot_id, {}, w.match_key});  // whatever the merge sends
                        ++b.stats.relinked;
                        log_->info("relinked mapping={} key={} object={} by the id its row kept ({})", m_.name,
                                   it.pg_key, it.hubspot_id, column);
                        found.push_back(&w);
                      });
  if (!st.ok()) return st;
  std::vector<Write*> missing;
  std::vector<std::string> missing_ids;
  for (std::size_t k = 0; k < asking.size(); ++k)
    if (!asking[k]->dropped && std::find(found.begin(), found.end(), asking[k]) == found.end()) {
      missing.push_back(asking[k]);
      missing_ids.push_back(ids[k]);
    }
  for (Write* w : found) {
    b.updates.push_back(std::move(*w));
    w->dropped = true;
  }
  return follow_kept_deleted(b, missing, missing_ids);
}

// Rows that kept the id of an object HubSpot no longer has live: one it
// archived (found among this portal's archived objects) was deleted there,
// and a mapping that pulls deletes follows that, as it would have with the
// link (else the row would come back as a new object). An id HubSpot does
// not know at all (another portal's, purged) says nothing: the row goes by
// its match value.
Status Pusher::follow_kept_deleted(Batch& b, const std::vector<Write*>& missing, const std::vector<std::string>& ids) {
  if (missing.empty() || !m_.pulls() || m_.deletes == mapping::DeletePolicy::ignore) return {};
  std::vector<Write*> archived;
  auto st = read_each(b, missing, ids, ReadRequest{{m_.match_property}, {}, "", true},
                      [&](Write& w, const ReadOutcome&) { archived.push_back(&w); });
  if (!st.ok()) return st;
  for (Write* w : archived)
    log_->info("kept id of a deleted object mapping={} key={} object={}: deleted in HubSpot, so the row follows",
               m_.name, b.items[w->item].pg_key, ids[std::find(missing.begin(), missing.end(), w) - missing.begin()]);
  return archived.empty() ? Status{} : delete_rows_of_deleted(b, archived);
}

// A row not linked yet whose match value already names another row's object
// (the same email, written in another case; a row deleted and inserted again
// with a new key): if that other row is gone, this row takes its object
// over; if it is alive, the two cannot both sync to one object and this row
// is dead-lettered, naming the other. Either way nothing is written twice.
Status Pusher::resolve_match_owners(Batch& b) {
  std::map<std::string, std::size_t> in_batch;  // pg_key -> item
  for (std::size_t i = 0; i < b.items.size(); ++i) in_batch[b.items[i].pg_key] = i;
  std::map<std::string, std::string> batch_match;  // match key -> pg_key of the first row
  std::vector<std::pair<Write*, state::Link>> owned;
  for (auto& w : b.updates) batch_match.emplace(w.match_key, b.items[w.item].pg_key);
  for (auto& w : b.upserts) {
    if (w.dropped) continue;
    Item& it = b.items[w.item];
    auto [first, fresh] = batch_match.emplace(w.match_key, it.pg_key);
    if (!fresh) {
      w.dropped = true;
      dead_letter(b, it, link_conflict(it.pg_key, first->second, ""), props_json(w.props));
      continue;
    }
    auto owner = state_.find_link_by_match_key(m_.name, w.match_key);
    if (!owner.ok()) return std::move(owner).error();
    if (*owner && (*owner)->pg_key != it.pg_key) owned.emplace_back(&w, **owner);
  }
  if (owned.empty()) return {};
  // Is each owner still there? One in this batch has been read; read the rest.
  std::vector<model::RecordKey> keys;
  for (const auto& [w, link] : owned)
    if (!in_batch.count(link.pg_key))
      if (auto k = model::RecordKey::decode(link.pg_key, m_.key.size())) keys.push_back(*k);
  auto rows = db_.read_rows(m_, keys);
  if (!rows.ok()) return std::move(rows).error();
  for (auto& [w, link] : owned) {
    Item& it = b.items[w->item];
    auto ib = in_batch.find(link.pg_key);
    std::optional<Row> owner_row;
    if (ib != in_batch.end()) {
      owner_row = b.items[ib->second].row;
    } else if (auto r = rows->find(link.pg_key); r != rows->end()) {
      owner_row = r->second;
    }
    if (!row_gone(m_, owner_row)) {
      if (current_match_key(*owner_row) == w->match_key) {
        w->dropped = true;
        dead_letter(b, it, link_conflict(it.pg_key, link.pg_key, link.hubspot_id), props_json(w->props));
      } else if (ib == in_batch.end()) {
        // The owner moved to another match value it has not pushed yet:
        // wait until it has, or this row would write into its object.
        w->dropped = true;
        it.retry_later = true;
        it.retry_delay_ms = opt_.defer_ms;
        ++b.stats.deferred;
      }  // else: the owner's update (sent first) moves its object away
      continue;
    }
    if (ib != in_batch.end()) {
      // The owner's own deletion is in this batch: its object is not archived.
      auto& arch = b.archives;
      arch.erase(std::remove(arch.begin(), arch.end(), ib->second), arch.end());
      mark_unchanged(b.items[ib->second], b.stats, "its object moved to " + describe(it.pg_key));
    }
    if (auto st = take_over(b, *w, link); !st.ok()) return st;
  }
  // Rows that took an object over are updated by id like any linked row.
  for (auto& w : b.upserts)
    if (!w.dropped && !b.items[w.item].hubspot_id.empty()) {
      b.updates.push_back(std::move(w));
      w.dropped = true;
    }
  return {};
}

Status Pusher::take_over(Batch& b, Write& w, const state::Link& owner) {
  Item& it = b.items[w.item];
  auto base = state_.get_synced(m_.name, owner.pg_key);
  if (!base.ok()) return std::move(base).error();
  it.hubspot_id = owner.hubspot_id;
  it.base = std::move(*base);
  // The old row's link and base move to this row (removals commit first).
  b.removed.push_back(owner.pg_key);
  b.records.push_back({it.pg_key, owner.hubspot_id, it.base, w.match_key});
  ++b.stats.relinked;
  log_->info("relinked mapping={} key={} object={} from_key={}", m_.name, it.pg_key,
             owner.hubspot_id, owner.pg_key);
  choose_fields(b, w, &it.base);
  return {};
}

std::string Pusher::current_match_key(const Row& row) const {
  auto compare = m_.match_field()->compare_from_postgres(row.fields);
  return compare.ok() ? match_key_of(m_, *compare) : std::string();
}

model::Error Pusher::link_conflict(const std::string& pg_key, const std::string& other_key,
                                   const std::string& hubspot_id) const {
  auto e = model::make_error(
      ErrorKind::conflict,
      "the match value (" + m_.match_property + ") of " + describe(pg_key) +
          " is also that of " + describe(other_key) +
          (hubspot_id.empty() ? ", pushed in the same batch"
                              : ", which syncs to " + m_.object.path() + " " + hubspot_id) +
          (folds_match_case(m_) ? " (HubSpot compares emails without case)" : "") +
          ": two rows cannot sync to one HubSpot object; change or remove one of them");
  e.category = "LINK_CONFLICT";
  return e;
}

}  // namespace hubsync::pipeline
