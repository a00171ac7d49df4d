// The mass-deletion guard end to end, against real PostgreSQL and the
// simulator over HTTP: a TRUNCATE that is not followed by its reload, rows
// leaving the filter in bulk, and a bulk delete in HubSpot's UI are held
// (nothing deleted on the other side) until they are undone or allowed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/pipeline/delete_guard.h"
#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kPeopleSql =
    "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text, active boolean NOT NULL DEFAULT true);"
    "INSERT INTO people SELECT g, 'p' || g || '@x.io', 'P' || g FROM generate_series(1, 10) g";
constexpr const char* kReload = "INSERT INTO people SELECT g, 'p' || g || '@x.io', 'P' || g FROM generate_series(1, 10) g";

std::string people(const std::string& direction, const std::string& extra) {
  return "name: people\npostgres: {table: public.people, key: id}\nhubspot: {object: contacts, match: email}\n"
         "direction: " + direction + "\nmax_deletes: 4\n" + extra +
         "fields:\n  - {column: email, property: email}\n  - {column: name, property: firstname}\n";
}

std::optional<pipeline::HeldDeletes> held(PushHarness& h, state::Direction d) {
  auto r = pipeline::held_deletes(*h.store, "people", d);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::nullopt;
}

pipeline::PushStats push_with(PushHarness& h, pipeline::PushOptions o) {
  auto r = h.push("people", std::move(o));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : pipeline::PushStats{};
}

std::unique_ptr<PushHarness> pushed(const std::string& server, const std::string& direction,
                                    const std::string& extra = "") {
  auto h = quick_harness(server, kPeopleSql, {people(direction, extra)});
  h->migrate();
  EXPECT_EQ(push_ok(*h, "people").created, 10);
  return h;
}

TEST(DeleteGuard, ATruncateOverTheLimitArchivesNothingAndItsReloadReleasesTheHold) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed(server, "to_hubspot");
  h->db.exec("TRUNCATE people");
  // Batches of 3: the first holds 3 archives, within the limit of 4, yet the
  // pass counts all 10 departures first and archives none.
  pipeline::PushOptions small;
  small.wave = 3;
  auto first = push_with(*h, small);
  EXPECT_EQ(first.archived, 0);
  EXPECT_EQ(first.held, 10);  // every batch of the pass
  EXPECT_EQ(h->live_by("contacts", "email").size(), 10u);
  ASSERT_TRUE(held(*h, state::Direction::to_hubspot));
  EXPECT_EQ(held(*h, state::Direction::to_hubspot)->count, 10);
  EXPECT_EQ(held(*h, state::Direction::to_hubspot)->limit, 4);
  // The reload (a separate transaction, as ETL jobs do): every row is back,
  // nothing was archived or made twice, and the hold is over.
  h->db.exec(kReload);
  pipeline::PushOptions once;
  once.recount_holds = true;  // as `run` does: no departure is left, so the hold ends now
  auto reload = push_with(*h, once);
  EXPECT_EQ(reload.archived, 0);
  EXPECT_EQ(reload.created, 0);
  EXPECT_EQ(reload.held, 0);
  EXPECT_EQ(h->dump("contacts").size(), 10u);
  EXPECT_FALSE(held(*h, state::Direction::to_hubspot));
}

TEST(DeleteGuard, DeletionsWithinTheLimitGoAheadAndAnAllowanceLetsTheHeldOnesThrough) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed(server, "to_hubspot");
  h->db.exec("DELETE FROM people WHERE id <= 3");
  EXPECT_EQ(push_ok(*h, "people").archived, 3);
  // Three more within the hour would make 6 > 4: all three wait.
  h->db.exec("DELETE FROM people WHERE id BETWEEN 4 AND 6");
  auto over = push_ok(*h, "people");
  EXPECT_EQ(over.archived, 0);
  EXPECT_EQ(over.held, 3);
  EXPECT_EQ(h->live_by("contacts", "email").size(), 7u);
  // An edit of another row is not held up by them.
  h->db.exec("UPDATE people SET name = 'Edited' WHERE id = 9");
  EXPECT_EQ(push_ok(*h, "people").updated, 1);
  // An operator allows them: the next pass takes them at once (their hold
  // delay of a minute is cut short) and archives them.
  ASSERT_TRUE(pipeline::allow_deletes(*h->store, "people", state::Direction::to_hubspot, 3, h->clock.wall_ms()).ok());
  auto allowed = push_ok(*h, "people");
  EXPECT_EQ(allowed.archived, 3);
  EXPECT_EQ(allowed.held, 0);
  EXPECT_EQ(h->live_by("contacts", "email").size(), 4u);
  EXPECT_FALSE(held(*h, state::Direction::to_hubspot));
}

