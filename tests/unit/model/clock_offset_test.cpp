#include "engine/model/clock_offset.h"

#include <gtest/gtest.h>

namespace hubsync::model {
namespace {

// A Date header (whole seconds) read by a system whose clock is `offset`
// from ours, for an exchange sent at `sent` and answered `rtt` later, the
// other side reading its clock halfway.
ClockReading date_header(std::int64_t sent, std::int64_t rtt, std::int64_t offset) {
  const std::int64_t remote = sent + rtt / 2 + offset;
  return ClockReading{sent, sent + rtt, remote - remote % 1000, 1000};
}

TEST(ClockOffset, OneDateHeaderBoundsTheOffsetToItsSecondAndTheRoundTrip) {
  auto b = bounds_of(date_header(1'000'000'250, 10, 0));
  EXPECT_LE(b.low_ms, 0);
  EXPECT_GE(b.high_ms, 0);
  EXPECT_LE(b.high_ms - b.low_ms, 1000 + 10 + 1);
  EXPECT_EQ(b.correction_ms(), 0);  // the clocks may agree: nothing corrected
}

TEST(ClockOffset, DateHeadersAtManyFractionsOfASecondNarrowTheSecondTenfold) {
  for (std::int64_t offset : {0LL, 600'000LL, -600'000LL, 1'234LL, -37LL}) {
    ClockOffsetEstimate e;
    for (int i = 0; i < 30; ++i) e.add(date_header(1'000'000'000 + i * 137, 4, offset));
    auto c = e.current();
    ASSERT_TRUE(c.has_value());
    EXPECT_LE(c->low_ms, offset) << offset;
    EXPECT_GE(c->high_ms, offset) << offset;
    EXPECT_LE(c->high_ms - c->low_ms, 100) << offset;
    // Corrected to within the bounds' width (0 while they hold 0).
    EXPECT_LE(std::abs(c->correction_ms() - offset), c->high_ms - c->low_ms) << offset;
    if (c->low_ms > 0 || c->high_ms < 0) {
      EXPECT_EQ(c->correction_ms(), c->estimate_ms()) << offset;
    }
  }
}

TEST(ClockOffset, AClockSetForwardStartsTheEstimateOverFromTheNewReading) {
  ClockOffsetEstimate e;
  for (int i = 0; i < 10; ++i) e.add(date_header(1'000'000'000 + i * 137, 4, 0));
  EXPECT_EQ(e.current()->correction_ms(), 0);
  e.add(date_header(1'000'010'000, 4, 600'000));
  auto c = e.current();
  EXPECT_LE(c->low_ms, 600'000);
  EXPECT_GE(c->low_ms, 600'000 - 1010);
  EXPECT_GT(c->correction_ms(), 598'000);
}

TEST(ClockOffset, AMillisecondClockReadOnTheSameHostNeedsNoCorrection) {
  ClockOffsetEstimate e;
  e.add(ClockReading{5'000, 5'001, 5'000, 1});
  e.add(ClockReading{6'000, 6'000, 6'000, 1});
  EXPECT_EQ(e.current()->correction_ms(), 0);
  EXPECT_FALSE(ClockOffsetEstimate().current().has_value());
}

TEST(ClockOffset, AnAnswerBeforeItsRequestIsIgnored) {
  ClockOffsetEstimate e;
  e.add(ClockReading{6'000, 5'000, 900'000, 1});
  EXPECT_FALSE(e.current().has_value());
}

TEST(ClockOffset, ACorrectionIsToldOncePerChangeOfASecondOrMore) {
  std::atomic<std::int64_t> told{0};
  EXPECT_FALSE(newly_told(told, 999)) << "under a second: clocks that agree well enough";
  EXPECT_TRUE(newly_told(told, 600'000));
  EXPECT_FALSE(newly_told(told, 600'000)) << "told already";
  EXPECT_FALSE(newly_told(told, 600'900));
  EXPECT_TRUE(newly_told(told, 0)) << "set right again";
  EXPECT_EQ(told.load(), 0);
}

}  // namespace
}  // namespace hubsync::model
