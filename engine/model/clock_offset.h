#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace hubsync::model {

/// How far another system's clock is from this process's (remote − local),
/// as the exchanges with it bound it: the true offset lies in
/// [low_ms, high_ms].
struct ClockOffset {
  std::int64_t low_ms = 0;
  std::int64_t high_ms = 0;

  /// The middle of the bounds: off by at most half their width.
  std::int64_t estimate_ms() const { return low_ms + (high_ms - low_ms) / 2; }
  /// What to take off a time the other system stamped to put it on our
  /// clock: 0 while the bounds hold 0 (the clocks may agree, and times are
  /// compared as stamped), else the estimate. Either way the time is then
  /// on our clock to within the bounds' width.
  std::int64_t correction_ms() const { return low_ms > 0 || high_ms < 0 ? estimate_ms() : 0; }
};

/// One exchange with the other system: sent at our `sent_ms`, answered by
/// our `received_ms`; in between, the other clock read `remote_ms`,
/// truncated to `resolution_ms` (1000 for an HTTP Date header, 1 for a
/// database's clock in milliseconds).
struct ClockReading {
  std::int64_t sent_ms = 0;
  std::int64_t received_ms = 0;
  std::int64_t remote_ms = 0;
  std::int64_t resolution_ms = 1;
};

/// The bounds one reading puts on the offset: the remote clock was at
/// least `remote_ms` and less than `remote_ms + resolution_ms` at some
/// local moment of [sent_ms, received_ms + 1) (our milliseconds truncate
/// too).
ClockOffset bounds_of(const ClockReading& r);

/// Whether a correction of `correction_ms` is news to tell (log): it differs
/// by a second or more from the last one told, which `told` holds (start
/// it at 0), and this caller is the one that moved `told` to it. So a clock
/// off, and set right again, is told once per change however many callers
/// see it. Thread-safe.
bool newly_told(std::atomic<std::int64_t>& told, std::int64_t correction_ms);

/// The recent readings of one system's clock, intersected: readings taken
/// at different fractions of a second narrow a Date header's one-second
/// bound to about one round trip. A reading that fits none of the earlier
/// ones (a clock was set) starts over from it, and readings older than an
/// hour or beyond the last 32 are dropped (clocks drift). Thread-safe.
class ClockOffsetEstimate {
 public:
  /// Adds one reading; a reading whose answer came before it was sent is ignored.
  void add(const ClockReading& r);
  /// The offset the kept readings agree on; nullopt before the first.
  std::optional<ClockOffset> current() const;

 private:
  struct Kept {
    ClockOffset bounds;
    std::int64_t at_ms;
  };
  mutable std::mutex mu_;
  std::deque<Kept> kept_;  // oldest first
  std::optional<ClockOffset> current_;
};

}  // namespace hubsync::model
