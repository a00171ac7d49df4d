#pragma once

#include <cstdint>
#include <mutex>
#include <random>

#include "engine/ratelimit/clock.h"

namespace hubsync::ratelimit {

using namespace std::chrono_literals;

struct BackoffConfig {
  Clock::Duration base = 250ms;  ///< ceiling of the first retry's delay
  Clock::Duration cap = 30'000ms;  ///< no delay ceiling grows past this
};

/// Capped exponential backoff with full jitter: the delay before retry n
/// (n = 0 for the first retry) is uniform in [0, min(cap, base * 2^n)].
/// The random source is seeded by the caller so tests are deterministic.
/// Thread-safe.
class Backoff {
 public:
  explicit Backoff(BackoffConfig config = {}, std::uint64_t seed = std::random_device{}());

  /// The delay before retry number `retry` (0-based).
  Clock::Duration delay(int retry);
  /// The ceiling of that delay, without jitter.
  Clock::Duration ceiling(int retry) const;

  const BackoffConfig& config() const { return config_; }

 private:
  BackoffConfig config_;
  std::mutex mu_;
  std::mt19937_64 rng_;
};

}  // namespace hubsync::ratelimit
