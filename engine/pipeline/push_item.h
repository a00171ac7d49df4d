#pragma once

// Internal to the push pipeline (push*.cpp).
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/pipeline/change_times.h"
#include "engine/pipeline/push.h"
#include "engine/pipeline/sync_helpers.h"

namespace hubsync::pipeline {

/// One row to push: from the initial scan (no change ids) or coalesced from
/// one or more changelog rows of the same key.
struct Pusher::Item {
  model::RecordKey key;
  std::string pg_key;
  std::vector<std::int64_t> change_ids;
  std::optional<Row> row;  // nullopt: the row is gone
  ChangeTimes times;       // when its changes were captured, by column (none: the initial load)
  int attempts = 0;        // the most times one of its changes was claimed
  bool covered = false;    // every change predates this pass's initial load

  // The row's object and merge base, as the state store holds them.
  std::string hubspot_id;  // empty: not linked
  state::SyncedFields base;

  // Decided while processing.
  std::optional<ChangeOutcome> outcome;
  std::string detail;
  bool retry_later = false;  // release (or enqueue) instead of completing
  std::int64_t retry_delay_ms = 0;
  bool intent = false;       // a write intent was recorded for it
};

/// One HubSpot write for an item: an update by id, or an upsert by match value.
struct Pusher::Write {
  std::size_t item = 0;
  mapping::Properties all_props;               // every property the row gives HubSpot
  mapping::Properties props;                   // what goes out
  std::map<std::string, std::string> compare;  // field id -> comparison value (every field)
  std::vector<std::string> sent_fields;        // field ids written: their new base
  std::string match_value;                     // the match property's value
  std::string match_key;                       // normalised (e.g. lower-cased email)
  bool dropped = false;                        // decided against (conflict): not sent
  bool by_recorded_id = false;                 // an unlinked row updating the object whose id it kept
  std::vector<std::string> needs_time;         // fields whose `newest` conflict needs HubSpot's time
};

/// Everything one batch of items decides and writes.
struct Pusher::Batch {
  std::vector<Item>& items;
  PushStats& stats;
  std::int64_t now = 0;
  std::vector<Write> updates;   // linked rows (also those with nothing to send)
  std::vector<Write> upserts;   // rows not linked yet
  std::vector<std::size_t> archives;
  std::vector<Write*> after_archives;  // updates whose unique value an archive of this batch frees
  std::vector<state::DeadLetter> dead;
  std::vector<state::SyncedRecord> records;
  std::vector<std::string> removed;  // rows whose link and base go
  std::vector<state::ConflictRecord> conflicts;
};

/// What the rounds of one send_updates call collect.
struct Pusher::UpdateRounds {
  struct Blocked {
    Write* w = nullptr;
    WriteOutcome o;  // HubSpot's refusal, existing_id naming the holder
  };
  std::vector<Write*> gone;                        // answered 404: deleted or merged in HubSpot
  std::vector<Blocked> blocked;                    // refused: another object holds a unique value
  std::set<std::string> landed;                    // objects updated so far
  std::set<std::pair<Write*, std::string>> tried;  // (write, holder) already sent again
  bool archives_sent = false;                      // the batch's archives are done: none to wait for
};

/// Ends an item with nothing to write. Changes the initial load of this
/// pass already covered are not counted again.
inline void mark_unchanged(Pusher::Item& it, PushStats& stats, std::string detail = "") {
  it.outcome = ChangeOutcome::unchanged;
  it.detail = std::move(detail);
  if (!it.covered) ++stats.unchanged;
}

}  // namespace hubsync::pipeline
