#pragma once

// A real push stack for integration tests: a private PostgreSQL database, the
// HubSpot simulator over loopback HTTP, a SQLite state store in a temp dir,
// and the same HubSpot wiring the CLI uses.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/postgres/pg_database.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/mapping/mapping.h"
#include "engine/pipeline/pull.h"
#include "engine/pipeline/push.h"
#include "engine/state/sqlite_state_store.h"
#include "tests/hubspot-sim/simulator.h"
#include "tests/support/pg.h"
#include "tests/support/shifted_clock.h"
#include "tests/support/process.h"

namespace hubsync::test {

struct SimObject {
  std::string id;
  std::map<std::string, std::string> props;
  bool archived = false;
};

class PushHarness {
 public:
  /// Starts everything; `server_dsn` from HUBSYNC_REQUIRE_PG. Mappings are
  /// YAML texts; `sql` creates their tables.
  PushHarness(const std::string& server_dsn, const std::string& sql,
              const std::vector<std::string>& mapping_yamls, sim::SimulatorOptions sim_options = {},
              int burst_limit = 10000);
  ~PushHarness();

  /// Installs hubsync's schema and the capture of every mapping: the trigger, or with `logical`
  /// capture by logical decoding on a slot named like the database.
  void migrate(bool logical = false);
  model::Result<pipeline::PushStats> push(const std::string& mapping,
                                          pipeline::PushOptions options = {});
  /// One pull pass of a mapping (sweep, archives, associations).
  model::Result<pipeline::PullStats> pull(const std::string& mapping,
                                          pipeline::PullOptions options = {});
  const mapping::Mapping& mapping(const std::string& name) const;

  /// Every object of a type in the simulator (archived included).
  std::vector<SimObject> dump(const std::string& type);
  /// Live objects of a type keyed by a property (e.g. email).
  std::map<std::string, SimObject> live_by(const std::string& type, const std::string& property);
  /// Requests answered for routes containing `route_part` (any status).
  std::int64_t calls(const std::string& route_part);
  /// The config a `hubsync` process needs to reach the same database and
  /// simulator, with its own state file (the harness holds state.db) and
  /// mappings read from dir/mappings; with `logical_capture`,
  /// postgres.capture logical on the slot migrate(true) makes.
  /// `postgres_extra`: more keys of the postgres section ("relay: sql").
  std::string config_yaml(bool logical_capture = false, const std::string& postgres_extra = "") const;

  /// Creates a string property in HubSpot (`unique`: hasUniqueValue), e.g.
  /// a custom match property. Fails the test on error.
  void create_text_property(const std::string& type, const std::string& name, bool unique);
  /// Creates a property of `hs_type` / `field_type` ("number"/"number",
  /// "bool"/"booleancheckbox" with `options`) in HubSpot. Fails the test on error.
  void create_property(const std::string& type, const std::string& name, const std::string& hs_type,
                       const std::string& field_type, const std::vector<hubspot::PropertyOption>& options = {},
                       bool unique = false);

  TempDatabase db;
  sim::Simulator sim;
  std::filesystem::path dir;
  config::Config cfg;
  ShiftedClock clock;  ///< the system clock unless a test moves it
  std::unique_ptr<state::SqliteStateStore> store;
  std::unique_ptr<cli::HubSpotStack> hubspot;
  std::unique_ptr<postgres::PgDatabase> pg;
  std::vector<mapping::Mapping> mappings;
  std::map<std::string, const mapping::Mapping*> by_name;
};

/// Simulator options with no rate limits and no search lag: for tests of
/// behaviour, not of throughput.
sim::SimulatorOptions quick_sim_options();

/// `so` with the portal's clock `ms` ahead of this host's (behind if negative).
inline sim::SimulatorOptions clock_ahead(sim::SimulatorOptions so, std::int64_t ms) {
  so.clock = [ms] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
               .count() +
           ms;
  };
  return so;
}
/// A harness whose simulator has quick_sim_options().
std::unique_ptr<PushHarness> quick_harness(const std::string& server_dsn, const std::string& sql,
                                           const std::vector<std::string>& mapping_yamls);

/// A harness and the HubSpot id of the one contact it synced.
struct SyncedAnn {
  std::unique_ptr<PushHarness> h;
  std::string id;
};
/// A harness of one mapping named `people` (`mapping_yaml`) over the
/// table `sql` makes, which must take (email, first_name, last_name) and
/// match contacts by email: it holds Ann Lee (a@x.io), migrated, pushed and
/// pulled once.
SyncedAnn synced_ann(const std::string& server_dsn, const std::string& sql, const std::string& mapping_yaml,
                     sim::SimulatorOptions sim_options = quick_sim_options());

/// Pushes one mapping; a failure fails the test (and returns zero stats).
pipeline::PushStats push_ok(PushHarness& h, const std::string& mapping);
/// Pulls one mapping (no sweep overlap: tests run faster than search lags);
/// a failure fails the test.
pipeline::PullStats pull_ok(PushHarness& h, const std::string& mapping);
/// Every dead letter in the harness's state store (either direction, any
/// status); a failed read fails the test.
std::vector<state::DeadLetter> dead_letters(PushHarness& h);
/// The conflicts recorded for a mapping (its first 10): field id ->
/// "rule:winner" (several of one field run together).
std::map<std::string, std::string> conflict_rules(PushHarness& h, const std::string& mapping);


}  // namespace hubsync::test
