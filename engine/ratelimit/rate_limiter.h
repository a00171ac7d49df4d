#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/model/result.h"
#include "engine/ratelimit/clock.h"
#include "engine/ratelimit/daily_budget.h"
#include "engine/ratelimit/rolling_window.h"

namespace hubsync::ratelimit {

using namespace std::chrono_literals;

/// HubSpot's published per-portal burst limits (requests per rolling 10 s).
enum class Tier { free_starter, oauth_app, professional, enterprise, api_add_on };
int burst_limit_for(Tier tier);  ///< 100, 110, 190, 190, 250

/// The limiter's settings, from the portal's tier and the operator's config.
struct LimiterConfig {
  int burst_limit = 190;                     ///< per burst_interval, before headroom
  Clock::Duration burst_interval = 10'000ms;
  /// Fraction of the burst left for other apps on the portal while none is
  /// seen. Once the headers show their use, hubsync leaves them that use
  /// plus half this fraction (at least one request) instead.
  double headroom = 0.05;
  std::int64_t daily_limit = 0;              ///< 0: unknown until the headers say
  int search_limit = 5;                      ///< search requests per search_interval
  Clock::Duration search_interval = 1'000ms;
  /// The search window has no headroom: a token stays spent this much
  /// longer so arrival-order jitter at the server cannot cause a SECONDLY 429.
  Clock::Duration search_guard = 50ms;
  int utc_offset_minutes = 0;                ///< portal time zone, for the daily reset
  bool learn_from_headers = true;            ///< adopt X-HubSpot-RateLimit-Max/-Interval
  /// A permit not settled this long after its grant is taken as answered
  /// then: its slot frees `settle_within + interval` after the grant. Keep it
  /// above the transport's total timeout (hubspot.timeout_ms, 60 s by
  /// default): the client settles every permit, answered or failed, so this
  /// bounds only permits that are lost.
  Clock::Duration settle_within = 120'000ms;
};

/// Which budget a request spends. Search spends both the search bucket and
/// the burst bucket (conservative: HubSpot does not document whether search
/// counts against the burst limit).
enum class Lane { standard, search };

/// The X-HubSpot-RateLimit-* headers of one response (absent ones empty).
struct RateLimitHeaders {
  std::optional<std::int64_t> max;
  std::optional<std::int64_t> remaining;
  std::optional<std::int64_t> interval_ms;
  std::optional<std::int64_t> daily;
  std::optional<std::int64_t> daily_remaining;

  bool empty() const { return !max && !remaining && !interval_ms && !daily && !daily_remaining; }
};

/// Reads the rate-limit headers from (name, value) pairs; names match
/// case-insensitively, unparsable values are ignored.
RateLimitHeaders parse_rate_limit_headers(
    const std::vector<std::pair<std::string, std::string>>& headers);

/// A granted request slot, held while its request is in flight. Hand it to
/// observe() with the response's headers and to settle() once the exchange
/// is over.
struct Permit {
  Clock::Duration sent_at{0};
  Lane lane = Lane::standard;
  std::uint64_t id = 0;  ///< 0: not granted by a limiter (settle() ignores it)
};

/// What the limiter has seen, for metrics and tests.
struct LimiterStats {
  int burst_limit = 0;            ///< effective (after headroom)
  int burst_used = 0;             ///< in the current window, ours and others'
  int others_used = 0;            ///< others' use of the current window, from the headers
  int shared_limit = 0;           ///< ours and others' together, while others are seen
  int search_limit = 0;
  int search_used = 0;            ///< in the current search window
  int in_flight = 0;              ///< permits granted and not yet settled
  std::int64_t daily_limit = 0;   ///< effective; 0 unknown
  std::int64_t daily_used = 0;
  std::int64_t granted = 0;
  std::int64_t waited = 0;        ///< grants that had to wait
  std::int64_t rate_limited = 0;  ///< 429s reported through on_rate_limited
};

/// Token buckets for one portal: the rolling burst window, search, and the
/// daily budget, corrected from response headers and 429s. Thread-safe; one
/// instance is shared by every worker talking to the portal.
///
/// The portal counts a request in its rolling windows from the moment it
/// arrives, which lies between our send and the answer. So a permit holds
/// its slot (burst, and search for that lane) while its request is in
/// flight, and from settle() on for one interval after the answer — the
/// latest moment the portal could have counted it from. A request the
/// portal sees late (network, queueing, a slow host) can then never share a
/// portal window with more than the limit. The daily budget counts requests,
/// not windows, and is spent at the grant.
class RateLimiter {
 public:
  RateLimiter(Clock& clock, LimiterConfig config);

  /// Takes a slot if one is free now and returns zero; otherwise takes
  /// nothing and returns how long to wait before asking again (a lower
  /// bound while requests in flight fill the window). Never blocks. With a
  /// `permit` the slot is held until settle() (see the class comment);
  /// without one it counts from now, as for a request answered at once.
  Clock::Duration try_acquire(Lane lane, Permit* permit = nullptr);

  /// Blocks (through Clock::sleep_for) until a slot is free. When the wait
  /// would exceed `max_wait` (e.g. the daily budget is spent) it returns a
  /// rate_limited error carrying the wait in retry_after instead of blocking.
  /// The permit must be settled once its request is over.
  model::Result<Permit> acquire(Lane lane, Clock::Duration max_wait = 60'000ms);

  /// Corrects the buckets from a response's headers: adopts the portal's
  /// real limit and interval (when learn_from_headers), notes the other
  /// apps' use of the window, updates the daily budget. The portal's count
  /// (Max - Remaining) is taken at the request's arrival, just after
  /// `permit.sent_at`, less the most of ours it can have counted then
  /// (RollingWindow::ours_at_arrival); what is left is at least the other
  /// apps' use, which holds slots as the most seen in the last interval
  /// (RollingWindow::note_others). While others are seen, ours and theirs
  /// together stay within the limit less half the headroom. Call before or
  /// after settle(), the same result.
  void observe(const RateLimitHeaders& headers, const Permit& permit);

  /// Settles a permit once its exchange is over — answered, or failed in
  /// transport (a timeout: settled when the transport gives up): its slots
  /// count from now, for one interval. Settling again moves them to the
  /// later time; a permit past settle_within is spent again from now. A
  /// permit never settled frees settle_within + interval after its grant.
  void settle(const Permit& permit);

  /// Reports a 429 and returns how long the caller should wait before the
  /// retry: Retry-After when present, else by policy name —
  /// TEN_SECONDLY_ROLLING one burst interval, SECONDLY one search interval,
  /// DAILY until the portal's next midnight. The affected bucket hands out
  /// nothing until then, so every worker backs off, not just the caller.
  Clock::Duration on_rate_limited(std::string_view policy_name,
                                  std::optional<Clock::Duration> retry_after, Lane lane);

  LimiterStats stats() const;
  Clock& clock() const { return clock_; }

 private:
  static int effective(int limit, double headroom);
  static int shared(int limit, double headroom);
  Clock::Duration wait_locked(Lane lane, Clock::Duration now, std::int64_t wall);

  Clock& clock_;
  LimiterConfig config_;
  mutable std::mutex mu_;
  RollingWindow burst_;
  RollingWindow search_;
  DailyBudget daily_;
  int raw_burst_limit_;
  std::uint64_t next_id_ = 0;
  LimiterStats stats_;
};

}  // namespace hubsync::ratelimit
