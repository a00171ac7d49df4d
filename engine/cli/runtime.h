#pragma once

#include <memory>

#include "engine/config/config.h"
#include "engine/state/sqlite_state_store.h"

namespace hubsync::cli {

/// Opens the state store named by the config, printing the reason to stderr
/// on failure (another process holding it names its pid).
std::unique_ptr<state::SqliteStateStore> open_state(const config::Config& cfg, bool read_only);

}  // namespace hubsync::cli
