#pragma once

#include <atomic>
#include <cstdint>

#include "engine/ratelimit/clock.h"

namespace hubsync::test {

/// The system clock with its wall time moved by `shift_ms`: a host whose
/// clock differs from the database's and HubSpot's (TESTING.md, clocks that
/// differ), which a test cannot make for real. Monotonic time and sleeps
/// are the system's. Thread-safe; the shift may change at any time.
class ShiftedClock final : public ratelimit::Clock {
 public:
  Duration monotonic() const override { return system_.monotonic(); }
  std::int64_t wall_ms() const override { return system_.wall_ms() + shift_ms.load(); }
  void sleep_for(Duration d) override { system_.sleep_for(d); }

  std::atomic<std::int64_t> shift_ms{0};

 private:
  ratelimit::SystemClock system_;
};

}  // namespace hubsync::test
