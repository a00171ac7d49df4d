// `hubsync resync`: asks that the next pass of a mapping's direction look
// at everything again (pipeline/resync.h), for changes that reached
// neither the changelog nor the sweep. Works beside a running serve, whose
// next push or sweep takes the request.
#include <iostream>

#include "engine/cli/app.h"
#include "engine/cli/mappings.h"
#include "engine/cli/runtime.h"
#include "engine/pipeline/resync.h"

namespace hubsync::cli {

namespace {

const char* what_it_does(state::Direction d) {
  return d == state::Direction::to_hubspot
             ? "the next push loads every row again (a row in agreement with HubSpot costs no call) and checks "
               "every linked row that is gone"
             : "the next pull's sweep reads every object again (a backfill's searches; an object in agreement "
               "with its row writes nothing) and its association pass runs";
}

bool syncs(const mapping::Mapping& m, state::Direction d) {
  return d == state::Direction::to_hubspot ? m.pushes() : m.pulls();
}

// With --overwrite: which fields send their values again, and what that means.
std::string overwritten(const mapping::Mapping& m, state::Direction d) {
  std::string ids;
  for (const auto& id : pipeline::one_way_fields(m, d)) ids += (ids.empty() ? "" : ", ") + id;
  if (ids.empty()) return "; overwrite: no field goes only " + std::string(state::to_string(d)) + ", nothing more";
  return "; overwrite: " + ids + " send their values again whether or not they changed (an empty value clears "
         "nothing)";
}

}  // namespace

int cmd_resync(const GlobalOptions& global, const std::string& only, const std::string& direction, bool overwrite) {
  config::Config cfg;
  std::vector<mapping::Mapping> mappings;
  if (!load_config_or_report(global, cfg)) return kExitError;
  if (!load_mappings(cfg.mappings.dir, {}, mappings)) return kExitError;
  std::vector<state::Direction> directions;
  for (auto d : {state::Direction::to_hubspot, state::Direction::to_postgres})
    if (direction == "both" || direction == state::to_string(d)) directions.push_back(d);
  std::vector<std::pair<const mapping::Mapping*, state::Direction>> asks;
  bool named = only.empty();
  for (const auto& m : mappings) {
    if (!only.empty() && m.name != only) continue;
    named = true;
    for (auto d : directions)
      if (syncs(m, d)) asks.emplace_back(&m, d);
      else if (!only.empty() && direction != "both")
        std::cerr << "resync: mapping " << m.name << " does not sync " << state::to_string(d) << '\n';
  }
  if (!named) {
    std::cerr << "resync: no mapping named '" << only << "' in " << cfg.mappings.dir << '\n';
    return kExitError;
  }
  if (asks.empty()) {
    std::cerr << "resync: nothing to resync\n";
    return kExitError;
  }
  bool beside = false;  // a running serve takes the request from the store
  auto store = open_state_for_edit(cfg, beside);
  if (!store) return kExitUnavailable;
  for (const auto& [m, d] : asks) {
    if (auto st = pipeline::ask_resync(*store, m->name, d, overwrite); !st.ok()) {
      std::cerr << "resync: " << st.error().message << '\n';
      return kExitUnavailable;
    }
    std::cout << m->name << "  " << state::to_string(d) << "  resync asked: " << what_it_does(d)
              << (overwrite ? overwritten(*m, d) : "") << '\n';
  }
  std::cout << (beside ? "the running serve starts it at its next push (within serve.poll_s) and its next sweep "
                         "(serve.sweep_every_s)\n"
                       : "the next `hubsync run --once` does it\n");
  return kExitOk;
}

}  // namespace hubsync::cli
