// HubSpot's values before a push overwrites them. The pull sees HubSpot's
// edits through search, which lags writes (and a webhook may still be on
// its way), so an edit made moments before a push can be unknown to the
// base. For the fields where that could change the answer — two-way fields
// whose rule can let HubSpot win — the push reads the objects first (one
// batch read per 100 rows: linked ones by id, new rows by match value, as
// an object may have been made in HubSpot since the last pull; `newest`
// conflicts read the properties' times too) and the merge decides with
// HubSpot's value. A field HubSpot wins is
// not sent: the pull applies it to Postgres and records the conflict when
// it meets the edit. A field Postgres wins is sent and its conflict recorded
// here. Fields whose rule is `postgres`, and one-way fields, cost no read.
#include "engine/pipeline/push.h"
#include "engine/pipeline/push_item.h"

#include <algorithm>

#include "engine/pipeline/sync_helpers.h"
#include "engine/reconcile/merge.h"

namespace hubsync::pipeline {

using model::Status;

bool Pusher::may_lose(const mapping::FieldMapping& f) const {
  return f.direction == mapping::Direction::both && f.conflict != mapping::ConflictPolicy::postgres;
}

namespace {

// The properties of `fields` (field ids) of `m`, each once.
void add_properties(const mapping::Mapping& m, const std::vector<std::string>& fields,
                    std::vector<std::string>& out) {
  for (const auto& id : fields)
    for (const auto& p : m.field(id)->properties)
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
}

}  // namespace

Status Pusher::check_hubspot(Batch& b) {
  std::vector<Checked> checked;
  // Linked rows, by id. A row with no base yet sends no empty value, so a
  // first link cannot clear anything; it is checked as an upsert would be,
  // and one found by the id it kept is read by that id.
  std::vector<Write*> linked, unlinked;
  for (auto& w : b.updates)
    if (!w.dropped && (!b.items[w.item].base.empty() || w.by_recorded_id)) linked.push_back(&w);
  // Rows not linked yet whose match value may already name an object (made
  // in HubSpot since the last pull, or before a backfill that has not run):
  // read by match value. Not in an initial load that follows the backfill,
  // which linked every object it met.
  for (auto& w : b.upserts)
    if (!w.dropped && !loading_after_backfill_) unlinked.push_back(&w);
  if (auto st = read_checked(b, linked, "", checked); !st.ok()) return st;
  if (auto st = read_checked(b, unlinked, m_.match_property, checked); !st.ok()) return st;

  std::vector<Checked*> timing;  // `newest` conflicts: the properties' times wanted
  std::vector<std::string> timing_ids, history;
  for (auto& c : checked) {
    decide_checked(b, *c.write, c.object_id, c.write->sent_fields, c.hs, {});
    if (c.write->needs_time.empty()) continue;
    add_properties(m_, c.write->needs_time, history);
    timing.push_back(&c);
    timing_ids.push_back(c.object_id);
  }
  if (timing.empty()) return {};
  ReadRequest req;
  req.properties = history;
  req.history = history;
  auto times = crm_.read_objects(m_.object.path(), timing_ids, req);
  if (!times.ok()) return std::move(times).error();
  for (std::size_t k = 0; k < timing.size(); ++k) {
    Checked& c = *timing[k];
    decide_checked(b, *c.write, c.object_id, c.write->needs_time, c.hs, field_times(m_, (*times)[k]));
  }
  return {};
}

// Reads the objects of `writes` that send a field HubSpot could win, by
// HubSpot id (`id_property` empty) or by match value, into `out`. A read
// that fails releases its row for a later try; an object that is not there
// (deleted, merged away, not made yet) has nothing to lose.
Status Pusher::read_checked(Batch& b, const std::vector<Write*>& writes, const std::string& id_property,
                            std::vector<Checked>& out) {
  std::vector<Write*> asking;
  std::vector<std::string> ids, properties;
  for (Write* w : writes) {
    std::vector<std::string> asked;
    for (const auto& id : w->sent_fields)
      if (may_lose(*m_.field(id))) asked.push_back(id);
    if (asked.empty()) continue;
    add_properties(m_, asked, properties);
    asking.push_back(w);
    ids.push_back(id_property.empty() ? b.items[w->item].hubspot_id : w->match_value);
  }
  return read_each(b, asking, ids, ReadRequest{properties, {}, id_property, false},
                   [&](Write& w, const ReadOutcome& o) {
                     // An object merged away has nothing of its own to lose.
                     if (o.merged_into.empty()) out.push_back(Checked{&w, o.record->hubspot_id, props_of(o.record->fields)});
                   });
}

Status Pusher::read_each(Batch& b, const std::vector<Write*>& writes, const std::vector<std::string>& ids,
                         const ReadRequest& req, const std::function<void(Write&, const ReadOutcome&)>& found) {
  if (writes.empty()) return {};
  auto read = crm_.read_objects(m_.object.path(), ids, req);
  if (!read.ok()) return std::move(read).error();
  for (std::size_t k = 0; k < writes.size(); ++k) {
    const auto& r = (*read)[k];
    if (r.error) {
      handle_failure(b, *writes[k], WriteOutcome{"", false, r.error, ""});
      writes[k]->dropped = true;
    } else if (r.record) {
      found(*writes[k], r);
    }
  }
  return {};
}

// Decides again the fields `only` of `w` with HubSpot's values `hs` (and,
// once read, the fields' times): a field HubSpot wins is taken out of the
// write; a conflict Postgres wins is recorded. A field still waiting for its
// time is left in `w.needs_time`.
void Pusher::decide_checked(Batch& b, Write& w, const std::string& object_id, std::vector<std::string> only,
                            const std::map<std::string, std::string>& hs,
                            const std::map<std::string, std::int64_t>& hs_times) {
  Item& it = b.items[w.item];
  w.needs_time.clear();
  std::vector<std::string> kept;
  for (const auto& id : w.sent_fields) {
    const auto& f = *m_.field(id);
    auto hs_value = f.compare_from_hubspot(hs);
    if (std::find(only.begin(), only.end(), id) == only.end() || !may_lose(f) || !hs_value.ok()) {
      kept.push_back(id);
      continue;
    }
    reconcile::FieldState fs;
    take_base(fs, it.base, id);
    fs.pg = w.compare[id];
    fs.hs = *hs_value;
    fs.pg_changed_at_ms = it.times.of(f.columns);
    if (auto t = hs_times.find(id); t != hs_times.end()) fs.hs_changed_at_ms = t->second;
    clocks_.align(fs);
    auto d = reconcile::decide(fs, f.direction, f.conflict);
    if (d.needs_hubspot_time) {
      w.needs_time.push_back(id);
      kept.push_back(id);  // decided once the time is read
    } else if (d.action == reconcile::Action::write_hubspot || d.action == reconcile::Action::adopt) {
      kept.push_back(id);
      if (d.conflict) {
        b.conflicts.push_back(conflict_of(m_.name, it.pg_key, object_id, id, fs.pg.value_or(""),
                                          *hs_value, fs.base, d, b.now));
        ++b.stats.conflicts;
      }
    } else {
      for (const auto& p : f.properties) w.props.erase(p);
      ++b.stats.left_to_pull;
      log_->info("not sent mapping={} key={} object={} field={}: changed in HubSpot too and the rule ({}) lets "
                 "HubSpot win; the pull applies it",
                 m_.name, it.pg_key, object_id, id, mapping::to_string(d.rule));
    }
  }
  w.sent_fields = std::move(kept);
  if (it.hubspot_id.empty()) w.props[m_.match_property] = w.match_value;  // an upsert finds its object by it
}

// An object the batch archives may hold edits made in HubSpot since the
// base (a person fixed a phone number while the row was being deleted).
// The deletion wins, but what it discards is recorded: read the objects of
// rows with a base, and compare each field that pulls with it.
model::Result<std::vector<std::vector<state::ConflictRecord>>> Pusher::edits_lost_in_hubspot(const Batch& b) {
  std::vector<std::vector<state::ConflictRecord>> out(b.archives.size());
  std::vector<std::string> properties, ids;
  for (const auto& f : m_.fields)
    if (mapping::writes_postgres(f.direction)) add_properties(m_, {f.id}, properties);
  std::vector<std::size_t> asked;  // positions in b.archives
  for (std::size_t k = 0; k < b.archives.size() && !properties.empty(); ++k)
    if (!b.items[b.archives[k]].base.empty()) {
      asked.push_back(k);
      ids.push_back(b.items[b.archives[k]].hubspot_id);
    }
  if (asked.empty()) return out;
  auto read = crm_.read_objects(m_.object.path(), ids, ReadRequest{properties, {}, "", false});
  if (!read.ok()) return std::move(read).error();
  for (std::size_t n = 0; n < asked.size(); ++n) {
    const auto& r = (*read)[n];
    if (r.error || !r.record || !r.merged_into.empty()) continue;  // nothing there to lose
    auto hs = m_.compare_from_hubspot(props_of(r.record->fields));
    if (!hs.ok()) continue;
    const Item& it = b.items[b.archives[asked[n]]];
    out[asked[n]] = edits_lost_to_deletion(m_, it.pg_key, it.hubspot_id, it.base, *hs,
                                           /*postgres_kept=*/false, b.now);
  }
  return out;
}

}  // namespace hubsync::pipeline
