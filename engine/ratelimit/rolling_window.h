#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/ratelimit/clock.h"

namespace hubsync::ratelimit {

/// HubSpot's rolling-window limit as a token bucket whose tokens come back
/// exactly `interval` after the moment they count from: at most `limit`
/// requests in any window (t - interval, t]. Exact for a rolling window,
/// where a classic refill-rate bucket would allow up to twice the limit in
/// one window.
///
/// The portal counts a request when it arrives, which is some moment between
/// its send and its answer. A token opened for a request in flight (open())
/// therefore holds its slot for as long as the request is in flight, and once
/// settled (settle()) for one interval after the answer: the latest moment
/// the portal could have counted it from. A token nobody settles is taken as
/// answered `settle_within` after it was opened, so a lost one frees at last.
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
  /// How long an open token may stay unsettled before it is taken as
  /// answered at `opened + settle_within` (at least one millisecond).
  void set_settle_within(Duration d);

  /// How long from `now` until one more request fits; zero when it fits now.
  /// While the window is full of requests in flight this is a lower bound
  /// (they hold their slots one interval past an answer still to come):
  /// ask again when it has passed.
  Duration wait_at(Duration now) const;
  /// Spends one token at `now` for a request whose end will not be reported:
  /// it counts from `now` (monotonic, non-decreasing across calls).
  void take(Duration now);
  /// Spends one token at `now` for request `id` (non-zero, unique), in flight
  /// until settle(id, ...).
  void open(std::uint64_t id, Duration now);
  /// Request `id`, opened at `opened`, is over at `now` (answered, or failed
  /// in transport): its token counts from `now` on, never from earlier than
  /// it already did. A token no longer held (its request outlived
  /// settle_within, or it was pruned) is spent again from `now`.
  void settle(std::uint64_t id, Duration opened, Duration now);
  /// Records `n` requests made by someone else (seen in response headers),
  /// counting from `at`.
  void add_external(int n, Duration at);
  /// The tokens the server is taken to have counted in the window that ended
  /// when a request sent at `sent` and answered at `now` arrived: ours sent
  /// by `sent + slack` (later ones most likely arrived later) and still in
  /// flight or answered after `sent - interval - slack` (earlier answers
  /// surely arrived before that window), and the others' traffic recorded
  /// in (`sent - interval - slack`, `now`]. For comparing with the server's
  /// count in response headers; `slack` covers the two clocks' and the
  /// network's disagreement about the order of events.
  int known_at_arrival(Duration sent, Duration now, Duration slack) const;
  /// Tokens holding a slot at `now` (guard not included).
  int used_at(Duration now) const;
  /// Requests opened and not settled, nor past settle_within, at `now`.
  int in_flight_at(Duration now) const;
  /// No token is handed out before `until` (after a 429).
  void block_until(Duration until);
  Duration blocked_until() const { return blocked_until_; }

 private:
  struct Spent {
    Duration from;            // counts from here: the answer, or the send for take()
    Duration sent;            // when the request was sent (== from unless settled)
    std::uint64_t id = 0;     // 0: not settleable (take(), others' traffic)
    bool external = false;    // someone else's request, seen in headers
  };
  struct Open {
    std::uint64_t id;
    Duration sent;
  };

  void insert(Spent s);
  void prune(Duration now);
  // When an open token is taken as answered if nobody settles it.
  Duration deadline(const Open& o) const { return o.sent + settle_within_; }

  int limit_;
  Duration interval_;
  Duration guard_{0};
  Duration settle_within_{120'000};
  Duration blocked_until_{0};
  std::deque<Spent> spent_;  // sorted by `from`
  std::vector<Open> open_;   // sorted by `sent` (opened in time order)
};

}  // namespace hubsync::ratelimit
