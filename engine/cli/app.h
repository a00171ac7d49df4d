#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/mapping/mapping.h"

namespace hubsync::cli {

/// Exit codes of every hubsync command (README "Exit codes").
enum ExitCode : int {
  kExitOk = 0,           ///< everything succeeded
  kExitError = 1,        ///< invalid input (config, mapping) or a fatal error
  kExitUnavailable = 2,  ///< could not check or run: a dependency was unreachable; or bad usage
  kExitPartial = 3,      ///< ran, but some records were dead-lettered
  kExitHeld = 4,         ///< ran, but deletions over a mapping's max_deletes were held
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

/// What `run` and `plan` start from: the config, every mapping, and the
/// mappings by name (pointing into `mappings`: do not copy a Workload).
struct Workload {
  config::Config cfg;
  std::vector<mapping::Mapping> mappings;
  std::map<std::string, const mapping::Mapping*> by_name;
};
/// Loads `out` for `command`, checks that `only` (when set) names a mapping
/// and that the change capture is current. Returns the exit code (kExitOk,
/// or the error's, having said why on stderr).
int load_workload(const GlobalOptions& global, const std::string& only, const char* command, Workload& out);

struct RunOptions {
  std::string mapping;            ///< empty: every mapping
  std::string direction = "both"; ///< both | to_hubspot | to_postgres
  bool allow_deletes = false;     ///< every deletion goes ahead, whatever max_deletes says
};

struct PlanOptions {
  std::string mapping;             ///< empty: every mapping
  std::string direction = "both";  ///< both | to_hubspot | to_postgres
  std::size_t limit = 10;          ///< sample changes shown per side
  bool show_values = false;        ///< show the values in the samples
};

int cmd_config_check(const GlobalOptions& global);
/// `hubsync plan`: what `run --once` would do, writing nothing anywhere.
int cmd_plan(const GlobalOptions& global, const PlanOptions& options);
int cmd_run(const GlobalOptions& global, const RunOptions& options);
/// `hubsync serve` until SIGTERM/SIGINT (exit 0); SIGHUP reloads the mapping files.
int cmd_serve(const GlobalOptions& global);
int cmd_validate(const GlobalOptions& global, const std::vector<std::string>& files, bool offline);
int cmd_schema(const GlobalOptions& global, bool apply);
/// `hubsync actions plan|apply`: the mappings' workflow actions registered
/// with actions.app_id (creates and updates hubsync's own definitions only).
int cmd_actions(const GlobalOptions& global, bool apply);
int cmd_auth_login(const GlobalOptions& global, int timeout_s);
int cmd_auth_status(const GlobalOptions& global);
int cmd_migrate(const GlobalOptions& global, bool dry_run);
int cmd_dead_letters_list(const GlobalOptions& global, const std::string& mapping, bool all);
int cmd_dead_letters_retry(const GlobalOptions& global, const std::vector<std::int64_t>& ids,
                           bool all);
/// `hubsync status`: read-only, beside a running serve; exit 2 when Postgres
/// or HubSpot is unreachable (the report still prints). `offline` skips HubSpot.
int cmd_status(const GlobalOptions& global, bool json, bool offline);
/// `hubsync deletes list`: deletions the mass-deletion guard holds.
int cmd_deletes_list(const GlobalOptions& global, const std::string& mapping);
/// `hubsync deletes allow`: lets the held deletions (of `mapping`, of
/// `direction`; empty: all) go ahead within the next hour.
int cmd_deletes_allow(const GlobalOptions& global, const std::string& mapping, const std::string& direction);
/// `hubsync resync`: asks that the next pass of each direction (`both`,
/// `to_hubspot`, `to_postgres`) of `mapping` (empty: every mapping) that
/// syncs it look at every row or object again; with `overwrite`, its
/// one-way fields of that direction send their values again
/// (pipeline::ResyncRequest::overwrite). Exit 1 for an unknown mapping or
/// nothing to resync, 2 when the state store cannot be opened.
int cmd_resync(const GlobalOptions& global, const std::string& mapping, const std::string& direction,
               bool overwrite);
int cmd_conflicts_list(const GlobalOptions& global, const std::string& mapping,
                       const std::string& since, bool json);
int cmd_dead_letters_discard(const GlobalOptions& global, const std::vector<std::int64_t>& ids,
                             const std::string& reason);

}  // namespace hubsync::cli
