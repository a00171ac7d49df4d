#include "engine/state/retry_schedule.h"

#include <algorithm>

namespace hubsync::state {

std::int64_t RetrySchedule::delay_ms(int attempts) const {
  const int n = std::max(attempts, 1);
  // Multiply step by step and stop at the cap: pow() could overflow int64.
  double delay = static_cast<double>(std::max<std::int64_t>(base_ms, 0));
  for (int i = 1; i < n && delay < static_cast<double>(cap_ms); ++i) delay *= factor;
  return std::min(static_cast<std::int64_t>(delay), cap_ms);
}

std::optional<TimeMs> RetrySchedule::next_retry_at(int attempts, TimeMs failed_at_ms) const {
  if (attempts >= max_attempts) return std::nullopt;
  return failed_at_ms + delay_ms(attempts);
}

}  // namespace hubsync::state
