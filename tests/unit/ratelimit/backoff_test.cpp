#include "engine/ratelimit/backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace hubsync::ratelimit {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, CeilingDoublesUpToCap) {
  Backoff b({100ms, 1'000ms}, 1);
  EXPECT_EQ(b.ceiling(0), 100ms);
  EXPECT_EQ(b.ceiling(1), 200ms);
  EXPECT_EQ(b.ceiling(3), 800ms);
  EXPECT_EQ(b.ceiling(4), 1'000ms);
  EXPECT_EQ(b.ceiling(60), 1'000ms);  // no overflow far out
}

TEST(Backoff, FullJitterStaysWithinCeilingAndSpreads) {
  Backoff b({100ms, 10'000ms}, 42);
  for (int retry = 0; retry < 8; ++retry) {
    std::int64_t lo = 1 << 30, hi = 0, sum = 0;
    constexpr int kN = 2000;
    for (int i = 0; i < kN; ++i) {
      const auto d = b.delay(retry).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, b.ceiling(retry).count());
      lo = std::min(lo, d);
      hi = std::max(hi, d);
      sum += d;
    }
    const double mean = static_cast<double>(sum) / kN;
    const double c = static_cast<double>(b.ceiling(retry).count());
    EXPECT_LT(lo, c * 0.05) << "retry " << retry;  // full jitter reaches near zero
    EXPECT_GT(hi, c * 0.95) << "retry " << retry;
    EXPECT_NEAR(mean, c / 2, c * 0.06) << "retry " << retry;
  }
}

TEST(Backoff, SameSeedSameSequence) {
  Backoff a({100ms, 5'000ms}, 7), b({100ms, 5'000ms}, 7), c({100ms, 5'000ms}, 8);
  std::vector<std::int64_t> xa, xb, xc;
  for (int i = 0; i < 20; ++i) {
    xa.push_back(a.delay(i % 6).count());
    xb.push_back(b.delay(i % 6).count());
    xc.push_back(c.delay(i % 6).count());
  }
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xc);
}

}  // namespace
}  // namespace hubsync::ratelimit
