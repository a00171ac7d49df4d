// Every StateStore operation against the SQLite implementation.
#include <gtest/gtest.h>

#include "engine/state/retry_schedule.h"
#include "engine/state/sqlite_state_store.h"
#include "tests/unit/state/state_test_util.h"

namespace hubsync::state {
namespace {

using testing::FakeClock;
using testing::TempDir;

constexpr std::int64_t kT0 = 1'700'000'000'000;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStateStore::open(testing::options_for(dir_.file("state.db"), &clock_));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }

  TempDir dir_;
  FakeClock clock_{kT0};
  std::unique_ptr<SqliteStateStore> store_;
};

SyncedField base(std::optional<std::string> v, std::int64_t changed, std::int64_t synced) {
  return SyncedField{std::move(v), changed, synced};
}

TEST_F(StateStoreTest, CheckpointGetSetReplace) {
  auto missing = store_->get_checkpoint("customers", "sweep");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(store_->set_checkpoint("customers", "sweep", "1000").ok());
  clock_.advance(5);
  ASSERT_TRUE(store_->set_checkpoint("customers", "sweep", "2000").ok());
  ASSERT_TRUE(store_->set_checkpoint("companies", "sweep", "7").ok());

  auto got = store_->get_checkpoint("customers", "sweep");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->value, "2000");
  EXPECT_EQ((*got)->updated_at_ms, kT0 + 5);
  EXPECT_EQ((*store_->get_checkpoint("companies", "sweep"))->value, "7");
}

TEST_F(StateStoreTest, LinksBothWaysAndRemove) {
  ASSERT_TRUE(store_->upsert_link("customers", "42", "901").ok());
  ASSERT_TRUE(store_->upsert_link("customers", "42", "901").ok());  // idempotent
  auto by_pg = store_->find_link_by_pg_key("customers", "42");
  ASSERT_TRUE(by_pg.ok() && by_pg->has_value());
  EXPECT_EQ((*by_pg)->hubspot_id, "901");
  EXPECT_EQ((*by_pg)->created_at_ms, kT0);
  auto by_hs = store_->find_link_by_hubspot_id("customers", "901");
  ASSERT_TRUE(by_hs.ok() && by_hs->has_value());
  EXPECT_EQ((*by_hs)->pg_key, "42");
  // Same ids in another mapping are independent.
  EXPECT_FALSE(store_->find_link_by_hubspot_id("companies", "901")->has_value());

  // Re-link the row to a new object: the old id no longer resolves.
  clock_.advance(10);
  ASSERT_TRUE(store_->upsert_link("customers", "42", "902").ok());
  EXPECT_FALSE(store_->find_link_by_hubspot_id("customers", "901")->has_value());
  auto relinked = store_->find_link_by_pg_key("customers", "42");
  EXPECT_EQ((*relinked)->hubspot_id, "902");
  EXPECT_EQ((*relinked)->created_at_ms, kT0);
  EXPECT_EQ((*relinked)->updated_at_ms, kT0 + 10);

  auto removed = store_->remove_link("customers", "42");
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(*store_->remove_link("customers", "42"));
  EXPECT_FALSE(store_->find_link_by_pg_key("customers", "42")->has_value());
}

TEST_F(StateStoreTest, LinkingOneObjectToTwoRowsIsAConflict) {
  ASSERT_TRUE(store_->upsert_link("customers", "1", "900").ok());
  auto s = store_->upsert_link("customers", "2", "900");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, model::ErrorKind::conflict);
  EXPECT_NE(s.error().message.find("900"), std::string::npos);
  EXPECT_FALSE(store_->find_link_by_pg_key("customers", "2")->has_value());
}

TEST_F(StateStoreTest, MergeRepointsLinkAndAbsorbedIdsStillResolve) {
  ASSERT_TRUE(store_->upsert_link("customers", "1", "100").ok());
  // HubSpot merges 100 into 200 (survivor not linked yet): the link moves.
  auto out = store_->repoint_merged("customers", {"100"}, "200", kT0);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_TRUE(out->survivor_pg_key.has_value());
  EXPECT_EQ(*out->survivor_pg_key, "1");
  EXPECT_TRUE(out->orphaned_pg_keys.empty());
  EXPECT_EQ((*store_->find_link_by_pg_key("customers", "1"))->hubspot_id, "200");
  auto via_old = store_->find_link_by_hubspot_id("customers", "100");
  ASSERT_TRUE(via_old.ok() && via_old->has_value());
  EXPECT_EQ((*via_old)->pg_key, "1");
  EXPECT_EQ((*via_old)->hubspot_id, "200");

  // Later 200 is merged into 300: chains are flattened, 100 resolves to 300.
  ASSERT_TRUE(store_->repoint_merged("customers", {"200"}, "300", kT0 + 1).ok());
  EXPECT_EQ(*store_->resolve_hubspot_id("customers", "100"), "300");
  EXPECT_EQ(*store_->resolve_hubspot_id("customers", "200"), "300");
  EXPECT_EQ(*store_->resolve_hubspot_id("customers", "300"), "300");
  EXPECT_EQ((*store_->find_link_by_hubspot_id("customers", "100"))->pg_key, "1");

  // Idempotent: repeating changes nothing.
  auto again = store_->repoint_merged("customers", {"200"}, "300", kT0 + 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->survivor_pg_key, "1");
  EXPECT_TRUE(again->orphaned_pg_keys.empty());
}

