#include "engine/pipeline/resync.h"

namespace hubsync::pipeline {

namespace {
constexpr const char* kAsked = "asked";
constexpr const char* kOverwrite = "overwrite";
}  // namespace

std::string resync_cursor(state::Direction d) { return std::string("resync ") + state::to_string(d); }

model::Status ask_resync(state::StateStore& state, const std::string& mapping, state::Direction d, bool overwrite) {
  if (!overwrite) {
    auto now = resync_request(state, mapping, d);
    if (!now.ok()) return std::move(now).error();
    if (*now == ResyncRequest::overwrite) return {};
  }
  return state.set_checkpoint(mapping, resync_cursor(d), overwrite ? kOverwrite : kAsked);
}

model::Result<ResyncRequest> resync_request(state::StateStore& state, const std::string& mapping,
                                            state::Direction d) {
  auto asked = state.get_checkpoint(mapping, resync_cursor(d));
  if (!asked.ok()) return std::move(asked).error();
  if (!*asked) return ResyncRequest::none;
  return (*asked)->value == kOverwrite ? ResyncRequest::overwrite : ResyncRequest::look_again;
}

std::vector<std::string> one_way_fields(const mapping::Mapping& m, state::Direction d) {
  const auto one_way = d == state::Direction::to_hubspot ? mapping::Direction::to_hubspot
                                                         : mapping::Direction::to_postgres;
  std::vector<std::string> ids;
  for (const auto& f : m.fields)
    if (f.direction == one_way) ids.push_back(f.id);
  return ids;
}

model::Status take_resync(state::StateStore& state, const mapping::Mapping& m, state::Direction d,
                          const std::string& restart, ResyncRequest what) {
  if (what == ResyncRequest::overwrite)
    for (const auto& id : one_way_fields(m, d))
      if (auto n = state.overwrite_field(m.name, id); !n.ok()) return std::move(n).error();
  if (auto st = state.remove_checkpoint(m.name, restart); !st.ok()) return st;
  return state.remove_checkpoint(m.name, resync_cursor(d));
}

}  // namespace hubsync::pipeline
