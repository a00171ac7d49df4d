#pragma once

// `hubsync resync`: an operator asks that a direction of a mapping look at
// everything again, because changes reached neither the changelog nor the
// sweep (a capture trigger disabled for a load, a replication slot lost,
// rows written as hubsync). The request is a checkpoint the next pass of
// that direction takes, so it works beside a running serve: a pass in
// progress keeps writing its own checkpoints, and the next one starts over.
#include <string>

#include "engine/model/result.h"
#include "engine/state/state_store.h"

namespace hubsync::pipeline {

/// The checkpoint that holds a request: "resync to_hubspot" /
/// "resync to_postgres", value "asked" (status shows it with its time).
std::string resync_cursor(state::Direction d);

/// Records a request for `d` of `mapping`; a second request before a pass
/// takes it is the same request. Errors: the store's.
model::Status ask_resync(state::StateStore& state, const std::string& mapping, state::Direction d);

/// Whether a request for `d` of `mapping` is pending. Errors: the store's.
model::Result<bool> resync_asked(state::StateStore& state, const std::string& mapping, state::Direction d);

/// Called by a pass of `d` that found a request pending, before it reads
/// its checkpoint `restart` (the push's initial load, the pull's sweep;
/// the pull also makes its association pass due) and
/// once what must precede the restart is done: removes `restart` (the pass
/// then starts from the first row or the oldest object), then the request.
/// A crash in between leaves the request, which restarts the next pass
/// again. Errors: the store's.
model::Status take_resync(state::StateStore& state, const std::string& mapping, state::Direction d,
                          const std::string& restart);

}  // namespace hubsync::pipeline
