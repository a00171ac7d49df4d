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
  // For a request of ours sent at 700 ms and answered at 800 ms, the server
  // counted all five in the window ending at its arrival.
  EXPECT_EQ(w.known_at_arrival(700ms, 800ms, 0ms), 5);
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

// What the server is taken to have counted when a request sent at `sent`
// and answered at `now` arrived: ours sent by then (give or take the slack)
// and not answered before its window; others' traffic recorded by now.
TEST(RollingWindow, KnownAtArrivalMatchesOursBySendAndAnswerAndOthersByRecord) {
  RollingWindow w(100, 10'000ms);
  w.open(1, 0ms);
  w.settle(1, 0ms, 400ms);          // answered long before the window: not counted
  w.open(2, 9'000ms);
  w.settle(2, 9'000ms, 10'500ms);   // sent before it, answered inside it: counted
  w.open(3, 20'000ms);              // the request asking, still in flight
  w.open(5, 20'050ms);
  w.settle(5, 20'050ms, 20'200ms);  // sent just after it, answered first
  w.add_external(1, 20'250ms);      // another app's, seen in an answer meanwhile
  w.open(4, 20'300ms);              // sent well after it: it arrived later
  EXPECT_EQ(w.known_at_arrival(20'000ms, 20'400ms, 0ms), 3);    // 2, 3, the other app's
  EXPECT_EQ(w.known_at_arrival(20'000ms, 20'400ms, 100ms), 4);  // and 5, within the slack
  // Asked for a request sent later, 2's answer falls before the window, and
  // 4 and 5 were sent before it.
  EXPECT_EQ(w.known_at_arrival(20'600ms, 20'700ms, 0ms), 4);
  EXPECT_EQ(w.known_at_arrival(20'600ms, 20'700ms, 200ms), 5);
}

}  // namespace
}  // namespace hubsync::ratelimit
