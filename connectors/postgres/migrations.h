#pragma once

#include <vector>

#include "engine/model/migration.h"

namespace hubsync::postgres::migrations {

/// migrations/postgres/*.sql, embedded at build time, sorted by version.
const std::vector<model::Migration>& embedded_migrations();

}  // namespace hubsync::postgres::migrations