TEST_F(StateStoreTest, MergeIntoLinkedSurvivorOrphansAbsorbedRows) {
  ASSERT_TRUE(store_->upsert_link("customers", "a", "1").ok());
  ASSERT_TRUE(store_->upsert_link("customers", "b", "2").ok());
  ASSERT_TRUE(store_->upsert_link("customers", "c", "3").ok());
  auto out = store_->repoint_merged("customers", {"2", "3"}, "1", kT0);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out->survivor_pg_key, "a");
  EXPECT_EQ(out->orphaned_pg_keys, (std::vector<std::string>{"b", "c"}));
  EXPECT_FALSE(store_->find_link_by_pg_key("customers", "b")->has_value());
  EXPECT_EQ((*store_->find_link_by_hubspot_id("customers", "3"))->pg_key, "a");
}

TEST_F(StateStoreTest, SyncedPutMergesFieldsAndKeepsNulls) {
  ASSERT_TRUE(store_
                  ->put_synced("customers", "42",
                               {{"email", base("a@x.io", 10, 20)}, {"phone", base({}, 11, 21)}})
                  .ok());
  ASSERT_TRUE(store_->put_synced("customers", "42", {{"email", base("b@x.io", 30, 40)}}).ok());
  auto got = store_->get_synced("customers", "42");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(got->at("email"), base("b@x.io", 30, 40));
  EXPECT_EQ(got->at("phone"), base(std::nullopt, 11, 21));
  // An empty string is not null.
  ASSERT_TRUE(store_->put_synced("customers", "43", {{"phone", base("", 1, 2)}}).ok());
  EXPECT_EQ(store_->get_synced("customers", "43")->at("phone").value, std::optional<std::string>(""));

  auto many = store_->get_synced_many("customers", {"42", "43", "missing"});
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->size(), 2u);
  EXPECT_EQ(many->count("missing"), 0u);

  EXPECT_TRUE(*store_->remove_synced("customers", "42"));
  EXPECT_FALSE(*store_->remove_synced("customers", "42"));
  EXPECT_TRUE(store_->get_synced("customers", "42")->empty());
}

// resync --overwrite marks a field's base in every linked row, giving a
// valueless one to rows that had none; the merge's next base clears it.
TEST_F(StateStoreTest, OverwriteFieldMarksEveryLinkedRowUntilANewBase) {
  ASSERT_TRUE(store_->upsert_link("customers", "1", "901").ok());
  ASSERT_TRUE(store_->upsert_link("customers", "2", "902").ok());
  ASSERT_TRUE(store_->put_synced("customers", "1", {{"title", base("CTO", 1, 2)}, {"email", base("a@x", 1, 2)}}).ok());
  ASSERT_TRUE(store_->put_synced("other", "1", {{"title", base("CEO", 1, 2)}}).ok());
  auto n = store_->overwrite_field("customers", "title");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 2);
  auto one = *store_->get_synced("customers", "1");
  EXPECT_TRUE(one.at("title").source_wins);
  EXPECT_EQ(one.at("title").value, std::optional<std::string>("CTO"));
  EXPECT_FALSE(one.at("email").source_wins);
  auto two = *store_->get_synced("customers", "2");
  ASSERT_EQ(two.count("title"), 1u);
  EXPECT_TRUE(two.at("title").source_wins);
  EXPECT_EQ(two.at("title").value, std::nullopt);
  EXPECT_FALSE(store_->get_synced("other", "1")->at("title").source_wins) << "another mapping's field";
  EXPECT_EQ(*store_->overwrite_field("customers", "title"), 2) << "idempotent";
  ASSERT_TRUE(store_->put_synced("customers", "1", {{"title", base("", 3, 4)}}).ok());
  EXPECT_FALSE(store_->get_synced("customers", "1")->at("title").source_wins);
}

