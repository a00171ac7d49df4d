// The mass-deletion guard over a real SQLite state store and a fake clock:
// the limit a mapping's `max_deletes` gives, the rolling hour, what is held
// and what an operator's allowance lets through.
#include <gtest/gtest.h>

#include <limits>

#include "engine/mapping/parser.h"
#include "engine/ops/logging.h"
#include "engine/pipeline/delete_guard.h"
#include "engine/ratelimit/fake_clock.h"
#include "tests/unit/state/state_test_util.h"

namespace hubsync::pipeline {
namespace {

using mapping::DeleteLimit;
using std::chrono::milliseconds;
constexpr auto kUp = state::Direction::to_hubspot;

TEST(DeleteLimitTest, ParsesCountsPercentagesAndOffAndRefusesTheRest) {
  EXPECT_EQ(mapping::parse_delete_limit("250")->of(1'000'000), 250);
  EXPECT_EQ(mapping::parse_delete_limit("0")->of(10), 0);
  EXPECT_EQ(mapping::parse_delete_limit("off")->of(10), std::numeric_limits<std::int64_t>::max());
  // A percentage of the linked records, never below the floor of 100...
  EXPECT_EQ(mapping::parse_delete_limit("5%")->of(1'000'000), 50'000);
  EXPECT_EQ(mapping::parse_delete_limit("5%")->of(500), DeleteLimit::kPercentFloor);
  EXPECT_EQ(mapping::parse_delete_limit("5%")->of(200), DeleteLimit::kPercentFloor);
  EXPECT_EQ(mapping::parse_delete_limit("10%")->of(1'001), 101);  // rounded up
  // ...unless that is more than half of them: emptying a small table is held.
  EXPECT_EQ(mapping::parse_delete_limit("5%")->of(199), 99);
  EXPECT_EQ(mapping::parse_delete_limit("10%")->of(30), 15);
  EXPECT_EQ(mapping::parse_delete_limit("10%")->of(3), 1);
  EXPECT_EQ(mapping::parse_delete_limit("10%")->of(2), 1);
  EXPECT_EQ(mapping::parse_delete_limit("10%")->of(1), 1);  // a table's only row can go
  EXPECT_EQ(mapping::parse_delete_limit("10%")->of(0), 1);
  EXPECT_EQ(mapping::parse_delete_limit("60%")->of(30), 18);  // above half when asked
  EXPECT_EQ(mapping::parse_delete_limit("100%")->of(30), 30);
  EXPECT_EQ(DeleteLimit{}.to_string(), "10%");                    // the default
  for (const char* bad : {"", "%", "0%", "101%", "1.5", "-3", "ten", "10 %", "99999999999999"})
    EXPECT_FALSE(mapping::parse_delete_limit(bad)) << bad;
}

TEST(DeleteLimitTest, AMappingNamesAWrongValueWhereItIs) {
  auto r = mapping::parse_mapping("name: people\npostgres: {table: public.people, key: id}\n"
                                  "hubspot: {object: contacts, match: email}\nmax_deletes: lots\n"
                                  "fields:\n  - {column: email, property: email}\n",
                                  "people.yaml");
  ASSERT_FALSE(r.ok());
  ASSERT_FALSE(r.findings.empty());
  EXPECT_EQ(r.findings[0].to_string(),
            "people.yaml:4:14: error: `max_deletes: lots` is not a count (100), a percentage of the linked "
            "records (10%, 1 to 100) or off");
}

class DeleteGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = state::SqliteStateStore::open(state::testing::options_for(dir_.file("state.db"), nullptr));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    m_.name = "people";
    m_.max_deletes = *mapping::parse_delete_limit("5");
  }
  DeleteGuard guard(bool allow_all = false) {
    return DeleteGuard(m_, kUp, *store_, clock_, ops::logger("test"), allow_all);
  }
  std::int64_t room(DeleteGuard& g) {
    auto r = g.room();
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : -1;
  }
  std::optional<HeldDeletes> held() {
    auto h = held_deletes(*store_, "people", kUp);
    EXPECT_TRUE(h.ok());
    return h.ok() ? *h : std::nullopt;
  }

  state::testing::TempDir dir_;
  std::unique_ptr<state::SqliteStateStore> store_;
  ratelimit::FakeClock clock_;
  mapping::Mapping m_;
};

TEST_F(DeleteGuardTest, DeletionsCountAgainstARollingHour) {
  auto g = guard();
  EXPECT_EQ(room(g), 5);
  ASSERT_TRUE(g.made(3).ok());
  EXPECT_EQ(room(g), 2);
  clock_.advance(milliseconds(40 * 60'000));
  ASSERT_TRUE(g.made(2).ok());
  EXPECT_EQ(room(g), 0);
  // The first three leave the hour; the last two are still in it.
  clock_.advance(milliseconds(21 * 60'000));
  EXPECT_EQ(room(g), 3);
  clock_.advance(milliseconds(40 * 60'000));
  EXPECT_EQ(room(g), 5);
  // Another direction, or another mapping, has its own hour.
  ASSERT_TRUE(g.made(5).ok());
  DeleteGuard down(m_, state::Direction::to_postgres, *store_, clock_, ops::logger("test"), false);
  EXPECT_EQ(room(down), 5);
}

TEST_F(DeleteGuardTest, AHoldIsRecordedUntilAPassHoldsNothingAndAnAllowanceLetsItThroughOnce) {
  auto g = guard();
  ASSERT_TRUE(g.made(4).ok());
  ASSERT_TRUE(g.hold(12).ok());
  ASSERT_TRUE(g.finish(0).ok());  // it held: the record stays
  ASSERT_TRUE(held());
  EXPECT_EQ(held()->count, 12);
  EXPECT_EQ(held()->limit, 5);
  EXPECT_EQ(held()->done, 4);
  EXPECT_EQ(held()->at_ms, clock_.wall_ms());

  ASSERT_TRUE(allow_deletes(*store_, "people", kUp, 12, clock_.wall_ms()).ok());
  EXPECT_FALSE(held());
  auto next = guard();
  auto again = next.begin();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again);            // the held changes are decided again at once
  EXPECT_EQ(room(next), 5 + 12 - 4);
  auto later = guard();
  EXPECT_FALSE(*later.begin());   // only once
  // The allowance ends with the hour.
  clock_.advance(milliseconds(61 * 60'000));
  EXPECT_EQ(room(later), 5);
}

TEST_F(DeleteGuardTest, APassThatHeldNothingOnceTheyWereDueClearsAnEarlierHoldAndOffOrAllowAllHasNoLimit) {
  {
    auto g = guard();
    ASSERT_TRUE(g.hold(9).ok());
  }
  auto g = guard();
  ASSERT_TRUE(g.finish(60'000).ok());  // the held changes are not due yet
  EXPECT_TRUE(held());
  clock_.advance(milliseconds(60'000));
  ASSERT_TRUE(g.finish(60'000).ok());  // due, and this pass held none of them
  EXPECT_FALSE(held());

  auto all = guard(/*allow_all=*/true);
  EXPECT_EQ(room(all), std::numeric_limits<std::int64_t>::max());
  m_.max_deletes = *mapping::parse_delete_limit("off");
  auto off = guard();
  ASSERT_TRUE(off.made(1'000'000).ok());
  EXPECT_EQ(room(off), std::numeric_limits<std::int64_t>::max());
}

TEST_F(DeleteGuardTest, APercentageCountsTheMappingsLinkedRecords) {
  m_.max_deletes = *mapping::parse_delete_limit("10%");
  for (int i = 0; i < 2'000; ++i) ASSERT_TRUE(store_->upsert_link("people", std::to_string(i), "hs" + std::to_string(i)).ok());
  auto g = guard();
  EXPECT_EQ(room(g), 200);
  ASSERT_TRUE(store_->upsert_link("other", "1", "x").ok());
  EXPECT_EQ(room(g), 200);
}

// The hour's own deletions do not shrink the limit they count against: a
// percentage is of the records linked as the hour began.
TEST_F(DeleteGuardTest, APercentageCountsTheRecordsTheHoursDeletionsUnlinkedToo) {
  m_.max_deletes = *mapping::parse_delete_limit("10%");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->upsert_link("people", std::to_string(i), "hs" + std::to_string(i)).ok());
  auto g = guard();
  EXPECT_EQ(room(g), 5);  // half of a small table
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->remove_link("people", std::to_string(i)).ok());
  ASSERT_TRUE(g.made(3).ok());
  EXPECT_EQ(room(g), 2);  // of 10, not of the 7 left
  ASSERT_TRUE(g.hold(4).ok());
  ASSERT_TRUE(held());
  EXPECT_EQ(held()->limit, 5);
  clock_.advance(milliseconds(61 * 60'000));
  EXPECT_EQ(room(g), 3);  // a new hour: half of the 7
}

}  // namespace
}  // namespace hubsync::pipeline
