#include <filesystem>
#include <iostream>
#include <set>

#include "connectors/hubspot/hubspot_catalog.h"
#include "connectors/postgres/pg_catalog.h"
#include "engine/cli/app.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/cli/mappings.h"
#include "engine/cli/runtime.h"
#include "engine/mapping/live_check.h"
#include "engine/mapping/parser.h"
#include "engine/mapping/schema_plan.h"

namespace hubsync::cli {

namespace {

// Findings of the live checks quote the database's errors, which may quote
// the DSN: every secret of `cfg` is scrubbed.
void print(const mapping::Findings& findings, const config::Config& cfg) {
  for (const auto& f : findings) std::cout << config::redact(cfg, f.to_string()) << '\n';
}

// The mappings the named files join: the other files of the mappings
// directory (`dir`; empty: each named file's own directory), less those
// named and those of a name a named file gives (a draft replaces the
// mapping it edits). Their own findings are not this command's to report.
std::vector<mapping::Mapping> context_of(const std::vector<std::string>& files, const std::string& dir,
                                         const std::vector<mapping::Mapping>& named) {
  namespace fs = std::filesystem;
  std::set<std::string> dirs, skip, names;
  std::error_code ec;
  for (const auto& f : files) {
    skip.insert(fs::weakly_canonical(f, ec).string());
    dirs.insert(dir.empty() ? fs::path(f).parent_path().string() : dir);
  }
  for (const auto& m : named) names.insert(m.name);
  std::vector<mapping::Mapping> out;
  for (const auto& d : dirs)
    for (const auto& path : mapping_files(d.empty() ? "." : d)) {
      if (skip.count(fs::weakly_canonical(path, ec).string())) continue;
      auto parsed = mapping::load_mapping_file(path);
      if (parsed.ok() && !names.count(parsed.mapping->name)) out.push_back(std::move(*parsed.mapping));
    }
  return out;
}

}  // namespace

int cmd_validate(const GlobalOptions& global, const std::vector<std::string>& files, bool offline) {
  // Offline checks of named files need no configuration at all.
  config::Config cfg;
  const bool need_config = !offline || files.empty();
  if (need_config && !load_config_or_report(global, cfg)) return kExitError;

  std::vector<mapping::Mapping> mappings;
  mapping::Findings all;
  std::vector<std::string> paths = files.empty() ? mapping_files(cfg.mappings.dir) : files;
  if (paths.empty()) {
    std::cerr << "validate: no mapping files in " << cfg.mappings.dir << '\n';
    return kExitError;
  }
  for (const auto& path : paths) {
    auto parsed = mapping::load_mapping_file(path);
    all.insert(all.end(), parsed.findings.begin(), parsed.findings.end());
    if (parsed.ok()) mappings.push_back(std::move(*parsed.mapping));
  }
  // Named files are checked as members of their set (an association's
  // target may be in another file); only their own findings are reported.
  std::vector<mapping::Mapping> set_members = mappings;
  if (!files.empty())
    for (auto& m : context_of(files, need_config ? cfg.mappings.dir : "", mappings)) set_members.push_back(std::move(m));
  std::set<std::string> named_files;
  for (const auto& m : mappings) named_files.insert(m.mark.file);
  for (auto& f : mapping::validate_set(set_members))
    if (files.empty() || f.mark.file.empty() || named_files.count(f.mark.file)) all.push_back(std::move(f));

  if (offline) {
    all.push_back({mapping::Severity::info, {}, "remote checks skipped (--offline): "
                                                "the database and HubSpot were not asked"});
  } else {
    postgres::PgCatalogReader pg(cfg.postgres.dsn.value);
    ratelimit::SystemClock clock;
    HubSpotStack hubspot(cfg, nullptr, clock, std::nullopt, /*interactive=*/true);
    hubspot::HubSpotCatalog crm(hubspot.client);
    for (const auto& m : mappings) {
      auto p = mapping::check_postgres(m, pg);
      all.insert(all.end(), p.begin(), p.end());
      auto h = mapping::check_hubspot(m, crm, set_members);
      all.insert(all.end(), h.begin(), h.end());
    }
  }
  print(all, cfg);
  const int code = mapping::exit_code(all);
  std::cout << paths.size() << " file(s): "
            << (code == 0 ? "valid" : code == 1 ? "invalid" : "could not be fully checked") << '\n';
  return code;
}

int cmd_schema(const GlobalOptions& global, bool apply) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  std::vector<mapping::Mapping> mappings;
  if (!load_mappings(cfg.mappings.dir, {}, mappings)) return kExitError;
  ratelimit::SystemClock clock;
  HubSpotStack hubspot(cfg, nullptr, clock, std::nullopt, /*interactive=*/true);
  hubspot::HubSpotCatalog crm(hubspot.client);
  int rc = kExitOk;
  int changes = 0;
  for (const auto& m : mappings) {
    if (!m.schema) continue;
    auto plan = mapping::plan_schema(m, crm);
    print(plan.findings, cfg);
    if (mapping::has_errors(plan.findings)) rc = kExitError;
    for (const auto& f : plan.findings)
      if (f.severity == mapping::Severity::unavailable && rc == kExitOk) rc = kExitUnavailable;
    if (plan.empty()) {
      std::cout << m.name << ": up to date\n";
      continue;
    }
    if (!apply || mapping::has_errors(plan.findings)) {
      for (const auto& line : plan.describe()) std::cout << m.name << ": " << line << '\n';
      continue;
    }
    // Each change as it ended: done, failed, or not tried after a failure.
    int made = 0;
    auto done = mapping::apply_schema(plan, crm, &made);
    for (const auto& line : plan.describe_applied(made, done.ok() ? nullptr : &done.error()))
      std::cout << m.name << ": " << config::redact(cfg, line) << '\n';
    changes += made;
    if (!done.ok()) {
      std::cerr << m.name << ": schema apply failed after " << made << " change(s): "
                << config::redact(cfg, done.error().message) << '\n';
      rc = done.error().kind == model::ErrorKind::transient ? kExitUnavailable : kExitError;
      continue;
    }
    std::cout << m.name << ": applied " << made << " change(s)\n";
  }
  if (!apply) std::cout << "plan only: run `hubsync schema apply` to make these changes\n";
  else std::cout << changes << " change(s) applied\n";
  return rc;
}

}  // namespace hubsync::cli
