// A sweep with much left is read in windows of modified time side by side
// (engine/pipeline/sweep_windows.h): each object is still read once, the
// checkpoint holds every window, and a window never ends where HubSpot's
// search may not have indexed it yet.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>

#include <chrono>
#include <iostream>
#include <set>
#include <sstream>

#include "engine/ops/logging.h"
#include "engine/pipeline/sweep_windows.h"
#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kPeopleSql =
    "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text,"
    " last_name text, city text)";

const std::string kPeople =
    "name: people\npostgres: {table: public.people, key: id}\n"
    "hubspot: {object: contacts, match: email}\ndirection: both\n"
    "fields:\n  - {column: email, property: email}\n  - {column: first_name, property: firstname}\n"
    "  - {column: city, property: city}\n";

constexpr std::int64_t kDay = 86'400'000;

// `n` contacts modified over the 30 days before `now` (HubSpot's clock;
// default this host's), 20 to a millisecond (runs that pages cut), oldest
// first; returns their ids in that order.
std::vector<std::string> import_month(PushHarness& h, int n, std::int64_t now = 0) {
  const std::int64_t start = (now ? now : h.clock.wall_ms()) - 30 * kDay;
  std::vector<std::string> ids;
  for (int i = 0; i < n; i += 20) {
    std::vector<std::map<std::string, std::string>> rows;
    for (int k = i; k < std::min(n, i + 20); ++k)
      rows.push_back({{"email", "m" + std::to_string(k) + "@x.io"}, {"firstname", "M" + std::to_string(k)}});
    for (auto& id : h.sim.ui_bulk_import("contacts", rows, start + (29 * kDay) / n * i)) ids.push_back(id);
  }
  return ids;
}

std::string sweep_checkpoint(PushHarness& h) {
  auto cp = h.store->get_checkpoint("people", "sweep");
  EXPECT_TRUE(cp.ok() && *cp);
  return cp.ok() && *cp ? (*cp)->value : "";
}

pipeline::PullOptions steps(int pages) {
  pipeline::PullOptions o;
  o.overlap_ms = 0;
  o.max_sweep_pages = pages;
  return o;
}

// Pulls in steps of `o` until caught up; returns how many objects were read.
std::int64_t pull_until_caught_up(PushHarness& h, const pipeline::PullOptions& o) {
  std::int64_t read = 0;
  for (int i = 0; i < 100; ++i) {
    auto step = h.pull("people", o);
    EXPECT_TRUE(step.ok()) << step.error().message;
    if (!step.ok()) break;
    read += step->read;
    if (!step->more) break;
  }
  return read;
}

TEST(PullWindows, ABackfillSplitsIntoWindowsThatReadEachObjectOnce) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql, {kPeople});
  h->migrate();
  const auto ids = import_month(*h, 3000);
  h->sim.reset_counters();

  // A few pages: the sweep has split, and the checkpoint holds its windows.
  auto first = h->pull("people", steps(4));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->more);
  auto windows = pipeline::decode_windows(sweep_checkpoint(*h));
  ASSERT_TRUE(windows);
  ASSERT_GE(windows->size(), 2u) << sweep_checkpoint(*h);
  EXPECT_LE(windows->size(), 3u);
  const std::int64_t now = h->clock.wall_ms();
  for (std::size_t i = 0; i + 1 < windows->size(); ++i) {
    EXPECT_LE((*windows)[i].until_ms, now - pipeline::kWindowSettledMs) << "a window ends where search may lag";
    EXPECT_LE((*windows)[i].until_ms, (*windows)[i + 1].modified_ms) << "windows overlap";
  }
  EXPECT_EQ(windows->back().until_ms, pipeline::SweepCursor::kUnbounded);

  // Step on from the checkpoint until caught up.
  std::int64_t read = first->read, created = first->created;
  for (int i = 0; i < 100; ++i) {
    auto more = h->pull("people", steps(4));
    ASSERT_TRUE(more.ok()) << more.error().message;
    read += more->read;
    created += more->created;
    if (!more->more) break;
  }
  EXPECT_EQ(created, 3000);
  EXPECT_EQ(read, 3000) << "an object read twice, or missed";
  EXPECT_EQ(h->db.scalar("SELECT count(DISTINCT email) FROM people"), "3000");
  EXPECT_EQ(h->db.scalar("SELECT first_name FROM people WHERE email = 'm2999@x.io'"), "M2999");
  auto done = pipeline::decode_windows(sweep_checkpoint(*h));
  ASSERT_TRUE(done);
  EXPECT_EQ(done->size(), 1u) << "a sweep caught up is one cursor again";
  // 15 pages of objects, and at most a few searches that found a window's
  // half empty.
  EXPECT_LE(h->calls("/search"), 15 + 6) << "searches";
  std::cout << "searches: " << h->calls("/search") << "\n";
  // The next run reads again only the run of the last millisecond (its
  // cursor caught up inside it goes back one millisecond).
  auto again = pull_ok(*h, "people");
  EXPECT_LE(again.read, 20);
  EXPECT_EQ(again.created + again.updated, 0);
}

