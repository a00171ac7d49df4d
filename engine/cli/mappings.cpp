#include "engine/cli/mappings.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "engine/mapping/parser.h"

namespace hubsync::cli {

namespace fs = std::filesystem;

std::vector<std::string> mapping_files(const std::string& dir) {
  std::vector<std::string> paths;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return paths;
  for (const auto& entry : fs::directory_iterator(dir)) {
    auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml"))
      paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

bool load_mappings(const std::string& dir, const std::vector<std::string>& files,
                   std::vector<mapping::Mapping>& out, const Report& report_to) {
  const Report report = report_to ? report_to : [](const std::string& line, bool) { std::cerr << line << '\n'; };
  std::vector<std::string> paths = files;
  if (paths.empty()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      report(dir + ": error: mappings directory not found", true);
      return false;
    }
    paths = mapping_files(dir);
  }
  bool ok = true;
  for (const auto& path : paths) {
    auto parsed = mapping::load_mapping_file(path);
    for (const auto& f : parsed.findings) report(f.to_string(), f.severity == mapping::Severity::error);
    if (parsed.ok()) out.push_back(std::move(*parsed.mapping));
    else ok = false;
  }
  auto set_findings = mapping::validate_set(out);
  for (const auto& f : set_findings) report(f.to_string(), f.severity == mapping::Severity::error);
  return ok && !mapping::has_errors(set_findings);
}

}  // namespace hubsync::cli
