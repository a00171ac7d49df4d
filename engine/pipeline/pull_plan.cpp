// What each pulled object needs: which row it is (its link, a merge, a row
// with its match value, or a new row), and per field what the three-way
// merge decides.
#include "engine/pipeline/pull.h"
#include "engine/pipeline/pull_item.h"

#include <algorithm>

#include "engine/pipeline/sync_helpers.h"

namespace hubsync::pipeline {

using model::ErrorKind;
using model::Status;

namespace {

std::vector<std::string> split_ids(const std::string& s) {
  std::vector<std::string> out;
  for (const auto& part : model::split_list(s))
    if (!part.empty()) out.push_back(part);
  return out;
}

}  // namespace

// A survivor lists the ids it absorbed: their links move to it. When the
// survivor already had a row, the rows of absorbed ids lost their object and
// follow the delete rule. Otherwise one absorbed id's row becomes the
// survivor's: the one whose match value the survivor kept (HubSpot keeps the
// primary's), whatever the list's order says; a chain of merges seen at
// once lists the first merge's ids first, whichever was primary later.
Status Puller::follow_merges(Batch& b) {
  std::vector<std::string> orphans;
  std::map<std::string, std::string> lost_object;  // pg_key -> the absorbed id its link named
  for (auto& it : b.items) {
    auto merged = it.props.find("hs_merged_object_ids");
    if (merged == it.props.end() || merged->second.empty()) continue;
    const std::string kept = match_key_of(m_, it.props[m_.match_property]);
    std::vector<std::string> linked;
    for (const auto& id : split_ids(merged->second)) {
      auto link = state_.find_link_by_hubspot_id(m_.name, id);
      if (!link.ok()) return std::move(link).error();
      if (!*link || (*link)->hubspot_id != id) continue;
      if ((*link)->match_key == kept) linked.insert(linked.begin(), id);
      else linked.push_back(id);
      lost_object[(*link)->pg_key] = id;
    }
    if (linked.empty()) continue;
    auto moved = state_.repoint_merged(m_.name, linked, it.record.hubspot_id, b.now);
    if (!moved.ok()) return std::move(moved).error();
    for (const auto& key : moved->orphaned_pg_keys) orphans.push_back(key);
    log_->info("merge followed mapping={} survivor={} absorbed={} orphaned={}", m_.name,
               it.record.hubspot_id, linked.size(), moved->orphaned_pg_keys.size());
  }
  if (orphans.empty()) return {};
  return apply_deletes(b, orphans, "merged into another synced object in HubSpot", lost_object);
}

Status Puller::resolve_links(Batch& b) {
  for (auto& it : b.items) {
    auto link = state_.find_link_by_hubspot_id(m_.name, it.record.hubspot_id);
    if (!link.ok()) return std::move(link).error();
    if (!*link) continue;
    it.pg_key = (*link)->pg_key;
    it.linked = true;
  }
  return {};
}

// Objects with no link yet find their row by match value (a first run: the
// backfill links rows both sides already have). A row linked to another
// object cannot take a second one: the object is dead-lettered, naming it.
Status Puller::match_rows(Batch& b) {
  const auto* field = m_.match_field();
  std::vector<std::string> values;
  for (auto& it : b.items) {
    if (it.linked) continue;
    auto v = field->pull(it.props);
    if (!v.ok() || v->empty() || v->front().is_null()) {
      it.insert = true;
      continue;
    }
    values.push_back(match_key_of(m_, v->front().canonical()));
  }
  if (values.empty()) return match_recorded_ids(b);
  auto rows = db_.read_rows_by(m_, m_.match_column(), values, folds_match_case(m_));
  if (!rows.ok()) return std::move(rows).error();
  std::map<std::string, std::vector<Row*>> by_match;
  for (auto& r : *rows) {
    auto v = r.fields.find(m_.match_column());
    if (v != r.fields.end() && !v->second.is_null())
      by_match[match_key_of(m_, v->second.canonical())].push_back(&r);
  }
  for (auto& it : b.items) {
    if (it.linked || it.insert) continue;
    const std::string key = match_key_of(m_, field->pull(it.props)->front().canonical());
    auto found = by_match.find(key);
    if (found == by_match.end()) {
      it.insert = true;
      continue;
    }
    if (auto st = take_row(b, it, found->second, "match value (" + m_.match_property + ")"); !st.ok()) return st;
  }
  return match_recorded_ids(b);
}

// Whether the object `hubspot_id` is in this batch with a match value
// other than `row`'s: its row takes that value here, freeing this one.
bool Puller::moves_off(const Batch& b, const std::string& hubspot_id, const Row& row) const {
  const auto* field = m_.match_field();
  if (!field->to_postgres()) return false;  // the row keeps its value whatever the object holds
  auto held = row.fields.find(m_.match_column());
  if (held == row.fields.end() || held->second.is_null()) return false;
  for (const auto& other : b.items) {
    if (other.record.hubspot_id != hubspot_id) continue;
    auto v = field->pull(other.props);
    return v.ok() && !v->empty() && !v->front().is_null() &&
           match_key_of(m_, v->front().canonical()) != match_key_of(m_, held->second.canonical());
  }
  return false;
}

// The rows `found` for an unlinked object (by its match value, or by the
// id a row recorded): the one it syncs with, if it may.
Status Puller::take_row(Batch& b, Item& it, std::vector<Row*> found, const std::string& by) {
  auto alone = left_alone(b, it, found, by);
  if (!alone.ok()) return std::move(alone).error();
  if (*alone) return {};
  if (found.size() > 1) {
    std::string rows;
    for (const Row* r : found) rows += (rows.empty() ? "" : ", ") + describe_row(m_, r->key.encoded());
    auto e = model::make_error(ErrorKind::conflict, "several rows of " + m_.table.display() + " have the " + by +
                                                        " of " + m_.object.path() + " " + it.record.hubspot_id +
                                                        " (" + rows + "): make it unique, then retry the letter");
    e.category = "LINK_CONFLICT";
    it.insert = false;
    dead_letter(b, it, e);
    return {};
  }
  Row& row = *found.front();
  const std::string pg_key = row.key.encoded();
  auto owner = state_.find_link_by_pg_key(m_.name, pg_key);
  if (!owner.ok()) return std::move(owner).error();
  if (*owner && (*owner)->hubspot_id != it.record.hubspot_id && moves_off(b, (*owner)->hubspot_id, row)) {
    it.insert = true;  // the row follows its object to another value in this batch: this one gets a row
    return {};
  }
  if (*owner && (*owner)->hubspot_id != it.record.hubspot_id) {
    // retry_freed_rows; counted: this letter is counted in this call's stats
    claims_.push_back({it.record.hubspot_id, (*owner)->hubspot_id, !dead_lettered_.count(it.record.hubspot_id)});
    auto e = model::make_error(ErrorKind::conflict,
                               "the row with this " + by + ", key " + pg_key + ", already syncs " + m_.object.path() +
                                   " " + (*owner)->hubspot_id + ": two objects cannot sync to one row");
    e.category = "LINK_CONFLICT";
    it.insert = false;
    dead_letter(b, it, e);
    return {};
  }
  it.insert = false;
  it.pg_key = pg_key;
  it.restore = soft_deleted(m_, row);  // its own object, restored in HubSpot (left_alone)
  ++b.stats.linked;
  return {};
}

// Rows that take no part in the sync for this object are not its row: rows
// outside filter.postgres (the row syncs once it enters the filter), and a
// soft-deleted row unless it synced with this very object until a deletion
// removed their link, or records the object's id (a to_postgres field on
// hs_object_id: the state file may have been lost since): the object is
// being restored in HubSpot. A row deleted in Postgres, perhaps re-inserted
// since under the same match value, is never brought back by another
// object that holds it. An object only such rows match is left alone (a
// new row would duplicate the match value): true then. Errors: the state
// store.
model::Result<bool> Puller::left_alone(Batch& b, Item& it, std::vector<Row*>& found, const std::string& by) {
  const std::string id_column = m_.object_id_column();
  const auto records_it = [&](const Row& r) {
    auto v = id_column.empty() ? r.fields.end() : r.fields.find(id_column);
    return v != r.fields.end() && !v->second.is_null() && v->second.canonical() == it.record.hubspot_id;
  };
  std::string why = "outside filter.postgres";
  std::vector<Row*> theirs;
  for (Row* r : found) {
    if (!r->in_filter) continue;
    if (soft_deleted(m_, *r) && !records_it(*r)) {
      auto departed = state_.departed_from(m_.name, r->key.encoded(), it.record.hubspot_id);
      if (!departed.ok()) return std::move(departed).error();
      if (!*departed) {
        why = "soft-deleted (" + m_.soft_delete_column + ")";
        continue;
      }
    }
    theirs.push_back(r);
  }
  found = std::move(theirs);
  if (!found.empty()) return false;
  log_->info("pull left an object alone mapping={} object={}: the row with its {} is {}", m_.name,
             it.record.hubspot_id, by, why);
  it.insert = false;
  it.done = true;
  b.settled.push_back(it.record.hubspot_id);  // a letter of its own (a retry) has nothing left to do
  ++b.stats.filtered;
  return true;
}

// Objects no row has the match value of, when rows hold their object's id
// (a to_postgres field on hs_object_id) that no link accounts for: the
// state file was lost or replaced, or the mapping renamed, and a row's match
// value may have changed since. Such a row is the object's row, not a new
// one (which would duplicate it, and the push would then make a second
// object for the row). Asked only until the mapping's first full sweep is
// done (which such a loss starts again), and only while the table holds
// more recorded ids than the mapping has links: a first backfill costs no
// lookup, and a live pull no count.
Status Puller::match_recorded_ids(Batch& b) {
  const std::string column = m_.object_id_column();
  if (column.empty()) return {};
  // An object's own id, and those it absorbed in a merge since (a row may
  // keep one of them).
  const auto ids_of = [](const Item& it) {
    std::vector<std::string> out{it.record.hubspot_id};
    if (auto merged = it.props.find("hs_merged_object_ids"); merged != it.props.end())
      for (auto& id : split_ids(merged->second)) out.push_back(std::move(id));
    return out;
  };
  std::vector<std::string> ids;
  for (const auto& it : b.items)
    if (it.insert && !it.done)
      for (auto& id : ids_of(it)) ids.push_back(std::move(id));
  if (ids.empty()) return {};
  if (!recorded_ids_unlinked_) {
    auto swept = state_.get_checkpoint(m_.name, kArchivedCheckpoint);
    if (!swept.ok()) return std::move(swept).error();
    if (*swept) {
      recorded_ids_unlinked_ = false;
      return {};
    }
    auto recorded = db_.count_rows_holding(m_, column);
    if (!recorded.ok()) return std::move(recorded).error();
    auto links = state_.count_links(m_.name);
    if (!links.ok()) return std::move(links).error();
    recorded_ids_unlinked_ = *recorded > static_cast<std::int64_t>(*links);
  }
  if (!*recorded_ids_unlinked_) return {};
  auto rows = db_.read_rows_by(m_, column, ids, false);
  if (!rows.ok()) return std::move(rows).error();
  std::map<std::string, std::vector<Row*>> by_id;
  for (auto& r : *rows)
    if (auto v = r.fields.find(column); v != r.fields.end() && !v->second.is_null())
      by_id[v->second.canonical()].push_back(&r);
  for (auto& it : b.items) {
    if (!it.insert || it.done) continue;
    std::vector<Row*> found;
    for (const auto& id : ids_of(it))
      if (auto f = by_id.find(id); f != by_id.end())
        for (Row* r : f->second)
          if (std::find(found.begin(), found.end(), r) == found.end()) found.push_back(r);
    if (found.empty()) continue;
    log_->info("pull found a row by the object id it recorded mapping={} object={} column={}", m_.name,
               it.record.hubspot_id, column);
    if (auto st = take_row(b, it, std::move(found), "recorded object id (" + column + ")"); !st.ok()) return st;
  }
  return {};
}

Status Puller::read_rows(Batch& b) {
  std::vector<model::RecordKey> keys;
  for (auto& it : b.items)
    if (!it.done && !it.pg_key.empty())
      if (auto k = model::RecordKey::decode(it.pg_key, m_.key.size())) keys.push_back(*k);
  auto rows = db_.read_rows(m_, keys);
  if (!rows.ok()) return std::move(rows).error();
  auto pending = db_.pending_change_times(m_, keys);
  if (!pending.ok()) return std::move(pending).error();
  std::vector<std::string> pg_keys;
  for (auto& it : b.items) {
    if (it.done || it.pg_key.empty()) continue;
    pg_keys.push_back(it.pg_key);
    if (auto p = pending->find(it.pg_key); p != pending->end()) it.pg_times = p->second;
    auto r = rows->find(it.pg_key);
    if (r == rows->end() || r->second.error ||
        (it.linked && (soft_deleted(m_, r->second) || !r->second.in_filter))) {
      // Gone, unreadable or out of the sync on the Postgres side: the push
      // archives it (or dead-letters the unreadable row); nothing to pull.
      it.done = true;
      ++b.stats.unchanged;
      continue;
    }
    it.row = std::move(r->second);
  }
  auto synced = state_.get_synced_many(m_.name, pg_keys);
  if (!synced.ok()) return std::move(synced).error();
  for (auto& it : b.items)
    if (it.linked)
      if (auto s = synced->find(it.pg_key); s != synced->end()) it.base = s->second;
  return {};
}

// The merge of every field. `newest` conflicts ask for HubSpot's property
// times (read_hubspot_times), then decide again.
Status Puller::plan_fields(Batch& b) {
  for (auto& it : b.items) {
    if (it.done) continue;
    auto hs = m_.compare_from_hubspot(it.props);
    if (!hs.ok()) {
      dead_letter(b, it, hs.error());
      continue;
    }
    it.hs_compare = std::move(*hs);
    if (it.row) {
      auto pg = m_.compare_from_postgres(it.row->fields);
      if (!pg.ok()) {
        dead_letter(b, it, pg.error());
        continue;
      }
      it.pg_compare = std::move(*pg);
    }
    for (const auto& f : m_.fields) {
      reconcile::FieldState fs;
      take_base(fs, it.base, f.id);
      fs.pg = it.row ? it.pg_compare[f.id] : std::string();  // a new row has nothing yet
      fs.hs = it.hs_compare[f.id];
      fs.pg_changed_at_ms = it.pg_times.of(f.columns);
      if (auto t = it.hs_times.find(f.id); t != it.hs_times.end()) fs.hs_changed_at_ms = t->second;
      clocks_.align(fs);
      it.decisions[f.id] = reconcile::decide(fs, f.direction, f.conflict);
    }
  }
  return {};
}

Status Puller::read_hubspot_times(Batch& b) {
  std::vector<Item*> asking;
  std::vector<std::string> ids, history;
  for (auto& it : b.items) {
    if (it.done) continue;
    bool asks = false;
    for (const auto& [id, d] : it.decisions)
      if (d.needs_hubspot_time) {
        asks = true;
        for (const auto& p : m_.field(id)->properties)
          if (std::find(history.begin(), history.end(), p) == history.end()) history.push_back(p);
      }
    if (!asks) continue;
    asking.push_back(&it);
    ids.push_back(it.record.hubspot_id);
  }
  if (asking.empty()) return {};
  ReadRequest req;
  req.properties = history;
  req.history = history;
  auto read = crm_.read_objects(m_.object.path(), ids, req);
  if (!read.ok()) return std::move(read).error();
  for (std::size_t i = 0; i < asking.size(); ++i) {
    asking[i]->hs_times = field_times(m_, (*read)[i]);
  }
  return plan_fields(b);
}

// Search lags writes: an object can come back from it as it was before a
// newer edit, or before the values hubsync agreed on last (its own write,
// or a newer edit it already pulled). Such a version must never be taken
// for HubSpot's state: "unchanged" would let Postgres overwrite the newer
// edit, "changed" would put old values back in Postgres. Objects about to
// be written in HubSpot, and objects about to write Postgres whose version
// is not newer than their last agreement, are read again (one batch read
// per 100) and decided with what HubSpot holds now. A genuine edit made
// after the agreement costs no read.
bool Puller::may_be_stale(const Item& it) const {
  bool to_hubspot = false, to_postgres = false;
  for (const auto& [id, d] : it.decisions) {
    to_hubspot |= opt_.write_hubspot && d.action == reconcile::Action::write_hubspot;
    to_postgres |= d.action == reconcile::Action::write_postgres;
  }
  if (to_hubspot) return true;
  if (!to_postgres || it.base.empty()) return false;
  std::int64_t agreed = 0;
  for (const auto& [id, f] : it.base) agreed = std::max(agreed, f.synced_at_ms);
  // `agreed` is on our clock, the version's time on HubSpot's.
  return it.record.changed_at_ms == 0 || clocks_.from_hubspot(it.record.changed_at_ms) <= agreed + opt_.clock_skew_ms;
}

Status Puller::reread_before_writing(Batch& b) {
  std::vector<Item*> writing;
  std::vector<std::string> ids;
  for (auto& it : b.items) {
    if (it.done || it.record.hubspot_id.empty() || !may_be_stale(it)) continue;
    writing.push_back(&it);
    ids.push_back(it.record.hubspot_id);
  }
  if (writing.empty()) return {};
  auto read = crm_.read(m_.object.path(), ids, properties_of(m_));
  if (!read.ok()) return std::move(read).error();
  for (std::size_t k = 0; k < writing.size(); ++k) {
    Item& it = *writing[k];
    auto& r = (*read)[k];
    if (r.error || !r.record || !r.merged_into.empty()) {
      // Failing, gone or merged since the search: this object comes back
      // on the dead-letter schedule (the archived listing and merges are
      // followed meanwhile); Postgres's change stays in the changelog.
      dead_letter(b, it, r.error ? *r.error
                                 : model::make_error(model::ErrorKind::transient,
                                                     "object " + it.record.hubspot_id + " changed while it was pulled"));
      continue;
    }
    it.props = props_of(r.record->fields);
    it.record.fields = std::move(r.record->fields);
    if (!m_.pull_filter_accepts(it.props)) {  // left filter.hubspot since the search
      it.done = true;
      ++b.stats.filtered;
    }
  }
  return plan_fields(b);
}

// Turns the decisions into writes on each side and the new base.
void Puller::plan_item(Batch& b, Item& it) {
  if (it.done) return;
  model::Fields written;
  if (it.row) written = it.row->fields;
  else
    for (const auto& c : m_.postgres_columns()) written[c] = model::Value::null();  // a new row
  auto pg_props = it.row ? m_.to_hubspot(it.row->fields) : mapping::Properties{};
  for (const auto& f : m_.fields) {
    const auto& d = it.decisions[f.id];
    // Not written to HubSpot this time: the push decides (and records) it.
    if (d.action == reconcile::Action::write_hubspot && !opt_.write_hubspot) continue;
    if (d.conflict && !d.needs_hubspot_time) {
      std::optional<std::string> base;
      if (auto bf = it.base.find(f.id); bf != it.base.end()) base = bf->second.value;
      it.conflicts.push_back(conflict_of(m_.name, it.pg_key, it.record.hubspot_id, f.id, it.pg_compare[f.id], it.hs_compare[f.id], base, d, b.now));
      ++b.stats.conflicts;
    }
    if (d.action == reconcile::Action::write_postgres) {
      auto values = f.pull(it.props);
      if (!values.ok()) return dead_letter(b, it, values.error());
      for (std::size_t i = 0; i < f.columns.size(); ++i) {
        it.pg_values[f.columns[i]] = (*values)[i];
        written[f.columns[i]] = (*values)[i];
      }
    } else if (d.action == reconcile::Action::write_hubspot && !it.record.hubspot_id.empty()) {
      if (!pg_props.ok()) return dead_letter(b, it, pg_props.error());
      for (const auto& p : f.properties) it.hs_props[p] = (*pg_props)[p];
      it.hs_fields.push_back(f.id);
    }
  }
  if (it.restore) written[m_.soft_delete_column] = it.pg_values[m_.soft_delete_column] =
                      it.row->fields.at(m_.soft_delete_column).type() == model::ValueType::boolean
                          ? model::Value::boolean(false)
                          : model::Value::null();
  if (it.row) it.row->fields = std::move(written);
  else it.row = Row{{}, std::move(written), true, {}, {}, {}};
}

namespace {

// A to_postgres letter for `it`, retried on the store's schedule (1 min,
// doubling): the object is pulled again then.
state::DeadLetter letter(const std::string& mapping, const std::string& pg_key, const std::string& hubspot_id,
                         const model::Error& e, std::int64_t now) {
  state::DeadLetter dl;
  dl.mapping = mapping;
  dl.direction = state::Direction::to_postgres;
  dl.pg_key = pg_key;
  dl.hubspot_id = hubspot_id;
  dl.payload_json = "{}";
  dl.error_kind = e.kind;
  dl.http_status = e.http_status;
  dl.category = e.category;
  dl.message = e.message;
  dl.first_failed_at_ms = dl.last_failed_at_ms = now;
  dl.next_retry_at_ms = now;
  return dl;
}

}  // namespace

void Puller::dead_letter(Batch& b, Item& it, const model::Error& e) {
  it.done = true;
  // A deletion's item has no object id: its row's key names it.
  const std::string who = it.record.hubspot_id.empty() ? "row " + it.pg_key : it.record.hubspot_id;
  if (dead_lettered_.insert(who).second) ++b.stats.dead_lettered;
  log_->warn("dead-lettered mapping={} direction=to_postgres object={} key={} kind={} category={} code={}",
             m_.name, it.record.hubspot_id, it.pg_key, model::to_string(e.kind), e.category, e.code);
  b.dead.push_back(letter(m_.name, it.pg_key, it.record.hubspot_id, e, b.now));
}

void Puller::write_refused(Batch& b, Item& it, const model::Error& e) {
  if (e.category != "ROW_CHANGED") return dead_letter(b, it, e);
  it.done = true;
  ++b.stats.changed_meanwhile;
  log_->info("row changed meanwhile mapping={} object={} key={}: another writer changed it after the pull "
             "read it; not overwritten, merged again at its retry",
             m_.name, it.record.hubspot_id, it.pg_key);
  b.dead.push_back(letter(m_.name, it.pg_key, it.record.hubspot_id, e, b.now));
}

// The object's fields are in; one foreign key waits for a parent that has no
// row yet. A to_postgres letter brings the object back on the dead-letter
// schedule, as push's waiting rows do, and names the parent; the pull that
// finds the parent resolves it.
void Puller::wait_for_parent(Batch& b, Item& it) {
  auto e = model::make_error(model::ErrorKind::transient,
                             "its association to " + it.waits_for + " waits: that object has no row in Postgres yet");
  e.category = "PARENT_NOT_SYNCED";
  ++b.stats.deferred;
  log_->info("waiting for a parent mapping={} object={} parent=\"{}\"", m_.name, it.record.hubspot_id, it.waits_for);
  b.dead.push_back(letter(m_.name, it.pg_key, it.record.hubspot_id, e, b.now));
}

}  // namespace hubsync::pipeline
