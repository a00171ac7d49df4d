#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "engine/mapping/mapping.h"
#include "engine/pipeline/crm_port.h"
#include "engine/pipeline/database_port.h"
#include "engine/ratelimit/clock.h"
#include "engine/state/state_store.h"

namespace hubsync::pipeline {

/// What one push pass did, per mapping. Summed over mappings by the caller.
struct PushStats {
  std::int64_t created = 0;        ///< new HubSpot objects
  std::int64_t updated = 0;        ///< existing objects written
  std::int64_t unchanged = 0;      ///< rows with nothing new: no API call
  std::int64_t archived = 0;       ///< deletes sent to batch/archive
  std::int64_t filtered = 0;       ///< rows outside the mapping's filter
  std::int64_t ignored = 0;        ///< deletes with `deletes: ignore`
  std::int64_t dead_lettered = 0;  ///< rows HubSpot refused (see dead-letters)
  std::int64_t deferred = 0;       ///< waiting for an associated row's HubSpot id
  std::int64_t associations = 0;   ///< associations created
  std::int64_t retried = 0;        ///< rows released after a transient failure
  std::int64_t pushed() const { return created + updated; }
  PushStats& operator+=(const PushStats& o);
};

/// Progress of a long pass (initial load): rows done out of an estimate.
using ProgressFn = std::function<void(const std::string& mapping, std::int64_t done,
                                      std::int64_t total)>;

struct PushOptions {
  std::size_t wave = 1000;          ///< rows handled per round trip set (several batches in flight)
  std::int64_t lease_ms = 300'000;  ///< how long a claimed change is ours
  std::int64_t defer_ms = 60'000;   ///< retry delay for rows waiting on a parent
  std::int64_t transient_retry_ms = 30'000;
  std::string worker = "hubsync";
  ProgressFn progress;
};

/// The Postgres -> HubSpot path of one mapping (ARCHITECTURE §2, push):
/// initial load, then the changelog until caught up. Commit order is HubSpot
/// write -> state store (ids, synced values) -> changelog rows archived with
/// their outcome, so a crash at any point only repeats idempotent work
/// (upserts are keyed on the mapping's unique match property).
class Pusher {
 public:
  /// `all` holds every mapping by name (association targets are looked up
  /// there). Every reference must outlive the Pusher.
  Pusher(const mapping::Mapping& m, const std::map<std::string, const mapping::Mapping*>& all,
         DatabasePort& db, CrmPort& crm, state::StateStore& state, ratelimit::Clock& clock,
         std::shared_ptr<spdlog::logger> log, PushOptions options = {});

  /// Takes the mapping's push lock, runs the initial load if it has not
  /// completed, then drains the changelog until nothing claimable is left.
  /// Errors: `conflict` if another process pushes this mapping; `auth`,
  /// `fatal` and exhausted retries stop the pass (claimed changes are
  /// released, nothing is lost). Per-record failures do not: they are
  /// dead-lettered and counted.
  model::Result<PushStats> run();

  /// Re-enqueues this mapping's dead letters that are due (or all pending
  /// ones with `all`); they are pushed by the next run(). Returns how many.
  model::Result<std::int64_t> requeue_dead_letters(bool all);

 private:
  struct Item;
  model::Status initial_load(PushStats& stats);
  model::Status drain_changelog(PushStats& stats);
  model::Status process(std::vector<Item>& items, PushStats& stats);
  model::Status push_associations(std::vector<Item>& items,
                                  std::map<std::string, std::string>& links,
                                  const std::map<std::string, state::SyncedFields>& synced,
                                  std::vector<state::SyncedRecord>& records,
                                  std::vector<state::DeadLetter>& dead, PushStats& stats,
                                  std::int64_t now);
  state::DeadLetter make_dead_letter(Item& it, const model::Error& e, const std::string& hubspot_id,
                                     const std::string& payload, std::int64_t now);
  model::Status process_links(std::vector<Item>& items, PushStats& stats);
  model::Status finish(std::vector<Item>& items, const std::vector<state::DeadLetter>& dead,
                       const std::vector<state::SyncedRecord>& records,
                       const std::vector<std::string>& removed, const PushStats& stats);
  model::Result<AssociationType> association_type_for(const std::string& from_type,
                                                      const std::string& to_type,
                                                      const std::optional<std::int64_t>& type_id,
                                                      const std::string& label);

  const mapping::Mapping& m_;
  const std::map<std::string, const mapping::Mapping*>& all_;
  DatabasePort& db_;
  CrmPort& crm_;
  state::StateStore& state_;
  ratelimit::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  PushOptions opt_;
  std::map<std::string, AssociationType> assoc_types_;
};

/// Puts dead-lettered rows of `m` (to_hubspot, pending) back on the
/// changelog and removes the dead letters; letters of other mappings are
/// skipped. Returns how many were requeued.
model::Result<std::int64_t> requeue_dead_letters(const mapping::Mapping& m, DatabasePort& db,
                                                 state::StateStore& state,
                                                 const std::vector<state::DeadLetter>& letters);

/// Orders mappings so that association targets come before the mappings
/// that point at them (parents are pushed first, children rarely wait).
std::vector<const mapping::Mapping*> push_order(const std::vector<mapping::Mapping>& mappings);

}  // namespace hubsync::pipeline
