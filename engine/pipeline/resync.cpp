#include "engine/pipeline/resync.h"

namespace hubsync::pipeline {

std::string resync_cursor(state::Direction d) { return std::string("resync ") + state::to_string(d); }

model::Status ask_resync(state::StateStore& state, const std::string& mapping, state::Direction d) {
  return state.set_checkpoint(mapping, resync_cursor(d), "asked");
}

model::Result<bool> resync_asked(state::StateStore& state, const std::string& mapping, state::Direction d) {
  auto asked = state.get_checkpoint(mapping, resync_cursor(d));
  if (!asked.ok()) return std::move(asked).error();
  return asked->has_value();
}

model::Status take_resync(state::StateStore& state, const std::string& mapping, state::Direction d,
                          const std::string& restart) {
  if (auto st = state.remove_checkpoint(mapping, restart); !st.ok()) return st;
  return state.remove_checkpoint(mapping, resync_cursor(d));
}

}  // namespace hubsync::pipeline
