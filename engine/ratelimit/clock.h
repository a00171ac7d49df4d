#pragma once

#include <chrono>
#include <cstdint>

namespace hubsync::ratelimit {

/// Time as the engine sees it. Injected everywhere so tests drive time with a
/// fake clock and never sleep or read the wall clock.
class Clock {
 public:
  using Duration = std::chrono::milliseconds;
  virtual ~Clock() = default;

  /// Monotonic time since an arbitrary origin. Thread-safe.
  virtual Duration monotonic() const = 0;
  /// Wall-clock time, milliseconds since the Unix epoch. Thread-safe.
  virtual std::int64_t wall_ms() const = 0;
  /// Blocks the calling thread for `d` (a fake clock advances instead).
  virtual void sleep_for(Duration d) = 0;
};

/// The real clock: steady_clock and system_clock.
class SystemClock final : public Clock {
 public:
  Duration monotonic() const override;
  std::int64_t wall_ms() const override;
  void sleep_for(Duration d) override;
};

}  // namespace hubsync::ratelimit
