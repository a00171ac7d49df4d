#pragma once

#include <memory>

#include "engine/config/config.h"
#include "engine/pipeline/pull.h"
#include "engine/state/sqlite_state_store.h"

namespace hubsync::cli {

/// Opens the state store named by the config, printing the reason to stderr
/// on failure (another process holding it names its pid).
std::unique_ptr<state::SqliteStateStore> open_state(const config::Config& cfg, bool read_only);
/// Opens the state store to change a few rows (`dead-letters retry`,
/// `discard`): as its writer when no other hubsync process holds it, else
/// beside that process (`serve`), setting `beside`. Errors are printed;
/// nullptr then.
std::unique_ptr<state::SqliteStateStore> open_state_for_edit(const config::Config& cfg, bool& beside);

/// The pull's options the config sets (pull.overlap_s, which is also how
/// far HubSpot's search may lag: no sweep window but the newest ends
/// closer to the present; pull.association_pass_every_s).
pipeline::PullOptions pull_options(const config::Config& cfg);

}  // namespace hubsync::cli
