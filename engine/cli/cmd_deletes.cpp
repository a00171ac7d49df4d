// `hubsync deletes list|allow`: deletions the mass-deletion guard holds
// (engine/pipeline/delete_guard.h), and an operator's go-ahead for them.
// Both work beside a running serve, which decides held deletions again at
// its next pass after an allowance.
#include <iostream>

#include "engine/cli/app.h"
#include "engine/cli/mappings.h"
#include "engine/cli/runtime.h"
#include "engine/cli/status.h"
#include "engine/pipeline/delete_guard.h"

namespace hubsync::cli {

namespace {

constexpr state::Direction kDirections[] = {state::Direction::to_hubspot, state::Direction::to_postgres};

std::string what_held(state::Direction d) {
  return d == state::Direction::to_hubspot ? "HubSpot objects to archive" : "Postgres rows to delete";
}

bool wanted(const std::string& only, const std::string& value) { return only.empty() || only == value; }

bool load(const GlobalOptions& global, const std::string& mapping, config::Config& cfg,
          std::vector<mapping::Mapping>& mappings) {
  if (!load_config_or_report(global, cfg)) return false;
  if (!load_mappings(cfg.mappings.dir, {}, mappings)) return false;
  for (const auto& m : mappings)
    if (m.name == mapping) return true;
  if (!mapping.empty()) {
    std::cerr << "deletes: no mapping named '" << mapping << "' in " << cfg.mappings.dir << '\n';
    return false;
  }
  return true;
}

}  // namespace

int cmd_deletes_list(const GlobalOptions& global, const std::string& mapping) {
  config::Config cfg;
  std::vector<mapping::Mapping> mappings;
  if (!load(global, mapping, cfg, mappings)) return kExitError;
  auto store = open_state(cfg, /*read_only=*/true);
  if (!store) return kExitUnavailable;
  std::size_t n = 0;
  for (const auto& m : mappings) {
    if (!wanted(mapping, m.name)) continue;
    for (auto d : kDirections) {
      auto held = pipeline::held_deletes(*store, m.name, d);
      if (!held.ok()) {
        std::cerr << "deletes: " << held.error().message << '\n';
        return kExitUnavailable;
      }
      if (!*held) continue;
      ++n;
      const auto& h = **held;
      std::cout << m.name << "  " << state::to_string(d) << "  held " << h.count << " " << what_held(d)
                << " (max_deletes " << m.max_deletes.to_string() << ": " << h.limit << " an hour, " << h.done
                << " made in the hour before)  since " << format_when(h.at_ms) << '\n';
    }
  }
  if (n == 0) std::cout << "no deletions held\n";
  else std::cout << "allow them: hubsync deletes allow [--mapping M]; or undo them at their source\n";
  return kExitOk;
}

int cmd_deletes_allow(const GlobalOptions& global, const std::string& mapping, const std::string& direction) {
  config::Config cfg;
  std::vector<mapping::Mapping> mappings;
  if (!load(global, mapping, cfg, mappings)) return kExitError;
  bool beside = false;  // a running serve reads the allowance from the store
  auto store = open_state_for_edit(cfg, beside);
  if (!store) return kExitUnavailable;
  const std::int64_t now = ratelimit::SystemClock().wall_ms();
  std::size_t n = 0;
  for (const auto& m : mappings) {
    if (!wanted(mapping, m.name)) continue;
    for (auto d : kDirections) {
      if (!wanted(direction, state::to_string(d))) continue;
      auto held = pipeline::held_deletes(*store, m.name, d);
      model::Status st = held.ok() ? model::Status{} : model::Status(held.error());
      if (st.ok() && *held) st = pipeline::allow_deletes(*store, m.name, d, (*held)->count, now);
      if (!st.ok()) {
        std::cerr << "deletes: " << st.error().message << '\n';
        return kExitUnavailable;
      }
      if (!*held) continue;
      ++n;
      std::cout << m.name << "  " << state::to_string(d) << "  allowed " << (*held)->count << " " << what_held(d)
                << " within the next hour\n";
    }
  }
  if (n == 0) {
    std::cout << "no deletions held" << (mapping.empty() ? "" : " for mapping " + mapping) << ": nothing to allow\n";
    return kExitOk;
  }
  std::cout << (beside ? "the running serve makes them at its next pass (archives: within serve.poll_s; "
                         "row deletions: at its next sweep, serve.sweep_every_s)\n"
                       : "the next `hubsync run --once` makes them\n");
  return kExitOk;
}

}  // namespace hubsync::cli
