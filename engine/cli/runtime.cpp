#include "engine/cli/runtime.h"

#include <algorithm>
#include <iostream>

#include "engine/ops/logging.h"

namespace hubsync::cli {

namespace {
model::Result<std::unique_ptr<state::SqliteStateStore>> open_with(const config::Config& cfg, bool read_only,
                                                                   bool beside_writer) {
  state::SqliteOptions options;
  options.path = cfg.state.path;
  options.read_only = read_only;
  options.beside_writer = beside_writer;
  options.logger = ops::logger("state");
  return state::SqliteStateStore::open(options);
}
}  // namespace

std::unique_ptr<state::SqliteStateStore> open_state(const config::Config& cfg, bool read_only) {
  auto store = open_with(cfg, read_only, false);
  if (!store.ok()) {
    std::cerr << "state: " << store.error().message << '\n';
    return nullptr;
  }
  return std::move(*store);
}

std::unique_ptr<state::SqliteStateStore> open_state_for_edit(const config::Config& cfg, bool& beside) {
  auto store = open_with(cfg, false, false);
  beside = !store.ok() && store.error().category == "IN_USE";
  if (beside) store = open_with(cfg, false, true);
  if (!store.ok()) {
    std::cerr << "state: " << store.error().message << '\n';
    return nullptr;
  }
  return std::move(*store);
}

pipeline::PullOptions pull_options(const config::Config& cfg) {
  pipeline::PullOptions o;
  o.overlap_ms = cfg.pull.overlap_s * 1000LL;
  o.search_lag_ms = std::max(o.search_lag_ms, o.overlap_ms);
  o.association_pass_every_ms = cfg.pull.association_pass_every_s * 1000LL;
  return o;
}

}  // namespace hubsync::cli
