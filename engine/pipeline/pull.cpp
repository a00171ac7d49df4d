// The pull pass of one mapping: the sweep of objects modified since the
// checkpoint, archived objects, the periodic association pass; and the
// reconcile of one batch of objects (process), shared by every intake.
#include "engine/pipeline/pull.h"

#include <algorithm>
#include <set>
#include <utility>

#include "engine/pipeline/pull_item.h"

#include "engine/pipeline/intents.h"
#include "engine/pipeline/resync.h"
#include "engine/pipeline/sync_helpers.h"

namespace hubsync::pipeline {

using model::ErrorKind;
using model::Result;
using model::Status;

namespace {
constexpr const char* kArchived = kArchivedCheckpoint;
constexpr const char* kAssociationPass = "association_pass";
constexpr const char* kMergedIds = "hs_merged_object_ids";
}  // namespace

PullStats& PullStats::operator+=(const PullStats& o) {
  created += o.created;
  updated += o.updated;
  linked += o.linked;
  deleted += o.deleted;
  unchanged += o.unchanged;
  filtered += o.filtered;
  conflicts += o.conflicts;
  dead_lettered += o.dead_lettered;
  hubspot_updates += o.hubspot_updates;
  associations += o.associations;
  deferred += o.deferred;
  changed_meanwhile += o.changed_meanwhile;
  read += o.read;
  held += o.held;
  if (o.unreachable) unreachable = o.unreachable;
  more = more || o.more;
  return *this;
}

Puller::Puller(const mapping::Mapping& m,
               const std::map<std::string, const mapping::Mapping*>& all, DatabasePort& db,
               CrmPort& crm, state::StateStore& state, ratelimit::Clock& clock,
               std::shared_ptr<spdlog::logger> log, PullOptions options)
    : m_(m), all_(all), db_(db), crm_(crm), state_(state), clock_(clock), log_(std::move(log)),
      opt_(options), types_(crm), clocks_(db, crm, clock, *log_) {}

Result<PullStats> Puller::run() {
  done_ = {};
  guard_.reset();
  held_keys_.clear();
  claims_.clear();
  PullStats& stats = done_;
  if (!m_.pulls()) return stats;
  if (auto st = db_.lock_mapping(m_.name); !st.ok()) return std::move(st).error();
  if (m_.kind == mapping::MappingKind::object) {
    if (auto st = recover_write_intents(m_, crm_, state_, clock_.wall_ms(), opt_.clock_skew_ms, *log_);
        !st.ok())
      return std::move(st).error();
    if (auto st = recover_postgres_intents(m_, db_, state_, clock_.wall_ms(), *log_); !st.ok())
      return std::move(st).error();
  }
  if (auto st = take_resync_request(); !st.ok()) return std::move(st).error();
  if (m_.kind == mapping::MappingKind::object) {
    if (auto st = sweep(stats); !st.ok()) return std::move(st).error();
    if (stats.more) return stats;
    if (auto st = follow_archived(stats); !st.ok()) return std::move(st).error();
    if (auto st = retry_freed_rows(stats); !st.ok()) return std::move(st).error();
  }
  if (auto st = association_pass(stats); !st.ok()) return std::move(st).error();
  // A run that saw everything and held nothing: an earlier hold is over.
  if (m_.kind == mapping::MappingKind::object && !stats.unreachable)
    if (auto st = guard().finish(0); !st.ok()) return std::move(st).error();
  return stats;
}

Status Puller::take_resync_request() {
  auto asked = resync_request(state_, m_.name, state::Direction::to_postgres);
  if (!asked.ok()) return std::move(asked).error();
  if (*asked == ResyncRequest::none) return {};
  // A pass last made at the epoch is due whatever association_pass_every_ms says.
  if (auto st = state_.set_checkpoint(m_.name, kAssociationPass, "0"); !st.ok()) return st;
  if (auto st = take_resync(state_, m_, state::Direction::to_postgres, kSweepCheckpoint, *asked); !st.ok()) return st;
  log_->info("resync mapping={} direction=to_postgres overwrite={}: the sweep reads every object again, the "
             "association pass runs now",
             m_.name, *asked == ResyncRequest::overwrite);
  return {};
}

DeleteGuard& Puller::guard() {
  if (!guard_) guard_.emplace(m_, state::Direction::to_postgres, state_, clock_, log_, opt_.allow_deletes);
  return *guard_;
}

Result<bool> Puller::admit_deletes(const std::vector<std::string>& pg_keys, PullStats& stats) {
  if (m_.deletes == mapping::DeletePolicy::ignore || pg_keys.empty()) return true;
  auto room = guard().room();
  if (!room.ok()) return std::move(room).error();
  if (static_cast<std::int64_t>(pg_keys.size()) <= *room) return true;
  // The archived listing and the association pass can meet the same rows.
  for (const auto& k : pg_keys)
    if (held_keys_.insert(k).second) ++stats.held;
  if (auto st = guard().hold(static_cast<std::int64_t>(held_keys_.size())); !st.ok()) return std::move(st).error();
  return false;
}

std::vector<std::string> properties_of(const mapping::Mapping& m) {
  auto props = m.hubspot_properties();
  props.push_back(kMergedIds);
  // A read by id tests filter.hubspot itself, on properties no field need map.
  for (const auto& f : m.hubspot_filters)
    if (std::find(props.begin(), props.end(), f.property) == props.end()) props.push_back(f.property);
  return props;
}

Result<PullStats> Puller::pull_ids(const std::vector<std::string>& hubspot_ids) {
  PullStats stats;
  if (hubspot_ids.empty() || m_.kind != mapping::MappingKind::object) return stats;
  // A pull that died mid-batch (serve restarted) is settled before any merge.
  if (auto st = recover_postgres_intents(m_, db_, state_, clock_.wall_ms(), *log_); !st.ok())
    return std::move(st).error();
  ReadRequest req;
  req.properties = properties_of(m_);
  auto read = crm_.read_objects(m_.object.path(), hubspot_ids, req);
  if (!read.ok()) return std::move(read).error();
  std::vector<model::Record> records;
  std::vector<std::string> gone;
  for (std::size_t i = 0; i < read->size(); ++i) {
    auto& o = (*read)[i];
    if (o.error) return *o.error;
    if (!o.record) {
      gone.push_back(hubspot_ids[i]);
      continue;
    }
    const mapping::Properties props = props_of(o.record->fields);
    if (!m_.pull_filter_accepts(props)) {
      ++stats.filtered;
      continue;
    }
    records.push_back(std::move(*o.record));
  }
  stats.read += static_cast<std::int64_t>(records.size());
  if (auto st = process(records, stats); !st.ok()) return std::move(st).error();
  // Objects that no longer exist: archived (or merged away unseen).
  std::vector<std::string> keys;
  for (const auto& id : gone) {
    auto link = state_.find_link_by_hubspot_id(m_.name, id);
    if (!link.ok()) return std::move(link).error();
    if (*link && (*link)->hubspot_id == id) keys.push_back((*link)->pg_key);
  }
  auto admitted = admit_deletes(keys, stats);
  if (!admitted.ok()) return std::move(admitted).error();
  if (!keys.empty() && *admitted) {  // held: the archived listing or the next pass finds them again
    Batch b{{}, stats, clock_.wall_ms(), {}, {}, {}, {}, {}, {}, {}};
    if (auto st = apply_deletes(b, keys, "archived in HubSpot"); !st.ok()) return std::move(st).error();
    if (auto st = commit(b); !st.ok()) return std::move(st).error();
  }
  if (auto st = retry_freed_rows(stats); !st.ok()) return std::move(st).error();
  return stats;
}

// Archived objects never appear in search: page the archived listing and
// follow those archived since the checkpoint (less the overlap).
Status Puller::follow_archived(PullStats& stats) {
  auto cp = state_.get_checkpoint(m_.name, kArchived);
  if (!cp.ok()) return std::move(cp).error();
  std::int64_t since = 0, newest = 0;
  if (*cp) since = std::max<std::int64_t>(0, std::stoll((*cp)->value) - opt_.overlap_ms);
  newest = since;
  std::vector<std::string> keys;
  std::string after;
  do {
    auto page = crm_.list_archived(m_.object.path(), after, {m_.match_property});
    if (!page.ok()) {
      if (page.error().retryable()) {
        stats.unreachable = page.error();
        return {};
      }
      return std::move(page).error();
    }
    for (const auto& r : page->records) {
      if (r.changed_at_ms < since) continue;
      newest = std::max(newest, r.changed_at_ms);
      // Only the object's own link: an absorbed id resolves to its survivor.
      auto link = state_.find_link_by_hubspot_id(m_.name, r.hubspot_id);
      if (!link.ok()) return std::move(link).error();
      if (*link && (*link)->hubspot_id == r.hubspot_id) keys.push_back((*link)->pg_key);
    }
    after = page->next_after;
  } while (!after.empty());
  auto admitted = admit_deletes(keys, stats);
  if (!admitted.ok()) return std::move(admitted).error();
  if (!*admitted) return {};  // held: the checkpoint stays, so the next run lists them again
  if (!keys.empty()) {
    Batch b{{}, stats, clock_.wall_ms(), {}, {}, {}, {}, {}, {}, {}};
    if (auto st = apply_deletes(b, keys, "archived in HubSpot"); !st.ok()) return st;
    if (auto st = commit(b); !st.ok()) return st;
  }
  return state_.set_checkpoint(m_.name, kArchived, std::to_string(newest));
}

Status Puller::retry_freed_rows(PullStats& stats) {
  std::vector<std::string> ids;
  for (const auto& c : std::exchange(claims_, {})) {
    auto link = state_.find_link_by_hubspot_id(m_.name, c.owner);
    if (!link.ok()) return std::move(link).error();
    if (*link && (*link)->hubspot_id == c.owner) continue;  // the row still syncs its object
    if (dead_lettered_.erase(c.object) && c.counted) --stats.dead_lettered;
    ids.push_back(c.object);
  }
  if (ids.empty()) return {};
  log_->info("pull retries {} object(s) mapping={}: the row each claimed synced an object this pass found "
             "archived",
             ids.size(), m_.name);
  auto again = pull_ids(ids);
  if (!again.ok()) return std::move(again).error();
  stats += *again;
  return {};
}

Status Puller::association_pass(PullStats& stats) {
  auto cp = state_.get_checkpoint(m_.name, kAssociationPass);
  if (!cp.ok()) return std::move(cp).error();
  const std::int64_t now = clock_.wall_ms();
  if (*cp && now - std::stoll((*cp)->value) < opt_.association_pass_every_ms) return {};
  // An object mapping's first pull (the backfill) just read every object
  // and its associations: the first full pass is due one period later. A
  // link table has no sweep of its own, so its first pass is now.
  if (!*cp && !m_.link) return state_.set_checkpoint(m_.name, kAssociationPass, std::to_string(now));
  // Every linked object of the mapping (of the link's `from` end for a link
  // table), a thousand at a time: HubSpot's batch/read limit.
  const std::string source = m_.link ? m_.link->from_mapping : m_.name;
  auto total = state_.count_links(source);
  if (!total.ok()) return std::move(total).error();
  std::int64_t passed = 0;
  if (opt_.progress) opt_.progress("association pass", m_.name, 0, -1);
  std::string after;
  while (true) {
    auto links = state_.list_links(source, after, 1000);
    if (!links.ok()) return std::move(links).error();
    if (links->empty()) break;
    passed += static_cast<std::int64_t>(links->size());
    std::vector<std::string> ids;
    for (const auto& l : *links) ids.push_back(l.hubspot_id);
    if (m_.link) {
      Batch b{{}, stats, now, {}, {}, {}, {}, {}, {}, {}};
      for (const auto& l : *links) {
        Item it;
        it.record.hubspot_id = l.hubspot_id;
        it.pg_key = l.pg_key;
        it.linked = true;
        b.items.push_back(std::move(it));
      }
      if (auto st = pull_associations(b); !st.ok()) return st;
      if (auto st = commit(b); !st.ok()) return st;
    } else {
      // Every linked object read again: an association moved in HubSpot
      // (it never moves a modified time), and an object deleted for good
      // (GDPR, purged from the recycle bin: never in the archived listing)
      // is found here and follows the mapping's `deletes`.
      // What the pass changes counts; what it only reads again does not
      // (a run's "unchanged" is not every linked object once more).
      auto r = pull_ids(ids);
      if (!r.ok()) return std::move(r).error();
      r->unchanged = r->filtered = 0;
      stats += *r;
    }
    after = links->back().pg_key;
    if (opt_.progress)
      opt_.progress("association pass", m_.name, passed, std::max<std::int64_t>(passed, static_cast<std::int64_t>(*total)));
  }
  if (opt_.progress) opt_.progress("association pass", m_.name, passed, passed);
  return state_.set_checkpoint(m_.name, kAssociationPass, std::to_string(now));
}

Status Puller::process(std::vector<model::Record>& records, PullStats& stats, bool from_search) {
  if (records.empty()) return {};
  Batch b{{}, stats, clock_.wall_ms(), {}, {}, {}, {}, {}, {}, {}};
  for (auto& r : records) {
    Item it;
    it.props = props_of(r.fields);
    it.record = std::move(r);
    b.items.push_back(std::move(it));
  }
  using Step = Status (Puller::*)(Batch&);
  for (Step step : {&Puller::follow_merges, &Puller::resolve_links, &Puller::match_rows,
                    &Puller::read_rows, &Puller::plan_fields})
    if (auto st = (this->*step)(b); !st.ok()) return st;
  if (from_search)
    if (auto st = reread_before_writing(b); !st.ok()) return st;
  if (auto st = read_hubspot_times(b); !st.ok()) return st;
  for (auto& it : b.items) plan_item(b, it);
  if (auto st = apply_postgres(b); !st.ok()) return st;
  if (auto st = apply_hubspot(b); !st.ok()) return st;
  if (auto st = pull_associations(b); !st.ok()) return st;
  return commit(b);
}

Result<std::int64_t> Puller::retry_dead_letters(bool all) {
  // It writes both systems: only the mapping's lease holder may.
  if (auto st = db_.lock_mapping(m_.name); !st.ok()) return std::move(st).error();
  state::DeadLetterFilter filter;
  filter.mapping = m_.name;
  filter.direction = state::Direction::to_postgres;
  filter.status = state::DeadLetterStatus::pending;
  filter.limit = 100000;
  auto list = all ? state_.list_dead_letters(filter) : state_.due_dead_letters(clock_.wall_ms(), 100000);
  if (!list.ok()) return std::move(list).error();
  std::vector<std::string> ids;
  for (const auto& dl : *list)
    if (dl.mapping == m_.name && dl.direction == state::Direction::to_postgres && !dl.hubspot_id.empty())
      ids.push_back(dl.hubspot_id);
  if (ids.empty()) return 0;
  auto r = pull_ids(ids);
  if (!r.ok()) return std::move(r).error();
  return static_cast<std::int64_t>(ids.size());
}

}  // namespace hubsync::pipeline
