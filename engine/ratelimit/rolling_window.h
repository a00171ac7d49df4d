#pragma once

#include <deque>

#include "engine/ratelimit/clock.h"

namespace hubsync::ratelimit {

/// HubSpot's rolling-window limit as a token bucket whose tokens come back
/// exactly `interval` after they were spent: at most `limit` requests in any
/// window (t - interval, t]. Exact for a rolling window, where a classic
/// refill-rate bucket would allow up to twice the limit in one window.
/// Not thread-safe: RateLimiter serialises access.
class RollingWindow {
 public:
  using Duration = Clock::Duration;

  RollingWindow(int limit, Duration interval);

  int limit() const { return limit_; }
  Duration interval() const { return interval_; }
  void set_limit(int limit);
  void set_interval(Duration interval);
  /// Extra time a token stays spent beyond the interval, for windows with no
  /// headroom: requests that reach the server in a different order or delay
  /// than they were sent must not land in one window at the server.
  void set_guard(Duration guard) { guard_ = guard; }

  /// How long from `now` until one more request fits; zero when it fits now.
  Duration wait_at(Duration now) const;
  /// Spends one token at `now` (monotonic, non-decreasing across calls).
  void take(Duration now);
  /// Moves one token spent at `from` to `to` (later): the request's answer
  /// came at `to`, so the server saw it no later than that. A token already
  /// pruned is spent again at `to`.
  void restamp(Duration from, Duration to);
  /// Records `n` requests made by someone else (seen in response headers) at `at`.
  void add_external(int n, Duration at);
  /// Tokens spent in the window (from, to].
  int count_between(Duration from, Duration to) const;
  /// Tokens spent in the window ending at `now`.
  int used_at(Duration now) const { return count_between(now - interval_, now); }
  /// No token is handed out before `until` (after a 429).
  void block_until(Duration until);
  Duration blocked_until() const { return blocked_until_; }

 private:
  void prune(Duration now);

  int limit_;
  Duration interval_;
  Duration guard_{0};
  Duration blocked_until_{0};
  std::deque<Duration> spent_;  // sorted ascending
};

}  // namespace hubsync::ratelimit
