#include "engine/model/clock_offset.h"

#include <algorithm>
#include <cstdlib>

namespace hubsync::model {

namespace {

constexpr std::size_t kMaxKept = 32;
constexpr std::int64_t kMaxAgeMs = 60 * 60 * 1000;

std::optional<ClockOffset> intersect(const ClockOffset& a, const ClockOffset& b) {
  ClockOffset out{std::max(a.low_ms, b.low_ms), std::min(a.high_ms, b.high_ms)};
  if (out.low_ms > out.high_ms) return std::nullopt;
  return out;
}

}  // namespace

ClockOffset bounds_of(const ClockReading& r) {
  // remote_true in [remote, remote + resolution); local_true in [sent, received + 1).
  return ClockOffset{r.remote_ms - (r.received_ms + 1), r.remote_ms + r.resolution_ms - r.sent_ms};
}

bool newly_told(std::atomic<std::int64_t>& told, std::int64_t correction_ms) {
  std::int64_t last = told.load();
  return std::abs(correction_ms - last) >= 1000 && told.compare_exchange_strong(last, correction_ms);
}

void ClockOffsetEstimate::add(const ClockReading& r) {
  if (r.received_ms < r.sent_ms || r.resolution_ms < 1) return;
  std::lock_guard lock(mu_);
  kept_.push_back({bounds_of(r), r.received_ms});
  while (kept_.size() > kMaxKept || kept_.front().at_ms < r.received_ms - kMaxAgeMs) kept_.pop_front();
  // From the newest back, as far as the readings still agree.
  ClockOffset agreed = kept_.back().bounds;
  for (std::size_t i = kept_.size() - 1; i-- > 0;) {
    auto narrower = intersect(agreed, kept_[i].bounds);
    if (!narrower) {
      kept_.erase(kept_.begin(), kept_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      break;
    }
    agreed = *narrower;
  }
  current_ = agreed;
}

std::optional<ClockOffset> ClockOffsetEstimate::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

}  // namespace hubsync::model
