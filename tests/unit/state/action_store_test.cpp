// The state store's record of workflow action executions: one per
// callbackId, the first answer kept, blocked ones due for the callback API
// until HubSpot accepts them.
#include <gtest/gtest.h>

#include "engine/state/sqlite_state_store.h"
#include "tests/unit/state/state_test_util.h"

namespace hubsync::state {
namespace {

using testing::FakeClock;
using testing::TempDir;

constexpr std::int64_t kT0 = 1'700'000'000'000;

class ActionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStateStore::open(testing::options_for(dir_.file("state.db"), &clock_));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }
  ActionExecution begin(const std::string& id, bool expect_new = true) {
    ActionExecution e;
    e.callback_id = id;
    e.action = "customer_set_stage";
    e.object_id = "1001";
    e.request_body = R"({"callbackId":")" + id + R"("})";
    auto r = store_->begin_action(e);
    EXPECT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->second, expect_new) << id;
    return r->first;
  }

  TempDir dir_;
  FakeClock clock_{kT0};
  std::unique_ptr<SqliteStateStore> store_;
};

TEST_F(ActionStoreTest, ARetriedCallbackGetsTheFirstRecordAndItsFirstAnswer) {
  auto first = begin("ap-1");
  EXPECT_FALSE(first.done);
  EXPECT_EQ(first.created_at_ms, kT0);
  auto again = begin("ap-1", /*expect_new=*/false);
  EXPECT_FALSE(again.done);
  EXPECT_EQ(again.request_body, R"({"callbackId":"ap-1"})");

  ASSERT_TRUE(store_->finish_action("ap-1", {{"hs_execution_state", "SUCCESS"}, {"hubsync_outcome", "written"}}).ok());
  // A second finish (a run repeated after a crash) never changes the answer.
  ASSERT_TRUE(store_->finish_action("ap-1", {{"hubsync_outcome", "unchanged"}}).ok());
  auto done = begin("ap-1", false);
  EXPECT_TRUE(done.done);
  EXPECT_EQ(done.outputs.at("hubsync_outcome"), "written");
  EXPECT_EQ(done.outputs.size(), 2u);

  EXPECT_EQ(store_->finish_action("ap-unknown", {}).error().kind, model::ErrorKind::invalid_record);
}

TEST_F(ActionStoreTest, OnlyBlockedFinishedExecutionsAreDueUntilHubSpotAcceptsThem) {
  begin("answered");
  ASSERT_TRUE(store_->finish_action("answered", {{"hubsync_outcome", "found"}}).ok());
  begin("blocked-running");
  ASSERT_TRUE(store_->block_action("blocked-running").ok());
  begin("blocked-done");
  ASSERT_TRUE(store_->block_action("blocked-done").ok());
  ASSERT_TRUE(store_->finish_action("blocked-done", {{"hubsync_outcome", "synced"}}).ok());

  // Not at once: HubSpot has to record the BLOCK answer first.
  EXPECT_TRUE(store_->due_callbacks(clock_.wall_ms(), 10)->empty());
  auto due = store_->due_callbacks(clock_.wall_ms() + 500, 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->front().callback_id, "blocked-done");
  EXPECT_EQ(due->front().outputs.at("hubsync_outcome"), "synced");

  auto unfinished = store_->unfinished_blocked_actions();
  ASSERT_TRUE(unfinished.ok());
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ(unfinished->front().callback_id, "blocked-running");

  // Refused: due again only at the time given.
  ASSERT_TRUE(store_->callback_attempted("blocked-done", "HTTP 503", kT0 + 5000).ok());
  EXPECT_TRUE(store_->due_callbacks(kT0 + 4999, 10)->empty());
  ASSERT_EQ(store_->due_callbacks(kT0 + 5000, 10)->size(), 1u);
  // Accepted: never due again.
  ASSERT_TRUE(store_->callback_attempted("blocked-done", "", 0).ok());
  EXPECT_TRUE(store_->due_callbacks(kT0 + 99'999'999, 10)->empty());
  auto e = store_->get_action("blocked-done");
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_TRUE((*e)->delivered);
  EXPECT_EQ((*e)->callback_attempts, 2);
}

