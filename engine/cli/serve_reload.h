#pragma once

#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "engine/cli/app.h"
#include "engine/cli/mappings.h"
#include "engine/cli/token_portal.h"
#include "engine/config/config.h"
#include "engine/mapping/mapping.h"
#include "engine/state/state_store.h"

namespace hubsync::cli {

/// The mapping files as they are now, if valid and their capture is current;
/// findings go to `report` (default: stderr). Returns kExitOk, kExitError
/// (a mapping error, or capture not current: run `hubsync migrate`) or
/// kExitUnavailable (PostgreSQL could not be asked).
int load_serving(const config::Config& cfg, std::vector<mapping::Mapping>& out, const Report& report = {});

/// What `serve` runs with, read again on SIGHUP.
struct Serving {
  config::Config config;
  std::vector<mapping::Mapping> mappings;
  PortalIdentity portal;  ///< learned at start; the token cannot change before a restart
};

/// SIGHUP: reads the config file and the mapping files again and validates
/// both, and checks the store's identity (the database's id, the running
/// portal) and the mappings' fingerprints against `store` (check_fingerprints).
/// Every finding is logged with its file:line:col
/// (errors at error level). Any error: nullopt, and the caller keeps what it runs. Valid: what
/// to run now; keys that only a restart applies (connections, credentials,
/// the listen address, the state file, the rate tier) keep their running
/// values and are named in a warning, never with their values.
std::optional<Serving> reload_serving(const GlobalOptions& global, const Serving& running, state::StateStore& store,
                                      spdlog::logger& log);

/// The `section.key`s whose values differ between `a` and `b` and that only a
/// restart of `serve` applies.
std::vector<std::string> restart_only_changes(const config::Config& a, const config::Config& b);

}  // namespace hubsync::cli
