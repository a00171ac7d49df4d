#include <iostream>

#include "engine/cli/app.h"
#include "engine/cli/capture_check.h"
#include "engine/cli/mappings.h"
#include "engine/ops/logging.h"

namespace hubsync::cli {

bool load_config_or_report(const GlobalOptions& global, config::Config& out) {
  auto result = config::load_config(global.config_path, config::process_env(), config::process_env_names());
  for (const auto& issue : result.issues) std::cerr << issue.format() << '\n';
  out = std::move(result.config);
  const std::string level = global.log_level.empty() ? out.log.level : global.log_level;
  const std::string format = global.log_format.empty() ? out.log.format : global.log_format;
  (void)ops::setup_logging(level, format == "json" ? ops::LogFormat::json : ops::LogFormat::text);
  return result.ok();
}

int load_workload(const GlobalOptions& global, const std::string& only, const char* command, Workload& out) {
  if (!load_config_or_report(global, out.cfg)) return kExitError;
  if (!load_mappings(out.cfg.mappings.dir, {}, out.mappings)) return kExitError;
  for (const auto& m : out.mappings) out.by_name[m.name] = &m;
  if (!only.empty() && !out.by_name.count(only)) {
    std::cerr << command << ": no mapping named '" << only << "' in " << out.cfg.mappings.dir << '\n';
    return kExitError;
  }
  // Pushing without current capture would checkpoint loads whose later changes are lost.
  return check_capture(out.cfg, out.mappings, only, command);
}

int cmd_config_check(const GlobalOptions& global) {
  config::Config cfg;
  bool ok = load_config_or_report(global, cfg);
  std::cout << config::render_masked(cfg);
  if (!ok) {
    std::cerr << "config check: " << global.config_path << " has errors\n";
    return kExitError;
  }
  std::cout << "# ok\n";
  return kExitOk;
}

}  // namespace hubsync::cli
