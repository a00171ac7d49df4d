// The push's side of the mass-deletion guard (delete_guard.h): before the
// first archive of a pass, every pending departure of the mapping is
// counted, and the pass archives all of them or none.
#include "engine/pipeline/push.h"
#include "engine/pipeline/push_item.h"

#include <algorithm>
#include <set>

#include "engine/pipeline/sync_helpers.h"

namespace hubsync::pipeline {

using model::Result;
using model::Status;

namespace {
constexpr std::size_t kScanPage = 1000;
}

// Linked rows whose row is gone, soft-deleted or outside the filter: those
// with a pending change (what the changelog would archive if drained now)
// and, with `every_link`, every linked row (what an initial load would).
// A gone row whose match value a row not linked yet holds, with a pending
// change of its own, is none: that row takes its object over
// (resolve_match_owners), as a row deleted and inserted again does.
Result<std::int64_t> Pusher::pending_departures(bool every_link) {
  std::set<std::string> seen;
  std::vector<std::string> departing;  // the match key of each departing link
  std::set<std::string> arriving;      // match keys of unlinked live rows with a change
  const auto count = [&](const std::vector<model::RecordKey>& keys) -> Status {
    auto rows = db_.read_rows(m_, keys);
    if (!rows.ok()) return std::move(rows).error();
    for (const auto& key : keys) {
      const std::string pg_key = key.encoded();
      auto r = rows->find(pg_key);
      const bool gone = row_gone(m_, r == rows->end() ? std::nullopt : std::optional<Row>(r->second));
      auto link = state_.find_link_by_pg_key(m_.name, pg_key);
      if (!link.ok()) return std::move(link).error();
      if (gone && *link) departing.push_back((*link)->match_key.value_or(""));
      if (!gone && !*link) arriving.insert(current_match_key(r->second));
    }
    return {};
  };
  for (std::int64_t after = 0;;) {
    auto page = db_.list_pending(m_, after, kScanPage);
    if (!page.ok()) return std::move(page).error();
    if (page->empty()) break;
    after = page->back().id;
    std::vector<model::RecordKey> keys;
    for (const auto& c : *page) {
      if (c.op == model::ChangeOp::truncate || c.other_key) continue;  // other_key: names no row
      // A key change's old key is no departure: its link moves to the new
      // key (follow_key_changes). Seen, so the pass over links skips it too.
      if (c.moved_to && m_.kind != mapping::MappingKind::link) {
        seen.insert(c.key.encoded());
        continue;
      }
      if (seen.insert(c.key.encoded()).second) keys.push_back(c.key);
    }
    if (auto st = count(keys); !st.ok()) return std::move(st).error();
  }
  for (std::string after; every_link;) {
    auto page = state_.list_links(m_.name, after, kScanPage);
    if (!page.ok()) return std::move(page).error();
    if (page->empty()) break;
    after = page->back().pg_key;
    std::vector<model::RecordKey> keys;
    for (const auto& l : *page)
      if (auto k = model::RecordKey::decode(l.pg_key, m_.key.size()); k && seen.insert(l.pg_key).second)
        keys.push_back(*k);
    if (auto st = count(keys); !st.ok()) return std::move(st).error();
  }
  return static_cast<std::int64_t>(std::count_if(departing.begin(), departing.end(), [&](const std::string& k) {
    return k.empty() || !arriving.count(k);
  }));
}

// Held changes wait out their hold delay; a pass that may now make them
// (allowed since) makes them claimable at once.
Status Pusher::begin_guard() {
  guard_.emplace(m_, state::Direction::to_hubspot, state_, clock_, log_, opt_.allow_deletes);
  archive_room_.reset();
  pg_guard_.reset();
  held_gone_ = 0;
  archives_sent_ = 0;
  holding_ = false;
  auto again = guard_->begin();
  if (!again.ok()) return std::move(again).error();
  if (!*again) return {};
  std::int64_t after = 0;
  while (true) {
    auto page = db_.list_pending(m_, after, kScanPage);
    if (!page.ok()) return std::move(page).error();
    if (page->empty()) return {};
    after = page->back().id;
    std::vector<std::int64_t> ids;
    for (const auto& c : *page) ids.push_back(c.id);
    if (auto st = db_.release_changes(ids, 0); !st.ok()) return st;
  }
}

// A pass that drained the changelog and held nothing: an earlier hold is
// over once its changes came due (or, recounting, when none is left).
Status Pusher::end_guard() {
  std::int64_t settle = opt_.held_retry_ms;
  if (opt_.recount_holds && !guard_->held()) {
    auto held = held_deletes(state_, m_.name, state::Direction::to_hubspot);
    if (!held.ok()) return std::move(held).error();
    if (*held) {
      auto left = pending_departures(false);
      if (!left.ok()) return std::move(left).error();
      if (*left == 0) settle = 0;
    }
  }
  return guard_->finish(settle);
}

// The pass's first archive decides for all it would make: every pending
// departure (and in an initial load every linked row's) is counted, unless
// the cheap bound of changes (or links) already fits the room. Later
// batches are still bounded by that room (departures appearing meanwhile).
Status Pusher::admit_archives(Batch& b) {
  if (b.archives.empty()) return {};
  const auto n = static_cast<std::int64_t>(b.archives.size());
  if (!archive_room_) {
    auto room = guard_->room();
    if (!room.ok()) return std::move(room).error();
    archive_room_ = *room;
    auto bound = loading_ ? model::Result<std::int64_t>(std::int64_t{0}) : db_.count_pending(m_.name);
    if (!bound.ok()) return std::move(bound).error();
    if (loading_) {
      auto links = state_.count_links(m_.name);
      if (!links.ok()) return std::move(links).error();
      bound = static_cast<std::int64_t>(*links);
    }
    std::int64_t wanted = n;
    if (*bound > *room) {
      auto departures = pending_departures(loading_);
      if (!departures.ok()) return std::move(departures).error();
      wanted = std::max(wanted, *departures);
    }
    holding_ = wanted > *room;
    if (holding_)
      if (auto st = guard_->hold(wanted); !st.ok()) return st;
  }
  if (!holding_ && archives_sent_ + n <= *archive_room_) {
    archives_sent_ += n;
    return {};
  }
  holding_ = true;
  for (auto i : b.archives) {
    Item& it = b.items[i];
    it.retry_later = true;
    it.retry_delay_ms = opt_.held_retry_ms;
    ++b.stats.held;
  }
  b.archives.clear();
  return guard_->hold(b.stats.held);
}

// Rows whose object HubSpot deleted, met by an update (follow_gone): the
// pull's guard decides, as for the archived listing, which finds them too.
Result<bool> Pusher::admit_postgres_deletes(Batch& b, const std::vector<Write*>& deleted) {
  if (!pg_guard_) pg_guard_.emplace(m_, state::Direction::to_postgres, state_, clock_, log_, opt_.allow_deletes);
  const auto n = static_cast<std::int64_t>(deleted.size());
  auto room = pg_guard_->room();
  if (!room.ok()) return std::move(room).error();
  if (n <= *room) {
    if (auto st = pg_guard_->made(n); !st.ok()) return std::move(st).error();
    return true;
  }
  held_gone_ += n;
  if (auto st = pg_guard_->hold(held_gone_); !st.ok()) return std::move(st).error();
  for (Write* w : deleted) {
    Item& it = b.items[w->item];
    it.retry_later = true;
    it.retry_delay_ms = opt_.held_retry_ms;
    ++b.stats.held;
  }
  return false;
}

}  // namespace hubsync::pipeline
