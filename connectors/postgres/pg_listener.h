#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "engine/service/change_notifier.h"

namespace hubsync::postgres {

/// LISTEN hubsync_changes on a connection of its own (the capture trigger
/// notifies with the mapping's name at commit); reconnects after the
/// connection drops and then reports `all`, so the push loop catches up
/// from the changelog. Not thread-safe: one thread waits on it.
class PgListener final : public service::ChangeNotifier {
 public:
  static constexpr const char* kChannel = "hubsync_changes";

  PgListener(std::string dsn, std::shared_ptr<spdlog::logger> log);
  ~PgListener() override;

  model::Result<service::Wakeup> wait(std::chrono::milliseconds timeout) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubsync::postgres
