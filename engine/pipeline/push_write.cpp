// The HubSpot writes of a push batch: intents first, then updates by id
// (following merges and deletions made in HubSpot), upserts by match value,
// and archives.
#include "engine/pipeline/push.h"
#include "engine/pipeline/push_item.h"

#include <algorithm>

#include "engine/pipeline/sync_helpers.h"

namespace hubsync::pipeline {

using model::ErrorKind;
using model::Status;

namespace {


model::Fields as_fields(const mapping::Properties& props) {
  model::Fields out;
  for (const auto& [k, v] : props) out[k] = model::Value::text(v);
  return out;
}

}  // namespace

// Written (and synced to disk) before HubSpot is called: after a crash the
// next run learns from HubSpot's property history which values arrived.
Status Pusher::record_intents(Batch& b, const std::vector<Write*>& writes) {
  std::vector<state::WriteIntent> intents;
  for (Write* w : writes) {
    Item& it = b.items[w->item];
    state::WriteIntent in{it.pg_key, it.hubspot_id, w->match_value, {}, b.now};
    for (const auto& f : w->sent_fields)
      in.fields[f] = state::SyncedField{w->compare[f], it.times.of(m_.field(f)->columns), 0};
    intents.push_back(std::move(in));
    it.intent = true;
  }
  return state_.record_intents(m_.name, intents);
}

Status Pusher::send_updates(Batch& b, std::vector<Write>& writes, bool follow) {
  std::vector<Write*> sending;
  for (auto& w : writes) {
    if (w.dropped) continue;
    if (w.sent_fields.empty()) {
      if (Item& it = b.items[w.item]; !it.outcome) mark_unchanged(it, b.stats);
      continue;
    }
    sending.push_back(&w);
  }
  return update_rounds(b, std::move(sending), follow);
}

Status Pusher::update_rounds(Batch& b, std::vector<Write*> sending, bool follow, bool archives_sent) {
  UpdateRounds r;
  r.archives_sent = archives_sent;
  while (!sending.empty()) {
    if (auto st = update_once(b, sending, follow, r); !st.ok()) return st;
    // HubSpot checks each input's unique values against what it holds
    // before any input lands: a value one row takes from another that moves
    // away in the same batch is refused until that move has landed. Such
    // writes go again once their holder's update has (once per holder).
    sending.clear();
    std::vector<UpdateRounds::Blocked> still;
    for (auto& x : r.blocked) {
      if (r.landed.count(x.o.existing_id) && r.tried.insert({x.w, x.o.existing_id}).second)
        sending.push_back(x.w);
      else
        still.push_back(std::move(x));
    }
    r.blocked = std::move(still);
  }
  if (auto st = settle_blocked(b, r); !st.ok()) return st;
  if (r.gone.empty()) return {};
  std::vector<Write> survivors;
  if (auto st = follow_gone(b, r.gone, survivors); !st.ok()) return st;
  // A survivor that is gone too waits for the next pass (merges chain rarely).
  return survivors.empty() ? Status{} : send_updates(b, survivors, false);
}

Status Pusher::update_once(Batch& b, const std::vector<Write*>& sending, bool follow, UpdateRounds& r) {
  std::vector<UpdateInput> inputs;
  for (Write* w : sending) inputs.push_back({b.items[w->item].hubspot_id, as_fields(w->props)});
  if (auto st = record_intents(b, sending); !st.ok()) return st;
  auto out = crm_.update(m_.object.path(), inputs);
  if (!out.ok()) return std::move(out).error();
  for (std::size_t k = 0; k < sending.size(); ++k) {
    const auto& o = (*out)[k];
    if (o.ok()) {
      record_success(b, *sending[k], o);
      r.landed.insert(b.items[sending[k]->item].hubspot_id);
    } else if (o.error->http_status == 404 && follow) {
      r.gone.push_back(sending[k]);
    } else if (o.error->kind == ErrorKind::conflict && !o.existing_id.empty()) {
      r.blocked.push_back({sending[k], o});
    } else {
      handle_failure(b, *sending[k], o);
    }
  }
  return {};
}

// Writes HubSpot still refuses because another object holds a unique value
// they set. When that value is the row's match value and the holder is the
// object of another row:
// - that row's own write was refused in turn: the rows exchanged values,
//   which HubSpot cannot take in any order (dead-lettered, named so);
// - that row is deleted in this batch: the write goes after the archive;
// - that row has moved to another value it has not pushed yet (a later
//   batch or pass), or is gone with its archive held: the write waits for
//   it, as an upsert does (resolve_match_owners).
// Any other refusal is a duplicate, dead-lettered naming the row holding it.
Status Pusher::settle_blocked(Batch& b, UpdateRounds& r) {
  std::map<std::string, std::string> refused;  // object -> the object holding what it was refused
  for (const auto& x : r.blocked) refused[b.items[x.w->item].hubspot_id] = x.o.existing_id;
  // Objects refused one another's values round a cycle (a swap, a rotation).
  auto in_cycle = [](const std::map<std::string, std::string>& holders, const std::string& from) {
    std::string at = from;
    for (std::size_t step = 0; step < holders.size(); ++step) {
      auto next = holders.find(at);
      if (next == holders.end()) return false;
      if (next->second == from) return true;
      at = next->second;
    }
    return false;
  };
  for (auto& x : r.blocked) {
    Write& w = *x.w;
    Item& it = b.items[w.item];
    auto holder = state_.find_link_by_match_key(m_.name, w.match_key);
    if (!holder.ok()) return std::move(holder).error();
    if (!*holder || (*holder)->hubspot_id != x.o.existing_id || (*holder)->pg_key == it.pg_key) {
      handle_failure(b, w, x.o);
      continue;
    }
    if (in_cycle(refused, it.hubspot_id)) {
      dead_letter(b, it, exchange_conflict(it, **holder), props_json(w.props));
      continue;
    }
    if (!r.archives_sent && archive_pending(b, (*holder)->pg_key)) {
      b.after_archives.push_back(&w);  // the holder's row is gone: its archive frees the value
      continue;
    }
    auto moving = frees_value(b, (*holder)->pg_key, w.match_key);
    if (!moving.ok()) return std::move(moving).error();
    if (!*moving || it.attempts >= opt_.max_defers) {  // not moving, or not for max_defers tries
      handle_failure(b, w, x.o);
      continue;
    }
    it.retry_later = true;
    it.retry_delay_ms = opt_.defer_ms;
    ++b.stats.deferred;
    log_->info("deferred mapping={} key={}: its {} is still on {}'s object {}, which gives it up later",
               m_.name, it.pg_key, m_.match_property, describe((*holder)->pg_key), x.o.existing_id);
  }
  return {};
}

// Whether the row `pg_key` is in this batch with an archive not sent yet.
bool Pusher::archive_pending(const Batch& b, const std::string& pg_key) const {
  return std::any_of(b.archives.begin(), b.archives.end(), [&](std::size_t i) {
    return b.items[i].pg_key == pg_key && !b.items[i].outcome;
  });
}

// Whether the row `pg_key` (this batch's copy, else read now) gives up the
// value `match_key`: it is alive with another, or gone (its object's archive
// is due, or held by the mass-deletion guard).
model::Result<bool> Pusher::frees_value(const Batch& b, const std::string& pg_key, const std::string& match_key) {
  std::optional<Row> row;
  auto in_batch = std::find_if(b.items.begin(), b.items.end(), [&](const Item& i) { return i.pg_key == pg_key; });
  if (in_batch != b.items.end()) {
    row = in_batch->row;
  } else if (auto key = model::RecordKey::decode(pg_key, m_.key.size())) {
    auto rows = db_.read_rows(m_, {*key});
    if (!rows.ok()) return std::move(rows).error();
    if (auto found = rows->find(pg_key); found != rows->end()) row = found->second;
  }
  return row_gone(m_, row) || current_match_key(*row) != match_key;
}

model::Error Pusher::exchange_conflict(const Item& it, const state::Link& holder) const {
  auto e = model::make_error(
      ErrorKind::conflict,
      describe(it.pg_key) + " takes the " + m_.match_property + " that " + describe(holder.pg_key) +
          " has in HubSpot (" + m_.object.path() + " " + holder.hubspot_id + "), while " +
          describe(holder.pg_key) + " takes another row's: HubSpot checks each write against the values " +
          "it holds, so rows that exchange unique values cannot be written in any order. Clear " +
          m_.match_property + " on one of their objects in HubSpot, then `hubsync dead-letters retry`");
  e.category = "UNIQUE_VALUE_EXCHANGE";
  return e;
}

// Updates HubSpot answered 404 for: the object was merged into another (the
// row follows the survivor, unless another row already syncs it) or deleted
// there. A deletion follows the mapping: when it pulls and propagates
// deletes, the row is deleted (or soft-deleted) in Postgres; otherwise
// Postgres is the source and the object is created again.
Status Pusher::follow_gone(Batch& b, std::vector<Write*>& gone, std::vector<Write>& survivors) {
  std::vector<std::string> ids;
  for (Write* w : gone) ids.push_back(b.items[w->item].hubspot_id);
  auto read = crm_.read(m_.object.path(), ids, {});
  if (!read.ok()) return std::move(read).error();
  std::vector<Write*> deleted;
  for (std::size_t k = 0; k < gone.size(); ++k) {
    Write& w = *gone[k];
    Item& it = b.items[w.item];
    const auto& r = (*read)[k];
    if (r.error) {
      handle_failure(b, w, WriteOutcome{"", false, r.error, ""});
    } else if (r.record && !r.merged_into.empty()) {
      auto moved = state_.repoint_merged(m_.name, {it.hubspot_id}, r.merged_into, b.now);
      if (!moved.ok()) return std::move(moved).error();
      if (moved->survivor_pg_key != it.pg_key) {
        const std::string owner = moved->survivor_pg_key.value_or("");
        it.hubspot_id.clear();
        dead_letter(b, it, link_conflict(it.pg_key, owner, r.merged_into), props_json(w.props));
        continue;
      }
      it.hubspot_id = r.merged_into;
      ++b.stats.relinked;
      survivors.push_back(w);
    } else if (r.record) {
      // It answers again: HubSpot was briefly inconsistent. Try later.
      handle_failure(b, w, WriteOutcome{"", false, model::make_error(ErrorKind::transient, "object " + it.hubspot_id + " answered 404, then was found"), ""});
    } else {
      deleted.push_back(&w);
    }
  }
  if (deleted.empty()) return {};
  if (m_.pulls() && m_.deletes != mapping::DeletePolicy::ignore) return delete_rows_of_deleted(b, deleted);
  for (Write* w : deleted) {
    // Postgres is the source: make the object again with what the row has.
    Item& it = b.items[w->item];
    b.removed.push_back(it.pg_key);
    it.hubspot_id.clear();
    it.base.clear();
    choose_fields(b, *w, nullptr);
    b.upserts.push_back(*w);
  }
  return {};
}

// Rows whose object was deleted in HubSpot, in a mapping that pulls and
// propagates deletes: deleted (or soft-deleted) in Postgres, through the
// mass-deletion guard (held: the rows wait, their objects stay deleted).
Status Pusher::delete_rows_of_deleted(Batch& b, const std::vector<Write*>& deleted) {
  for (Write* w : deleted) w->dropped = true;  // nothing to write for them any more
  auto admitted = admit_postgres_deletes(b, deleted);
  if (!admitted.ok()) return std::move(admitted).error();
  if (!*admitted) return {};
  std::vector<model::RecordKey> keys;
  for (Write* w : deleted) keys.push_back(b.items[w->item].key);
  auto st = db_.apply_hubspot_deletes(m_, keys);
  if (!st.ok() && st.error().kind != ErrorKind::invalid_record) return st;
  for (Write* w : deleted) {
    Item& it = b.items[w->item];
    if (!st.ok()) {
      dead_letter(b, it, st.error(), "{}");
      continue;
    }
    record_lost_edits(b, edits_lost_to_deletion(m_, it.pg_key, it.hubspot_id, it.base, w->compare,
                                                /*postgres_kept=*/true, b.now),
                      "edited in Postgres, deleted in HubSpot");
    b.removed.push_back(it.pg_key);
    it.hubspot_id.clear();
    ++b.stats.deleted_in_postgres;
    mark_unchanged(it, b.stats, m_.deletes == mapping::DeletePolicy::soft ? "deleted in HubSpot: row soft-deleted"
                                                                        : "deleted in HubSpot: row deleted");
  }
  return {};
}

Status Pusher::send_upserts(Batch& b) {
  std::vector<Write*> sending;
  std::vector<UpsertInput> inputs;
  for (auto& w : b.upserts) {
    if (w.dropped) continue;
    inputs.push_back({w.match_value, as_fields(w.props)});
    sending.push_back(&w);
  }
  if (inputs.empty()) return {};
  if (auto st = record_intents(b, sending); !st.ok()) return st;
  auto out = crm_.upsert(m_.object.path(), m_.match_property, inputs);
  if (!out.ok()) return std::move(out).error();
  std::map<std::string, std::string> claimed;  // hubspot id -> pg_key, this batch
  for (std::size_t k = 0; k < sending.size(); ++k) {
    const auto& o = (*out)[k];
    Write& w = *sending[k];
    Item& it = b.items[w.item];
    if (!o.ok()) {
      handle_failure(b, w, o);
      continue;
    }
    // HubSpot matched an object another row already syncs (it compares
    // values in ways hubsync could not foresee): keep the older link.
    auto owner = state_.find_link_by_hubspot_id(m_.name, o.hubspot_id);
    if (!owner.ok()) return std::move(owner).error();
    std::string other;
    if (*owner && (*owner)->pg_key != it.pg_key &&
        std::find(b.removed.begin(), b.removed.end(), (*owner)->pg_key) == b.removed.end())
      other = (*owner)->pg_key;
    if (auto [at, fresh] = claimed.emplace(o.hubspot_id, it.pg_key); !fresh) other = at->second;
    if (!other.empty()) {
      auto e = link_conflict(it.pg_key, other, o.hubspot_id);
      e.message += " (HubSpot already took this row's values)";
      dead_letter(b, it, e, props_json(w.props));
      continue;
    }
    record_success(b, w, o);
  }
  return {};
}

Status Pusher::send_archives(Batch& b) {
  if (auto st = admit_archives(b); !st.ok()) return st;
  if (b.archives.empty()) return {};
  auto lost = edits_lost_in_hubspot(b);
  if (!lost.ok()) return std::move(lost).error();
  std::vector<std::string> ids;
  for (auto i : b.archives) ids.push_back(b.items[i].hubspot_id);
  auto out = crm_.archive(m_.object.path(), ids);
  if (!out.ok()) return std::move(out).error();
  std::int64_t archived = 0;
  for (std::size_t k = 0; k < b.archives.size(); ++k) {
    Item& it = b.items[b.archives[k]];
    const auto& o = (*out)[k];
    if (o.ok() || o.error->http_status == 404) {
      it.outcome = ChangeOutcome::archived;
      ++b.stats.archived;
      ++archived;
      b.removed.push_back(it.pg_key);
      record_lost_edits(b, (*lost)[k], "row " + it.detail + " in Postgres, edited in HubSpot");
    } else if (o.error->retryable()) {
      it.retry_later = true;
      it.retry_delay_ms = opt_.transient_retry_ms;
      ++b.stats.retried;
      b.stats.unreachable = *o.error;
    } else {
      dead_letter(b, it, *o.error, "{}");
    }
  }
  return guard_->made(archived);
}

void Pusher::record_lost_edits(Batch& b, std::vector<state::ConflictRecord> lost, const std::string& what) {
  for (auto& c : lost) {
    log_->info("conflict mapping={} key={} object={} field={}: {}; the deletion wins", m_.name, c.pg_key,
               c.hubspot_id, c.field, what);
    ++b.stats.conflicts;
    b.conflicts.push_back(std::move(c));
  }
}

// The base of each field written: Postgres's form, and HubSpot's as it
// answered the write when that differs (it normalised what it stored).
void Pusher::record_success(Batch& b, Write& w, const WriteOutcome& o) {
  Item& it = b.items[w.item];
  it.hubspot_id = o.hubspot_id;
  state::SyncedRecord rec{it.pg_key, o.hubspot_id, {}, w.match_key};
  mapping::Properties stored = w.props;
  for (const auto& [k, v] : o.stored)
    if (stored.count(k)) stored[k] = v;
  for (const auto& f : w.sent_fields) {
    state::SyncedField base{w.compare[f], it.times.of(m_.field(f)->columns), b.now};
    if (auto hs = m_.field(f)->compare_from_hubspot(stored); hs.ok() && *hs != w.compare[f])
      base.hs_value = *hs;
    rec.fields[f] = std::move(base);
  }
  b.records.push_back(std::move(rec));
  if (!it.outcome) {
    it.outcome = ChangeOutcome::synced;
    ++(o.created ? b.stats.created : b.stats.updated);
  }
}

void Pusher::handle_failure(Batch& b, Write& w, const WriteOutcome& o) {
  Item& it = b.items[w.item];
  const model::Error& e = *o.error;
  if (e.retryable()) {
    it.retry_later = true;
    it.retry_delay_ms = opt_.transient_retry_ms;
    ++b.stats.retried;
    b.stats.unreachable = e;
    return;
  }
  model::Error err = e;
  if (err.code == "LEADING_TRAILING_WHITESPACE")
    err.message += "; HubSpot refuses whitespace around a value of a number, bool, date, datetime or enumeration "
                   "property: trim the column in Postgres (UPDATE ... SET <column> = btrim(<column>)), or give "
                   "its field `transform: trim` with `direction: to_hubspot`";
  if (!o.existing_id.empty()) {
    // A unique value another object holds: name the row that syncs it.
    auto owner = state_.find_link_by_hubspot_id(m_.name, o.existing_id);
    if (owner.ok() && *owner)
      err.message += " (" + m_.object.path() + " " + o.existing_id + " is synced from " +
                     describe((*owner)->pg_key) + ")";
  }
  dead_letter(b, it, err, props_json(w.props));
}

}  // namespace hubsync::pipeline
