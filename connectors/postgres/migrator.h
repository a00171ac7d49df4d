#pragma once

#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "engine/model/result.h"

namespace hubsync::postgres {

/// What one mapping needs captured: its table, key and the columns whose
/// changes matter (the mapped ones). With `watch_all` (the mapping has a
/// filter.postgres, which may read unmapped columns) or no watched columns,
/// a change to any column of the table is captured.
struct CaptureSpec {
  std::string mapping;
  std::string schema;
  std::string table;
  std::vector<std::string> key_columns;
  std::vector<std::string> watched_columns;
  bool watch_all = false;
  bool notify = false;  ///< the trigger also NOTIFYs hubsync_changes (config postgres.notify)
  bool logical = false; ///< capture by logical decoding, not a trigger (config postgres.capture)
};

/// What a migrate run did (or, in a dry run, would do).
struct MigrateReport {
  std::vector<std::string> applied_migrations;  ///< "0001_changelog", ...
  std::vector<std::string> installed_triggers;  ///< "mapping on schema.table"
  std::vector<std::string> removed_triggers;
  /// "old -> new": a removed mapping's pending changes taken over by a new
  /// mapping of the same table and key (a rename).
  std::vector<std::string> carried_changes;
  std::vector<std::string> statements;          ///< every SQL statement, in order
  bool changed() const {
    return !applied_migrations.empty() || !installed_triggers.empty() || !removed_triggers.empty();
  }
};

/// Applies hubsync's Postgres migrations (migrations/postgres, embedded) and
/// makes the installed change capture match `captures`: per mapping a
/// generated SECURITY DEFINER function hubsync."capture_<mapping>"() and
/// triggers hubsync_capture_<mapping>_iud/_upd/_trunc (capture_sql.h),
/// recorded in hubsync.captures. A capture that differs in any way (table,
/// key columns or types, watched columns, generator version, a trigger
/// missing or disabled) is replaced; captures of mappings no longer listed
/// are removed, and so is the generic hubsync.capture() of older versions
/// once no trigger uses it. The function is owned by the role that runs
/// migrate.
///
/// Idempotent: a second run with the same captures changes nothing. Safe to
/// run concurrently: the whole run holds a session advisory lock, so a
/// second migrator waits and then finds nothing to do. Each migration, and
/// each mapping's capture, changes in its own transaction; migrations are
/// recorded in hubsync.schema_migrations. With dry_run, nothing is written
/// and no lock is taken; the report's statements are the SQL that would run.
/// Errors: a missing table or column, an unsupported key type, or a mapping
/// name too long for its trigger names is fatal and names the mapping; a
/// lost connection is transient.
class Migrator {
 public:
  /// `slot`: the replication slot of logical captures (config postgres.slot).
  Migrator(std::string dsn, std::shared_ptr<spdlog::logger> log, std::string slot = "hubsync");
  model::Result<MigrateReport> run(const std::vector<CaptureSpec>& captures, bool dry_run);

  /// Checks, without writing anything, that the database's hubsync schema
  /// is at this binary's version and that the installed capture of every
  /// spec is exactly what run() would install. Returns one line per
  /// problem, naming the mapping and ending with the fix (usually "run
  /// `hubsync migrate`"); empty when capture is current (and, without
  /// captures, without connecting). Errors: the database could not be asked
  /// (transient when the connection failed).
  model::Result<std::vector<std::string>> check(const std::vector<CaptureSpec>& captures);

 private:
  std::string dsn_;
  std::shared_ptr<spdlog::logger> log_;
  std::string slot_;
};

}  // namespace hubsync::postgres