TEST_F(ActionStoreTest, PurgeDeletesOldExecutionsWithTheirOutputs) {
  begin("old");
  ASSERT_TRUE(store_->finish_action("old", {{"hubsync_outcome", "found"}}).ok());
  clock_.advance(10'000);
  begin("new");
  auto n = store_->purge_actions(kT0 + 5000);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_FALSE(store_->get_action("old")->has_value());
  EXPECT_TRUE(store_->get_action("new")->has_value());
  begin("old");  // new again: its outputs went with it
  EXPECT_FALSE(store_->get_action("old").value()->done);
}

TEST_F(ActionStoreTest, AFailedRunCountsAsFailingUntilTheExecutionFinishes) {
  begin("failed");
  begin("running");
  ASSERT_TRUE(store_->fail_action("failed", "postgres: connection refused").ok());
  auto s = store_->action_summary(kT0);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->executions, 2);
  EXPECT_EQ(s->running, 1);
  EXPECT_EQ(s->failing, 1);
  EXPECT_EQ(s->last_failure, "postgres: connection refused");
  EXPECT_EQ(s->last_error, "");  // no callback failed
  // A retry finishes it: it is done, and a late failure does not undo that.
  ASSERT_TRUE(store_->finish_action("failed", {{"hubsync_outcome", "written"}}).ok());
  ASSERT_TRUE(store_->fail_action("failed", "too late").ok());
  s = store_->action_summary(kT0);
  EXPECT_EQ(s->running, 1);
  EXPECT_EQ(s->failing, 0);
  EXPECT_EQ(s->last_failure, "");
  EXPECT_TRUE(store_->get_action("failed").value()->done);
  auto unknown = store_->fail_action("nobody", "x");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, model::ErrorKind::invalid_record);
}

// What `hubsync status` shows: the executions since a time, those running,
// and the blocked ones whose workflow still waits for an accepted callback.
TEST_F(ActionStoreTest, TheSummaryCountsRecentExecutionsAndCallbacksStillWaiting) {
  begin("yesterday");
  ASSERT_TRUE(store_->block_action("yesterday").ok());
  ASSERT_TRUE(store_->finish_action("yesterday", {{"hubsync_outcome", "synced"}}).ok());
  ASSERT_TRUE(store_->callback_attempted("yesterday", "HTTP 502 from HubSpot", kT0 + 1000).ok());
  clock_.advance(86'400'000);
  const auto today = clock_.wall_ms();
  begin("answered");
  ASSERT_TRUE(store_->finish_action("answered", {{"hubsync_outcome", "found"}}).ok());
  begin("running");
  begin("delivered");
  ASSERT_TRUE(store_->block_action("delivered").ok());
  ASSERT_TRUE(store_->finish_action("delivered", {{"hubsync_outcome", "synced"}}).ok());
  ASSERT_TRUE(store_->callback_attempted("delivered", "", 0).ok());

  auto s = store_->action_summary(today);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->executions, 3);
  EXPECT_EQ(s->running, 1);
  EXPECT_EQ(s->awaiting_callback, 1);  // yesterday's, whatever its age
  EXPECT_EQ(s->oldest_awaiting_ms, kT0);
  EXPECT_EQ(s->last_error, "HTTP 502 from HubSpot");

  ASSERT_TRUE(store_->callback_attempted("yesterday", "", 0).ok());
  s = store_->action_summary(today);
  EXPECT_EQ(s->awaiting_callback, 0);
  EXPECT_EQ(s->oldest_awaiting_ms, 0);
  EXPECT_EQ(s->last_error, "");
}

}  // namespace
}  // namespace hubsync::state