TEST_F(StateStoreTest, CommitBatchWritesLinksAndBaseTogether) {
  ASSERT_TRUE(store_->upsert_link("customers", "gone", "999").ok());
  ASSERT_TRUE(store_->put_synced("customers", "gone", {{"email", base("g@x.io", 1, 1)}}).ok());
  BatchCommit batch;
  batch.mapping = "customers";
  for (int i = 0; i < 100; ++i) {
    batch.records.push_back(SyncedRecord{std::to_string(i), "hs" + std::to_string(i),
                                         {{"email", base(std::to_string(i) + "@x.io", i, 5)}}});
  }
  batch.removed_pg_keys = {"gone"};
  ASSERT_TRUE(store_->commit_batch(batch).ok());
  EXPECT_EQ((*store_->find_link_by_hubspot_id("customers", "hs57"))->pg_key, "57");
  EXPECT_EQ(*store_->get_synced("customers", "99")->at("email").value, "99@x.io");
  EXPECT_FALSE(store_->find_link_by_pg_key("customers", "gone")->has_value());
  EXPECT_TRUE(store_->get_synced("customers", "gone")->empty());
  ASSERT_TRUE(store_->commit_batch(batch).ok());  // idempotent
}

TEST_F(StateStoreTest, CommitBatchIsAllOrNothing) {
  ASSERT_TRUE(store_->upsert_link("customers", "owner", "taken").ok());
  BatchCommit batch;
  batch.mapping = "customers";
  batch.records.push_back({"1", "hs1", {{"email", base("1@x.io", 1, 1)}}});
  batch.records.push_back({"2", "taken", {{"email", base("2@x.io", 1, 1)}}});  // conflicts
  auto s = store_->commit_batch(batch);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, model::ErrorKind::conflict);
  EXPECT_FALSE(store_->find_link_by_pg_key("customers", "1")->has_value());
  EXPECT_TRUE(store_->get_synced("customers", "1")->empty());
}

TEST_F(StateStoreTest, TransactionCommitsOrRollsBackEverything) {
  auto failed = store_->transaction([&]() -> Status {
    EXPECT_TRUE(store_->set_checkpoint("m", "c", "1").ok());
    EXPECT_TRUE(store_->upsert_link("m", "k", "h").ok());
    return model::make_error(model::ErrorKind::transient, "boom");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "boom");
  EXPECT_FALSE(store_->get_checkpoint("m", "c")->has_value());
  EXPECT_FALSE(store_->find_link_by_pg_key("m", "k")->has_value());

  // A failing inner operation rolls back only itself when the caller goes on.
  ASSERT_TRUE(store_->upsert_link("m", "owner", "taken").ok());
  auto ok = store_->transaction([&]() -> Status {
    EXPECT_TRUE(store_->set_checkpoint("m", "c", "2").ok());
    EXPECT_FALSE(store_->commit_batch({"m", {{"x", "hx", {}}, {"y", "taken", {}}}, {}}).ok());
    return store_->transaction([&] { return store_->set_checkpoint("m", "d", "3"); });
  });
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ((*store_->get_checkpoint("m", "c"))->value, "2");
  EXPECT_EQ((*store_->get_checkpoint("m", "d"))->value, "3");
  EXPECT_FALSE(store_->find_link_by_pg_key("m", "x")->has_value());
}

InboxEvent event(const std::string& id, const std::string& sub, std::int64_t occurred) {
  InboxEvent e;
  e.event_id = id;
  e.subscription_id = sub;
  e.subscription_type = "contact.propertyChange";
  e.object_type = "contacts";
  e.object_id = "obj-" + id;
  e.occurred_at_ms = occurred;
  e.property_name = "email";
  e.property_value = id + "@x.io";
  e.raw_json = R"({"eventId":)" + id + "}";
  return e;
}

TEST_F(StateStoreTest, InboxDedupesOnSubscriptionAndEventId) {
  auto first = store_->append_inbox({event("1", "s1", 300), event("2", "s1", 100),
                                     event("1", "s2", 200), event("1", "s1", 300)});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 3u);  // the duplicate inside the batch is dropped
  EXPECT_EQ(*store_->append_inbox({event("2", "s1", 100), event("3", "s1", 50)}), 1u);
  EXPECT_EQ(*store_->count_inbox_pending(), 4u);

  // An event without an id cannot be deduplicated: the whole append is refused.
  auto bad = store_->append_inbox({event("9", "s1", 1), event("", "s1", 1)});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, model::ErrorKind::invalid_record);
  EXPECT_EQ(*store_->count_inbox_pending(), 4u);
}

