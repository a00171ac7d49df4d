#include "engine/pipeline/push.h"
#include "engine/pipeline/push_item.h"

#include <algorithm>
#include <set>

#include "engine/model/record.h"
#include "engine/state/retry_schedule.h"

namespace hubsync::pipeline {

using model::ErrorKind;
using model::Result;
using model::Status;

namespace {

constexpr const char* kInitialLoad = "initial_load";
constexpr const char* kDone = "done";

std::string assoc_field(const std::string& column) { return "assoc:" + column; }

std::string props_json(const mapping::Properties& props) {
  std::string out = "{";
  for (const auto& [k, v] : props) {
    if (out.size() > 1) out += ',';
    out += model::json_quote(k) + ":" + model::json_quote(v);
  }
  return out + "}";
}

}  // namespace

const char* to_string(ChangeOutcome o) {
  switch (o) {
    case ChangeOutcome::synced: return "synced";
    case ChangeOutcome::unchanged: return "unchanged";
    case ChangeOutcome::archived: return "archived";
    case ChangeOutcome::filtered: return "filtered";
    case ChangeOutcome::ignored: return "ignored";
    case ChangeOutcome::dead_lettered: return "dead_lettered";
  }
  return "unknown";
}

PushStats& PushStats::operator+=(const PushStats& o) {
  created += o.created;
  updated += o.updated;
  unchanged += o.unchanged;
  archived += o.archived;
  filtered += o.filtered;
  ignored += o.ignored;
  dead_lettered += o.dead_lettered;
  deferred += o.deferred;
  associations += o.associations;
  retried += o.retried;
  return *this;
}

Pusher::Pusher(const mapping::Mapping& m,
               const std::map<std::string, const mapping::Mapping*>& all, DatabasePort& db,
               CrmPort& crm, state::StateStore& state, ratelimit::Clock& clock,
               std::shared_ptr<spdlog::logger> log, PushOptions options)
    : m_(m), all_(all), db_(db), crm_(crm), state_(state), clock_(clock), log_(std::move(log)),
      opt_(std::move(options)) {}

Result<PushStats> Pusher::run() {
  PushStats stats;
  if (!m_.pushes()) return stats;
  if (auto st = db_.lock_mapping(m_.name); !st.ok()) return std::move(st).error();
  if (auto st = initial_load(stats); !st.ok()) return std::move(st).error();
  if (auto st = drain_changelog(stats); !st.ok()) return std::move(st).error();
  return stats;
}

Status Pusher::initial_load(PushStats& stats) {
  auto cp = state_.get_checkpoint(m_.name, kInitialLoad);
  if (!cp.ok()) return std::move(cp).error();
  if (*cp && (*cp)->value == kDone) return {};
  model::RecordKey after;
  if (*cp && (*cp)->value.rfind("after:", 0) == 0) {
    auto decoded = model::RecordKey::decode((*cp)->value.substr(6), m_.key.size());
    if (decoded) after = *decoded;
  }
  auto total = db_.count_rows(m_);
  if (!total.ok()) return std::move(total).error();
  log_->info("initial load mapping={} rows={} resume={}", m_.name, *total,
             after.parts.empty() ? "no" : "yes");
  std::int64_t done = 0;
  auto st = db_.scan_rows(m_, after, opt_.wave, [&](std::vector<Row>& rows) -> Status {
    std::vector<Item> items;
    items.reserve(rows.size());
    for (auto& r : rows) {
      Item it;
      it.key = r.key;
      it.pg_key = r.key.encoded();
      it.changed_at_ms = clock_.wall_ms();
      it.row = std::move(r);
      items.push_back(std::move(it));
    }
    if (auto s = process(items, stats); !s.ok()) return s;
    done += static_cast<std::int64_t>(items.size());
    if (opt_.progress) opt_.progress(m_.name, done, *total);
    return state_.set_checkpoint(m_.name, kInitialLoad, "after:" + items.back().pg_key);
  });
  if (!st.ok()) return st;
  log_->info("initial load done mapping={} rows={}", m_.name, done);
  return state_.set_checkpoint(m_.name, kInitialLoad, kDone);
}

Status Pusher::drain_changelog(PushStats& stats) {
  // Changes this pass already handled: when only those come back (deferred
  // with a short delay), the pass is caught up; they wait for the next one.
  std::set<std::int64_t> handled;
  while (true) {
    auto claimed = db_.claim_changes(m_, opt_.wave, opt_.lease_ms, opt_.worker);
    if (!claimed.ok()) return std::move(claimed).error();
    if (claimed->empty()) return {};
    if (std::all_of(claimed->begin(), claimed->end(),
                    [&](const model::Change& c) { return handled.count(c.id) > 0; })) {
      std::vector<std::int64_t> ids;
      for (const auto& c : *claimed) ids.push_back(c.id);
      return db_.release_changes(ids, 0);
    }
    for (const auto& c : *claimed) handled.insert(c.id);
    // Coalesce: one item per key, carrying every change id; the row's
    // current state decides what to do, so the order of ops is irrelevant.
    std::map<std::string, std::size_t> by_key;
    std::vector<Item> items;
    std::vector<model::RecordKey> keys;
    for (auto& c : *claimed) {
      std::string pg_key = c.key.encoded();
      auto [it, fresh] = by_key.emplace(pg_key, items.size());
      if (fresh) {
        Item item;
        item.key = c.key;
        item.pg_key = pg_key;
        items.push_back(std::move(item));
        keys.push_back(c.key);
      }
      Item& item = items[it->second];
      item.change_ids.push_back(c.id);
      item.changed_at_ms = std::max(item.changed_at_ms, c.committed_at_ms);
    }
    auto rows = db_.read_rows(m_, keys);
    if (!rows.ok()) {
      std::vector<std::int64_t> ids;
      for (const auto& c : *claimed) ids.push_back(c.id);
      (void)db_.release_changes(ids, 0);
      return std::move(rows).error();
    }
    for (auto& item : items) {
      auto r = rows->find(item.pg_key);
      if (r != rows->end()) item.row = std::move(r->second);
    }
    if (auto st = process(items, stats); !st.ok()) {
      std::vector<std::int64_t> ids;
      for (const auto& c : *claimed) ids.push_back(c.id);
      (void)db_.release_changes(ids, 0);
      return st;
    }
  }
}

Status Pusher::process(std::vector<Item>& items, PushStats& stats) {
  if (m_.kind == mapping::MappingKind::link) return process_links(items, stats);
  const std::int64_t now = clock_.wall_ms();
  std::vector<std::string> pg_keys;
  for (const auto& it : items) pg_keys.push_back(it.pg_key);
  auto synced = state_.get_synced_many(m_.name, pg_keys);
  if (!synced.ok()) return std::move(synced).error();
  std::map<std::string, std::string> links;  // pg_key -> hubspot id
  for (const auto& it : items) {
    auto link = state_.find_link_by_pg_key(m_.name, it.pg_key);
    if (!link.ok()) return std::move(link).error();
    if (*link) links[it.pg_key] = (*link)->hubspot_id;
  }
  auto base_of = [&](const std::string& pg_key) -> const state::SyncedFields* {
    auto s = synced->find(pg_key);
    return s == synced->end() ? nullptr : &s->second;
  };

  std::vector<state::DeadLetter> dead;
  auto dead_letter = [&](Item& it, const model::Error& e, const std::string& hubspot_id,
                         const std::string& payload) {
    dead.push_back(make_dead_letter(it, e, hubspot_id, payload, now));
    ++stats.dead_lettered;
  };
  auto retry_later = [&](Item& it, std::int64_t delay) {
    it.retry_later = true;
    it.retry_delay_ms = delay;
  };

  // 1. Decide per row: archive, skip, or write which properties.
  struct Write {
    std::size_t item;
    mapping::Properties props;                    // what goes out
    std::map<std::string, std::string> compare;   // field id -> merge value, for the base
    std::vector<std::string> sent_fields;         // field ids written
  };
  std::vector<Write> upserts, updates;
  std::vector<std::size_t> archives;
  for (std::size_t i = 0; i < items.size(); ++i) {
    Item& it = items[i];
    const bool linked = links.count(it.pg_key) > 0;
    bool deleted = !it.row.has_value();
    if (!deleted && m_.deletes == mapping::DeletePolicy::soft && !m_.soft_delete_column.empty()) {
      auto f = it.row->fields.find(m_.soft_delete_column);
      deleted = f != it.row->fields.end() && !f->second.is_null();
    }
    if (deleted) {
      if (m_.deletes == mapping::DeletePolicy::ignore) {
        it.outcome = ChangeOutcome::ignored;
        ++stats.ignored;
      } else if (linked) {
        archives.push_back(i);
      } else {
        it.outcome = ChangeOutcome::unchanged;  // never reached HubSpot: nothing to archive
        it.detail = "not in HubSpot";
        ++stats.unchanged;
      }
      continue;
    }
    if (it.row->error) {
      dead_letter(it, *it.row->error, linked ? links[it.pg_key] : "", "{}");
      continue;
    }
    if (!it.row->in_filter) {
      it.outcome = ChangeOutcome::filtered;
      ++stats.filtered;
      continue;
    }
    auto props = m_.to_hubspot(it.row->fields);
    if (!props.ok()) {
      dead_letter(it, props.error(), linked ? links[it.pg_key] : "", "{}");
      continue;
    }
    auto compare = m_.compare_from_postgres(it.row->fields);
    if (!compare.ok()) {
      dead_letter(it, compare.error(), linked ? links[it.pg_key] : "", props_json(*props));
      continue;
    }
    const state::SyncedFields* base = base_of(it.pg_key);
    Write w{i, {}, *compare, {}};
    for (const auto& f : m_.fields) {
      if (!f.to_hubspot()) continue;
      const std::string& value = (*compare)[f.id];
      bool same = false;
      if (linked && base) {
        auto b = base->find(f.id);
        same = b != base->end() && b->second.value.value_or("") == value;
      }
      if (same) continue;
      w.sent_fields.push_back(f.id);
      for (const auto& p : f.properties) w.props[p] = (*props)[p];
    }
    if (!linked) {
      const auto match = props->find(m_.match_property);
      if (match == props->end() || match->second.empty()) {
        auto e = model::make_error(ErrorKind::invalid_record,
                                   "match property " + m_.match_property + " is empty");
        dead_letter(it, e, "", props_json(*props));
        continue;
      }
      w.props[m_.match_property] = match->second;
      upserts.push_back(std::move(w));
    } else if (!w.sent_fields.empty()) {
      updates.push_back(std::move(w));
    } else {
      it.outcome = ChangeOutcome::unchanged;
      ++stats.unchanged;
      updates.push_back(std::move(w));  // no write, but associations may be due
    }
  }

  // 2. Write: upserts by the match property, updates by HubSpot id.
  std::vector<state::SyncedRecord> records;
  auto record_success = [&](Write& w, const std::string& hubspot_id, bool created) {
    Item& it = items[w.item];
    links[it.pg_key] = hubspot_id;
    state::SyncedRecord rec{it.pg_key, hubspot_id, {}};
    for (const auto& id : w.sent_fields)
      rec.fields[id] = state::SyncedField{w.compare[id], it.changed_at_ms, now};
    records.push_back(std::move(rec));
    if (!it.outcome) {
      it.outcome = ChangeOutcome::synced;
      created ? ++stats.created : ++stats.updated;
    }
  };
  auto handle_failure = [&](Write& w, const model::Error& e, const std::string& hubspot_id) {
    Item& it = items[w.item];
    if (e.retryable()) {
      retry_later(it, opt_.transient_retry_ms);
      ++stats.retried;
    } else {
      dead_letter(it, e, hubspot_id, props_json(w.props));
    }
  };

  std::vector<Write*> gone;  // linked in our state, but no longer in HubSpot
  {
    std::vector<Write*> sending;
    std::vector<UpdateInput> inputs;
    for (auto& w : updates) {
      if (w.sent_fields.empty()) continue;
      inputs.push_back({links[items[w.item].pg_key], {}});
      for (const auto& [k, v] : w.props) inputs.back().properties[k] = model::Value::text(v);
      sending.push_back(&w);
    }
    if (!inputs.empty()) {
      auto out = crm_.update(m_.object.path(), inputs);
      if (!out.ok()) return std::move(out).error();
      for (std::size_t k = 0; k < sending.size(); ++k) {
        const auto& o = (*out)[k];
        Write& w = *sending[k];
        if (o.ok()) record_success(w, o.hubspot_id, false);
        else if (o.error->http_status == 404) gone.push_back(&w);
        else handle_failure(w, *o.error, inputs[k].id);
      }
    }
  }
  for (Write* w : gone) {
    // The object was deleted or merged away in HubSpot: recreate it by the
    // match value (an upsert finds a survivor that holds the value).
    Item& it = items[w->item];
    links.erase(it.pg_key);
    auto props = m_.to_hubspot(it.row->fields);
    w->props = *props;
    w->sent_fields.clear();
    for (const auto& f : m_.fields)
      if (f.to_hubspot()) w->sent_fields.push_back(f.id);
    upserts.push_back(std::move(*w));
    w->sent_fields.clear();  // the moved-from update must not count twice
  }
  if (!upserts.empty()) {
    std::vector<UpsertInput> inputs;
    for (auto& w : upserts) {
      UpsertInput in;
      in.match_value = w.props[m_.match_property];
      for (const auto& [k, v] : w.props) in.properties[k] = model::Value::text(v);
      inputs.push_back(std::move(in));
    }
    auto out = crm_.upsert(m_.object.path(), m_.match_property, inputs);
    if (!out.ok()) return std::move(out).error();
    for (std::size_t k = 0; k < upserts.size(); ++k) {
      const auto& o = (*out)[k];
      if (o.ok()) record_success(upserts[k], o.hubspot_id, o.created);
      else handle_failure(upserts[k], *o.error, "");
    }
  }

  // 3. Archives.
  std::vector<std::string> removed;
  if (!archives.empty()) {
    std::vector<std::string> ids;
    for (auto i : archives) ids.push_back(links[items[i].pg_key]);
    auto out = crm_.archive(m_.object.path(), ids);
    if (!out.ok()) return std::move(out).error();
    for (std::size_t k = 0; k < archives.size(); ++k) {
      Item& it = items[archives[k]];
      const auto& o = (*out)[k];
      if (o.ok() || o.error->http_status == 404) {
        it.outcome = ChangeOutcome::archived;
        ++stats.archived;
        removed.push_back(it.pg_key);
      } else if (o.error->retryable()) {
        retry_later(it, opt_.transient_retry_ms);
        ++stats.retried;
      } else {
        dead_letter(it, *o.error, ids[k], "{}");
      }
    }
  }

  // 4. Associations of rows that now have a HubSpot id.
  if (auto st = push_associations(items, links, synced.value(), records, dead, stats, now); !st.ok())
    return st;

  return finish(items, dead, records, removed, stats);
}

state::DeadLetter Pusher::make_dead_letter(Item& it, const model::Error& e,
                                           const std::string& hubspot_id,
                                           const std::string& payload, std::int64_t now) {
  state::DeadLetter dl;
  dl.mapping = m_.name;
  dl.direction = state::Direction::to_hubspot;
  dl.pg_key = it.pg_key;
  dl.hubspot_id = hubspot_id;
  dl.payload_json = payload;
  dl.error_kind = e.kind;
  dl.http_status = e.http_status;
  dl.category = e.category;
  dl.message = e.message;
  dl.first_failed_at_ms = dl.last_failed_at_ms = now;
  dl.next_retry_at_ms = state::RetrySchedule{}.next_retry_at(1, now);
  it.outcome = ChangeOutcome::dead_lettered;
  it.detail = e.category.empty() ? model::to_string(e.kind) : e.category;
  // The message stays in the dead letter: HubSpot's text can quote field
  // values, which never go to logs.
  log_->warn("dead-lettered mapping={} key={} kind={} status={} category={} code={}", m_.name,
             it.pg_key, model::to_string(e.kind), e.http_status, e.category, e.code);
  return dl;
}

Status Pusher::finish(std::vector<Item>& items, const std::vector<state::DeadLetter>& dead,
                      const std::vector<state::SyncedRecord>& records,
                      const std::vector<std::string>& removed, const PushStats& stats) {
  // State store first, then the changelog: a crash in between repeats only
  // idempotent work.
  for (const auto& dl : dead)
    if (auto r = state_.add_dead_letter(dl); !r.ok()) return std::move(r).error();
  if (!records.empty() || !removed.empty()) {
    if (auto st = state_.commit_batch({m_.name, records, removed}); !st.ok()) return st;
  }
  std::vector<CompletedChange> done;
  std::vector<std::int64_t> later;
  std::vector<model::RecordKey> requeue;
  std::vector<std::string> settled;  // rows now in agreement: older dead letters are moot
  std::int64_t delay = 0;
  for (auto& it : items) {
    if (!it.retry_later && it.outcome && *it.outcome != ChangeOutcome::dead_lettered)
      settled.push_back(it.pg_key);
    if (it.retry_later) {
      delay = std::max(delay, it.retry_delay_ms);
      if (it.change_ids.empty()) requeue.push_back(it.key);
      later.insert(later.end(), it.change_ids.begin(), it.change_ids.end());
      continue;
    }
    for (auto id : it.change_ids)
      done.push_back({id, it.outcome.value_or(ChangeOutcome::synced), it.detail});
  }
  if (!settled.empty()) {
    auto resolved = state_.resolve_dead_letters_for(m_.name, state::Direction::to_hubspot, settled);
    if (!resolved.ok()) return std::move(resolved).error();
  }
  if (auto st = db_.enqueue(m_, requeue, delay); !st.ok()) return st;
  if (auto st = db_.release_changes(later, delay); !st.ok()) return st;
  if (auto st = db_.complete_changes(done); !st.ok()) return st;
  log_->info("push mapping={} rows={} created={} updated={} unchanged={} archived={} dead={} "
             "associations={}",
             m_.name, items.size(), stats.created, stats.updated, stats.unchanged, stats.archived,
             stats.dead_lettered, stats.associations);
  return {};
}

Result<AssociationType> Pusher::association_type_for(const std::string& from_type,
                                                     const std::string& to_type,
                                                     const std::optional<std::int64_t>& type_id,
                                                     const std::string& label) {
  const std::string cache_key = from_type + "|" + to_type + "|" + (type_id ? std::to_string(*type_id) : "") + "|" + label;
  if (auto it = assoc_types_.find(cache_key); it != assoc_types_.end()) return it->second;
  AssociationType type;
  if (type_id && label.empty()) {
    type.category = "HUBSPOT_DEFINED";
    type.type_id = static_cast<std::int32_t>(*type_id);
  } else {
    auto found = crm_.association_type(from_type, to_type, label);
    if (!found.ok()) return std::move(found).error();
    if (!*found)
      return model::make_error(ErrorKind::fatal, "mapping " + m_.name + ": no association label '" +
                                                     label + "' from " + from_type + " to " + to_type);
    type = **found;
  }
  assoc_types_[cache_key] = type;
  return type;
}

Status Pusher::push_associations(std::vector<Item>& items, std::map<std::string, std::string>& links,
                                 const std::map<std::string, state::SyncedFields>& synced,
                                 std::vector<state::SyncedRecord>& records,
                                 std::vector<state::DeadLetter>& dead, PushStats& stats,
                                 std::int64_t now) {
  for (const auto& a : m_.associations) {
    if (!mapping::writes_hubspot(a.direction)) continue;
    auto target = all_.find(a.to_mapping);
    if (target == all_.end()) continue;  // validate_set reports it
    const mapping::Mapping& to = *target->second;
    auto type = association_type_for(m_.object.path(), to.object.path(), a.type_id, a.type_label);
    if (!type.ok()) return std::move(type).error();

    std::vector<AssociationInput> creates;
    std::vector<std::pair<std::string, std::string>> removes;
    std::vector<std::pair<std::size_t, std::string>> pending;  // item, target id
    const std::string field = assoc_field(a.column);
    for (std::size_t i = 0; i < items.size(); ++i) {
      Item& it = items[i];
      if (!it.row || it.retry_later || !it.outcome) continue;
      if (*it.outcome != ChangeOutcome::synced && *it.outcome != ChangeOutcome::unchanged) continue;
      auto from = links.find(it.pg_key);
      if (from == links.end()) continue;
      std::optional<std::string> base;
      if (auto s = synced.find(it.pg_key); s != synced.end())
        if (auto f = s->second.find(field); f != s->second.end()) base = f->second.value;
      auto col = it.row->fields.find(a.column);
      std::string to_id;
      if (col != it.row->fields.end() && !col->second.is_null()) {
        auto link = state_.find_link_by_pg_key(to.name, col->second.canonical());
        if (!link.ok()) return std::move(link).error();
        if (!*link) {
          // The parent has no HubSpot id yet: keep the row queued, not dropped.
          it.retry_later = true;
          it.retry_delay_ms = opt_.defer_ms;
          ++stats.deferred;
          log_->debug("association waits for its parent mapping={} key={} parent={}:{}",
                      m_.name, it.pg_key, to.name, col->second.canonical());
          continue;
        }
        to_id = (*link)->hubspot_id;
      }
      if (base.value_or("") == to_id) continue;
      if (base && !base->empty()) removes.emplace_back(from->second, *base);
      if (!to_id.empty()) creates.push_back({from->second, to_id, *type});
      pending.emplace_back(i, to_id);
    }
    if (!removes.empty())
      if (auto st = crm_.unassociate(m_.object.path(), to.object.path(), removes); !st.ok()) return st;
    std::vector<WriteOutcome> outcomes;
    if (!creates.empty()) {
      auto out = crm_.associate(m_.object.path(), to.object.path(), creates);
      if (!out.ok()) return std::move(out).error();
      outcomes = std::move(*out);
    }
    std::size_t next = 0;
    for (const auto& [i, to_id] : pending) {
      Item& it = items[i];
      if (!to_id.empty()) {
        const auto& o = outcomes.at(next++);
        if (!o.ok()) {
          if (o.error->retryable()) {
            it.retry_later = true;
            it.retry_delay_ms = opt_.transient_retry_ms;
            ++stats.retried;
          } else {
            // The row itself synced; its association did not: keep that
            // visible as a dead letter rather than losing it.
            dead.push_back(make_dead_letter(it, *o.error, links[it.pg_key],
                                            "{\"association\":" + model::json_quote(a.column) + "}", now));
            ++stats.dead_lettered;
          }
          continue;
        }
        ++stats.associations;
      }
      std::optional<std::string> value;
      if (!to_id.empty()) value = to_id;
      records.push_back({it.pg_key, "", {{field, state::SyncedField{value, it.changed_at_ms, now}}}});
    }
  }
  return {};
}

Result<std::int64_t> Pusher::requeue_dead_letters(bool all) {
  state::DeadLetterFilter filter;
  filter.mapping = m_.name;
  filter.direction = state::Direction::to_hubspot;
  filter.status = state::DeadLetterStatus::pending;
  filter.limit = 100000;
  auto list = all ? state_.list_dead_letters(filter) : state_.due_dead_letters(clock_.wall_ms(), 100000);
  if (!list.ok()) return std::move(list).error();
  return pipeline::requeue_dead_letters(m_, db_, state_, *list);
}

Result<std::int64_t> requeue_dead_letters(const mapping::Mapping& m, DatabasePort& db,
                                          state::StateStore& state,
                                          const std::vector<state::DeadLetter>& letters) {
  std::vector<model::RecordKey> keys;
  std::vector<std::int64_t> ids;
  for (const auto& dl : letters) {
    if (dl.mapping != m.name || dl.direction != state::Direction::to_hubspot || dl.pg_key.empty() ||
        dl.status != state::DeadLetterStatus::pending)
      continue;
    auto key = model::RecordKey::decode(dl.pg_key, m.key.size());
    if (!key) continue;
    keys.push_back(*key);
    ids.push_back(dl.id);
  }
  if (auto st = db.enqueue(m, keys, 0); !st.ok()) return std::move(st).error();
  // The row is queued again; if it fails again it is dead-lettered afresh.
  for (auto id : ids)
    if (auto r = state.resolve_dead_letter(id); !r.ok()) return std::move(r).error();
  return static_cast<std::int64_t>(ids.size());
}

std::vector<const mapping::Mapping*> push_order(const std::vector<mapping::Mapping>& mappings) {
  std::map<std::string, const mapping::Mapping*> by_name;
  for (const auto& m : mappings) by_name[m.name] = &m;
  std::vector<const mapping::Mapping*> out;
  std::set<std::string> placed, visiting;
  std::function<void(const mapping::Mapping&)> visit = [&](const mapping::Mapping& m) {
    if (placed.count(m.name) || visiting.count(m.name)) return;  // cycles: keep file order
    visiting.insert(m.name);
    std::vector<std::string> deps;
    for (const auto& a : m.associations) deps.push_back(a.to_mapping);
    if (m.link) deps = {m.link->from_mapping, m.link->to_mapping};
    for (const auto& d : deps)
      if (auto it = by_name.find(d); it != by_name.end()) visit(*it->second);
    visiting.erase(m.name);
    placed.insert(m.name);
    out.push_back(&m);
  };
  for (const auto& m : mappings) visit(m);
  return out;
}

}  // namespace hubsync::pipeline
