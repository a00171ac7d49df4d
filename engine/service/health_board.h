#pragma once

// What the sync-health page shows of a running `serve`, kept by the worker
// thread at each publish and read by the HTTP threads.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/model/clock_offset.h"
#include "engine/ratelimit/rate_limiter.h"
#include "engine/service/service.h"

namespace hubsync::service {

/// One direction of one mapping on the page.
struct DirectionHealth {
  std::string mapping;
  std::string direction;       ///< "to_hubspot" | "to_postgres"
  std::int64_t backlog = 0;    ///< captured changes / webhook events not yet synced
  double lag_seconds = 0;      ///< age of the oldest of them
  std::int64_t handled = 0;    ///< records written since the start
  /// Records written in each of the last 60 minutes, oldest first (the
  /// last entry is the current minute so far).
  std::vector<std::int64_t> per_minute;
};

/// The page's figures at one moment.
struct HealthView {
  std::int64_t at_ms = 0;  ///< 0: nothing published yet
  bool postgres_ok = false, hubspot_ok = false;
  ratelimit::LimiterStats limiter;
  std::vector<DirectionHealth> directions;
  /// HubSpot's and the database server's clocks against this host's
  /// (Snapshot's); nullopt: not measured yet.
  std::optional<model::ClockOffset> hubspot_clock, postgres_clock;
};

/// Thread-safe: record() on the worker thread, view() anywhere.
class HealthBoard {
 public:
  /// Takes one publish's figures: the backlog, lag and dead letters of the
  /// snapshot and what each direction wrote so far (the stats' totals),
  /// which feed the per-minute throughput of the last hour.
  void record(std::int64_t now_ms, const ServiceStats& stats, const Snapshot& snap);
  /// The latest figures, with each direction's last 60 minutes at `now_ms`.
  HealthView view(std::int64_t now_ms) const;

 private:
  mutable std::mutex mu_;
  HealthView latest_;
  /// (mapping, direction) -> minute since the epoch -> records written by
  /// the end of that minute (cumulative); the last 61 minutes.
  std::map<std::pair<std::string, std::string>, std::map<std::int64_t, std::int64_t>> cumulative_;
};

}  // namespace hubsync::service
