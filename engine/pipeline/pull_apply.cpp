// The writes of a pull batch: Postgres first (as hubsync, one transaction,
// a refused row failing alone), then HubSpot where Postgres won, then the
// state store: links, the new base of both sides, conflicts, dead letters.
#include "engine/pipeline/pull.h"
#include "engine/pipeline/pull_item.h"

#include "engine/pipeline/sync_helpers.h"

namespace hubsync::pipeline {

using model::ErrorKind;
using model::Status;

namespace {
constexpr const char* kUniqueViolation = "23505";  // SQLSTATE unique_violation
}  // namespace

// Before the Postgres transaction: the values the updated rows will hold,
// synced, so a crash before the commit below cannot leave Postgres with
// HubSpot's values and a base that lacks them (recover_postgres_intents).
Status Puller::record_postgres_intents(Batch& b, const std::vector<Item*>& writing) {
  std::vector<state::PostgresIntent> intents;
  for (const Item* it : writing) {
    if (it->insert || !it->row) continue;  // a new row has no base to fall behind
    auto after = m_.compare_from_postgres(it->row->fields);
    if (!after.ok()) continue;
    state::PostgresIntent in{it->pg_key, {}};
    for (const auto& f : m_.fields) {
      auto d = it->decisions.find(f.id);
      if (d != it->decisions.end() && d->second.action == reconcile::Action::write_postgres)
        in.fields[f.id] = (*after)[f.id];
    }
    if (in.fields.empty()) continue;
    b.pg_intents.push_back(it->pg_key);
    intents.push_back(std::move(in));
  }
  return state_.record_postgres_intents(m_.name, intents);
}

Status Puller::apply_postgres(Batch& b) {
  std::vector<Item*> writing;
  for (auto& it : b.items) {
    if (it.done || !(it.insert || !it.pg_values.empty())) continue;
    if (!it.insert && !model::RecordKey::decode(it.pg_key, m_.key.size())) continue;
    writing.push_back(&it);
  }
  if (writing.empty()) return {};
  if (auto st = record_postgres_intents(b, writing); !st.ok()) return st;
  // A value one row takes from another that gives it up in the same batch
  // (emails passed along in HubSpot) clashes with a unique index when its
  // write comes first: rows refused so go again while others land.
  while (!writing.empty()) {
    std::vector<std::pair<Item*, model::Error>> clashed;
    std::size_t landed = 0;
    if (auto st = apply_rows_once(b, writing, clashed, landed); !st.ok()) return st;
    writing.clear();
    if (landed > 0) {
      for (auto& [it, e] : clashed) writing.push_back(it);
      continue;
    }
    const auto exchanges = exchanged(clashed);
    for (auto& [it, e] : clashed) {
      auto x = exchanges.find(it);
      write_refused(b, *it, x == exchanges.end() ? e : x->second);
    }
  }
  return {};
}

// Rows a unique index still refuses, each taking the match value another of
// them holds, round a cycle (a swap made in HubSpot through a temporary
// value): no order of one-row writes lands them. Their letters say so.
std::map<Puller::Item*, model::Error> Puller::exchanged(
    const std::vector<std::pair<Item*, model::Error>>& clashed) const {
  const std::string& column = m_.match_column();
  auto key_of = [&](const model::Fields& f) -> std::string {
    auto v = f.find(column);
    return v == f.end() || v->second.is_null() ? std::string() : match_key_of(m_, v->second.canonical());
  };
  std::map<std::string, Item*> holding;  // the match key a refused row holds now -> that row
  const std::string& field = m_.match_field()->id;
  for (const auto& [it, e] : clashed) {
    if (it->insert) continue;
    auto held = it->pg_compare.find(field);  // the row as read (its fields hold what it becomes)
    if (held != it->pg_compare.end() && !held->second.empty()) holding[match_key_of(m_, held->second)] = it;
  }
  std::map<Item*, model::Error> out;
  for (const auto& [it, e] : clashed) {
    const std::string wanted = key_of(it->pg_values);
    Item* at = it;
    for (std::size_t step = 0; step <= clashed.size(); ++step) {
      const std::string k = key_of(at->pg_values);
      auto next = k.empty() ? holding.end() : holding.find(k);
      if (next == holding.end()) break;
      if (next->second == it) {
        auto holder = holding.find(wanted)->second;
        model::Error x = e;
        x.message = describe_row(m_, it->pg_key) + " takes the " + column + " that " +
                    describe_row(m_, holder->pg_key) + " holds in " + m_.table.display() + ", while " +
                    describe_row(m_, holder->pg_key) + " takes another row's (" + e.message +
                    "): a unique index is checked row by row, so rows that exchange values cannot be "
                    "written in any order. Exchange them in Postgres in one transaction (through a "
                    "temporary value), then `hubsync dead-letters retry`";
        x.category = "UNIQUE_VALUE_EXCHANGE";
        out.emplace(it, std::move(x));
        break;
      }
      at = next->second;
    }
  }
  return out;
}

Status Puller::apply_rows_once(Batch& b, const std::vector<Item*>& writing,
                               std::vector<std::pair<Item*, model::Error>>& clashed, std::size_t& landed) {
  std::vector<RowWrite> writes;
  for (Item* it : writing) {
    if (it->insert) {
      writes.push_back({std::nullopt, it->pg_values, {}, false});
    } else {
      // Decided on the row as read: a writer that changed it since wins the race.
      writes.push_back({*model::RecordKey::decode(it->pg_key, m_.key.size()), it->pg_values,
                        it->row ? it->row->version : "", false});
    }
  }
  auto out = db_.apply_rows(m_, writes);
  if (!out.ok()) return std::move(out).error();
  for (std::size_t k = 0; k < writing.size(); ++k) {
    Item& it = *writing[k];
    const RowApplied& r = (*out)[k];
    if (r.error) {
      if (r.error->code == kUniqueViolation) clashed.emplace_back(&it, *r.error);
      else write_refused(b, it, *r.error);
      continue;
    }
    ++landed;
    it.row->version = r.version;
    // What Postgres holds, not what was sent: a column that rounds (a
    // numeric's scale) or fills in (a default) would otherwise read as an
    // edit in Postgres against the base, and go back to HubSpot.
    for (const auto& [col, v] : r.fields) it.row->fields[col] = v;
    if (it.insert) {
      it.pg_key = r.key.encoded();
      it.row->key = r.key;
      ++b.stats.created;
    } else {
      if (r.key.encoded() != it.pg_key) follow_new_key(b, it, r.key);
      ++b.stats.updated;
    }
  }
  return {};
}

// HubSpot changed a value the row's key holds (its email, where the email
// is the key): the row's link and base go to its new key at the commit.
void Puller::follow_new_key(Batch& b, Item& it, const model::RecordKey& key) {
  log_->info("key changed mapping={} object={} key={} new_key={}: its link moves with it", m_.name,
             it.record.hubspot_id, it.pg_key, key.encoded());
  b.removed.push_back(it.pg_key);
  it.pg_key = key.encoded();
  it.row->key = key;
}

namespace {

// The conflicts of `it` decided for fields whose HubSpot write failed: the
// decision did not take effect, and is made (and recorded) again next time.
void drop_conflicts_won_by_postgres(Puller::Batch& b, Puller::Item& it) {
  auto& cs = it.conflicts;
  const auto before = cs.size();
  cs.erase(std::remove_if(cs.begin(), cs.end(),
                          [&](const state::ConflictRecord& c) {
                            return std::find(it.hs_fields.begin(), it.hs_fields.end(), c.field) != it.hs_fields.end();
                          }),
           cs.end());
  b.stats.conflicts -= static_cast<std::int64_t>(before - cs.size());
}

}  // namespace

// Fields Postgres won (a conflict, or a value only Postgres had) go to
// HubSpot here: the push only sees rows with captured changes.
Status Puller::apply_hubspot(Batch& b) {
  std::vector<Item*> writing;
  std::vector<UpdateInput> inputs;
  std::vector<state::WriteIntent> intents;
  for (auto& it : b.items) {
    if (it.done || it.hs_props.empty()) continue;
    UpdateInput in{it.record.hubspot_id, {}};
    for (const auto& [k, v] : it.hs_props) in.properties[k] = model::Value::text(v);
    inputs.push_back(std::move(in));
    state::WriteIntent intent{it.pg_key, it.record.hubspot_id, it.props[m_.match_property], {}, b.now};
    for (const auto& f : it.hs_fields)
      intent.fields[f] = state::SyncedField{it.pg_compare[f], it.pg_times.of(m_.field(f)->columns), 0};
    intents.push_back(std::move(intent));
    b.intents.push_back(it.pg_key);
    writing.push_back(&it);
  }
  if (inputs.empty()) return {};
  if (auto st = state_.record_intents(m_.name, intents); !st.ok()) return st;
  auto out = crm_.update(m_.object.path(), inputs);
  if (!out.ok()) return std::move(out).error();
  for (std::size_t k = 0; k < writing.size(); ++k) {
    Item& it = *writing[k];
    const auto& o = (*out)[k];
    if (o.ok()) {
      it.stored = o.stored;
      ++b.stats.hubspot_updates;
      continue;
    }
    drop_conflicts_won_by_postgres(b, it);  // HubSpot did not take Postgres's values
    it.hs_fields.clear();  // no new base for them: tried again next time
    if (o.error->retryable()) {
      b.stats.unreachable = *o.error;
      continue;
    }
    // HubSpot refused Postgres's value: the push's kind of dead letter.
    state::DeadLetter dl;
    dl.mapping = m_.name;
    dl.direction = state::Direction::to_hubspot;
    dl.pg_key = it.pg_key;
    dl.hubspot_id = it.record.hubspot_id;
    dl.payload_json = props_json(it.hs_props);
    dl.error_kind = o.error->kind;
    dl.http_status = o.error->http_status;
    dl.category = o.error->category;
    dl.message = o.error->message;
    dl.first_failed_at_ms = dl.last_failed_at_ms = dl.next_retry_at_ms.emplace(b.now);
    b.dead.push_back(std::move(dl));
    ++b.stats.dead_lettered;
  }
  return {};
}

// Rows whose object was archived (or merged away) in HubSpot follow the
// mapping's `deletes`: archive deletes them, soft marks them, ignore keeps
// them. Either way the object is gone: their link and base go.
Status Puller::apply_deletes(Batch& b, const std::vector<std::string>& pg_keys, const char* why,
                             const std::map<std::string, std::string>& objects) {
  std::vector<model::RecordKey> keys;
  for (const auto& k : pg_keys)
    if (auto key = model::RecordKey::decode(k, m_.key.size())) keys.push_back(*key);
  if (m_.deletes != mapping::DeletePolicy::ignore) {
    auto lost = edits_lost(b, pg_keys, keys, objects);
    if (!lost.ok()) return std::move(lost).error();
    auto st = db_.apply_hubspot_deletes(m_, keys);
    if (!st.ok() && st.error().kind != ErrorKind::invalid_record) return st;
    if (!st.ok()) {
      for (const auto& k : pg_keys) {
        Item it;
        it.pg_key = k;
        dead_letter(b, it, st.error());
      }
      return {};
    }
    b.stats.deleted += static_cast<std::int64_t>(keys.size());
    if (auto made = guard().made(static_cast<std::int64_t>(keys.size())); !made.ok()) return made;
    for (auto& c : *lost) {
      log_->info("conflict mapping={} key={} object={} field={}: edited in Postgres, {}; the deletion wins",
                 m_.name, c.pg_key, c.hubspot_id, c.field, why);
      ++b.stats.conflicts;
      b.conflicts.push_back(std::move(c));
    }
    // A deletion Postgres refused before (a foreign key, since cleared) is done.
    auto resolved = state_.resolve_dead_letters_for(m_.name, state::Direction::to_postgres, pg_keys);
    if (!resolved.ok()) return std::move(resolved).error();
  }
  log_->info("deletions followed mapping={} rows={} why=\"{}\" rule={}", m_.name, keys.size(), why,
             mapping::to_string(m_.deletes));
  b.removed.insert(b.removed.end(), pg_keys.begin(), pg_keys.end());
  return {};
}

model::Result<std::vector<state::ConflictRecord>> Puller::edits_lost(const Batch& b,
                                                             const std::vector<std::string>& pg_keys,
                                                             const std::vector<model::RecordKey>& keys,
                                                             const std::map<std::string, std::string>& objects) {
  std::vector<state::ConflictRecord> out;
  auto bases = state_.get_synced_many(m_.name, pg_keys);
  if (!bases.ok()) return std::move(bases).error();
  if (bases->empty()) return out;
  auto rows = db_.read_rows(m_, keys);
  if (!rows.ok()) return std::move(rows).error();
  for (const auto& [pg_key, row] : *rows) {
    auto base = bases->find(pg_key);
    if (base == bases->end() || row.error) continue;
    auto pg = m_.compare_from_postgres(row.fields);
    if (!pg.ok()) continue;
    std::string object;
    if (auto known = objects.find(pg_key); known != objects.end()) {
      object = known->second;
    } else {
      auto link = state_.find_link_by_pg_key(m_.name, pg_key);
      if (!link.ok()) return std::move(link).error();
      if (*link) object = (*link)->hubspot_id;
    }
    auto lost = edits_lost_to_deletion(m_, pg_key, object, base->second, *pg, /*postgres_kept=*/true, b.now);
    std::move(lost.begin(), lost.end(), std::back_inserter(out));
  }
  return out;
}

namespace {

// The new base of one field after the batch's writes.
std::optional<state::SyncedField> new_base(const reconcile::Decision& d, const std::string& pg,
                                           const std::string& hs, std::int64_t changed_at,
                                           std::int64_t now) {
  if (d.action == reconcile::Action::none) return std::nullopt;
  state::SyncedField f{pg, changed_at, now};
  if (hs != pg) f.hs_value = hs;
  return f;
}

}  // namespace

Status Puller::commit(Batch& b) {
  for (auto& it : b.items) {
    // Without a row (a link table's association pass) there is no base to settle.
    if (it.done || it.pg_key.empty() || !it.row) {
      // Its decisions did not take effect (refused, or merged again later): no conflict happened yet.
      b.stats.conflicts -= static_cast<std::int64_t>(it.conflicts.size());
      continue;
    }
    auto pg_after = m_.compare_from_postgres(it.row->fields);
    if (!pg_after.ok()) {
      // The row holds what the mapping cannot read back: nothing agreed on.
      dead_letter(b, it, pg_after.error());
      continue;
    }
    mapping::Properties stored_props = it.props;
    for (const auto& [k, v] : it.hs_props) stored_props[k] = v;
    for (const auto& [k, v] : it.stored) stored_props[k] = v;
    auto hs_after = m_.compare_from_hubspot(stored_props);
    state::SyncedRecord rec{it.pg_key, it.record.hubspot_id, {},
                            match_key_of(m_, it.props[m_.match_property])};
    for (const auto& f : m_.fields) {
      const auto& d = it.decisions[f.id];
      const bool hs_written = std::find(it.hs_fields.begin(), it.hs_fields.end(), f.id) != it.hs_fields.end();
      if (d.action == reconcile::Action::write_hubspot && !hs_written) continue;
      const std::string hs = hs_after.ok() ? (*hs_after)[f.id] : it.hs_compare[f.id];
      const std::int64_t at = d.action == reconcile::Action::write_hubspot ? it.pg_times.of(f.columns) : b.now;
      if (auto base = new_base(d, (*pg_after)[f.id], hs, at, b.now)) rec.fields[f.id] = *base;
    }
    if (!it.insert && it.pg_values.empty() && it.hs_props.empty()) ++b.stats.unchanged;
    for (auto& c : it.conflicts) {
      c.pg_key = it.pg_key;
      b.conflicts.push_back(std::move(c));
    }
    b.records.push_back(std::move(rec));
    if (it.waits_for.empty()) b.settled.push_back(it.record.hubspot_id);
    else wait_for_parent(b, it);
  }
  for (const auto& dl : b.dead)
    if (auto r = state_.add_dead_letter(dl); !r.ok()) return std::move(r).error();
  state::BatchCommit commit{m_.name, std::move(b.records), std::move(b.removed), std::move(b.intents),
                           std::move(b.pg_intents)};
  if (auto st = state_.commit_batch(commit); !st.ok()) return st;
  for (auto& c : b.conflicts)
    if (auto r = state_.record_conflict(c); !r.ok()) return std::move(r).error();
  if (!b.settled.empty()) {
    auto resolved = state_.resolve_pulled_dead_letters(m_.name, b.settled);
    if (!resolved.ok()) return std::move(resolved).error();
  }
  return {};
}

}  // namespace hubsync::pipeline
