#include "engine/cli/runtime.h"

#include <algorithm>
#include <iostream>

#include "engine/ops/logging.h"

namespace hubsync::cli {

std::unique_ptr<state::SqliteStateStore> open_state(const config::Config& cfg, bool read_only) {
  state::SqliteOptions options;
  options.path = cfg.state.path;
  options.read_only = read_only;
  options.logger = ops::logger("state");
  auto store = state::SqliteStateStore::open(options);
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
