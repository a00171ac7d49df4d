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
  /// The most requests, ours and others' together, the window may hold once
  /// others' traffic has been noted (note_others); ours alone stay within
  /// limit(). Until set, limit().
  void set_shared_limit(int limit);
  int shared_limit() const { return shared_limit_; }
  /// The portal counted `n` requests not ours in its window at about `at`
  /// (monotonic, non-decreasing across calls), as read from an answer's
  /// headers. Others' use is a level, not a list of requests: it is the most
  /// noted in the last interval, so another app's steady traffic stays
  /// counted while it lasts instead of leaving in a lump one interval after
  /// the answer that revealed it (which would free slots the other app is
  /// still using).
  void note_others(int n, Duration at);
  /// Others' use at `now`: the most noted in (now - interval, now], else 0.
  int others_at(Duration now) const;
  /// The most of ours the portal can have counted when the request sent at
  /// `sent` arrived: ours sent after `sent - interval - slack` that were
  /// answered already (settled: whenever sent, they may have arrived first),
  /// and ours still open sent up to `sent + slack`; that one included. The
  /// portal counts a request on arrival, shortly after its send, but
  /// requests sent within `slack` of each other may arrive in either order
  /// (concurrent senders, the network, a busy server), and a request held up
  /// longer (a descheduled sender, a fresh connection's handshake) is
  /// overtaken by later ones that are answered before it. Taking the most
  /// makes the others' use read from each answer (the portal's count less
  /// this) a lower bound; the highest of those over an interval is exact as
  /// soon as one answer had none of ours near either edge of its window, as
  /// happens within a burst for the request that arrived last.
  int ours_at_arrival(Duration sent, Duration slack) const;
  /// Tokens holding a slot at `now`, ours and others' (guard not included).
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
    std::uint64_t id = 0;     // 0: not settleable (take())
  };
  struct Others {
    Duration at;
    int n;
  };
  struct Open {
    std::uint64_t id;
    Duration sent;
  };

  void insert(Spent s);
  void prune(Duration now);
  // When an open token is taken as answered if nobody settles it.
  Duration deadline(const Open& o) const { return o.sent + settle_within_; }

  int ours_in_window(Duration at, Duration now) const;
  // The noted level of others' use in force at `at`: the most noted in
  // (at - interval, at], or null.
  const Others* others_level(Duration at) const;
  // When the level of others' use may next fall, after `at`.
  Duration others_fall_after(Duration at) const;

  int limit_;
  int shared_limit_;
  Duration interval_;
  Duration guard_{0};
  Duration settle_within_{120'000};
  Duration blocked_until_{0};
  std::deque<Spent> spent_;  // sorted by `from`
  std::vector<Open> open_;   // sorted by `sent` (opened in time order)
  std::deque<Others> others_;  // by `at`, with `n` strictly falling: the front is the level
};

}  // namespace hubsync::ratelimit
