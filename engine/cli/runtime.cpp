#include "engine/cli/runtime.h"

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

}  // namespace hubsync::cli
