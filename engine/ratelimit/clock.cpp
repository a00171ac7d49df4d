#include "engine/ratelimit/clock.h"

#include <thread>

namespace hubsync::ratelimit {

Clock::Duration SystemClock::monotonic() const {
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch());
}

std::int64_t SystemClock::wall_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SystemClock::sleep_for(Duration d) { std::this_thread::sleep_for(d); }

}  // namespace hubsync::ratelimit
