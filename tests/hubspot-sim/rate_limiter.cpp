#include "tests/hubspot-sim/rate_limiter.h"

namespace hubsync::sim {

RateLimiter::RateLimiter(int tier, std::int64_t daily, int search_per_second)
    : tier_(tier), daily_(daily), search_per_second_(search_per_second) {}

void RateLimiter::set_tier(int tier) {
  std::lock_guard lock(mu_);
  tier_ = tier;
}

void RateLimiter::reset() {
  std::lock_guard lock(mu_);
  window_.clear();
  search_window_.clear();
  day_count_ = 0;
}

bool RateLimiter::daily_ok_locked(std::int64_t now_ms) {
  std::int64_t day = now_ms / 86400000;
  if (day != day_) {
    day_ = day;
    day_count_ = 0;
  }
  return day_count_ < daily_;
}

RateLimiter::Decision RateLimiter::check(std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  Decision d;
  while (!window_.empty() && window_.front() <= now_ms - 10000) window_.pop_front();
  d.max = tier_;
  d.daily = daily_;
  if (!daily_ok_locked(now_ms)) {
    d.allowed = false;
    d.policy = "DAILY";
    d.retry_after_ms = (now_ms / 86400000 + 1) * 86400000 - now_ms;
  } else if (static_cast<int>(window_.size()) >= tier_) {
    d.allowed = false;
    d.policy = "TEN_SECONDLY_ROLLING";
    d.retry_after_ms = window_.empty() ? 0 : window_[window_.size() - static_cast<size_t>(tier_)] + 10000 - now_ms;
  } else {
    window_.push_back(now_ms);
    ++day_count_;
  }
  d.remaining = std::max(0, tier_ - static_cast<int>(window_.size()));
  d.daily_remaining = std::max<std::int64_t>(0, daily_ - day_count_);
  return d;
}

RateLimiter::Decision RateLimiter::check_search(std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  Decision d;
  while (!search_window_.empty() && search_window_.front() <= now_ms - 1000) search_window_.pop_front();
  d.max = search_per_second_;
  if (!daily_ok_locked(now_ms)) {
    d.allowed = false;
    d.policy = "DAILY";
    d.retry_after_ms = (now_ms / 86400000 + 1) * 86400000 - now_ms;
  } else if (static_cast<int>(search_window_.size()) >= search_per_second_) {
    d.allowed = false;
    d.policy = "SECONDLY";
    d.retry_after_ms = search_window_[search_window_.size() - static_cast<size_t>(search_per_second_)] + 1000 - now_ms;
  } else {
    search_window_.push_back(now_ms);
    ++day_count_;
  }
  return d;
}

}  // namespace hubsync::sim