// Rows deleted and inserted again under new keys with the same emails keep
// their contacts: no departure, so they take none of the limit's room.
TEST(DeleteGuard, RowsReInsertedWithTheirEmailsUnderNewKeysAreNoDeletions) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed(server, "to_hubspot");
  h->db.exec("BEGIN; DELETE FROM people WHERE id <= 4;"
             "INSERT INTO people SELECT g + 10, 'p' || g || '@x.io', 'Again ' || g FROM generate_series(1, 4) g;"
             "COMMIT; DELETE FROM people WHERE id = 5");
  auto pushed_again = push_ok(*h, "people");
  EXPECT_EQ(pushed_again.held, 0);
  EXPECT_EQ(pushed_again.archived, 1);
  EXPECT_EQ(pushed_again.relinked, 4);
  EXPECT_FALSE(held(*h, state::Direction::to_hubspot));
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.size(), 9u);
  EXPECT_EQ(live.at("p1@x.io").props["firstname"], "Again 1");
}

TEST(DeleteGuard, RowsLeavingTheFilterInBulkAreHeldAndAllowDeletesArchivesThem) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed(server, "to_hubspot", "filter:\n  postgres: \"active\"\n");
  h->db.exec("UPDATE people SET active = false WHERE id > 2");  // a bad scope edit, as data
  auto over = push_ok(*h, "people");
  EXPECT_EQ(over.archived, 0);
  EXPECT_EQ(over.held, 8);
  EXPECT_EQ(h->live_by("contacts", "email").size(), 10u);
  pipeline::PushOptions all;
  all.allow_deletes = true;  // `run --allow-deletes`
  auto allowed = push_with(*h, all);
  EXPECT_EQ(allowed.archived, 8);
  EXPECT_EQ(h->live_by("contacts", "email").size(), 2u);
}

TEST(DeleteGuard, ABulkDeleteInHubSpotDeletesNoRowUntilAllowed) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed(server, "both");
  pull_ok(*h, "people");  // the backfill: every object linked
  auto live = h->live_by("contacts", "email");
  for (int i = 1; i <= 6; ++i) h->sim.ui_delete("contacts", live.at("p" + std::to_string(i) + "@x.io").id);
  auto over = pull_ok(*h, "people");
  EXPECT_EQ(over.deleted, 0);
  EXPECT_EQ(over.held, 6);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "10");
  ASSERT_TRUE(held(*h, state::Direction::to_postgres));
  EXPECT_EQ(held(*h, state::Direction::to_postgres)->count, 6);
  // Still held on the next pass: the archived listing is read again.
  EXPECT_EQ(pull_ok(*h, "people").held, 6);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "10");
  ASSERT_TRUE(pipeline::allow_deletes(*h->store, "people", state::Direction::to_postgres, 6, h->clock.wall_ms()).ok());
  auto allowed = pull_ok(*h, "people");
  EXPECT_EQ(allowed.deleted, 6);
  EXPECT_EQ(h->db.scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM people"), "7,8,9,10");
  EXPECT_FALSE(held(*h, state::Direction::to_postgres));
  // Within the limit, a deletion goes ahead at once.
  h->sim.ui_delete("contacts", live.at("p7@x.io").id);
  EXPECT_EQ(pull_ok(*h, "people").deleted, 1);
}

