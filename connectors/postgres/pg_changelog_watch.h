#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "engine/service/change_notifier.h"

namespace hubsync::postgres {

/// Wakes `serve` without NOTIFY (config postgres.notify off): every `every`
/// one indexed query on a connection of its own asks which mappings have
/// changes in the changelog that a push could claim now (not claimed, not
/// deferred); with capture by logical decoding it first relays what the
/// slot decoded (capture_relay.h). A push in progress, or one that left rows for later, makes
/// no wakeup of its own. Reconnects after the connection drops and then
/// reports `all`, like PgListener. Not thread-safe: one thread waits on it.
class PgChangelogWatcher final : public service::ChangeNotifier {
 public:
  PgChangelogWatcher(std::string dsn, std::chrono::milliseconds every, std::shared_ptr<spdlog::logger> log);
  ~PgChangelogWatcher() override;

  /// Looks at most once per `every` (the first look of a call may come at
  /// once); returns the mappings with claimable changes as soon as a look
  /// finds some, else empty when `timeout` has passed.
  model::Result<service::Wakeup> wait(std::chrono::milliseconds timeout) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubsync::postgres
