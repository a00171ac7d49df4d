#include "engine/ratelimit/daily_budget.h"

#include <algorithm>
#include <cmath>

namespace hubsync::ratelimit {

namespace {
constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
}  // namespace

DailyBudget::DailyBudget(std::int64_t limit, double headroom, int utc_offset_minutes)
    : limit_(std::max<std::int64_t>(0, limit)),
      headroom_(headroom),
      offset_ms_(static_cast<std::int64_t>(utc_offset_minutes) * 60'000) {}

std::int64_t DailyBudget::day_of(std::int64_t wall_ms) const {
  return floor_div(wall_ms + offset_ms_, kDayMs);
}

void DailyBudget::roll(std::int64_t wall_ms) {
  const std::int64_t d = day_of(wall_ms);
  if (d != day_) {
    day_ = d;
    used_ = 0;
    exhausted_ = false;
  }
}

std::int64_t DailyBudget::effective_limit() const {
  if (limit_ == 0) return 0;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(
                                       static_cast<double>(limit_) * (1.0 - headroom_))));
}

std::int64_t DailyBudget::ms_until_midnight(std::int64_t wall_ms) const {
  return (day_of(wall_ms) + 1) * kDayMs - offset_ms_ - wall_ms;
}

std::int64_t DailyBudget::wait_ms(std::int64_t wall_ms) {
  roll(wall_ms);
  if (exhausted_ || (limit_ > 0 && used_ >= effective_limit())) return ms_until_midnight(wall_ms);
  return 0;
}

void DailyBudget::take(std::int64_t wall_ms) {
  roll(wall_ms);
  ++used_;
}

void DailyBudget::correct(std::int64_t limit, std::int64_t remaining, std::int64_t wall_ms) {
  roll(wall_ms);
  if (limit <= 0) return;
  limit_ = limit;
  used_ = std::max(used_, limit - std::max<std::int64_t>(0, remaining));
}

void DailyBudget::exhaust(std::int64_t wall_ms) {
  roll(wall_ms);
  exhausted_ = true;
}

}  // namespace hubsync::ratelimit
