#pragma once

#include <cstdint>
#include <optional>

#include "engine/state/state_store.h"

namespace hubsync::state {

/// Exponential backoff for dead-letter retries: the n-th failed attempt
/// (n >= 1) waits base * factor^(n-1), capped at `cap_ms`; after
/// `max_attempts` failures the record is no longer retried automatically.
/// Deterministic on purpose (dead letters are retried minutes apart, so
/// there is no herd to spread with jitter).
struct RetrySchedule {
  std::int64_t base_ms = 60'000;            ///< 1 minute after the first failure
  double factor = 2.0;
  std::int64_t cap_ms = 6 * 3'600'000LL;    ///< never wait more than 6 hours
  int max_attempts = 12;                    ///< then needs an operator

  /// Delay after `attempts` failures; attempts <= 0 is treated as 1.
  std::int64_t delay_ms(int attempts) const;
  /// When to retry after `attempts` failures, the last at `failed_at_ms`;
  /// nullopt once attempts >= max_attempts.
  std::optional<TimeMs> next_retry_at(int attempts, TimeMs failed_at_ms) const;
};

}  // namespace hubsync::state
