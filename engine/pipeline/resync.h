#pragma once

// `hubsync resync`: an operator asks that a direction of a mapping look at
// everything again, because changes reached neither the changelog nor the
// sweep (a capture trigger disabled for a load, a replication slot lost,
// rows written as hubsync). The request is a checkpoint the next pass of
// that direction takes, so it works beside a running serve: a pass in
// progress keeps writing its own checkpoints, and the next one starts over.
#include <string>
#include <vector>

#include "engine/mapping/mapping.h"
#include "engine/model/result.h"
#include "engine/state/state_store.h"

namespace hubsync::pipeline {

/// What a pending request asks of the next pass.
enum class ResyncRequest {
  none,
  /// Every row (object) is merged again: missed changes are carried.
  look_again,
  /// As look_again, and the one-way fields that go in this direction send
  /// their values again whether or not they changed: their last agreed
  /// values are forgotten first, so each is merged as at a first link.
  overwrite,
};

/// The checkpoint that holds a request: "resync to_hubspot" /
/// "resync to_postgres", value "asked" or "overwrite" (status shows it
/// with its time).
std::string resync_cursor(state::Direction d);

/// Records a request for `d` of `mapping`; a second request before a pass
/// takes it is the same request, overwrite if either asked it. Errors: the
/// store's.
model::Status ask_resync(state::StateStore& state, const std::string& mapping, state::Direction d,
                         bool overwrite = false);

/// The ids of `m`'s fields that go only in `d`: what an overwrite sends again.
std::vector<std::string> one_way_fields(const mapping::Mapping& m, state::Direction d);

/// The request pending for `d` of `mapping` (none: none). Errors: the store's.
model::Result<ResyncRequest> resync_request(state::StateStore& state, const std::string& mapping,
                                            state::Direction d);

/// Called by a pass of `d` that found request `what` pending, before it
/// reads its checkpoint `restart` (the push's initial load, the pull's
/// sweep; the pull also makes its association pass due) and once what
/// must precede the restart is done: with overwrite, marks the last
/// agreed values of `m`'s fields that go only in `d` so that their source
/// wins each row's next merge, an empty value included
/// (state::StateStore::overwrite_field); removes `restart` (the pass then
/// starts from the first row or the oldest object), then the request. A
/// crash in between leaves the request, which restarts the next pass
/// again. Errors: the store's.
model::Status take_resync(state::StateStore& state, const mapping::Mapping& m, state::Direction d,
                          const std::string& restart, ResyncRequest what);

}  // namespace hubsync::pipeline
