#include "engine/ratelimit/backoff.h"

#include <algorithm>

namespace hubsync::ratelimit {

Backoff::Backoff(BackoffConfig config, std::uint64_t seed) : config_(config), rng_(seed) {}

Clock::Duration Backoff::ceiling(int retry) const {
  const auto base = std::max<std::int64_t>(1, config_.base.count());
  const auto cap = std::max<std::int64_t>(base, config_.cap.count());
  std::int64_t c = base;
  for (int i = 0; i < retry && c < cap; ++i) c *= 2;
  return Clock::Duration(std::min(c, cap));
}

Clock::Duration Backoff::delay(int retry) {
  const auto hi = ceiling(std::max(0, retry)).count();
  std::lock_guard lock(mu_);
  std::uniform_int_distribution<std::int64_t> dist(0, hi);
  return Clock::Duration(dist(rng_));
}

}  // namespace hubsync::ratelimit
