#pragma once

// Internal to the push and pull pipelines: how match values are compared,
// and how properties are shown in dead letters.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/mapping/mapping.h"
#include "engine/pipeline/crm_port.h"
#include "engine/pipeline/database_port.h"
#include "engine/reconcile/merge.h"
#include "engine/state/state_store.h"

namespace hubsync::pipeline {

/// The pull's checkpoint of the archived listing: set once a sweep has
/// completed (the first time: the backfill).
inline constexpr const char* kArchivedCheckpoint = "archived";
/// The push's initial load: "done", or "after:<key>" to resume it.
inline constexpr const char* kInitialLoad = "initial_load";
/// The pull sweep's windows (none: the next sweep reads every object).
inline constexpr const char* kSweepCheckpoint = "sweep";

/// Whether `row` is soft-deleted under `m` (deletes: soft): its column is
/// true (a boolean) or set (a timestamp or any other type).
inline bool soft_deleted(const mapping::Mapping& m, const Row& row) {
  if (m.deletes != mapping::DeletePolicy::soft || m.soft_delete_column.empty()) return false;
  auto f = row.fields.find(m.soft_delete_column);
  if (f == row.fields.end() || f->second.is_null()) return false;
  return f->second.type() != model::ValueType::boolean || f->second.as_boolean();
}

/// Whether the row is no longer one the mapping syncs, so its object would
/// be archived: deleted (nullopt), soft-deleted, or outside the filter
/// (unless `filter.leaving: keep`). An unreadable row is not gone.
inline bool row_gone(const mapping::Mapping& m, const std::optional<Row>& row) {
  return !row || soft_deleted(m, *row) || (!row->error && !row->in_filter && !m.keep_leaving);
}

/// A row as an operator reads it: "id=42", or "(a, b)=(1, x)" for a
/// composite key ("key <pg_key>" when it cannot be decoded).
inline std::string describe_row(const mapping::Mapping& m, const std::string& pg_key) {
  auto key = model::RecordKey::decode(pg_key, m.key.size());
  if (!key || m.key.size() != key->parts.size()) return "key " + pg_key;
  if (m.key.size() == 1) return m.key[0] + "=" + key->parts[0];
  std::string cols, vals;
  for (std::size_t i = 0; i < m.key.size(); ++i) {
    cols += (i ? ", " : "") + m.key[i];
    vals += (i ? ", " : "") + key->parts[i];
  }
  return "(" + cols + ")=(" + vals + ")";
}

/// The base's field name of an association's foreign-key column.
inline std::string assoc_field(const std::string& column) { return "assoc:" + column; }

/// True when the mapping's match values are emails, which HubSpot compares
/// in mapping::email_form (contacts' email: stored lower-cased, without the
/// whitespace around it), so `A@x`, ` a@x ` and `a@x` name one object.
inline bool folds_match_case(const mapping::Mapping& m) {
  return m.match_property == "email" && m.object.path() == "contacts";
}

/// The match value as HubSpot tells values apart: two rows with equal keys
/// map to one object. Emails in mapping::email_form (no whitespace around,
/// ASCII case folded, like SQLite's lower() used to backfill older links).
inline std::string match_key_of(const mapping::Mapping& m, std::string value) {
  return folds_match_case(m) ? mapping::email_form(value) : value;
}

/// The record of a conflict `d` decided on `field` of the row `pg_key` and
/// the object `hubspot_id`: both values, the base, the winner and the rule
/// (`rule_note`, when given, says more). Push and pull record alike.
inline state::ConflictRecord conflict_of(const std::string& mapping, const std::string& pg_key,
                                         const std::string& hubspot_id, const std::string& field,
                                         const std::string& pg, const std::string& hs,
                                         const std::optional<std::string>& base, const reconcile::Decision& d,
                                         std::int64_t now, const std::string& rule_note = "") {
  state::ConflictRecord c;
  c.mapping = mapping;
  c.pg_key = pg_key;
  c.hubspot_id = hubspot_id;
  c.field = field;
  c.pg_value = pg;
  c.hs_value = hs;
  c.base_value = base;
  c.winner = d.action == reconcile::Action::write_postgres ? state::Side::hubspot : state::Side::postgres;
  c.rule = mapping::to_string(d.rule) + rule_note;
  c.decided_at_ms = now;
  return c;
}

/// Sets fs's base from `base`'s entry for `field` (none: a first link): the
/// agreed value, HubSpot's form of it, and whether the field's source wins
/// its next merge (resync --overwrite).
inline void take_base(reconcile::FieldState& fs, const state::SyncedFields& base, const std::string& field) {
  auto b = base.find(field);
  if (b == base.end()) return;
  fs.base = b->second.value.value_or("");
  fs.base_hs = b->second.hs_value;
  fs.source_wins = b->second.source_wins;
}

/// The edits a deletion discards: the record `pg_key` / `hubspot_id` was
/// deleted on one side while the other kept it with `kept` (field id ->
/// comparison value; Postgres's when `postgres_kept`, else HubSpot's). One
/// record per field changed there since `base` that its direction would
/// have carried across (reconcile::edit_lost_to_deletion): the kept value,
/// none for the deleting side, the base, the deleting side as winner, rule
/// `deletion`. Push and pull record alike.
inline std::vector<state::ConflictRecord> edits_lost_to_deletion(
    const mapping::Mapping& m, const std::string& pg_key, const std::string& hubspot_id,
    const state::SyncedFields& base, const std::map<std::string, std::string>& kept, bool postgres_kept,
    std::int64_t now) {
  std::vector<state::ConflictRecord> out;
  for (const auto& f : m.fields) {
    auto b = base.find(f.id);
    auto k = kept.find(f.id);
    // A record synced keeps no base for a field both sides held empty:
    // what they agreed on is "", and a value since is an edit.
    if (k == kept.end() || (b == base.end() && base.empty())) continue;
    if (b != base.end() && b->second.source_wins) continue;  // no agreement to have edited since
    reconcile::FieldState fs;
    fs.base = b == base.end() ? std::string() : b->second.value.value_or("");
    if (b != base.end()) fs.base_hs = b->second.hs_value;
    (postgres_kept ? fs.pg : fs.hs) = k->second;
    if (!reconcile::edit_lost_to_deletion(fs, f.direction)) continue;
    state::ConflictRecord c;
    c.mapping = m.name;
    c.pg_key = pg_key;
    c.hubspot_id = hubspot_id;
    c.field = f.id;
    c.pg_value = fs.pg;
    c.hs_value = fs.hs;
    c.base_value = fs.base;
    c.winner = postgres_kept ? state::Side::hubspot : state::Side::postgres;
    c.rule = "deletion";
    c.decided_at_ms = now;
    out.push_back(std::move(c));
  }
  return out;
}

/// Each field's time in HubSpot from a read with property history: the
/// newest version of any of its properties; 1 (known, and older than any
/// real time) when HubSpot kept no version.
inline std::map<std::string, std::int64_t> field_times(const mapping::Mapping& m, const ReadOutcome& read) {
  std::map<std::string, std::int64_t> out;
  for (const auto& f : m.fields) {
    std::int64_t newest = 1;
    for (const auto& p : f.properties)
      if (auto h = read.history.find(p); h != read.history.end() && !h->second.empty())
        newest = std::max(newest, h->second.front().timestamp_ms);
    out[f.id] = newest;
  }
  return out;
}

/// HubSpot's values of a read object as the mapping converts them: name ->
/// canonical text.
inline mapping::Properties props_of(const model::Fields& fields) {
  mapping::Properties props;
  for (const auto& [k, v] : fields) props[k] = v.canonical();
  return props;
}

/// Properties as a JSON object: a dead letter's payload.
inline std::string props_json(const mapping::Properties& props) {
  std::string out = "{";
  for (const auto& [k, v] : props) {
    if (out.size() > 1) out += ',';
    out += model::json_quote(k) + ":" + model::json_quote(v);
  }
  return out + "}";
}

}  // namespace hubsync::pipeline
