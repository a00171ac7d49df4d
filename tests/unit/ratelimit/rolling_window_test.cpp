#include "engine/ratelimit/rolling_window.h"

#include <gtest/gtest.h>

namespace hubsync::ratelimit {
namespace {

using namespace std::chrono_literals;

TEST(RollingWindow, AllowsLimitThenWaitsForOldestToLeave) {
  RollingWindow w(3, 10'000ms);
  EXPECT_EQ(w.wait_at(0ms), 0ms);
  w.take(0ms);
  w.take(1'000ms);
  w.take(2'000ms);
  EXPECT_EQ(w.wait_at(2'000ms), 8'000ms);   // the one at 0 leaves at 10 s
  EXPECT_EQ(w.wait_at(9'999ms), 1ms);
  EXPECT_EQ(w.wait_at(10'000ms), 0ms);
  w.take(10'000ms);
  EXPECT_EQ(w.wait_at(10'000ms), 1'000ms);  // next the one at 1 s
}

TEST(RollingWindow, ExternalEntriesCountLikeOurs) {
  RollingWindow w(5, 10'000ms);
  w.add_external(4, 500ms);
  w.take(600ms);
  EXPECT_EQ(w.used_at(600ms), 5);
  EXPECT_EQ(w.wait_at(600ms), 9'900ms);  // the external ones at 500 ms leave first
  EXPECT_EQ(w.count_between(0ms, 550ms), 4);
}

TEST(RollingWindow, BlockUntilHoldsEvenWhenTokensAreFree) {
  RollingWindow w(10, 1'000ms);
  w.block_until(5'000ms);
  EXPECT_EQ(w.wait_at(1'000ms), 4'000ms);
  EXPECT_EQ(w.wait_at(5'000ms), 0ms);
}

TEST(RollingWindow, ShrinkingTheLimitTakesEffectAtOnce) {
  RollingWindow w(10, 10'000ms);
  for (int i = 0; i < 6; ++i) w.take(std::chrono::milliseconds(i));
  w.set_limit(5);
  EXPECT_EQ(w.wait_at(10ms), 10'001ms - 10ms);  // two must leave: the one at 1 ms
}

TEST(RollingWindow, GuardKeepsTokensSpentALittleLonger) {
  RollingWindow w(2, 1'000ms);
  w.set_guard(50ms);
  w.take(0ms);
  w.take(10ms);
  EXPECT_EQ(w.wait_at(500ms), 550ms);
  EXPECT_EQ(w.wait_at(1'000ms), 50ms);
  EXPECT_EQ(w.wait_at(1'050ms), 0ms);
}

}  // namespace
}  // namespace hubsync::ratelimit
