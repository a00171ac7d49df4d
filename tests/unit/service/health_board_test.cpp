// The health page's figures: the latest backlog per direction and what each
// direction wrote in each of the last 60 minutes.
#include "engine/service/health_board.h"

#include <gtest/gtest.h>

namespace hubsync::service {
namespace {

constexpr std::int64_t kMin = 60'000;
constexpr std::int64_t kT0 = 1'796'000'000'000 / kMin * kMin;  // a minute's start

void publish(HealthBoard& board, ServiceStats& stats, std::int64_t at_ms, std::int64_t pushed_so_far,
             std::int64_t backlog) {
  pipeline::PushStats p;
  const auto before = stats.totals();
  const std::int64_t had = before.count("people") ? before.at("people").push.created : 0;
  p.created = pushed_so_far - had;
  stats.add("people", p);
  Snapshot snap;
  snap.to_hubspot["people"] = Backlog{backlog, 1.5};
  snap.to_postgres["people"] = Backlog{0, 0};
  board.record(at_ms, stats, snap);
}

TEST(HealthBoard, EachMinuteCountsWhatWasWrittenInItAndTheLatestBacklogShows) {
  HealthBoard board;
  ServiceStats stats;
  EXPECT_EQ(board.view(kT0).at_ms, 0);  // nothing published yet
  publish(board, stats, kT0 + 5'000, 4, 7);          // 4 in the first minute
  publish(board, stats, kT0 + 50'000, 10, 2);        // 6 more, same minute
  publish(board, stats, kT0 + 3 * kMin + 1'000, 25, 0);  // 15 three minutes later
  const auto v = board.view(kT0 + 3 * kMin + 2'000);
  ASSERT_EQ(v.directions.size(), 2u);
  const auto& d = v.directions[0];
  EXPECT_EQ(d.direction, "to_hubspot");
  EXPECT_EQ(d.backlog, 0);
  EXPECT_EQ(d.handled, 25);
  ASSERT_EQ(d.per_minute.size(), 60u);
  EXPECT_EQ(d.per_minute[59], 15);  // this minute
  EXPECT_EQ(d.per_minute[58], 0);
  EXPECT_EQ(d.per_minute[57], 0);
  EXPECT_EQ(d.per_minute[56], 10);  // three minutes ago: all of the first minute's
  std::int64_t sum = 0;
  for (auto n : d.per_minute) sum += n;
  EXPECT_EQ(sum, 25);
  EXPECT_EQ(v.directions[1].direction, "to_postgres");
  // An hour on, the first minutes have left the window.
  const auto later = board.view(kT0 + 62 * kMin);
  std::int64_t left = 0;
  for (auto n : later.directions[0].per_minute) left += n;
  EXPECT_EQ(left, 15);
}

}  // namespace
}  // namespace hubsync::service
