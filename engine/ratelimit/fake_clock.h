#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "engine/ratelimit/clock.h"

namespace hubsync::ratelimit {

/// A clock for tests: time moves only when advanced or slept on. sleep_for
/// advances the clock by the requested duration and returns at once, so a
/// component that blocks on the clock runs instantly and deterministically.
/// Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t wall_start_ms = 1'700'000'000'000) : wall_start_ms_(wall_start_ms) {}

  Duration monotonic() const override { return Duration(now_ms_.load()); }
  std::int64_t wall_ms() const override { return wall_start_ms_ + now_ms_.load(); }
  void sleep_for(Duration d) override {
    if (d.count() > 0) {
      now_ms_ += d.count();
      slept_ms_ += d.count();
    }
  }

  void advance(Duration d) { now_ms_ += d.count(); }
  /// Total time spent in sleep_for, for assertions.
  Duration slept() const { return Duration(slept_ms_.load()); }

 private:
  std::int64_t wall_start_ms_;
  std::atomic<std::int64_t> now_ms_{0};
  std::atomic<std::int64_t> slept_ms_{0};
};

}  // namespace hubsync::ratelimit
