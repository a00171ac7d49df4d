#include "engine/ratelimit/rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "engine/ratelimit/fake_clock.h"

namespace hubsync::ratelimit {
namespace {

using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

// Largest number of grants in any rolling window of `interval` ending at a grant.
int max_in_window(std::vector<Ms> times, Ms interval) {
  std::sort(times.begin(), times.end());
  int best = 0;
  std::size_t lo = 0;
  for (std::size_t hi = 0; hi < times.size(); ++hi) {
    while (times[lo] <= times[hi] - interval) ++lo;
    best = std::max(best, static_cast<int>(hi - lo + 1));
  }
  return best;
}

TEST(RateLimiter, TierLimits) {
  EXPECT_EQ(burst_limit_for(Tier::free_starter), 100);
  EXPECT_EQ(burst_limit_for(Tier::oauth_app), 110);
  EXPECT_EQ(burst_limit_for(Tier::professional), 190);
  EXPECT_EQ(burst_limit_for(Tier::api_add_on), 250);
}

TEST(RateLimiter, BurstUpToLimitMinusHeadroomThenWait) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = 190, .headroom = 0.05});
  int granted = 0;
  while (lim.try_acquire(Lane::standard) == 0ms) ++granted;
  EXPECT_EQ(granted, 181);  // 190 * 0.95 rounded
  EXPECT_EQ(lim.try_acquire(Lane::standard), 10'000ms);
  clock.advance(10'000ms);
  EXPECT_EQ(lim.try_acquire(Lane::standard), 0ms);
}

TEST(RateLimiter, SmallLimitsKeepOneSlotFree) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = 10, .headroom = 0.05});
  int granted = 0;
  while (lim.try_acquire(Lane::standard) == 0ms) ++granted;
  EXPECT_EQ(granted, 9);  // 9.5 would round to 10: no room for arrival jitter
}

TEST(RateLimiter, SustainedRunStaysUnderTheLimitAtNinetyFivePercent) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = 190, .headroom = 0.05});
  std::vector<Ms> grants;
  constexpr int kN = 5000;
  for (int i = 0; i < kN; ++i) {
    auto p = lim.acquire(Lane::standard);
    ASSERT_TRUE(p.ok());
    grants.push_back(p->sent_at);
    clock.advance(3ms);  // the caller's own work between requests
  }
  EXPECT_LE(max_in_window(grants, 10'000ms), 190);
  EXPECT_LE(max_in_window(grants, 10'000ms), 181);
  // Long-run rate as a fraction of the 19/s bound.
  const double secs = static_cast<double>(grants.back().count() - grants.front().count()) / 1000.0;
  const double fraction = (kN / secs) / 19.0;
  EXPECT_GE(fraction, 0.95);
  EXPECT_LE(fraction, 1.0);
}

TEST(RateLimiter, AcquireBlocksThroughTheClock) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = 10, .headroom = 0.0});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(lim.acquire(Lane::standard).ok());
  EXPECT_EQ(clock.slept(), 0ms);
  auto p = lim.acquire(Lane::standard);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(clock.slept(), 10'000ms);
  EXPECT_EQ(lim.stats().waited, 1);
}

TEST(RateLimiter, SearchLaneAtFivePerSecond) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = 190, .search_limit = 5});
  std::vector<Ms> grants;
  for (int i = 0; i < 100; ++i) {
    auto p = lim.acquire(Lane::search);
    ASSERT_TRUE(p.ok());
    grants.push_back(p->sent_at);
  }
  EXPECT_LE(max_in_window(grants, 1'000ms), 5);
  EXPECT_GE(grants.back(), 19'000ms);  // 100 searches need ~20 s
  EXPECT_NEAR(lim.stats().burst_used, 48, 3);  // search spends burst tokens too (last 10 s)
}

// The server counts a request when it arrives, which may be as late as the
// answer: a search answered 600 ms after it was sent keeps its token until
// 1 s after the answer, so the next window at the server never holds six.
TEST(RateLimiter, ASlowAnswerKeepsItsTokenUntilOneIntervalAfterIt) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = 190, .search_limit = 5, .search_guard = 0ms});
  Permit slow;
  ASSERT_EQ(lim.try_acquire(Lane::search, &slow), 0ms);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(lim.try_acquire(Lane::search), 0ms);
  clock.advance(600ms);
  lim.settle(slow);  // answered at 600 ms: the portal may have seen it then
  clock.advance(400ms);
  // At 1 s the four quick ones have left the window, the slow one has not.
  int granted = 0;
  while (lim.try_acquire(Lane::search) == 0ms) ++granted;
  EXPECT_EQ(granted, 4);
  EXPECT_EQ(lim.try_acquire(Lane::search), 600ms);
  // An answer that comes after its token was pruned spends it again at the answer.
  clock.advance(5'000ms);
  lim.settle(slow);
  granted = 0;
  while (lim.try_acquire(Lane::search) == 0ms) ++granted;
  EXPECT_EQ(granted, 4);
}

TEST(RateLimiter, LearnsTheRealLimitFromHeaders) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = 190, .headroom = 0.0});
  Permit p;
  ASSERT_EQ(lim.try_acquire(Lane::standard, &p), 0ms);
  lim.observe(parse_rate_limit_headers({{"x-hubspot-ratelimit-max", "100"},
                                        {"X-HubSpot-RateLimit-Remaining", "99"},
                                        {"X-HubSpot-RateLimit-Interval-Milliseconds", "10000"}}),
              p);
  int granted = 1;
  while (lim.try_acquire(Lane::standard) == 0ms) ++granted;
  EXPECT_EQ(granted, 100);
  EXPECT_EQ(lim.stats().external_seen, 0);
}

