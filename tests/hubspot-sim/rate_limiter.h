#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace hubsync::sim {

/// HubSpot's per-portal limits: a rolling 10-second window, a daily counter
/// (reset at UTC midnight) and the search limit per second. Thread-safe.
class RateLimiter {
 public:
  struct Decision {
    bool allowed = true;
    std::string policy;  ///< TEN_SECONDLY_ROLLING, DAILY or SECONDLY when refused
    int max = 0;
    int remaining = 0;
    std::int64_t daily = 0;
    std::int64_t daily_remaining = 0;
    std::int64_t retry_after_ms = 0;  ///< when refused: until a slot frees
  };
  RateLimiter(int tier, std::int64_t daily, int search_per_second);
  /// Counts one ordinary request at `now_ms` if allowed.
  Decision check(std::int64_t now_ms);
  /// Counts one search request (own secondly window, plus the daily counter).
  Decision check_search(std::int64_t now_ms);
  void set_tier(int tier);
  void reset();

 private:
  bool daily_ok_locked(std::int64_t now_ms);
  std::mutex mu_;
  int tier_;
  std::int64_t daily_;
  int search_per_second_;
  std::deque<std::int64_t> window_;
  std::deque<std::int64_t> search_window_;
  std::int64_t day_ = -1;
  std::int64_t day_count_ = 0;
};

}  // namespace hubsync::sim
