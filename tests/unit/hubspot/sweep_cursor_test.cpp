// The sweep's cursor as its checkpoint stores it: the ids a page read of a
// cut run go with it, and checkpoints written before them still read.
#include <gtest/gtest.h>

#include "engine/pipeline/crm_port.h"

namespace hubsync::pipeline {
namespace {

TEST(SweepCursorText, RoundTripsWithTheIdsReadOfACutRun) {
  const SweepCursor c{1'767'225'600'000, "", false, {"101", "7", "12345678901"}};
  EXPECT_EQ(c.encode(), "1767225600000::0:101,7,12345678901");
  auto back = SweepCursor::decode(c.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, c);
  const SweepCursor tie{5, "99", true, {"3"}};
  EXPECT_EQ(SweepCursor::decode(tie.encode()), tie);
}

TEST(SweepCursorText, ACheckpointWithoutSeenIdsReadsAsBefore) {
  EXPECT_EQ(SweepCursor{}.encode(), "0::1");
  auto old = SweepCursor::decode("1767225600000:42:1");
  ASSERT_TRUE(old);
  EXPECT_EQ(*old, (SweepCursor{1'767'225'600'000, "42", true, {}}));
  EXPECT_TRUE(old->seen.empty());
}

TEST(SweepCursorText, AWindowsLastModifiedTimeGoesWithIt) {
  const SweepCursor w{100, "", false, {}, 5000};
  EXPECT_EQ(w.encode(), "100::0::5000");
  EXPECT_EQ(SweepCursor::decode(w.encode()), w);
  const SweepCursor cut{100, "", false, {"8", "9"}, 5000};
  EXPECT_EQ(cut.encode(), "100::0:8,9:5000");
  EXPECT_EQ(SweepCursor::decode(cut.encode()), cut);
  auto open = SweepCursor::decode("100::0:8,9");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->until_ms, SweepCursor::kUnbounded) << "a cursor written before windows sweeps to the end";
}

TEST(SweepCursorText, MalformedTextIsRefused) {
  for (const char* bad : {"", "12", "12:1", "x::0", "12::2", "12::0:", "12::0:1,,2", "12::0:1,", "12::01:5",
                          "12::0:1:", "12::0::x", "12::0:1:5:6"})
    EXPECT_FALSE(SweepCursor::decode(bad)) << bad;
}

}  // namespace
}  // namespace hubsync::pipeline
