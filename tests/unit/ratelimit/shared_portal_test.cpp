// The limiter on a portal shared with another app, played out on the fake
// clock against an exact model of the portal's rolling window: the portal
// counts each request on arrival (here: at its send), answers 150-400 ms
// later with X-HubSpot-RateLimit-Remaining as of that arrival, and refuses
// a request that would make its window hold more than the limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "engine/ratelimit/fake_clock.h"
#include "engine/ratelimit/rate_limiter.h"

namespace hubsync::ratelimit {
namespace {

using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

constexpr int kPortalLimit = 190;
constexpr Ms kInterval = 10'000ms;

// The portal's window: every request it counted, ours and the other app's.
class Portal {
 public:
  // Counts a request arriving at `t`; false (a 429) when the window is full.
  bool arrive(Ms t) {
    while (!seen_.empty() && seen_.front() <= t - kInterval) seen_.pop_front();
    if (static_cast<int>(seen_.size()) >= kPortalLimit) return false;
    seen_.push_back(t);
    return true;
  }
  int remaining() const { return kPortalLimit - static_cast<int>(seen_.size()); }

 private:
  std::deque<Ms> seen_;
};

struct Exchange {
  Permit permit;
  Ms answer_at;
  int remaining;
};

struct Outcome {
  int ours_refused = 0;
  int others_refused = 0;
  std::vector<Ms> ours_sent;  // accepted by the portal
};

// Our client keeps up to `in_flight` requests going through the limiter
// while another app sends one request every `other_every`, for `run`.
Outcome play(Ms other_every, int in_flight, Ms run) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = kPortalLimit, .headroom = 0.05});
  Portal portal;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> latency(150, 400);
  std::vector<Exchange> flying;
  Outcome out;
  auto headers = [](int remaining) {
    return parse_rate_limit_headers({{"X-HubSpot-RateLimit-Max", std::to_string(kPortalLimit)},
                                     {"X-HubSpot-RateLimit-Remaining", std::to_string(remaining)}});
  };
  // The other app starts a window before us, so its traffic is steady.
  for (Ms t = -kInterval; t < 0ms; t += other_every) portal.arrive(t);
  for (Ms t = 0ms; t < run; t += 1ms, clock.advance(1ms)) {
    if (t.count() % other_every.count() == 0 && !portal.arrive(t)) ++out.others_refused;
    for (auto it = flying.begin(); it != flying.end();) {
      if (it->answer_at > t) { ++it; continue; }
      lim.observe(headers(it->remaining), it->permit);
      lim.settle(it->permit);
      it = flying.erase(it);
    }
    Permit p;
    while (static_cast<int>(flying.size()) < in_flight && lim.try_acquire(Lane::standard, &p) == 0ms) {
      if (portal.arrive(t)) out.ours_sent.push_back(t);
      else ++out.ours_refused;
      flying.push_back({p, t + Ms(latency(rng)), portal.remaining()});
    }
  }
  return out;
}

// Requests of ours the portal accepted in [from, to).
int sent_between(const Outcome& o, Ms from, Ms to) {
  return static_cast<int>(std::count_if(o.ours_sent.begin(), o.ours_sent.end(),
                                        [&](Ms t) { return t >= from && t < to; }));
}

// Another app spends 30 % of the window, steadily (57 of 190 per 10 s). The
// limiter learns it only from the headers, and must neither overfill the
// portal's window (a 429 for us or, worse, for the other app) nor leave more
// than 5 % of what the other app leaves unused. With its traffic held from
// each answer that revealed it, the others' requests left the limiter's
// count in a lump every interval while they still filled the portal's
// window: both sides met 429s.
TEST(SharedPortal, ASteadyOtherAppMeetsNo429AndLeavesUsAtLeastNinetyFivePercentOfTheRest) {
  const Outcome o = play(175ms, 10, 60'000ms);
  EXPECT_EQ(o.ours_refused, 0);
  EXPECT_EQ(o.others_refused, 0);
  const int left_per_window = kPortalLimit - 57;
  // Past the first window (which admits a burst before the headers say
  // anything), window by window.
  for (Ms from = 10'000ms; from + kInterval <= 60'000ms; from += kInterval) {
    const int ours = sent_between(o, from, from + kInterval);
    EXPECT_GE(ours, 0.95 * left_per_window) << "window from " << from.count() << " ms";
    EXPECT_LE(ours, left_per_window) << "window from " << from.count() << " ms";
  }
}

// The same with the other app's traffic heavier (60 %) and our client
// keeping more requests in flight: the margin still holds.
TEST(SharedPortal, AHeavyOtherAppAndManyInFlightStillMeetNo429) {
  const Outcome o = play(88ms, 25, 60'000ms);
  EXPECT_EQ(o.ours_refused, 0);
  EXPECT_EQ(o.others_refused, 0);
  EXPECT_GE(sent_between(o, 20'000ms, 60'000ms), 0.9 * 4 * (kPortalLimit - 114));
}

}  // namespace
}  // namespace hubsync::ratelimit
