#include "engine/cli/capture_check.h"

#include <iostream>

#include "engine/cli/app.h"
#include "engine/ops/logging.h"

namespace hubsync::cli {

std::vector<postgres::CaptureSpec> capture_specs(const std::vector<mapping::Mapping>& mappings) {
  std::vector<postgres::CaptureSpec> out;
  for (const auto& m : mappings) {
    if (!m.pushes()) continue;
    out.push_back({m.name, m.table.schema, m.table.table, m.key, m.postgres_columns(),
                   !m.pg_filter.empty()});
  }
  return out;
}

int check_capture(const std::string& dsn, const std::vector<mapping::Mapping>& mappings,
                  const std::string& only) {
  std::vector<postgres::CaptureSpec> specs;
  for (auto& spec : capture_specs(mappings))
    if (only.empty() || spec.mapping == only) specs.push_back(std::move(spec));
  postgres::Migrator migrator(dsn, ops::logger("postgres"));
  auto problems = migrator.check(specs);
  if (!problems.ok()) {
    std::cerr << "run: " << problems.error().message << '\n';
    return problems.error().kind == model::ErrorKind::transient ? kExitUnavailable : kExitError;
  }
  for (const auto& p : *problems) std::cerr << "run: " << p << '\n';
  if (problems->empty()) return kExitOk;
  std::cerr << "run: nothing was pushed: the change capture is not current\n";
  return kExitError;
}

}  // namespace hubsync::cli
