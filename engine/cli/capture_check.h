#pragma once

#include "engine/config/config.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "connectors/postgres/migrator.h"
#include "engine/cli/mappings.h"
#include "engine/cli/token_portal.h"
#include "engine/mapping/mapping.h"
#include "engine/pipeline/database_port.h"
#include "engine/pipeline/fingerprint.h"
#include "engine/state/state_store.h"

namespace hubsync::cli {

/// The change capture each pushing mapping needs (a to_postgres mapping
/// needs none): its key, the columns it reads, and every column when it has
/// a filter.postgres (which may read columns no field maps), and whether its
/// trigger NOTIFYs (config postgres.notify). `migrate` installs exactly
/// these and `run` checks exactly these.
std::vector<postgres::CaptureSpec> capture_specs(const std::vector<mapping::Mapping>& mappings,
                                                 const config::PostgresConfig& pg);

/// Checks that hubsync's schema is current and that every pushing mapping
/// of `mappings` (only the one named `only`, when not empty) has its
/// capture installed as `migrate` would install it now. Prints each problem
/// to stderr. Returns kExitOk when all is current, kExitError when not
/// (nothing must be pushed: changes would be lost in silence),
/// kExitUnavailable when the database could not be asked.
/// Messages start with `command` ("run", "serve") and end, when something
/// is not current, with "nothing was synced"; libpq's text is shown with
/// the config's secrets masked. With `report` (serve's reload, which keeps
/// serving what it ran), each problem goes there as an error instead, and
/// the caller says what it does about them.
int check_capture(const config::Config& cfg, const std::vector<mapping::Mapping>& mappings,
                  const std::string& only, const char* command, const Report* report = nullptr);

/// What check_store_identity compares: this database's id, change counter
/// and mark, and `portal` (where it came from says the message).
pipeline::StoreIdentity store_identity(const config::Config& cfg, const pipeline::DatabaseIdentity& database,
                                       const PortalIdentity& portal);

/// For a running serve (service::ServiceOptions::check_identity), one query
/// of the database per call, then check_store_identity against `store`
/// (recording what it sees when asked), whose record of the last mark
/// catches a restore from a backup taken since, however far the
/// application's writes carried the counter; after changes since the last
/// mark it marks the database again (pipeline::mark_database, at most 5
/// times a second). Only those mismatches are `fatal`; a database that
/// cannot be asked is `transient` (the step's own calls meet it). Runs on
/// the service's worker: `db` is its connection.
std::function<model::Status(bool record)> identity_guard(const config::Config& cfg, pipeline::DatabasePort& db,
                                                         state::StateStore& store, const PortalIdentity& portal);

/// Checks, before anything syncs, that the state store's links were made
/// with this database (`db`'s id) and, when known, `portal` (learn_portal:
/// the token's, else hubspot.portal_id) (pipeline::check_store_identity), then the fingerprint of each
/// mapping of `mappings` (only `only`, when not empty) against what its
/// links and bases were made with (pipeline::check_fingerprint): a field
/// whose properties changed is reported (`report`, not an error) as
/// forgotten; another database or portal, or a changed table, key or
/// object type, is an error. Returns kExitOk, kExitError (nothing must
/// sync) or kExitUnavailable (the database could not be asked).
int check_fingerprints(const config::Config& cfg, const std::vector<mapping::Mapping>& mappings,
                       const std::string& only, state::StateStore& store, pipeline::DatabasePort& db,
                       const PortalIdentity& portal, const Report& report);

/// Tables this large get a warning from run and serve when no index serves
/// the pull's lookup by value (every page of a pull would scan them).
inline constexpr std::int64_t kLargeTable = 100'000;

/// Prints to stderr, as "<command>: warning: ...", each lookup by value the
/// pull of `mappings` (only `only`, when not empty) makes on a table of at
/// least `min_rows` rows (the planner's estimate) that no index serves,
/// with the CREATE INDEX that would (PgDatabase::unindexed_lookups). Never
/// fails: a database that cannot be asked is one more warning.
void warn_unindexed_lookups(const config::Config& cfg, const std::vector<mapping::Mapping>& mappings,
                            const std::string& only, const char* command, std::int64_t min_rows);

}  // namespace hubsync::cli
