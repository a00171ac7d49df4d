#pragma once

#include <cstdint>

#include "engine/ratelimit/clock.h"

namespace hubsync::ratelimit {

/// The portal's daily request budget, reset at the portal's midnight.
/// Not thread-safe: RateLimiter serialises access.
class DailyBudget {
 public:
  /// `limit` 0 means unknown (no daily limiting until headers tell).
  DailyBudget(std::int64_t limit, double headroom, int utc_offset_minutes);

  /// Milliseconds of wall time until a request fits; zero when it fits now.
  std::int64_t wait_ms(std::int64_t wall_ms);
  void take(std::int64_t wall_ms);
  /// From X-HubSpot-RateLimit-Daily / -Daily-Remaining.
  void correct(std::int64_t limit, std::int64_t remaining, std::int64_t wall_ms);
  /// After a DAILY 429: nothing fits until the next portal midnight.
  void exhaust(std::int64_t wall_ms);
  /// Wall milliseconds until the portal's next midnight.
  std::int64_t ms_until_midnight(std::int64_t wall_ms) const;

  std::int64_t limit() const { return limit_; }
  std::int64_t used() const { return used_; }
  std::int64_t effective_limit() const;

 private:
  void roll(std::int64_t wall_ms);
  std::int64_t day_of(std::int64_t wall_ms) const;

  std::int64_t limit_;
  double headroom_;
  std::int64_t offset_ms_;
  std::int64_t day_ = -1;
  std::int64_t used_ = 0;
  bool exhausted_ = false;
};

}  // namespace hubsync::ratelimit
