#pragma once

// Internal to the pull pipeline (pull*.cpp).
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/pipeline/change_times.h"
#include "engine/pipeline/pull.h"
#include "engine/reconcile/merge.h"

namespace hubsync::pipeline {

/// One HubSpot object being reconciled with its row.
struct Puller::Item {
  model::Record record;      // the object as HubSpot has it now
  mapping::Properties props; // its properties, as HubSpot's strings
  std::string pg_key;        // its row ("" while a new row is not inserted yet)
  bool linked = false;       // the state store linked it before this batch
  bool insert = false;       // no row: insert one
  bool restore = false;      // the row was soft-deleted: clear the mark
  std::optional<Row> row;
  state::SyncedFields base;
  ChangeTimes pg_times;      // when its pending changes were captured, by column
  std::map<std::string, std::int64_t> hs_times;  // field id -> property time, when read

  // Decided.
  bool done = false;                    // nothing more to do (skipped, dead-lettered)
  std::map<std::string, reconcile::Decision> decisions;  // field id -> decision
  std::map<std::string, std::string> pg_compare, hs_compare;
  model::Fields pg_values;              // columns to write in Postgres
  mapping::Properties hs_props;         // properties to write in HubSpot
  std::vector<std::string> hs_fields;   // fields written to HubSpot
  std::map<std::string, std::string> stored;  // what HubSpot stored (its write answer)
  std::vector<state::ConflictRecord> conflicts;
  /// An associated object with no row yet ("<mapping> object <id>"): the
  /// foreign key waits, and the object is pulled again later.
  std::string waits_for;
};

/// Everything one batch of objects decides and writes.
struct Puller::Batch {
  std::vector<Item> items;
  PullStats& stats;
  std::int64_t now = 0;
  std::vector<state::SyncedRecord> records;
  std::vector<std::string> removed;           // rows whose link and base go
  std::vector<std::string> intents;           // rows with a HubSpot write intent
  std::vector<std::string> pg_intents;        // rows with a Postgres intent
  std::vector<state::DeadLetter> dead;
  std::vector<state::ConflictRecord> conflicts;
  std::vector<std::string> settled;           // object ids now in agreement
};

/// What a link table needs after reading its pairs from HubSpot.
struct Puller::LinkPlan {
  std::vector<RowWrite> inserts;
  std::vector<std::pair<std::string, std::string>> insert_pairs;  // (from id, to id) of each insert
  std::vector<model::RecordKey> deletes;
  std::vector<state::SyncedRecord> adopted;  // rows both sides already have: only the base
};

/// Ids of the objects each object is associated with by `type`.
std::map<std::string, std::set<std::string>> targets_of(const std::vector<Associated>& all,
                                                        const AssociationType& type);
/// Every property the pull reads: the mapping's, the merge trail, and
/// those filter.hubspot tests.
std::vector<std::string> properties_of(const mapping::Mapping& m);
/// The key text of a single-column pg_key (what a foreign key holds).
std::string key_text(const std::string& pg_key);

}  // namespace hubsync::pipeline
