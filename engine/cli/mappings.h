#pragma once

#include <string>
#include <vector>

#include "engine/mapping/mapping.h"

namespace hubsync::cli {

/// The *.yaml / *.yml files in `dir`, sorted by name (empty if none or no dir).
std::vector<std::string> mapping_files(const std::string& dir);

/// Loads every *.yaml / *.yml mapping in `dir` (sorted by file name), or the
/// given files, printing each finding to stderr as file:line:col. Returns
/// false if any file has an error or the set is inconsistent.
bool load_mappings(const std::string& dir, const std::vector<std::string>& files,
                   std::vector<mapping::Mapping>& out);

}  // namespace hubsync::cli
