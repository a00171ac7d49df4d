#pragma once

// Runs one workflow action against Postgres and HubSpot, on the thread that
// owns the DatabasePort (serve's worker): lookup reads the linked row,
// write applies input fields through the pull's apply path (as hubsync, so
// the capture trigger records nothing), sync_now pulls the object and
// pushes the mapping's pending rows.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "engine/actions/action_types.h"
#include "engine/actions/properties.h"
#include "engine/pipeline/crm_port.h"
#include "engine/pipeline/database_port.h"
#include "engine/pipeline/pull.h"
#include "engine/pipeline/push.h"
#include "engine/ratelimit/clock.h"
#include "engine/state/state_store.h"

namespace hubsync::actions {

struct RunnerDeps {
  const std::map<std::string, const mapping::Mapping*>& mappings;  ///< by name
  pipeline::DatabasePort& db;
  pipeline::CrmPort& crm;
  state::StateStore& store;
  ratelimit::Clock& clock;
  std::shared_ptr<spdlog::logger> log;
  pipeline::PullOptions pull;
  pipeline::PushOptions push;
  /// Asks for a push of the mapping soon (rows queued by a write). Empty: none.
  std::function<void(const std::string& mapping)> push_soon;
  /// HubSpot's property definitions, which a write's values for the push
  /// are checked against before anything is written; nullptr: not checked.
  PropertyBook* properties = nullptr;
};

struct WritePlan;  // runner.cpp: what a write changes, decided on the row as read

class Runner {
 public:
  /// Every reference in `deps` must outlive the Runner.
  explicit Runner(RunnerDeps deps);

  /// Runs action `a` of mapping `m` for `r` and returns its outputs, with
  /// hs_execution_state and hubsync_outcome always set: SUCCESS for found,
  /// written, unchanged, synced and not_linked (lookup and write take a
  /// linked row the sync has left, soft-deleted or outside filter.postgres,
  /// as the pull does: not linked, nothing read or written); FAIL_CONTINUE with
  /// hubsync_reason for a write Postgres refused or whose value HubSpot
  /// would refuse (rejected), or an object that was dead-lettered. Errors
  /// (nothing decided; the caller retries): `transient`/`rate_limited`
  /// when Postgres or HubSpot is unreachable,
  /// `conflict` when another process syncs the mapping, or (category
  /// ROW_CHANGED) when another writer changed a write's row between its
  /// read and its write twice running, `auth`/`fatal`.
  model::Result<Outputs> run(const mapping::Mapping& m, const mapping::ActionSpec& a, const ActionRequest& r);

 private:
  model::Result<Outputs> lookup(const mapping::Mapping& m, const mapping::ActionSpec& a, const std::string& key);
  model::Result<Outputs> write(const mapping::Mapping& m, const mapping::ActionSpec& a, const ActionRequest& r,
                               const std::string& key);
  /// One try of a write, decided on the row as read now and guarded by its
  /// version: `conflict` ROW_CHANGED when another writer changed it since.
  model::Result<Outputs> write_once(const mapping::Mapping& m, const mapping::ActionSpec& a,
                                    const ActionRequest& r, const model::RecordKey& key);
  /// Empty when HubSpot takes every value the push would send for the
  /// fields `plan` changes; else which field, which property and why. A
  /// refusal is decided on properties read again for it (an option added
  /// in HubSpot since the last read is taken). Errors: the catalog's.
  model::Result<std::string> refused_by_hubspot(const mapping::Mapping& m, const WritePlan& plan);
  model::Result<Outputs> sync_now(const mapping::Mapping& m, const ActionRequest& r);
  /// The pg_key linked to the object, or nullopt.
  model::Result<std::optional<std::string>> linked_key(const mapping::Mapping& m, const std::string& object_id);
  /// The reason of the object's pending to_postgres dead letter, or "".
  std::string dead_letter_reason(const mapping::Mapping& m, const std::string& object_id);

  RunnerDeps d_;
};

/// Outputs of an execution that ended with `state` and `outcome` (and a
/// reason when not empty).
Outputs outcome(const char* state, const std::string& outcome, const std::string& reason = "");

}  // namespace hubsync::actions