TEST(RateLimiter, CountsOtherAppsTrafficFromRemaining) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = 100, .headroom = 0.0});
  Permit p;
  ASSERT_EQ(lim.try_acquire(Lane::standard, &p), 0ms);
  clock.advance(200ms);
  // Another app on the portal has spent 40 of the window: the server says 59
  // remain after our one request.
  lim.observe(parse_rate_limit_headers({{"X-HubSpot-RateLimit-Max", "100"},
                                        {"X-HubSpot-RateLimit-Remaining", "59"}}),
              p);
  EXPECT_EQ(lim.stats().external_seen, 40);
  int granted = 1;
  while (lim.try_acquire(Lane::standard) == 0ms) ++granted;
  EXPECT_EQ(granted, 60);
  // A repeat of the same news adds nothing.
  lim.observe(parse_rate_limit_headers({{"X-HubSpot-RateLimit-Max", "100"},
                                        {"X-HubSpot-RateLimit-Remaining", "59"}}),
              p);
  EXPECT_EQ(lim.stats().external_seen, 40);
}

TEST(RateLimiter, HeaderParsingIgnoresGarbage) {
  auto h = parse_rate_limit_headers({{"X-HubSpot-RateLimit-Max", "abc"},
                                     {"X-HubSpot-RateLimit-Daily", " 250000 "},
                                     {"Content-Type", "application/json"}});
  EXPECT_FALSE(h.max);
  ASSERT_TRUE(h.daily);
  EXPECT_EQ(*h.daily, 250000);
  EXPECT_TRUE(parse_rate_limit_headers({}).empty());
}

TEST(RateLimiter, TenSecondly429BlocksEveryWorkerForTheWindow) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = 100});
  const auto wait = lim.on_rate_limited("TEN_SECONDLY_ROLLING", std::nullopt, Lane::standard);
  EXPECT_EQ(wait, 10'000ms);
  EXPECT_EQ(lim.try_acquire(Lane::standard), 10'000ms);
  clock.advance(10'000ms);
  EXPECT_EQ(lim.try_acquire(Lane::standard), 0ms);
  EXPECT_EQ(lim.stats().rate_limited, 1);
}

TEST(RateLimiter, RetryAfterWinsOverPolicy) {
  FakeClock clock;
  RateLimiter lim(clock, {});
  EXPECT_EQ(lim.on_rate_limited("TEN_SECONDLY_ROLLING", 3'000ms, Lane::standard), 3'000ms);
  EXPECT_EQ(lim.try_acquire(Lane::standard), 3'000ms);
}

TEST(RateLimiter, Secondly429BlocksOnlySearch) {
  FakeClock clock;
  RateLimiter lim(clock, {});
  EXPECT_EQ(lim.on_rate_limited("SECONDLY", std::nullopt, Lane::search), 1'000ms);
  EXPECT_EQ(lim.try_acquire(Lane::search), 1'000ms);
  EXPECT_EQ(lim.try_acquire(Lane::standard), 0ms);
}

TEST(RateLimiter, Daily429WaitsUntilPortalMidnight) {
  // 2023-11-14T22:13:20Z; portal at UTC+1 -> its midnight is 23:00Z.
  FakeClock clock(1'700'000'000'000);
  RateLimiter lim(clock, {.utc_offset_minutes = 60});
  const auto wait = lim.on_rate_limited("DAILY", std::nullopt, Lane::standard);
  EXPECT_EQ(wait, Ms((23 * 3600 - (22 * 3600 + 13 * 60 + 20)) * 1000LL));
  auto r = lim.acquire(Lane::standard, 60'000ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, model::ErrorKind::rate_limited);
  EXPECT_EQ(r.error().retry_after, wait);
  clock.advance(wait);
  EXPECT_TRUE(lim.acquire(Lane::standard).ok());
}

TEST(RateLimiter, DailyBudgetFromHeadersKeepsHeadroom) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = 1000, .headroom = 0.1});
  Permit p;
  ASSERT_EQ(lim.try_acquire(Lane::standard, &p), 0ms);
  lim.observe(parse_rate_limit_headers({{"X-HubSpot-RateLimit-Daily", "100"},
                                        {"X-HubSpot-RateLimit-Daily-Remaining", "50"}}),
              p);
  int granted = 0;
  while (lim.try_acquire(Lane::standard) == 0ms) ++granted;
  EXPECT_EQ(granted, 40);  // 90 usable, 50 used
  EXPECT_GT(lim.try_acquire(Lane::standard), 60'000ms);
}

TEST(RateLimiter, ThreadSafeUnderContention) {
  FakeClock clock;
  RateLimiter lim(clock, {.burst_limit = 50, .headroom = 0.0});
  std::mutex mu;
  std::vector<Ms> grants;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        auto p = lim.acquire(Lane::standard, Ms(1'000'000'000));
        ASSERT_TRUE(p.ok());
        std::lock_guard lock(mu);
        grants.push_back(p->sent_at);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(grants.size(), 1200u);
  EXPECT_LE(max_in_window(grants, 10'000ms), 50);
}

}  // namespace
}  // namespace hubsync::ratelimit
