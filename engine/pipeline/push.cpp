// The push pass of one mapping: intents left by a crash, the initial load,
// then the changelog; and what every batch ends with (finish).
#include "engine/pipeline/push.h"
#include "engine/pipeline/push_item.h"

#include <algorithm>
#include <functional>
#include <set>
#include <utility>

#include "engine/model/record.h"
#include "engine/pipeline/intents.h"
#include "engine/pipeline/resync.h"
#include "engine/pipeline/sync_helpers.h"

namespace hubsync::pipeline {

using model::ErrorKind;
using model::Result;
using model::Status;

namespace {

constexpr const char* kDone = "done";
constexpr std::size_t kLinkPage = 1000;

std::vector<std::int64_t> ids_of(const std::vector<model::Change>& changes) {
  std::vector<std::int64_t> ids;
  for (const auto& c : changes) ids.push_back(c.id);
  return ids;
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
  captured += o.captured;
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
  relinked += o.relinked;
  deleted_in_postgres += o.deleted_in_postgres;
  conflicts += o.conflicts;
  left_to_pull += o.left_to_pull;
  held += o.held;
  if (o.unreachable) unreachable = o.unreachable;
  more = more || o.more;
  return *this;
}

Pusher::Pusher(const mapping::Mapping& m,
               const std::map<std::string, const mapping::Mapping*>& all, DatabasePort& db,
               CrmPort& crm, state::StateStore& state, ratelimit::Clock& clock,
               std::shared_ptr<spdlog::logger> log, PushOptions options)
    : m_(m), all_(all), db_(db), crm_(crm), state_(state), clock_(clock), log_(std::move(log)),
      opt_(std::move(options)), types_(crm), clocks_(db, crm, clock, *log_) {}

Result<PushStats> Pusher::run() {
  done_ = {};
  PushStats& stats = done_;
  if (!m_.pushes()) return stats;
  if (auto st = db_.lock_mapping(m_.name); !st.ok()) return std::move(st).error();
  if (m_.kind == mapping::MappingKind::object) {
    // Links made before match keys existed learn theirs from the base.
    auto filled = state_.backfill_match_keys(m_.name, m_.match_field()->id, folds_match_case(m_));
    if (!filled.ok()) return std::move(filled).error();
    if (auto st = recover_write_intents(m_, crm_, state_, clock_.wall_ms(), opt_.clock_skew_ms, *log_);
        !st.ok())
      return std::move(st).error();
    if (auto st = recover_postgres_intents(m_, db_, state_, clock_.wall_ms(), *log_); !st.ok())
      return std::move(st).error();
  }
  if (auto st = begin_guard(); !st.ok()) return std::move(st).error();
  if (auto st = initial_load(stats); !st.ok()) return std::move(st).error();
  if (stats.more) return stats;  // stopped part-way through the load
  if (auto st = drain_changelog(stats); !st.ok()) return std::move(st).error();
  if (!stats.more && !stats.unreachable)
    if (auto st = end_guard(); !st.ok()) return std::move(st).error();
  return stats;
}

Status Pusher::initial_load(PushStats& stats) {
  auto resync = resync_request(state_, m_.name, state::Direction::to_hubspot);
  if (!resync.ok()) return std::move(resync).error();
  if (*resync != ResyncRequest::none) {
    // Rows that exist the load below meets; those gone only their links know.
    auto gone = requeue_links(true);
    if (!gone.ok()) return std::move(gone).error();
    if (auto st = take_resync(state_, m_, state::Direction::to_hubspot, kInitialLoad, *resync); !st.ok()) return st;
    log_->info("resync mapping={} direction=to_hubspot overwrite={}: the initial load starts again; linked rows "
               "gone={}",
               m_.name, *resync == ResyncRequest::overwrite, *gone);
  }
  auto cp = state_.get_checkpoint(m_.name, kInitialLoad);
  if (!cp.ok()) return std::move(cp).error();
  if (*cp && (*cp)->value == kDone) return {};
  // The pull's archived checkpoint is set once its first sweep completed.
  // That sweep met every object, unless filter.hubspot hid some from it:
  // then a row may still match an object no backfill linked. It links what
  // it met, except an object it dead-lettered (Postgres refused it, two
  // rows claim it): while any such letter is kept, rows are read first.
  auto swept = state_.get_checkpoint(m_.name, kArchivedCheckpoint);
  if (!swept.ok()) return std::move(swept).error();
  loading_after_backfill_ = swept->has_value() && m_.hubspot_filters.empty();
  if (loading_after_backfill_) {
    auto unlinked = state_.list_dead_letters({m_.name, state::Direction::to_postgres, std::nullopt, 1});
    if (!unlinked.ok()) return std::move(unlinked).error();
    loading_after_backfill_ = unlinked->empty();
  }
  struct Done {
    bool& flag;
    bool& loading;
    ~Done() { flag = loading = false; }
  } done_loading{loading_after_backfill_, loading_};
  loading_ = true;
  model::RecordKey after;
  if (*cp && (*cp)->value.rfind("after:", 0) == 0) {
    auto decoded = model::RecordKey::decode((*cp)->value.substr(6), m_.key.size());
    if (decoded) after = *decoded;
  }
  // Changes captured so far are already visible to the scan below.
  auto covered = db_.max_change_id(m_.name);
  if (!covered.ok()) return std::move(covered).error();
  covered_up_to_ = *covered;
  load_dead_lettered_.clear();
  auto total = db_.count_rows(m_);
  if (!total.ok()) return std::move(total).error();
  log_->info("initial load mapping={} rows={} resume={}", m_.name, *total,
             after.parts.empty() ? "no" : "yes");
  std::int64_t done = 0;
  bool stopped = false;
  if (opt_.progress) opt_.progress("initial load", m_.name, 0, -1);
  auto st = db_.scan_rows(m_, after, opt_.wave, [&](std::vector<Row>& rows) -> Status {
    std::vector<Item> items;
    items.reserve(rows.size());
    for (auto& r : rows) {
      Item it;
      it.key = r.key;
      it.pg_key = r.key.encoded();
      it.row = std::move(r);
      items.push_back(std::move(it));
    }
    if (auto s = process(items, stats); !s.ok()) return s;
    done += static_cast<std::int64_t>(items.size());
    if (opt_.progress) opt_.progress("initial load", m_.name, done, std::max(done, *total));
    if (auto s = state_.set_checkpoint(m_.name, kInitialLoad, "after:" + items.back().pg_key); !s.ok())
      return s;
    // HubSpot did not answer: the wave waits in the changelog; every further
    // wave would only wait out the same retries. Resume next run.
    if (stats.unreachable) return *stats.unreachable;
    if (opt_.stop && opt_.stop()) {
      stopped = true;
      return model::make_error(model::ErrorKind::transient, "stopping");  // ends the scan
    }
    return Status{};
  });
  if (!st.ok() && stats.unreachable) return {};
  if (stopped) {
    stats.more = true;
    log_->info("initial load stopped mapping={} rows={}: the next pass resumes it", m_.name, done);
    return {};
  }
  if (!st.ok()) return st;
  if (opt_.progress) opt_.progress("initial load", m_.name, done, done);
  log_->info("initial load done mapping={} rows={}", m_.name, done);
  return state_.set_checkpoint(m_.name, kInitialLoad, kDone);
}

Status Pusher::drain_changelog(PushStats& stats) {
  // Changes this pass already handled: when only those come back (deferred
  // with a short delay), the pass is caught up; they wait for the next one.
  std::set<std::int64_t> handled;
  for (bool first = true;; first = false) {
    if (!first && opt_.yield && opt_.yield()) {
      stats.more = true;  // the rest waits in the changelog for the next pass
      return {};
    }
    auto claimed = db_.claim_changes(m_, opt_.wave, opt_.lease_ms, opt_.worker);
    if (!claimed.ok()) return std::move(claimed).error();
    if (claimed->empty()) return {};
    if (std::all_of(claimed->begin(), claimed->end(),
                    [&](const model::Change& c) { return handled.count(c.id) > 0; }))
      return db_.release_changes(ids_of(*claimed), 0);
    for (const auto& c : *claimed)
      if (handled.insert(c.id).second) ++stats.captured;

    // A TRUNCATE asks for every linked row to be checked again.
    std::vector<CompletedChange> truncates;
    for (const auto& c : *claimed)
      if (c.op == model::ChangeOp::truncate) truncates.push_back({c.id, ChangeOutcome::synced, "truncate: every linked row re-checked"});
    if (!truncates.empty()) {
      auto queued = requeue_links(false);
      if (!queued.ok()) {
        (void)db_.release_changes(ids_of(*claimed), 0);
        return std::move(queued).error();
      }
      log_->warn("table truncated mapping={} table={} rechecking={}", m_.name, m_.table.display(), *queued);
      if (auto st = db_.complete_changes(truncates); !st.ok()) return st;
    }
    if (auto st = set_aside_other_keys(*claimed); !st.ok()) {
      (void)db_.release_changes(ids_of(*claimed), 0);
      return st;
    }
    if (auto st = follow_key_changes(*claimed); !st.ok()) {
      (void)db_.release_changes(ids_of(*claimed), 0);
      return st;
    }
    // Coalesce: one item per key, carrying every change id; the row's
    // current state decides what to do, so the order of ops is irrelevant.
    std::map<std::string, std::size_t> by_key;
    std::vector<Item> items;
    std::vector<model::RecordKey> keys;
    for (auto& c : *claimed) {
      if (c.op == model::ChangeOp::truncate) continue;
      std::string pg_key = c.key.encoded();
      auto [it, fresh] = by_key.emplace(pg_key, items.size());
      if (fresh) {
        Item item;
        item.key = c.key;
        item.pg_key = pg_key;
        item.covered = true;
        items.push_back(std::move(item));
        keys.push_back(c.key);
      }
      Item& item = items[it->second];
      item.change_ids.push_back(c.id);
      item.times.add(c.committed_at_ms, c.changed_columns);
      item.attempts = std::max(item.attempts, c.attempts);
      item.covered = item.covered && c.id <= covered_up_to_;
    }
    if (auto st = skip_load_dead_letters(items, keys); !st.ok()) {
      (void)db_.release_changes(ids_of(*claimed), 0);
      return st;
    }
    if (items.empty()) continue;
    auto rows = db_.read_rows(m_, keys);
    if (!rows.ok()) {
      (void)db_.release_changes(ids_of(*claimed), 0);
      return std::move(rows).error();
    }
    for (auto& item : items) {
      auto r = rows->find(item.pg_key);
      if (r != rows->end()) item.row = std::move(r->second);
    }
    if (auto st = process(items, stats); !st.ok()) {
      (void)db_.release_changes(ids_of(*claimed), 0);
      return st;
    }
    if (stats.unreachable) return {};  // the rest waits for a run that reaches HubSpot
  }
}

Status Pusher::skip_load_dead_letters(std::vector<Item>& items, std::vector<model::RecordKey>& keys) {
  if (load_dead_lettered_.empty()) return {};
  std::vector<CompletedChange> done;
  std::vector<Item> kept;
  keys.clear();
  for (auto& it : items) {
    if (!it.covered || !load_dead_lettered_.count(it.pg_key)) {
      keys.push_back(it.key);
      kept.push_back(std::move(it));
      continue;
    }
    for (auto id : it.change_ids) done.push_back({id, ChangeOutcome::dead_lettered, "dead-lettered by the initial load"});
  }
  items = std::move(kept);
  return db_.complete_changes(done);
}

Result<std::int64_t> Pusher::requeue_links(bool only_gone) {
  std::string after;
  std::int64_t queued = 0;
  while (true) {
    auto page = state_.list_links(m_.name, after, kLinkPage);
    if (!page.ok()) return std::move(page).error();
    if (page->empty()) break;
    after = page->back().pg_key;
    std::vector<model::RecordKey> keys;
    for (const auto& l : *page)
      if (auto k = model::RecordKey::decode(l.pg_key, m_.key.size())) keys.push_back(*k);
    if (only_gone) {
      auto rows = db_.read_rows(m_, keys);
      if (!rows.ok()) return std::move(rows).error();
      std::erase_if(keys, [&](const model::RecordKey& k) { return rows->count(k.encoded()) > 0; });
    }
    if (auto st = db_.enqueue(m_, keys, 0); !st.ok()) return std::move(st).error();
    queued += static_cast<std::int64_t>(keys.size());
  }
  return queued;
}

Status Pusher::set_aside_other_keys(std::vector<model::Change>& claimed) {
  std::vector<CompletedChange> done;
  std::erase_if(claimed, [&](const model::Change& c) {
    if (!c.other_key) return false;
    done.push_back({c.id, ChangeOutcome::ignored, "captured under other key columns; a resync sends what it changed"});
    return true;
  });
  if (done.empty()) return {};
  log_->warn("changes captured under other key columns mapping={} count={}: its key changed since they were "
             "captured, so they name no row; a resync to_hubspot is asked, whose load sends what they changed",
             m_.name, done.size());
  if (auto st = ask_resync(state_, m_.name, state::Direction::to_hubspot, false); !st.ok()) return st;
  return db_.complete_changes(done);
}

Status Pusher::follow_key_changes(const std::vector<model::Change>& claimed) {
  if (m_.kind == mapping::MappingKind::link) return {};  // a link row's key is its association
  for (const auto& c : claimed) {
    if (c.op != model::ChangeOp::del || !c.moved_to || c.moved_to->parts.size() != m_.key.size()) continue;
    const std::string from = c.key.encoded(), to = c.moved_to->encoded();
    auto moved = state_.move_link(m_.name, from, to);
    if (!moved.ok()) return std::move(moved).error();
    if (*moved) log_->info("key changed mapping={} key={} new_key={}: its link moves with it", m_.name, from, to);
  }
  return {};
}

Status Pusher::process(std::vector<Item>& items, PushStats& stats) {
  if (m_.kind == mapping::MappingKind::link) return process_links(items, stats);
  Batch b{items, stats, clock_.wall_ms(), {}, {}, {}, {}, {}, {}, {}, {}};
  if (auto st = load_links(b); !st.ok()) return st;
  for (std::size_t i = 0; i < items.size(); ++i) plan_item(b, i);
  if (auto st = resolve_recorded_ids(b); !st.ok()) return st;
  if (auto st = resolve_match_owners(b); !st.ok()) return st;
  if (auto st = check_hubspot(b); !st.ok()) return st;
  if (auto st = send_updates(b, b.updates); !st.ok()) return st;
  if (auto st = send_upserts(b); !st.ok()) return st;
  if (auto st = send_archives(b); !st.ok()) return st;
  if (auto st = update_rounds(b, std::exchange(b.after_archives, {}), false, true); !st.ok()) return st;
  if (auto st = push_associations(b); !st.ok()) return st;
  return finish(b);
}

void Pusher::dead_letter(Batch& b, Item& it, const model::Error& e, const std::string& payload) {
  state::DeadLetter dl;
  dl.mapping = m_.name;
  dl.direction = state::Direction::to_hubspot;
  dl.pg_key = it.pg_key;
  dl.hubspot_id = it.hubspot_id;
  dl.payload_json = payload;
  dl.error_kind = e.kind;
  dl.http_status = e.http_status;
  dl.category = e.category;
  dl.message = e.message;
  dl.first_failed_at_ms = dl.last_failed_at_ms = b.now;
  dl.next_retry_at_ms = b.now;  // retried on the store's schedule
  it.outcome = ChangeOutcome::dead_lettered;
  it.retry_later = false;
  if (loading_) load_dead_lettered_.insert(it.pg_key);
  it.detail = e.category.empty() ? model::to_string(e.kind) : e.category;
  ++b.stats.dead_lettered;
  // The message stays in the dead letter: HubSpot's text can quote field
  // values, which never go to logs.
  log_->warn("dead-lettered mapping={} key={} kind={} status={} category={} code={}", m_.name,
             it.pg_key, model::to_string(e.kind), e.http_status, e.category, e.code);
  b.dead.push_back(std::move(dl));
}

Status Pusher::finish(Batch& b) {
  // State store first, then the changelog: a crash in between repeats only
  // idempotent work. Intents settle with the batch's commit.
  for (const auto& dl : b.dead)
    if (auto r = state_.add_dead_letter(dl); !r.ok()) return std::move(r).error();
  // A conflict is recorded once its write went out; a row that waits or
  // failed decides again when it is retried.
  std::set<std::string> unsent;
  for (const auto& it : b.items)
    if (it.retry_later || it.outcome == ChangeOutcome::dead_lettered) unsent.insert(it.pg_key);
  for (const auto& c : b.conflicts) {
    if (unsent.count(c.pg_key)) {
      --b.stats.conflicts;
      continue;
    }
    if (auto r = state_.record_conflict(c); !r.ok()) return std::move(r).error();
  }
  state::BatchCommit commit{m_.name, std::move(b.records), std::move(b.removed), {}};
  for (const auto& it : b.items)
    if (it.intent) commit.intents_done.push_back(it.pg_key);
  if (!commit.records.empty() || !commit.removed_pg_keys.empty() || !commit.intents_done.empty())
    if (auto st = state_.commit_batch(commit); !st.ok()) return st;

  std::vector<CompletedChange> done;
  std::vector<std::int64_t> later;
  std::vector<model::RecordKey> requeue;
  std::vector<std::string> settled;  // rows now in agreement: older dead letters are moot
  std::int64_t delay = 0;
  for (auto& it : b.items) {
    if (it.retry_later) {
      delay = std::max(delay, it.retry_delay_ms);
      if (it.change_ids.empty()) requeue.push_back(it.key);
      later.insert(later.end(), it.change_ids.begin(), it.change_ids.end());
      continue;
    }
    if (it.outcome && *it.outcome != ChangeOutcome::dead_lettered) settled.push_back(it.pg_key);
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
  const auto& s = b.stats;
  log_->info("push mapping={} rows={} created={} updated={} unchanged={} archived={} dead={} "
             "associations={}",
             m_.name, b.items.size(), s.created, s.updated, s.unchanged, s.archived,
             s.dead_lettered, s.associations);
  return {};
}

std::string Pusher::describe(const std::string& pg_key) const { return describe_row(m_, pg_key); }

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
        dl.status != state::DeadLetterStatus::pending || dl.in_queue)
      continue;
    auto key = model::RecordKey::decode(dl.pg_key, m.key.size());
    if (!key) continue;
    keys.push_back(*key);
    ids.push_back(dl.id);
  }
  if (auto st = db.enqueue(m, keys, 0); !st.ok()) return std::move(st).error();
  // The letter stays, queued: a row that syncs resolves it; one that fails
  // again adds an attempt and waits longer.
  if (auto st = state.mark_dead_letters_queued(ids); !st.ok()) return std::move(st).error();
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
