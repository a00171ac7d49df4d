#pragma once

#include <vector>

#include "engine/model/migration.h"

namespace hubsync::state::migrations {

/// The state store's schema migrations (migrations/state/NNNN_name.sql),
/// sorted by version; generated at build time by hubsync_embed_sql.
const std::vector<hubsync::model::Migration>& embedded_migrations();

}  // namespace hubsync::state::migrations
