// The progress of long operations: figures (rate, time left), a bar on a
// terminal, a line every few seconds elsewhere, one end each.
#include "engine/ops/progress.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hubsync::ops {
namespace {

using std::chrono::milliseconds;

TEST(ProgressFigures, RateAndTimeLeftFollowFromTheElapsedTime) {
  EXPECT_EQ(ProgressPrinter::figures(1000, 5000, milliseconds(2000)), "1,000/5,000 (20%) 500/s, about 8 s left");
  EXPECT_EQ(ProgressPrinter::figures(1234567, 2000000, milliseconds(10000)),
            "1,234,567/2,000,000 (61%) 123,457/s, about 7 s left");
  EXPECT_EQ(ProgressPrinter::figures(100, 100000, milliseconds(1000)), "100/100,000 (0%) 100/s, about 16 min 39 s left");
  EXPECT_EQ(ProgressPrinter::figures(10, 1000000, milliseconds(1000)), "10/1,000,000 (0%) 10/s, about 27 h 46 min left");
  // No total yet: the count and the rate only; too early for a rate: the count.
  EXPECT_EQ(ProgressPrinter::figures(600, -1, milliseconds(3000)), "600 200/s");
  EXPECT_EQ(ProgressPrinter::figures(600, 900, milliseconds(100)), "600/900 (66%)");
  EXPECT_EQ(ProgressPrinter::figures(900, 900, milliseconds(3000)), "900/900 (100%) 300/s");
}

struct Recorder {
  milliseconds t{0};
  std::vector<std::string> drawn, lines;
  int finals = 0;
  ProgressPrinter printer(bool tty, milliseconds every = std::chrono::seconds(5)) {
    return ProgressPrinter([this] { return t; }, tty,
                           [this](const std::string& s, bool final) {
                             drawn.push_back(s);
                             finals += final ? 1 : 0;
                           },
                           [this](const std::string& s) { lines.push_back(s); }, every);
  }
};

TEST(ProgressPrinter, ALogGetsALineEveryFewSecondsAndOneAtTheEnd) {
  Recorder r;
  auto p = r.printer(false);
  p.update("pull backfill", "people", 200, 1000);  // t = 0: the start, no line
  r.t = milliseconds(3000);
  p.update("pull backfill", "people", 400, 1000);  // 3 s: too soon
  r.t = milliseconds(6000);
  p.update("pull backfill", "people", 600, 1000);
  r.t = milliseconds(8000);
  p.update("pull backfill", "people", 1000, 1000);
  p.update("pull backfill", "people", 1000, 1000);  // the end said twice
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0], "pull backfill people: 600/1,000 (60%) 100/s, about 4 s left");
  EXPECT_EQ(r.lines[1], "pull backfill people done: 1,000/1,000 (100%) 125/s in 8 s");
  EXPECT_TRUE(r.drawn.empty());
  // The next operation of the same name starts its own clock.
  r.t = milliseconds(10000);
  p.update("pull backfill", "people", 5, 60);
  r.t = milliseconds(16000);
  p.update("pull backfill", "people", 60, 60);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[2], "pull backfill people done: 60/60 (100%) 10/s in 6 s");
  // One over within a moment shows nothing.
  p.update("association pass", "people", 3, 7);
  r.t += milliseconds(900);
  p.update("association pass", "people", 7, 7);
  EXPECT_EQ(r.lines.size(), 3u);
}

TEST(ProgressPrinter, ATerminalGetsABarRedrawnAtEachUpdateAndEndedOnce) {
  Recorder r;
  auto p = r.printer(true);
  p.update("pull sweep", "customers", 3, 3);  // over at once: no bar
  EXPECT_TRUE(r.drawn.empty());
  r.t = milliseconds(100);
  p.update("initial load", "customers", 0, 400);  // a moment in: not yet
  r.t = milliseconds(1000);
  p.update("initial load", "customers", 100, 400);
  r.t = milliseconds(4000);
  p.update("initial load", "customers", 400, 400);
  p.update("initial load", "customers", 400, 400);
  ASSERT_EQ(r.drawn.size(), 2u);
  EXPECT_EQ(r.drawn[0], "initial load customers [######                  ] 100/400 (25%) 111/s, about 3 s left");
  EXPECT_EQ(r.drawn[1], "initial load customers [########################] 400/400 (100%) 103/s");
  EXPECT_EQ(r.finals, 1);
  EXPECT_TRUE(r.lines.empty());
}

TEST(StepCarrier, CountsRunOnAcrossStepsThatEachStartFromZero) {
  std::vector<std::string> seen;
  StepCarrier carrier([&](const std::string& what, const std::string& m, std::int64_t done, std::int64_t total) {
    seen.push_back(what + " " + m + " " + std::to_string(done) + "/" + std::to_string(total));
  });
  // Step 1: two pages of a 1,000-object backfill, then the step yields.
  carrier.update("pull backfill", "people", 0, -1);
  carrier.update("pull backfill", "people", 200, 1000);
  carrier.update("pull backfill", "people", 400, 1000);
  // Step 2 counts from 0 again; HubSpot's count is now of what is left.
  carrier.update("pull backfill", "people", 0, -1);
  carrier.update("pull backfill", "people", 200, 600);
  // Step 3 reads one page as large as step 2's and cannot count.
  carrier.update("pull backfill", "people", 0, -1);
  carrier.update("pull backfill", "people", 200, -1);
  carrier.update("pull backfill", "people", 200, 200);  // the end
  // A new operation of the same name starts from nothing carried.
  carrier.update("pull backfill", "people", 0, -1);
  carrier.update("pull backfill", "people", 50, 100);
  EXPECT_EQ(seen, (std::vector<std::string>{"pull backfill people 200/1000", "pull backfill people 400/1000",
                                            "pull backfill people 600/1000", "pull backfill people 800/1000",
                                            "pull backfill people 800/800", "pull backfill people 50/100"}));
}

}  // namespace
}  // namespace hubsync::ops
