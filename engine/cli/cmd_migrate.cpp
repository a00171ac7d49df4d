#include <iostream>

#include "connectors/postgres/migrator.h"
#include "engine/cli/app.h"
#include "engine/cli/capture_check.h"
#include "engine/cli/mappings.h"
#include "engine/ops/logging.h"

namespace hubsync::cli {

int cmd_migrate(const GlobalOptions& global, bool dry_run) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  std::vector<mapping::Mapping> mappings;
  if (!load_mappings(cfg.mappings.dir, {}, mappings)) return kExitError;

  postgres::Migrator migrator(cfg.postgres.dsn.value, ops::logger("postgres"), cfg.postgres.slot);
  auto report = migrator.run(capture_specs(mappings, cfg.postgres), dry_run);
  if (!report.ok()) {
    // libpq's errors may quote the DSN.
    std::cerr << "migrate: " << config::redact(cfg, report.error().message) << '\n';
    return report.error().kind == model::ErrorKind::transient ? kExitUnavailable : kExitError;
  }
  if (dry_run) {
    if (report->statements.empty()) std::cout << "-- nothing to do: schema and triggers are up to date\n";
    for (const auto& s : report->statements) std::cout << s << ";\n\n";
    return kExitOk;
  }
  for (const auto& m : report->applied_migrations) std::cout << "applied migration " << m << '\n';
  for (const auto& t : report->installed_triggers) std::cout << "installed capture triggers " << t << '\n';
  for (const auto& t : report->removed_triggers) std::cout << "removed capture triggers " << t << '\n';
  for (const auto& c : report->carried_changes) std::cout << "pending changes carried over " << c << '\n';
  if (!report->changed()) std::cout << "up to date: nothing to do\n";
  // Every table, however small today: migrate is where indexes get planned.
  warn_unindexed_lookups(cfg, mappings, "", "migrate", 0);
  return kExitOk;
}

}  // namespace hubsync::cli
