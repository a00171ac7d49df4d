// Links a deletion removed, remembered so that a soft-deleted row comes back
// only with its own object (StateStore::departed_from).
#include <gtest/gtest.h>

#include "engine/state/sqlite_state_store.h"
#include "tests/unit/state/state_test_util.h"

namespace hubsync::state {
namespace {

class DepartedLinks : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStateStore::open(testing::options_for(dir_.file("state.db"), &clock_));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<SqliteStateStore> store_;
};

// A removed link departs: the row is remembered as the object's for 90
// days (HubSpot keeps an archived object restorable that long), then pruned
// by the next batch that removes a link.
TEST_F(DepartedLinks, ARemovedLinkIsRememberedAsDepartedForNinetyDays) {
  constexpr std::int64_t kDay = 86'400'000;
  ASSERT_TRUE(store_->upsert_link("customers", "7", "hs7").ok());
  ASSERT_TRUE(store_->upsert_link("customers", "8", "hs8").ok());
  EXPECT_FALSE(*store_->departed_from("customers", "7", "hs7")) << "linked, not departed";
  ASSERT_TRUE(store_->commit_batch({"customers", {}, {"7"}}).ok());
  EXPECT_TRUE(*store_->departed_from("customers", "7", "hs7"));
  EXPECT_FALSE(*store_->departed_from("customers", "7", "hs8")) << "another object";
  EXPECT_FALSE(*store_->departed_from("orders", "7", "hs7")) << "another mapping";
  EXPECT_FALSE(*store_->departed_from("customers", "8", "hs8"));
  clock_.advance(90 * kDay);
  EXPECT_TRUE(*store_->departed_from("customers", "7", "hs7"));
  clock_.advance(1);
  EXPECT_FALSE(*store_->departed_from("customers", "7", "hs7")) << "older than 90 days";
  ASSERT_TRUE(store_->commit_batch({"customers", {}, {"8"}}).ok());
  EXPECT_TRUE(*store_->departed_from("customers", "8", "hs8"));
  clock_.advance(-91 * kDay);  // what the prune removed stays removed
  EXPECT_FALSE(*store_->departed_from("customers", "7", "hs7"));
}

}  // namespace
}  // namespace hubsync::state
