#pragma once

#include <string>
#include <vector>

#include "engine/mapping/catalog.h"
#include "engine/mapping/mapping.h"
#include "engine/mapping/types.h"

namespace hubsync::mapping {

/// The outcome of `hubsync validate`: the mappings that compiled and every
/// finding, in file order (parse findings, then set checks, then live checks).
struct ValidationRun {
  std::vector<Mapping> mappings;  ///< only those without errors
  Findings findings;
  int exit_code() const { return mapping::exit_code(findings); }
};

/// Parses every file, checks them as a set, then (when the ports are given)
/// against the live catalogs. Null ports mean offline: the run then carries
/// one info finding saying the remote checks were skipped. Live checks run
/// only on mappings that compiled. Never throws.
ValidationRun validate_files(const std::vector<std::string>& paths, PgCatalog* pg, CrmCatalog* crm);

}  // namespace hubsync::mapping
