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

// Others' use is a level: the most noted in the last interval holds slots
// beside ours, and falls only as the notes that showed it age out.
TEST(RollingWindow, OthersUseIsTheMostNotedInTheLastInterval) {
  RollingWindow w(5, 10'000ms);
  w.note_others(4, 500ms);
  w.take(600ms);
  EXPECT_EQ(w.others_at(600ms), 4);
  EXPECT_EQ(w.used_at(600ms), 5);
  EXPECT_EQ(w.wait_at(600ms), 9'900ms);  // the note of 500 ms ages out first
  w.note_others(2, 5'000ms);             // fewer later: the 4 still stand
  EXPECT_EQ(w.others_at(9'000ms), 4);
  EXPECT_EQ(w.others_at(10'500ms), 2);   // the 4 aged out; the 2 stand until 15 s
  EXPECT_EQ(w.wait_at(10'500ms), 0ms);   // 1 of ours + 2 others' < 5
  w.note_others(3, 11'000ms);            // more: it replaces the 2 at once
  EXPECT_EQ(w.others_at(11'000ms), 3);
  EXPECT_EQ(w.others_at(21'000ms), 0);
}

// With others seen, ours and theirs together stay within the shared limit,
// and ours alone within the limit.
TEST(RollingWindow, OursStayWithinTheSharedLimitLessTheOthers) {
  RollingWindow w(9, 10'000ms);
  w.set_shared_limit(10);
  for (int i = 0; i < 9; ++i) w.take(0ms);
  EXPECT_EQ(w.wait_at(0ms), 10'000ms);  // the limit: no others seen
  RollingWindow v(9, 10'000ms);
  v.set_shared_limit(10);
  v.note_others(4, 0ms);
  int granted = 0;
  while (v.wait_at(0ms) == 0ms) v.take(0ms), ++granted;
  EXPECT_EQ(granted, 6);  // 10 - 4, rather than 9 - 4
  v.note_others(12, 100ms);  // others alone fill the portal's window
  EXPECT_EQ(v.wait_at(100ms), 10'000ms);  // until that note ages out at 10.1 s
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

// The portal counts a request from its arrival, somewhere between the send
// and the answer: an open token holds its slot while the request is in
// flight, however long, then for one interval after the answer.
TEST(RollingWindow, AnOpenTokenHoldsItsSlotUntilOneIntervalAfterItsAnswer) {
  RollingWindow w(1, 10'000ms);
  w.open(1, 0ms);
  EXPECT_EQ(w.in_flight_at(0ms), 1);
  // In flight: the slot frees a whole interval after an answer that has not
  // come yet, so the wait is at least the interval, even past the first one.
  EXPECT_EQ(w.wait_at(5'000ms), 10'000ms);
  EXPECT_EQ(w.wait_at(12'000ms), 10'000ms);
  EXPECT_EQ(w.used_at(12'000ms), 1);
  w.settle(1, 0ms, 12'500ms);
  EXPECT_EQ(w.in_flight_at(12'500ms), 0);
  EXPECT_EQ(w.wait_at(12'500ms), 10'000ms);
  EXPECT_EQ(w.wait_at(22'499ms), 1ms);
  EXPECT_EQ(w.wait_at(22'500ms), 0ms);
}

TEST(RollingWindow, WaitsForTheEarliestToFreeAmongAnsweredAndInFlight) {
  RollingWindow w(2, 10'000ms);
  w.open(1, 0ms);
  w.open(2, 100ms);
  w.settle(2, 100ms, 300ms);  // answered first: frees at 10.3 s
  EXPECT_EQ(w.wait_at(1'000ms), 9'300ms);
  w.take(10'300ms);           // its slot, reused
  // Now one answered at 10.3 s and one still in flight: the earliest to free
  // is the one in flight, no sooner than one interval from now.
  EXPECT_EQ(w.wait_at(10'300ms), 10'000ms);
  w.settle(1, 0ms, 10'400ms);
  EXPECT_EQ(w.wait_at(10'400ms), 9'900ms);
}

// A request whose end is never reported (a lost permit) frees its slot at
// last: it is taken as answered settle_within after it was opened. If the
// answer comes after all, it is held again from then.
TEST(RollingWindow, AnOpenTokenNobodySettlesIsTakenAsAnsweredAtSettleWithin) {
  RollingWindow w(1, 10'000ms);
  w.set_settle_within(30'000ms);
  w.open(7, 0ms);
  EXPECT_EQ(w.wait_at(29'000ms), 10'000ms);
  EXPECT_EQ(w.wait_at(30'000ms), 10'000ms);
  EXPECT_EQ(w.wait_at(35'000ms), 5'000ms);
  EXPECT_EQ(w.in_flight_at(35'000ms), 0);
  EXPECT_EQ(w.wait_at(40'000ms), 0ms);
  w.settle(7, 0ms, 41'000ms);
  EXPECT_EQ(w.wait_at(41'000ms), 10'000ms);
  // Settling again only ever moves it later.
  w.settle(7, 0ms, 42'000ms);
  EXPECT_EQ(w.wait_at(42'000ms), 10'000ms);
  EXPECT_EQ(w.used_at(42'000ms), 1);
  // Long after it was pruned, a settle spends it again from then.
  w.settle(7, 0ms, 100'000ms);
  EXPECT_EQ(w.wait_at(100'000ms), 10'000ms);
}

// The most of ours the portal can have counted when a request arrived: those
// sent in the interval before it, or within the slack after it (they may
// have arrived first), or answered already however late they were sent (a
// request held up is overtaken), itself included.
TEST(RollingWindow, OursAtArrivalCountsOursSentInItsWindowGiveOrTakeTheSlack) {
  RollingWindow w(100, 10'000ms);
  w.open(1, 0ms);
  w.settle(1, 0ms, 400ms);          // sent before the window: not counted
  w.open(2, 9'980ms);
  w.settle(2, 9'980ms, 10'500ms);   // sent 20 ms before it: counted with the slack only
  w.open(3, 15'000ms);              // sent inside it, still in flight: counted
  w.open(4, 20'000ms);              // the request asking
  w.open(5, 20'000ms);              // sent in the same millisecond: counted
  w.open(6, 20'030ms);              // sent 30 ms after it, in flight: counted with the slack only
  w.open(7, 20'300ms);              // sent well after it, in flight: not counted
  w.open(8, 20'400ms);
  w.settle(8, 20'400ms, 20'450ms);  // sent well after it but answered first: counted
  EXPECT_EQ(w.ours_at_arrival(20'000ms, 0ms), 4);   // 3, 4, 5, 8
  EXPECT_EQ(w.ours_at_arrival(20'000ms, 50ms), 6);  // and 2, 6
  EXPECT_EQ(w.ours_at_arrival(40'000ms, 0ms), 1);   // all pruned or outside: itself
}

}  // namespace
}  // namespace hubsync::ratelimit