TEST(PullWindows, AnObjectEditedWhileTheWindowsAreReadEndsWithItsNewState) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql, {kPeople});
  h->migrate();
  const auto ids = import_month(*h, 2000);
  auto first = h->pull("people", steps(3));
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(first->more);
  // One object read already, one not yet: both move to the newest window.
  h->sim.ui_edit("contacts", ids[0], {{"city", "Read before"}});
  h->sim.ui_edit("contacts", ids[1500], {{"city", "Not read yet"}});
  pull_until_caught_up(*h, steps(3));
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "2000");
  EXPECT_EQ(h->db.scalar("SELECT city FROM people WHERE email = 'm0@x.io'"), "Read before");
  EXPECT_EQ(h->db.scalar("SELECT city FROM people WHERE email = 'm1500@x.io'"), "Not read yet");
}

// Pulls in steps of 2 pages with a search lag of 20 days, checking after
// each that no window but the newest ends within the lag of HubSpot's
// present (`behind_ms`: how far HubSpot's clock is behind this host's).
void expect_windows_settled(PushHarness& h, std::int64_t behind_ms) {
  import_month(h, 2000, h.clock.wall_ms() - behind_ms);
  // Steps of 2 pages: the first page splits the 10 settled days, whose
  // older half (~245 objects) outlasts the step, so the checkpoint shows it.
  auto o = steps(2);
  o.search_lag_ms = 20 * kDay;
  std::int64_t read = 0;
  for (int i = 0; i < 100; ++i) {
    auto step = h.pull("people", o);
    ASSERT_TRUE(step.ok()) << step.error().message;
    read += step->read;
    auto windows = pipeline::decode_windows(sweep_checkpoint(h));
    ASSERT_TRUE(windows);
    if (i == 0) {
      EXPECT_GE(windows->size(), 2u) << "the older 10 days are still split: " << sweep_checkpoint(h);
    }
    for (std::size_t w = 0; w + 1 < windows->size(); ++w)
      EXPECT_LE((*windows)[w].until_ms, h.clock.wall_ms() - behind_ms - 20 * kDay) << sweep_checkpoint(h);
    if (!step->more) break;
  }
  EXPECT_EQ(read, 2000);
}

// pull.overlap_s says how far search may lag: no window but the newest
// ends closer to the present than that.
TEST(PullWindows, NoWindowButTheNewestEndsWithinTheSearchLagOfThePresent) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql, {kPeople});
  h->migrate();
  expect_windows_settled(*h, 0);
}

// Clocks that differ: HubSpot's clock is ten days behind this host's. The
// windows are cut by HubSpot's modification times, so on HubSpot's clock
// (a window cut on ours would end in HubSpot's future, and an edit made
// after it was read would land in it unseen).
TEST(PullWindows, WindowsAreCutOnHubSpotsClockWhenItIsBehindThisHosts) {
  HUBSYNC_REQUIRE_PG(server);
  sim::SimulatorOptions so;
  so.rate_limits = false;
  so.index_lag_ms = 0;
  so.clock = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
               .count() -
           10 * kDay;
  };
  PushHarness h(server, kPeopleSql, {kPeople}, so);
  h.migrate();
  expect_windows_settled(h, 10 * kDay);
}

TEST(PullWindows, OneWindowReadsAsBeforeAndACheckpointOfOneCursorResumes) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql, {kPeople});
  h->migrate();
  import_month(*h, 1000);
  auto o = steps(2);
  o.sweep_windows = 1;
  auto first = h->pull("people", o);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->read, 400);
  const std::string cp = sweep_checkpoint(*h);
  EXPECT_EQ(cp.find(';'), std::string::npos) << cp;
  // The same checkpoint, read by a sweep that may split, goes on from it.
  EXPECT_EQ(first->read + pull_until_caught_up(*h, steps(2)), 1000);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "1000");
}

// A checkpoint that does not read (a state file edited by hand, or
// damaged) is named in a warning, and the sweep reads everything again:
// nothing is missed, and objects already in agreement are not written.
TEST(PullWindows, ACheckpointThatDoesNotReadIsNamedAndEveryObjectIsReadAgain) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql, {kPeople});
  h->migrate();
  import_month(*h, 500);
  ASSERT_EQ(pull_until_caught_up(*h, steps(100)), 500);
  const std::string xmin = h->db.scalar("SELECT max(xmin::text::bigint) FROM people");
  ASSERT_TRUE(h->store->set_checkpoint("people", "sweep", "1700000000000:oops").ok());

  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto pull_log = ops::logger("pull");
  pull_log->sinks().push_back(sink);
  const std::int64_t read = pull_until_caught_up(*h, steps(100));
  pull_log->sinks().pop_back();

  EXPECT_EQ(read, 500);
  EXPECT_THAT(log.str(), ::testing::HasSubstr("sweep checkpoint unreadable mapping=people checkpoint='1700000000000:oops'"));
  EXPECT_TRUE(pipeline::decode_windows(sweep_checkpoint(*h))) << sweep_checkpoint(*h);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "500");
  EXPECT_EQ(h->db.scalar("SELECT max(xmin::text::bigint) FROM people"), xmin) << "no row written again";
}

}  // namespace
}  // namespace hubsync::test
