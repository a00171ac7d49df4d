// The windows a sweep reads side by side: their checkpoint text (one
// cursor, as written before windows, reads as one window) and where a
// window splits.
#include <gtest/gtest.h>

#include "engine/pipeline/sweep_windows.h"

namespace hubsync::pipeline {
namespace {

constexpr std::int64_t kNow = 1'767'225'600'000;

TEST(SweepWindows, RoundTripThroughTheCheckpoint) {
  const std::vector<SweepCursor> windows{SweepCursor{100, "", false, {"7", "8"}, 5'000},
                                         SweepCursor{5'000, "42", true, {}, 9'000},
                                         SweepCursor{9'000, "", false}};
  const auto text = encode_windows(windows);
  EXPECT_EQ(text, "100::0:7,8:5000;5000:42:1::9000;9000::0");
  EXPECT_EQ(decode_windows(text), windows);
}

TEST(SweepWindows, ACheckpointOfOneCursorIsOneWindow) {
  auto one = decode_windows("1767225600000:42:1");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front(), (SweepCursor{kNow, "42", true}));
  EXPECT_EQ(encode_windows(*one), "1767225600000:42:1");
}

TEST(SweepWindows, OnlyEveryWindowButTheLastHasAnEnd) {
  for (const char* bad : {"", ";", "1::0;", "1::0::5;x", "1::0;5::0", "1::0::5", "1::0::5;5::0::9", "1::0;5::0::9"})
    EXPECT_FALSE(decode_windows(bad)) << bad;
  EXPECT_TRUE(decode_windows("1::0::5;5::0::9;9::0"));
}

TEST(SweepWindows, AWindowSplitsAtTheMiddleOfWhatIsSettled) {
  const SweepCursor open{kNow - 100'000, "", false};
  // Settled up to kNow - 60,000: the newer 60 s stay with the upper half.
  EXPECT_EQ(split_point(open, 1'000, 200, kNow - 60'000), kNow - 80'000);
  const SweepCursor bounded{1'000, "", false, {}, 2'000};
  EXPECT_EQ(split_point(bounded, 1'000, 200, kNow), 1'500);
  EXPECT_EQ(split_point(bounded, 1'000, 200, 1'200), 1'100) << "its end is later than what is settled";
}

TEST(SweepWindows, NoSplitWithoutTwoPagesLeftATimeToSplitOrOutsideATie) {
  const SweepCursor open{1'000, "", false};
  EXPECT_FALSE(split_point(open, 400, 200, kNow)) << "two pages left: no gain";
  EXPECT_FALSE(split_point(open, -1, 200, kNow)) << "not counted";
  EXPECT_TRUE(split_point(open, 401, 200, kNow));
  EXPECT_FALSE(split_point(SweepCursor{1'000, "5", true}, 5'000, 200, kNow)) << "inside one timestamp's run";
  EXPECT_FALSE(split_point(SweepCursor{1'000, "", false, {}, 1'001}, 5'000, 200, kNow)) << "1 ms";
  EXPECT_FALSE(split_point(open, 5'000, 200, 900)) << "nothing settled after the cursor";
}

}  // namespace
}  // namespace hubsync::pipeline