TEST_F(StateStoreTest, InboxClaimOldestFirstWithLease) {
  ASSERT_TRUE(store_->append_inbox({event("a", "s", 300), event("b", "s", 100),
                                    event("c", "s", 200)}).ok());
  auto claimed = store_->claim_inbox(2, kT0, 60'000);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].event_id, "b");
  EXPECT_EQ((*claimed)[1].event_id, "c");
  EXPECT_EQ((*claimed)[0].attempts, 1);
  EXPECT_EQ((*claimed)[0].received_at_ms, kT0);
  EXPECT_EQ(*(*claimed)[0].property_value, "b@x.io");
  EXPECT_EQ((*claimed)[0].raw_json, R"({"eventId":b})");

  // Leased events are not claimed again before the lease ends.
  auto next = store_->claim_inbox(10, kT0 + 1, 60'000);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0].event_id, "a");

  ASSERT_TRUE(store_->mark_inbox_processed({(*claimed)[0].seq}, kT0 + 2).ok());
  EXPECT_EQ(*store_->count_inbox_pending(), 2u);
  // c's claimer died: after the lease c comes back, with attempts counted.
  auto after_lease = store_->claim_inbox(10, kT0 + 60'000, 60'000);
  ASSERT_EQ(after_lease->size(), 1u);
  EXPECT_EQ((*after_lease)[0].event_id, "c");
  EXPECT_EQ((*after_lease)[0].attempts, 2);
  // Released events can be claimed at once.
  ASSERT_TRUE(store_->release_inbox({(*after_lease)[0].seq}).ok());
  EXPECT_EQ(store_->claim_inbox(10, kT0 + 60'000, 60'000)->size(), 1u);

  // Processed events stay for dedupe until purged.
  EXPECT_EQ(*store_->append_inbox({event("b", "s", 100)}), 0u);
  EXPECT_EQ(*store_->purge_inbox(kT0 + 2), 0u);
  EXPECT_EQ(*store_->purge_inbox(kT0 + 3), 1u);
  EXPECT_EQ(*store_->count_inbox_pending(), 2u);
}

DeadLetter failure(const std::string& key, std::optional<std::int64_t> next_retry) {
  DeadLetter d;
  d.mapping = "customers";
  d.direction = Direction::to_hubspot;
  d.pg_key = key;
  d.payload_json = R"({"properties":{"email":"bad"}})";
  d.error_kind = model::ErrorKind::invalid_record;
  d.http_status = 400;
  d.category = "VALIDATION_ERROR";
  d.message = "Property values were not valid";
  d.next_retry_at_ms = next_retry;
  return d;
}

TEST_F(StateStoreTest, DeadLetterLifecycle) {
  auto id = store_->add_dead_letter(failure("1", kT0 + 1000));
  ASSERT_TRUE(id.ok());
  auto got = store_->get_dead_letter(*id);
  ASSERT_TRUE(got.ok() && got->has_value());
  const DeadLetter& d = **got;
  EXPECT_EQ(d.mapping, "customers");
  EXPECT_EQ(d.direction, Direction::to_hubspot);
  EXPECT_EQ(d.error_kind, model::ErrorKind::invalid_record);
  EXPECT_EQ(d.http_status, 400);
  EXPECT_EQ(d.category, "VALIDATION_ERROR");
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.first_failed_at_ms, kT0);
  EXPECT_EQ(d.last_failed_at_ms, kT0);
  EXPECT_EQ(d.status, DeadLetterStatus::pending);

  // The same record failing again once its retry is due updates the one
  // dead letter and counts a try.
  clock_.advance(61'000);
  DeadLetter again = failure("1", kT0 + 5000);
  again.last_failed_at_ms = kT0 + 61'000;
  EXPECT_EQ(*store_->add_dead_letter(again), *id);
  EXPECT_EQ((*store_->get_dead_letter(*id))->attempts, 2);
  EXPECT_EQ((*store_->get_dead_letter(*id))->first_failed_at_ms, kT0);

  auto other = store_->add_dead_letter(failure("2", std::nullopt));
  DeadLetter pull = failure("3", kT0);
  pull.direction = Direction::to_postgres;
  pull.mapping = "companies";
  auto pulled = store_->add_dead_letter(pull);
  ASSERT_TRUE(other.ok() && pulled.ok());

  DeadLetterFilter f;
  EXPECT_EQ(store_->list_dead_letters(f)->size(), 3u);
  f.mapping = "customers";
  EXPECT_EQ(store_->list_dead_letters(f)->size(), 2u);
  f.mapping.reset();
  f.direction = Direction::to_postgres;
  auto only_pull = store_->list_dead_letters(f);
  ASSERT_EQ(only_pull->size(), 1u);
  EXPECT_EQ(only_pull->front().id, *pulled);

  ASSERT_TRUE(store_->discard_dead_letter(*other, "operator: bad data").ok());
  auto discarded = store_->get_dead_letter(*other);
  EXPECT_EQ((*discarded)->status, DeadLetterStatus::discarded);
  EXPECT_EQ((*discarded)->discard_reason, "operator: bad data");
  DeadLetterFilter gone;
  gone.status = DeadLetterStatus::discarded;
  EXPECT_EQ(store_->list_dead_letters(gone)->size(), 1u);
  EXPECT_EQ(store_->record_dead_letter_failure(*other, {}).error().kind,
            model::ErrorKind::invalid_record);
  EXPECT_FALSE(store_->discard_dead_letter(12345, "x").ok());

  EXPECT_TRUE(*store_->resolve_dead_letter(*pulled));
  EXPECT_FALSE(*store_->resolve_dead_letter(*pulled));
  EXPECT_FALSE(store_->get_dead_letter(*pulled)->has_value());
}

// A record read or pushed again before its letter's retry is due (a sweep's
// overlap, the association pass, a run right after another) fails the same
// way: that is not a try. Twelve such failures in a second must not use up
// the schedule (1 min doubling to 6 h, 12 tries) and leave the record for
// an operator.
TEST_F(StateStoreTest, FailuresBeforeTheRetryIsDueAreNotTries) {
  DeadLetter first = failure("k", 0);
  first.first_failed_at_ms = first.last_failed_at_ms = kT0;
  const auto id = *store_->add_dead_letter(first);
  const auto due = *(*store_->get_dead_letter(id))->next_retry_at_ms;
  EXPECT_EQ(due, kT0 + 60'000);
  for (int i = 1; i <= 12; ++i) {
    DeadLetter again = failure("k", 0);
    again.last_failed_at_ms = kT0 + i * 100;
    again.message = "again " + std::to_string(i);
    ASSERT_EQ(*store_->add_dead_letter(again), id);
  }
  auto d = *store_->get_dead_letter(id);
  EXPECT_EQ(d->attempts, 1);
  EXPECT_EQ(d->next_retry_at_ms, due);
  EXPECT_EQ(d->message, "again 12");  // the newest error is what an operator reads
  EXPECT_EQ(d->last_failed_at_ms, kT0 + 1200);
  EXPECT_EQ(store_->due_dead_letters(due, 10)->size(), 1u);

  // The retry, once due, fails: a try, and the wait doubles.
  DeadLetter retried = failure("k", 0);
  retried.last_failed_at_ms = due;
  ASSERT_EQ(*store_->add_dead_letter(retried), id);
  d = *store_->get_dead_letter(id);
  EXPECT_EQ(d->attempts, 2);
  EXPECT_EQ(d->next_retry_at_ms, due + 120'000);
}

TEST_F(StateStoreTest, DeadLettersOfRecordsThatSyncedAreResolvedByKey) {
  auto a = store_->add_dead_letter(failure("1", kT0 + 1000));
  auto b = store_->add_dead_letter(failure("2", kT0 + 1000));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(store_->discard_dead_letter(*b, "audit").ok());
  auto c = store_->add_dead_letter(failure("3", kT0 + 1000));
  ASSERT_TRUE(c.ok());
  // Key 1 synced, key 2 only has a discarded letter (kept), key 9 has none,
  // and the other direction is untouched.
  auto n = store_->resolve_dead_letters_for("customers", Direction::to_hubspot, {"1", "2", "9"});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_FALSE((*store_->get_dead_letter(*a)).has_value());
  EXPECT_TRUE((*store_->get_dead_letter(*b)).has_value());
  EXPECT_TRUE((*store_->get_dead_letter(*c)).has_value());
  auto other = store_->resolve_dead_letters_for("customers", Direction::to_postgres, {"3"});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, 0u);
  EXPECT_EQ(*store_->resolve_dead_letters_for("customers", Direction::to_hubspot, {"1"}), 0u);
}

TEST_F(StateStoreTest, DeadLettersComeDueOnSchedule) {
  // The store's schedule decides when: 1 min after a first failure.
  const auto a = *store_->add_dead_letter(failure("a", 0));
  clock_.advance(1000);
  DeadLetter later = failure("b", 0);
  later.first_failed_at_ms = later.last_failed_at_ms = kT0 + 1000;
  const auto b = *store_->add_dead_letter(later);
  ASSERT_TRUE(store_->add_dead_letter(failure("never", std::nullopt)).ok());

  EXPECT_TRUE(store_->due_dead_letters(kT0 + 59'999, 10)->empty());
  auto due = store_->due_dead_letters(kT0 + 61'000, 10);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].id, a);  // soonest first
  EXPECT_EQ((*due)[1].id, b);
  EXPECT_EQ(store_->due_dead_letters(kT0 + 61'000, 1)->size(), 1u);

  FailedAttempt retry;
  retry.error_kind = model::ErrorKind::transient;
  retry.http_status = 503;
  retry.message = "Service Unavailable";
  retry.failed_at_ms = kT0 + 2000;
  retry.next_retry_at_ms = kT0 + 100'000;
  ASSERT_TRUE(store_->record_dead_letter_failure(b, retry).ok());
  auto after = store_->get_dead_letter(b);
  EXPECT_EQ((*after)->attempts, 2);
  EXPECT_EQ((*after)->http_status, 503);
  EXPECT_EQ((*after)->error_kind, model::ErrorKind::transient);
  EXPECT_EQ((*after)->last_failed_at_ms, kT0 + 2000);
  due = store_->due_dead_letters(kT0 + 61'000, 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].id, a);
  EXPECT_EQ(store_->due_dead_letters(kT0 + 100'000, 10)->size(), 2u);
}

TEST_F(StateStoreTest, DeadLetterBacksOffThenGivesUp) {
  RetrySchedule schedule;
  schedule.base_ms = 1000;
  schedule.cap_ms = 3000;
  schedule.max_attempts = 4;
  store_.reset();
  auto options = testing::options_for(dir_.file("state.db"), &clock_);
  options.retry_schedule = schedule;
  store_ = std::move(SqliteStateStore::open(options)).value();
  std::int64_t now = kT0;
  const auto id = *store_->add_dead_letter(failure("k", schedule.next_retry_at(1, now)));
  std::vector<std::int64_t> waits;
  while (true) {
    auto d = *store_->get_dead_letter(id);
    if (!d->next_retry_at_ms) break;
    waits.push_back(*d->next_retry_at_ms - now);
    now = *d->next_retry_at_ms;
    EXPECT_TRUE(store_->due_dead_letters(now - 1, 10)->empty());
    ASSERT_EQ(store_->due_dead_letters(now, 10)->size(), 1u);
    // The retry fails again.
    FailedAttempt a;
    a.failed_at_ms = now;
    a.next_retry_at_ms = schedule.next_retry_at(d->attempts + 1, now);
    ASSERT_TRUE(store_->record_dead_letter_failure(id, a).ok());
  }
  EXPECT_EQ(waits, (std::vector<std::int64_t>{1000, 2000, 3000}));
  auto final_state = *store_->get_dead_letter(id);
  EXPECT_EQ(final_state->attempts, 4);
  EXPECT_EQ(final_state->status, DeadLetterStatus::pending);  // kept for an operator
  EXPECT_TRUE(store_->due_dead_letters(now + 1'000'000'000, 10)->empty());
}

// A retried row that fails again is added again (the pusher does not know
// earlier attempts): the backoff must still grow, 1 min doubling to 6 h,
// and stop after 12 attempts.
TEST_F(StateStoreTest, ReAddedDeadLetterBacksOffFromItsTotalAttempts) {
  std::int64_t now = kT0;
  std::vector<std::int64_t> waits;
  std::int64_t id = 0;
  for (int attempt = 1; attempt <= 13; ++attempt) {
    DeadLetter d = failure("k", 0);
    d.first_failed_at_ms = d.last_failed_at_ms = now;
    d.hubspot_id = attempt == 1 ? "" : "901";  // learnt between attempts
    auto added = store_->add_dead_letter(d);
    ASSERT_TRUE(added.ok());
    if (id == 0) id = *added;
    EXPECT_EQ(*added, id);
    auto got = *store_->get_dead_letter(id);
    EXPECT_EQ(got->attempts, std::min(attempt, 13));
    if (!got->next_retry_at_ms) break;
    waits.push_back(*got->next_retry_at_ms - now);
    // Queued again: not due while its row is in the changelog.
    ASSERT_TRUE(store_->mark_dead_letters_queued({id}).ok());
    EXPECT_TRUE((*store_->get_dead_letter(id))->in_queue);
    EXPECT_TRUE(store_->due_dead_letters(now + 10 * 3'600'000LL, 10)->empty());
    now = *got->next_retry_at_ms;
  }
  const std::int64_t min = 60'000;
  EXPECT_EQ(waits, (std::vector<std::int64_t>{min, 2 * min, 4 * min, 8 * min, 16 * min, 32 * min,
                                              64 * min, 128 * min, 256 * min, 360 * min, 360 * min}));
  auto last = *store_->get_dead_letter(id);
  EXPECT_EQ(last->attempts, 12);
  EXPECT_FALSE(last->next_retry_at_ms.has_value());
  EXPECT_FALSE(last->in_queue);
  EXPECT_EQ(last->hubspot_id, "901");
}

TEST_F(StateStoreTest, MatchKeysFindLinksAndBackfillFromTheBase) {
  BatchCommit b{"customers", {}, {}, {}};
  b.records.push_back({"1", "901", {{"email", base("Ann@X.io", 1, 1)}}, "ann@x.io"});
  b.records.push_back({"2", "902", {{"email", base("bob@x.io", 1, 1)}}, std::nullopt});
  ASSERT_TRUE(store_->commit_batch(b).ok());
  auto ann = store_->find_link_by_match_key("customers", "ann@x.io");
  ASSERT_TRUE(ann.ok() && ann->has_value());
  EXPECT_EQ((*ann)->pg_key, "1");
  EXPECT_EQ((*ann)->hubspot_id, "901");
  EXPECT_FALSE(store_->find_link_by_match_key("customers", "bob@x.io")->has_value());
  EXPECT_EQ(*store_->backfill_match_keys("customers", "email", true), 1u);
  EXPECT_EQ((*store_->find_link_by_match_key("customers", "bob@x.io"))->pg_key, "2");
  EXPECT_EQ(*store_->backfill_match_keys("customers", "email", true), 0u);
  // A link moves to another key with its match key.
  BatchCommit move{"customers", {{"3", "901", {}, "ann@x.io"}}, {"1"}, {}};
  ASSERT_TRUE(store_->commit_batch(move).ok());
  EXPECT_EQ((*store_->find_link_by_match_key("customers", "ann@x.io"))->pg_key, "3");
  EXPECT_FALSE(store_->find_link_by_pg_key("customers", "1")->has_value());

  auto page = store_->list_links("customers", "", 1);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->front().pg_key, "2");
  page = store_->list_links("customers", "2", 10);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->front().pg_key, "3");
}

TEST_F(StateStoreTest, WriteIntentsSurviveUntilTheirBatchCommits) {
  WriteIntent a{"1", "", "ann@x.io", {{"city", base("Oslo", 5, 0)}, {"phone", base(std::nullopt, 5, 0)}}, kT0};
  WriteIntent b{"2", "902", "bob@x.io", {{"city", base("Rome", 6, 0)}}, kT0 + 1};
  ASSERT_TRUE(store_->record_intents("customers", {a, b}).ok());
  auto listed = store_->list_intents("customers");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].pg_key, "1");
  EXPECT_EQ((*listed)[0].match_value, "ann@x.io");
  EXPECT_EQ((*listed)[0].fields.at("city").value, "Oslo");
  EXPECT_FALSE((*listed)[0].fields.at("phone").value.has_value());
  EXPECT_EQ((*listed)[1].hubspot_id, "902");
  // Recording again replaces the row's intent, fields included.
  a.fields = {{"name", base("Ann", 7, 0)}};
  ASSERT_TRUE(store_->record_intents("customers", {a}).ok());
  EXPECT_EQ(store_->list_intents("customers")->at(1).fields.size(), 1u);
  EXPECT_TRUE(store_->list_intents("accounts")->empty());
  BatchCommit done{"customers", {}, {}, {"1"}};
  ASSERT_TRUE(store_->commit_batch(done).ok());
  listed = store_->list_intents("customers");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().pg_key, "2");
}

TEST_F(StateStoreTest, PostgresIntentsSurviveUntilTheirBatchCommits) {
  PostgresIntent a{"1", {{"city", "Oslo"}, {"phone", std::nullopt}}};
  PostgresIntent b{"2", {{"city", "Rome"}}};
  ASSERT_TRUE(store_->record_postgres_intents("customers", {a, b}).ok());
  auto listed = store_->list_postgres_intents("customers");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].pg_key, "1");
  EXPECT_EQ((*listed)[0].fields.at("city"), "Oslo");
  EXPECT_FALSE((*listed)[0].fields.at("phone").has_value());
  EXPECT_EQ((*listed)[1].fields.at("city"), "Rome");
  // Recording again replaces the row's intent, fields included.
  a.fields = {{"name", "Ann"}};
  ASSERT_TRUE(store_->record_postgres_intents("customers", {a}).ok());
  EXPECT_EQ(store_->list_postgres_intents("customers")->at(0).fields.size(), 1u);
  EXPECT_TRUE(store_->list_postgres_intents("accounts")->empty());
  BatchCommit done{"customers", {}, {}, {}, {"1"}};
  ASSERT_TRUE(store_->commit_batch(done).ok());
  listed = store_->list_postgres_intents("customers");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().pg_key, "2");
  EXPECT_TRUE(store_->list_intents("customers")->empty()) << "a HubSpot write intent is another thing";
}

TEST_F(StateStoreTest, ConflictsRecordedAndListedNewestFirst) {
  ConflictRecord c;
  c.mapping = "customers";
  c.pg_key = "42";
  c.hubspot_id = "901";
  c.field = "phone";
  c.pg_value = "+1 555";
  c.hs_value = "+1 556";
  c.base_value = std::nullopt;
  c.winner = Side::hubspot;
  c.rule = "newest";
  c.decided_at_ms = kT0;
  c.run_id = 7;
  ASSERT_TRUE(store_->record_conflict(c).ok());
  c.field = "email";
  c.decided_at_ms = kT0 + 1;
  c.winner = Side::postgres;
  c.run_id.reset();
  ASSERT_TRUE(store_->record_conflict(c).ok());
  c.mapping = "companies";
  ASSERT_TRUE(store_->record_conflict(c).ok());

  auto all = store_->list_conflicts("", 10);
  ASSERT_EQ(all->size(), 3u);
  auto mine = store_->list_conflicts("customers", 10);
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].field, "email");
  EXPECT_EQ((*mine)[0].winner, Side::postgres);
  EXPECT_FALSE((*mine)[0].run_id.has_value());
  EXPECT_EQ((*mine)[1].field, "phone");
  EXPECT_EQ((*mine)[1].winner, Side::hubspot);
  EXPECT_EQ(*(*mine)[1].hs_value, "+1 556");
  EXPECT_FALSE((*mine)[1].base_value.has_value());
  EXPECT_EQ(*(*mine)[1].run_id, 7);
  EXPECT_EQ(store_->list_conflicts("customers", 1)->size(), 1u);
}

TEST_F(StateStoreTest, RunsStartFinishAndList) {
  EXPECT_FALSE(store_->last_run()->has_value());
  auto first = store_->start_run("once", kT0);
  auto second = store_->start_run("serve", kT0 + 100);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
  RunSummary s;
  s.counts = {5, 4, 3, 2, 1, 6};
  s.errors = "1 record dead-lettered";
  s.finished_at_ms = kT0 + 90;
  s.duration_ms = 90;
  ASSERT_TRUE(store_->finish_run(*first, s).ok());
  EXPECT_EQ(store_->finish_run(999, s).error().kind, model::ErrorKind::invalid_record);

  auto last = store_->last_run();
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->id, *second);
  EXPECT_EQ((*last)->mode, "serve");
  EXPECT_FALSE((*last)->finished_at_ms.has_value());
  auto runs = store_->list_runs(10);
  ASSERT_EQ(runs->size(), 2u);
  const RunRecord& r = (*runs)[1];
  EXPECT_EQ(r.id, *first);
  EXPECT_EQ(r.counts, (RunCounts{5, 4, 3, 2, 1, 6}));
  EXPECT_EQ(r.errors, "1 record dead-lettered");
  EXPECT_EQ(*r.finished_at_ms, kT0 + 90);
  EXPECT_EQ(r.duration_ms, 90);
}

TEST_F(StateStoreTest, OAuthTokensSaveReplaceLoad) {
  EXPECT_FALSE(store_->load_oauth_tokens("123")->has_value());
  OAuthTokens t{"123", "access-1", "refresh-1", kT0 + 1800'000, {"crm.objects.contacts.read",
                                                                 "crm.objects.contacts.write"},
                0};
  ASSERT_TRUE(store_->save_oauth_tokens(t).ok());
  t.access_token = "access-2";
  t.refresh_token = "refresh-2";
  t.scopes = {"oauth"};
  t.issued_at_ms = kT0 + 3;
  t.hub_id = 123;
  clock_.advance(7);
  ASSERT_TRUE(store_->save_oauth_tokens(t).ok());
  auto got = store_->load_oauth_tokens("123");
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->access_token, "access-2");
  EXPECT_EQ((*got)->refresh_token, "refresh-2");
  EXPECT_EQ((*got)->expires_at_ms, kT0 + 1800'000);
  EXPECT_EQ((*got)->scopes, std::vector<std::string>{"oauth"});
  EXPECT_EQ((*got)->updated_at_ms, kT0 + 7);
  EXPECT_EQ((*got)->issued_at_ms, kT0 + 3);
  EXPECT_EQ((*got)->hub_id, 123);
  EXPECT_FALSE(store_->load_oauth_tokens("456")->has_value());
}

}  // namespace
}  // namespace hubsync::state
