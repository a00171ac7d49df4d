#pragma once

#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "engine/model/result.h"

namespace hubsync::postgres {

/// What one mapping needs captured: its table, key and (optionally) the
/// columns whose changes matter. Empty `watched_columns` means every column.
struct CaptureSpec {
  std::string mapping;
  std::string schema;
  std::string table;
  std::vector<std::string> key_columns;
  std::vector<std::string> watched_columns;
};

/// What a migrate run did (or, in a dry run, would do).
struct MigrateReport {
  std::vector<std::string> applied_migrations;  ///< "0001_changelog", ...
  std::vector<std::string> installed_triggers;  ///< "mapping on schema.table"
  std::vector<std::string> removed_triggers;
  std::vector<std::string> statements;          ///< every SQL statement, in order
  bool changed() const {
    return !applied_migrations.empty() || !installed_triggers.empty() || !removed_triggers.empty();
  }
};

/// The name of the capture trigger hubsync installs for a mapping.
std::string trigger_name(const std::string& mapping);

/// Applies hubsync's Postgres migrations (migrations/postgres, embedded) and
/// makes the installed capture triggers match `captures`, adding, replacing
/// and removing triggers as needed.
///
/// Idempotent: a second run with the same captures changes nothing. Safe to
/// run concurrently: the whole run holds a session advisory lock, so a
/// second migrator waits and then finds nothing to do. Each migration runs
/// in its own transaction and is recorded in hubsync.schema_migrations.
/// With dry_run, nothing is written and no lock is taken; the report's
/// statements are the SQL that would run. Errors: a missing table or key
/// column is fatal and names the mapping; a lost connection is transient.
class Migrator {
 public:
  Migrator(std::string dsn, std::shared_ptr<spdlog::logger> log);
  model::Result<MigrateReport> run(const std::vector<CaptureSpec>& captures, bool dry_run);

 private:
  std::string dsn_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace hubsync::postgres
