#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/mapping/mapping.h"
#include "engine/model/clock_offset.h"
#include "engine/pipeline/database_port.h"
#include "engine/pipeline/delete_guard.h"
#include "engine/state/state_store.h"

namespace hubsync::cli {

/// One direction of one mapping, as `hubsync status` shows it.
struct DirectionStatus {
  state::Direction direction = state::Direction::to_hubspot;
  /// to_hubspot: captured changes not yet pushed; to_postgres: webhook
  /// events not yet pulled. nullopt: unknown (Postgres unreachable).
  std::optional<std::int64_t> backlog;
  std::optional<double> lag_seconds;  ///< age of the oldest of them; 0 when none
  std::optional<state::TimeMs> last_ok_ms;
  std::optional<state::TimeMs> last_error_ms;  ///< a failure since the last success
  std::string last_error;
  std::int64_t dead_letters = 0;  ///< pending
  /// Deletions the mass-deletion guard holds (nullopt: none).
  std::optional<pipeline::HeldDeletes> held;
  std::string max_deletes;  ///< the mapping's limit, as written ("10%")
};

struct MappingStatus {
  std::string name;
  std::string table;   ///< schema.table
  std::string object;  ///< HubSpot object type
  std::string direction;  ///< the mapping's: both | to_hubspot | to_postgres
  std::vector<DirectionStatus> directions;
  std::int64_t conflicts_24h = 0;
  std::vector<state::Checkpoint> checkpoints;
};

/// Whether a dependency answered, and why not.
struct Reachability {
  bool checked = false;
  bool reachable = false;
  /// It answered, and refused: HubSpot hubsync's credentials (401/403);
  /// the state store this database or portal (run and serve would stop).
  bool refused = false;
  std::string detail;  ///< no secrets
};

/// Everything `hubsync status` reports; `--json` prints it as documented in
/// README ("status --json").
struct StatusReport {
  state::TimeMs generated_at_ms = 0;
  Reachability postgres, hubspot, state;
  std::optional<std::int64_t> daily_used;   ///< HubSpot requests counted today (HubSpot's own count)
  std::optional<std::int64_t> daily_limit;  ///< the portal's daily limit
  /// HubSpot's clock against this host's (HubSpot's − ours), from the Date
  /// of its answers to the probe; nullopt: not asked (--offline) or no answer.
  std::optional<model::ClockOffset> hubspot_clock;
  /// The database server's clock against this host's; nullopt: unreachable.
  std::optional<model::ClockOffset> postgres_clock;
  /// The portal HubSpot says the token is for (unset: not asked or not said).
  std::optional<std::int64_t> hubspot_portal;
  /// hubspot.refused because the token is another portal's than
  /// hubspot.portal_id (run and serve would stop), not refused by HubSpot.
  bool other_portal = false;
  /// state.refused because this database went back (restored from a backup
  /// older than the store's links), not because it is another one.
  bool database_went_back = false;
  std::optional<state::RunRecord> last_run;
  /// Workflow action executions of the last 24 h and those waiting for their
  /// callback; set when a mapping declares actions and the store is open.
  std::optional<state::ActionSummary> actions;
  std::vector<MappingStatus> mappings;
  /// Capture by logical decoding: its slot and the WAL it holds back on the
  /// server (changes not yet relayed into the changelog are not in the
  /// backlogs); unset with the trigger.
  struct CaptureSlot {
    std::string slot;
    std::int64_t retained_bytes = 0;
    bool exists = true;
  };
  std::optional<CaptureSlot> capture_slot;
};

/// Fills the mappings' figures from the state store (opened read-only;
/// null when there is none yet) and Postgres (null when unreachable).
/// Never writes to either.
void collect_status(const std::vector<mapping::Mapping>& mappings, state::StateStore* store,
                    pipeline::DatabasePort* db, StatusReport& report);

/// A time as people read it (ISO 8601, UTC), or "never".
std::string format_when(std::optional<state::TimeMs> t);

/// A clock against this host's as people read it: "+600.123 s from this
/// host's (± 0.501 s)", or "not read" for nullopt.
std::string describe_clock(const std::optional<model::ClockOffset>& o);
/// Whether that clock is proven a second or more off (the rule the sync's
/// own warning follows): `conflict: newest` then compares times of two clocks.
bool clock_is_off(const std::optional<model::ClockOffset>& o);

/// The report for people: one block per mapping, a line per direction.
std::string status_text(const StatusReport& report);

/// The report for scripts: one JSON object, keys stable (README).
std::string status_json(const StatusReport& report);

}  // namespace hubsync::cli
