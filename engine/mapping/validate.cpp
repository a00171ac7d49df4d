#include "engine/mapping/validate.h"

#include "engine/mapping/live_check.h"
#include "engine/mapping/parser.h"

namespace hubsync::mapping {

ValidationRun validate_files(const std::vector<std::string>& paths, PgCatalog* pg, CrmCatalog* crm) {
  ValidationRun run;
  for (const auto& path : paths) {
    ParseResult r = load_mapping_file(path);
    run.findings.insert(run.findings.end(), r.findings.begin(), r.findings.end());
    if (r.mapping) run.mappings.push_back(std::move(*r.mapping));
  }
  Findings set = validate_set(run.mappings);
  run.findings.insert(run.findings.end(), set.begin(), set.end());
  if (!pg && !crm) {
    run.findings.push_back(Finding{Severity::info, SourceMark{},
                                   "remote checks skipped (--offline): Postgres and HubSpot catalogs not consulted"});
    return run;
  }
  for (const auto& m : run.mappings) {
    if (pg) {
      Findings f = check_postgres(m, *pg);
      run.findings.insert(run.findings.end(), f.begin(), f.end());
    }
    if (crm) {
      Findings f = check_hubspot(m, *crm, run.mappings);
      run.findings.insert(run.findings.end(), f.begin(), f.end());
    }
  }
  if (!pg)
    run.findings.push_back(Finding{Severity::info, SourceMark{}, "Postgres checks skipped"});
  if (!crm)
    run.findings.push_back(Finding{Severity::info, SourceMark{}, "HubSpot checks skipped"});
  return run;
}

}  // namespace hubsync::mapping
