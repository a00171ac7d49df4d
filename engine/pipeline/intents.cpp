// Write intents a crash left behind: rows whose HubSpot write may or may not
// have arrived before the process died, with no commit. HubSpot is asked
// (the objects, with their property history) which values arrived; those
// become the rows' base, and the rows are linked to the objects found. The
// rows' pending changes then push only what Postgres changed since — never
// the values again, which would overwrite a person's edit in HubSpot.
#include "engine/pipeline/intents.h"

#include "engine/pipeline/sync_helpers.h"

namespace hubsync::pipeline {

using model::Result;
using model::Status;

namespace {

// True when one of the field's properties was written at or after `since`:
// our value arrived, or someone wrote after it (theirs is newer and must not
// be overwritten either way).
bool written_since(const mapping::FieldMapping& f, const ReadOutcome& o, std::int64_t since) {
  for (const auto& p : f.properties) {
    auto h = o.history.find(p);
    if (h == o.history.end()) continue;
    for (const auto& v : h->second)
      if (v.timestamp_ms >= since) return true;
  }
  return false;
}

}  // namespace

namespace {

mapping::Properties props_of(const model::Record& r) {
  mapping::Properties out;
  for (const auto& [k, v] : r.fields) out[k] = v.canonical();
  return out;
}

// The objects the intents wrote to, in intent order (by id, or by match
// value for upserts), with `history` for those properties.
model::Result<std::vector<ReadOutcome>> read_intended(const mapping::Mapping& m, CrmPort& crm,
                                                      const std::vector<state::WriteIntent>& intents,
                                                      ReadRequest req) {
  std::vector<std::string> ids, values;
  for (const auto& in : intents) (in.hubspot_id.empty() ? values : ids).push_back(in.hubspot_id.empty() ? in.match_value : in.hubspot_id);
  auto by_id = crm.read_objects(m.object.path(), ids, req);
  if (!by_id.ok()) return std::move(by_id).error();
  req.id_property = m.match_property;
  auto by_match = crm.read_objects(m.object.path(), values, req);
  if (!by_match.ok()) return std::move(by_match).error();
  std::vector<ReadOutcome> out;
  std::size_t next_id = 0, next_match = 0;
  for (const auto& in : intents)
    out.push_back(std::move(in.hubspot_id.empty() ? (*by_match)[next_match++] : (*by_id)[next_id++]));
  return out;
}

}  // namespace

Status recover_write_intents(const mapping::Mapping& m, CrmPort& crm, state::StateStore& state,
                             std::int64_t now, std::int64_t clock_skew_ms, spdlog::logger& log) {
  auto intents = state.list_intents(m.name);
  if (!intents.ok()) return std::move(intents).error();
  if (intents->empty()) return {};
  ReadRequest req;
  for (const auto& f : m.fields)
    if (f.to_hubspot())
      for (const auto& p : f.properties) req.properties.push_back(p);
  // A field HubSpot holds as the intent wrote it arrived (or was written so
  // again): no history needed. Only the others ask HubSpot when it changed.
  auto current = read_intended(m, crm, *intents, req);
  if (!current.ok()) return std::move(current).error();
  std::vector<state::WriteIntent> unsure;
  std::vector<std::size_t> unsure_at;
  for (std::size_t i = 0; i < intents->size(); ++i) {
    const auto& o = (*current)[i];
    if (o.error) return *o.error;  // could not tell: try again next run
    if (!o.record) continue;
    const auto props = props_of(*o.record);
    for (const auto& [id, value] : (*intents)[i].fields) {
      const mapping::FieldMapping* f = m.field(id);
      auto hs = f ? f->compare_from_hubspot(props) : model::Result<std::string>(std::string());
      if (f && (!hs.ok() || *hs != value.value.value_or(""))) {
        unsure.push_back((*intents)[i]);
        unsure_at.push_back(i);
        break;
      }
    }
  }
  std::vector<ReadOutcome> history(intents->size());
  if (!unsure.empty()) {
    req.history = req.properties;
    auto read = read_intended(m, crm, unsure, req);
    if (!read.ok()) return std::move(read).error();
    for (std::size_t k = 0; k < unsure.size(); ++k) history[unsure_at[k]] = std::move((*read)[k]);
  }

  state::BatchCommit commit{m.name, {}, {}, {}};
  std::size_t adopted = 0;
  // The intent started on our clock; HubSpot's history is on its own.
  const auto offset = crm.clock_offset();
  const std::int64_t hs_correction = offset ? offset->correction_ms() : 0;
  for (std::size_t i = 0; i < intents->size(); ++i) {
    const auto& in = (*intents)[i];
    commit.intents_done.push_back(in.pg_key);
    const ReadOutcome& o = (*current)[i];
    if (!o.record || !o.merged_into.empty()) continue;  // nothing arrived, or the push follows the merge
    auto owner = state.find_link_by_hubspot_id(m.name, o.record->hubspot_id);
    if (!owner.ok()) return std::move(owner).error();
    if (*owner && (*owner)->pg_key != in.pg_key) continue;  // another row's object: the push decides
    state::SyncedRecord rec{in.pg_key, o.record->hubspot_id, {}, match_key_of(m, in.match_value)};
    const auto props = props_of(*o.record);
    for (const auto& [id, value] : in.fields) {
      const mapping::FieldMapping* f = m.field(id);
      if (!f) continue;
      auto hs = f->compare_from_hubspot(props);
      const bool same = hs.ok() && *hs == value.value.value_or("");
      if (!same && !written_since(*f, history[i], in.started_at_ms + hs_correction - clock_skew_ms)) continue;
      rec.fields[id] = state::SyncedField{value.value, value.side_changed_at_ms, now};
      ++adopted;
    }
    commit.records.push_back(std::move(rec));
  }
  if (auto st = state.commit_batch(commit); !st.ok()) return st;
  log.warn("recovered interrupted writes mapping={} rows={} linked={} fields_arrived={} history_reads={}",
           m.name, intents->size(), commit.records.size(), adopted, unsure.size());
  return {};
}

Status recover_postgres_intents(const mapping::Mapping& m, DatabasePort& db, state::StateStore& state,
                                std::int64_t now, spdlog::logger& log) {
  auto intents = state.list_postgres_intents(m.name);
  if (!intents.ok()) return std::move(intents).error();
  if (intents->empty()) return {};
  std::vector<model::RecordKey> keys;
  for (const auto& in : *intents)
    if (auto k = model::RecordKey::decode(in.pg_key, m.key.size())) keys.push_back(*k);
  auto rows = db.read_rows(m, keys);
  if (!rows.ok()) return std::move(rows).error();
  state::BatchCommit commit{m.name, {}, {}, {}, {}};
  std::size_t adopted = 0;
  for (const auto& in : *intents) {
    commit.postgres_intents_done.push_back(in.pg_key);
    auto row = rows->find(in.pg_key);
    if (row == rows->end()) continue;  // deleted since
    auto pg = m.compare_from_postgres(row->second.fields);
    if (!pg.ok()) continue;
    state::SyncedRecord rec{in.pg_key, "", {}};
    for (const auto& [id, value] : in.fields) {
      auto now_value = pg->find(id);
      if (now_value == pg->end() || now_value->second != value.value_or("")) continue;
      rec.fields[id] = state::SyncedField{value, now, now};
      ++adopted;
    }
    if (!rec.fields.empty()) commit.records.push_back(std::move(rec));
  }
  if (auto st = state.commit_batch(commit); !st.ok()) return st;
  log.info("interrupted pull settled mapping={} rows={} fields_adopted={}", m.name, intents->size(), adopted);
  return {};
}

}  // namespace hubsync::pipeline
