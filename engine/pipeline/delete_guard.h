#pragma once

// The mass-deletion guard: a mapping may delete (archive objects in HubSpot,
// delete or soft-delete rows in Postgres) at most its `max_deletes` within a
// rolling hour; what would go over is held, not done, until an operator
// allows it (`hubsync deletes allow`, `run --allow-deletes`) or the cause is
// undone (a truncated table reloaded, a filter edit reverted). A wrong
// TRUNCATE, a scope edit or a bulk delete in HubSpot's UI then costs nothing.
//
// The guard decides all or nothing: a caller asks with every deletion it
// knows is pending (a push counts the changelog's departures first), so a
// held wave never starts half done. Deletions it learns one at a time (a
// webhook per object) count as they come.

#include <cstdint>
#include <optional>
#include <string>

#include <spdlog/logger.h>

#include "engine/mapping/mapping.h"
#include "engine/model/result.h"
#include "engine/ratelimit/clock.h"
#include "engine/state/state_store.h"

namespace hubsync::pipeline {

/// Deletions held by the guard: the state store's record, for status.
struct HeldDeletes {
  std::int64_t count = 0;  ///< deletions waiting
  std::int64_t limit = 0;  ///< the limit they would have passed
  std::int64_t done = 0;   ///< deletions made within the hour before
  std::int64_t at_ms = 0;  ///< when they were last held
};

inline constexpr std::int64_t kDeleteWindowMs = 3'600'000;

/// The checkpoint names the guard keeps under the mapping, per direction.
std::string deletes_done_checkpoint(state::Direction d);
std::string deletes_held_checkpoint(state::Direction d);
std::string deletes_allowed_checkpoint(state::Direction d);

/// What the store says is held (nullopt: nothing).
model::Result<std::optional<HeldDeletes>> held_deletes(state::StateStore& store, const std::string& mapping,
                                                       state::Direction d);
/// Allows `count` deletions beyond the limit for the next hour (replacing an
/// earlier allowance) and clears the held record; the next pass decides the
/// held deletions again at once (DeleteGuard::begin).
model::Status allow_deletes(state::StateStore& store, const std::string& mapping, state::Direction d,
                            std::int64_t count, std::int64_t now_ms);

/// One pass's guard of one mapping and direction. Not thread-safe; every
/// reference must outlive it.
class DeleteGuard {
 public:
  /// `allow_all`: the operator allowed every deletion of this run.
  DeleteGuard(const mapping::Mapping& m, state::Direction d, state::StateStore& store, ratelimit::Clock& clock,
              std::shared_ptr<spdlog::logger> log, bool allow_all);

  /// Starts a pass: true when deletions held earlier are to be decided
  /// again at once (this run allows every deletion and some were held, or
  /// an operator's allowance is new since), so the caller makes them
  /// claimable now instead of after their hold delay.
  model::Result<bool> begin();
  /// How many more deletions may go ahead now: the limit (from the
  /// mapping's linked records as the hour began: those linked now and
  /// those deleted since), plus an operator's allowance, less those made
  /// within the hour. INT64_MAX when the guard is off or allowed all.
  model::Result<std::int64_t> room();
  /// Records that `pending` deletions were held (room() was smaller), logs
  /// a warning naming the way out, and returns the held record. Idempotent
  /// per pass: the count is the largest asked.
  model::Status hold(std::int64_t pending);
  /// Counts `n` deletions made now into the rolling hour.
  model::Status made(std::int64_t n);
  /// Ends a pass that decided everything due: when it held nothing, an
  /// earlier held record older than `settle_ms` is cleared (the held
  /// changes came due since, and were made, allowed, or undone at their
  /// source). `settle_ms`: how long held changes wait before they are
  /// decided again (0 when they are decided by every pass).
  model::Status finish(std::int64_t settle_ms);
  /// Whether this pass held deletions.
  bool held() const { return held_ > 0; }

 private:
  model::Result<std::int64_t> made_within_hour();
  /// The mapping's limit when `made` deletions were made within the hour.
  model::Result<std::int64_t> limit(std::int64_t made);

  const mapping::Mapping& m_;
  state::Direction dir_;
  state::StateStore& store_;
  ratelimit::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  bool allow_all_;
  std::int64_t held_ = 0;
};

}  // namespace hubsync::pipeline
