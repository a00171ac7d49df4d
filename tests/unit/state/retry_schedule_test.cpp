#include "engine/state/retry_schedule.h"

#include <gtest/gtest.h>

namespace hubsync::state {
namespace {

TEST(RetryScheduleTest, DoublesFromBaseUpToCap) {
  RetrySchedule s;
  s.base_ms = 1000;
  s.factor = 2.0;
  s.cap_ms = 10'000;
  s.max_attempts = 100;
  EXPECT_EQ(s.delay_ms(0), 1000);
  EXPECT_EQ(s.delay_ms(1), 1000);
  EXPECT_EQ(s.delay_ms(2), 2000);
  EXPECT_EQ(s.delay_ms(3), 4000);
  EXPECT_EQ(s.delay_ms(4), 8000);
  EXPECT_EQ(s.delay_ms(5), 10'000);
  EXPECT_EQ(s.delay_ms(99), 10'000);  // no overflow far past the cap
  EXPECT_EQ(*s.next_retry_at(3, 50'000), 54'000);
}

TEST(RetryScheduleTest, StopsAfterMaxAttempts) {
  RetrySchedule s;
  s.max_attempts = 3;
  EXPECT_TRUE(s.next_retry_at(2, 0).has_value());
  EXPECT_FALSE(s.next_retry_at(3, 0).has_value());
  EXPECT_FALSE(s.next_retry_at(4, 0).has_value());
}

TEST(RetryScheduleTest, DefaultsStartAtAMinuteAndCapAtSixHours) {
  RetrySchedule s;
  EXPECT_EQ(s.delay_ms(1), 60'000);
  EXPECT_EQ(s.delay_ms(11), 6 * 3'600'000LL);
}

}  // namespace
}  // namespace hubsync::state
