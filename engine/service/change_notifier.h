#pragma once

#include <chrono>
#include <set>
#include <string>

#include "engine/model/result.h"

namespace hubsync::service {

/// What woke the push loop.
struct Wakeup {
  std::set<std::string> mappings;  ///< mappings whose tables changed
  /// Changes may have been missed (the listener was (re)connected): every
  /// mapping must catch up from the changelog.
  bool all = false;
};

/// Tells `serve` that captured changes were committed (Postgres LISTEN /
/// NOTIFY on channel hubsync_changes, payload the mapping). Implemented by
/// connectors/postgres (PgListener). One thread uses an instance.
class ChangeNotifier {
 public:
  virtual ~ChangeNotifier() = default;

  /// Waits up to `timeout` for notifications and returns those that came
  /// (empty on timeout). The first call, and the first after a lost
  /// connection is re-established, returns at once with `all` set. Error
  /// `transient` when the database cannot be reached (the caller backs off
  /// and calls again; each call tries to reconnect).
  virtual model::Result<Wakeup> wait(std::chrono::milliseconds timeout) = 0;
};

}  // namespace hubsync::service
