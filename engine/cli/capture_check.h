#pragma once

#include "engine/config/config.h"

#include <string>
#include <vector>

#include "connectors/postgres/migrator.h"
#include "engine/mapping/mapping.h"

namespace hubsync::cli {

/// The change capture each pushing mapping needs (a to_postgres mapping
/// needs none): its key, the columns it reads, and every column when it has
/// a filter.postgres (which may read columns no field maps), and whether its
/// trigger NOTIFYs (config postgres.notify). `migrate` installs exactly
/// these and `run` checks exactly these.
std::vector<postgres::CaptureSpec> capture_specs(const std::vector<mapping::Mapping>& mappings, bool notify);

/// Checks that hubsync's schema is current and that every pushing mapping
/// of `mappings` (only the one named `only`, when not empty) has its
/// capture installed as `migrate` would install it now. Prints each problem
/// to stderr. Returns kExitOk when all is current, kExitError when not
/// (nothing must be pushed: changes would be lost in silence),
/// kExitUnavailable when the database could not be asked.
/// Messages start with `command` ("run", "serve"); libpq's text is shown
/// with the config's secrets masked.
int check_capture(const config::Config& cfg, const std::vector<mapping::Mapping>& mappings,
                  const std::string& only, const char* command);

}  // namespace hubsync::cli
