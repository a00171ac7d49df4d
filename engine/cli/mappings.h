#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/mapping/mapping.h"

namespace hubsync::cli {

/// The *.yaml / *.yml files in `dir`, sorted by name (empty if none or no dir).
std::vector<std::string> mapping_files(const std::string& dir);

/// Where findings go: one line each, "file:line:col: error: message".
using Report = std::function<void(const std::string& line, bool error)>;

/// Loads every *.yaml / *.yml mapping in `dir` (sorted by file name), or the
/// given files, giving each finding to `report` (default: stderr) as
/// file:line:col. Returns false if any file has an error or the set is
/// inconsistent.
bool load_mappings(const std::string& dir, const std::vector<std::string>& files,
                   std::vector<mapping::Mapping>& out, const Report& report = {});

}  // namespace hubsync::cli
