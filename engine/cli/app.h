#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config/config.h"

namespace hubsync::cli {

/// Exit codes of every hubsync command (README "Exit codes").
enum ExitCode : int {
  kExitOk = 0,           ///< everything succeeded
  kExitError = 1,        ///< invalid input (config, mapping) or a fatal error
  kExitUnavailable = 2,  ///< could not check or run: a dependency was unreachable; or bad usage
  kExitPartial = 3,      ///< ran, but some records were dead-lettered
};

/// Options shared by every command.
struct GlobalOptions {
  std::string config_path = "hubsync.yaml";
  std::string log_level;   ///< empty: from the config file
  std::string log_format;  ///< empty: from the config file
};

/// Loads and validates the configuration, printing every issue to stderr.
/// Returns false when there is any error. Applies logging options.
bool load_config_or_report(const GlobalOptions& global, config::Config& out);

struct RunOptions {
  std::string mapping;            ///< empty: every mapping
  std::string direction = "both"; ///< both | to_hubspot | to_postgres
};

int cmd_config_check(const GlobalOptions& global);
int cmd_run(const GlobalOptions& global, const RunOptions& options);
/// `hubsync serve` until SIGTERM/SIGINT (exit 0); SIGHUP reloads the mapping files.
int cmd_serve(const GlobalOptions& global);
int cmd_validate(const GlobalOptions& global, const std::vector<std::string>& files, bool offline);
int cmd_schema(const GlobalOptions& global, bool apply);
int cmd_auth_login(const GlobalOptions& global, int timeout_s);
int cmd_auth_status(const GlobalOptions& global);
int cmd_migrate(const GlobalOptions& global, bool dry_run);
int cmd_dead_letters_list(const GlobalOptions& global, const std::string& mapping, bool all);
int cmd_dead_letters_retry(const GlobalOptions& global, const std::vector<std::int64_t>& ids,
                           bool all);
/// `hubsync status`: read-only, beside a running serve; exit 2 when Postgres
/// or HubSpot is unreachable (the report still prints). `offline` skips HubSpot.
int cmd_status(const GlobalOptions& global, bool json, bool offline);
int cmd_conflicts_list(const GlobalOptions& global, const std::string& mapping,
                       const std::string& since, bool json);
int cmd_dead_letters_discard(const GlobalOptions& global, const std::vector<std::int64_t>& ids,
                             const std::string& reason);

}  // namespace hubsync::cli
