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
  /// How long the oldest of these changes has waited already, since it was
  /// captured, where the notifier can tell (a look at the changelog); zero
  /// for a NOTIFY, sent at commit. serve's debounce counts from then, so a
  /// poll's own interval is not waited out a second time.
  std::chrono::milliseconds waited{0};
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
