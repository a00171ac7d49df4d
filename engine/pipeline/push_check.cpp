// HubSpot's values before a push overwrites them. The pull sees HubSpot's
// edits through search, which lags writes (and a webhook may still be on
// its way), so an edit made moments before a push can be unknown to the
// base. For the fields where that could change the answer — two-way fields
// whose rule can let HubSpot win — the push reads the objects first (one
// batch read per 100 rows; `newest` conflicts read the properties' times
// too) and the merge decides with HubSpot's value. A field HubSpot wins is
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
  std::vector<Write*> checking;
  std::vector<std::string> ids, properties;
  for (auto& w : b.updates) {
    if (w.dropped || b.items[w.item].base.empty()) continue;  // a first link never clears: nothing to lose
    std::vector<std::string> asked;
    for (const auto& id : w.sent_fields)
      if (may_lose(*m_.field(id))) asked.push_back(id);
    if (asked.empty()) continue;
    add_properties(m_, asked, properties);
    checking.push_back(&w);
    ids.push_back(b.items[w.item].hubspot_id);
  }
  if (checking.empty()) return {};
  auto read = crm_.read(m_.object.path(), ids, properties);
  if (!read.ok()) return std::move(read).error();

  std::vector<std::pair<Write*, mapping::Properties>> timing;  // `newest` conflicts: times wanted
  std::vector<std::string> timing_ids, history;
  for (std::size_t k = 0; k < checking.size(); ++k) {
    Write& w = *checking[k];
    const auto& r = (*read)[k];
    if (r.error) {
      handle_failure(b, w, WriteOutcome{"", false, r.error, ""});
      w.dropped = true;
      continue;
    }
    // Gone or merged away: the update's 404 follows it (send_updates).
    if (!r.record || !r.merged_into.empty()) continue;
    mapping::Properties hs;
    for (const auto& [p, v] : r.record->fields) hs[p] = v.canonical();
    decide_checked(b, w, w.sent_fields, hs, {});
    if (w.needs_time.empty()) continue;
    add_properties(m_, w.needs_time, history);
    timing.emplace_back(&w, std::move(hs));
    timing_ids.push_back(b.items[w.item].hubspot_id);
  }
  if (timing.empty()) return {};
  ReadRequest req;
  req.properties = history;
  req.history = history;
  auto times = crm_.read_objects(m_.object.path(), timing_ids, req);
  if (!times.ok()) return std::move(times).error();
  for (std::size_t k = 0; k < timing.size(); ++k) {
    auto& [w, hs] = timing[k];
    decide_checked(b, *w, w->needs_time, hs, field_times(m_, (*times)[k]));
  }
  return {};
}

// Decides again the fields `only` of `w` with HubSpot's values `hs` (and,
// once read, the fields' times): a field HubSpot wins is taken out of the
// write; a conflict Postgres wins is recorded. A field still waiting for its
// time is left in `w.needs_time`.
void Pusher::decide_checked(Batch& b, Write& w, std::vector<std::string> only,
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
    if (auto bf = it.base.find(id); bf != it.base.end()) {
      fs.base = bf->second.value.value_or("");
      fs.base_hs = bf->second.hs_value;
    }
    fs.pg = w.compare[id];
    fs.hs = *hs_value;
    fs.pg_changed_at_ms = it.changed_at_ms;
    if (auto t = hs_times.find(id); t != hs_times.end()) fs.hs_changed_at_ms = t->second;
    auto d = reconcile::decide(fs, f.direction, f.conflict);
    if (d.needs_hubspot_time) {
      w.needs_time.push_back(id);
      kept.push_back(id);  // decided once the time is read
    } else if (d.action == reconcile::Action::write_hubspot || d.action == reconcile::Action::adopt) {
      kept.push_back(id);
      if (d.conflict) {
        b.conflicts.push_back(conflict_of(m_.name, it.pg_key, it.hubspot_id, id, fs.pg.value_or(""),
                                          *hs_value, fs.base, d, b.now));
        ++b.stats.conflicts;
      }
    } else {
      for (const auto& p : f.properties) w.props.erase(p);
      ++b.stats.left_to_pull;
      log_->info("not sent mapping={} key={} object={} field={}: changed in HubSpot too and the rule ({}) lets "
                 "HubSpot win; the pull applies it",
                 m_.name, it.pg_key, it.hubspot_id, id, mapping::to_string(d.rule));
    }
  }
  w.sent_fields = std::move(kept);
}

}  // namespace hubsync::pipeline