// The default limit, 10 %, is at least 100 but never more than half the
// linked records: on a table of 10, half may go within the hour, and
// emptying it on either side is held.
TEST(DeleteGuard, EmptyingASmallTableIsHeldByTheDefaultLimitOnEitherSide) {
  HUBSYNC_REQUIRE_PG(server);
  std::string mapping = people("both", "");
  mapping.erase(mapping.find("max_deletes: 4\n"), 15);
  auto h = quick_harness(server, kPeopleSql, {mapping});
  h->migrate();
  ASSERT_EQ(push_ok(*h, "people").created, 10);
  pull_ok(*h, "people");
  h->db.exec("TRUNCATE people");
  auto truncated = push_ok(*h, "people");
  EXPECT_EQ(truncated.archived, 0);
  EXPECT_EQ(truncated.held, 10);
  ASSERT_TRUE(held(*h, state::Direction::to_hubspot));
  EXPECT_EQ(held(*h, state::Direction::to_hubspot)->limit, 5);
  EXPECT_EQ(h->live_by("contacts", "email").size(), 10u);
  h->db.exec(kReload);
  pipeline::PushOptions once;
  once.recount_holds = true;
  EXPECT_EQ(push_with(*h, once).held, 0);
  EXPECT_FALSE(held(*h, state::Direction::to_hubspot));
  // Every contact deleted in HubSpot's UI: no row goes.
  auto live = h->live_by("contacts", "email");
  for (const auto& [email, c] : live) h->sim.ui_delete("contacts", c.id);
  auto emptied = pull_ok(*h, "people");
  EXPECT_EQ(emptied.deleted, 0);
  EXPECT_EQ(emptied.held, 10);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "10");
  for (const auto& [email, c] : live) h->sim.ui_restore("contacts", c.id);
  EXPECT_EQ(pull_ok(*h, "people").held, 0);
  // Half of it goes at once.
  h->db.exec("DELETE FROM people WHERE id <= 5");
  EXPECT_EQ(push_ok(*h, "people").archived, 5);
  EXPECT_EQ(h->live_by("contacts", "email").size(), 5u);
}

// Rows edited in Postgres whose objects were deleted in HubSpot meet the
// deletion through the push (its update answers 404): the same guard holds
// their deletion, and the objects are not made again either.
TEST(DeleteGuard, ABulkDeleteInHubSpotMetByThePushDeletesNoRowUntilAllowed) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed(server, "both");
  pull_ok(*h, "people");
  auto live = h->live_by("contacts", "email");
  for (int i = 1; i <= 6; ++i) h->sim.ui_delete("contacts", live.at("p" + std::to_string(i) + "@x.io").id);
  h->db.exec("UPDATE people SET name = name || '!'");
  auto pushed_now = push_ok(*h, "people");
  EXPECT_EQ(pushed_now.deleted_in_postgres, 0);
  EXPECT_EQ(pushed_now.held, 6);
  EXPECT_EQ(pushed_now.updated, 4);
  EXPECT_EQ(pushed_now.created, 0);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "10");
  EXPECT_EQ(h->live_by("contacts", "email").size(), 4u);
  ASSERT_TRUE(held(*h, state::Direction::to_postgres));
  EXPECT_EQ(pull_ok(*h, "people").held, 6);  // the pull finds them too, and holds them
  ASSERT_TRUE(pipeline::allow_deletes(*h->store, "people", state::Direction::to_postgres, 6, h->clock.wall_ms()).ok());
  EXPECT_EQ(pull_ok(*h, "people").deleted, 6);
  EXPECT_EQ(h->db.scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM people"), "7,8,9,10");
  EXPECT_EQ(h->live_by("contacts", "email").size(), 4u);
}

// A scope edit is pushed by loading every row again (the fingerprint saw
// the filter change): the load's first archive counts every linked row's
// departure first, so no batch of it archives.
TEST(DeleteGuard, AnInitialLoadAfterAScopeEditCountsEveryLinkedRowFirst) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed(server, "to_hubspot");
  h->mappings[0].pg_filter = "id <= 2";  // the edit, as run() meets it
  ASSERT_TRUE(h->store->remove_checkpoint("people", "initial_load").ok());
  pipeline::PushOptions small;
  small.wave = 3;
  auto load = push_with(*h, small);
  EXPECT_EQ(load.archived, 0);
  EXPECT_EQ(load.held, 8);
  EXPECT_EQ(h->live_by("contacts", "email").size(), 10u);
  ASSERT_TRUE(held(*h, state::Direction::to_hubspot));
  EXPECT_EQ(held(*h, state::Direction::to_hubspot)->count, 8);
  // Held rows wait in the changelog; allowed, they are archived.
  small.allow_deletes = true;
  EXPECT_EQ(push_with(*h, small).archived, 8);
  EXPECT_EQ(h->live_by("contacts", "email").size(), 2u);
}

}  // namespace
}  // namespace hubsync::test
