// A record deleted on one side while the other side edited it: the deletion
// wins whatever the mapping's `conflict` says (hubsync never brings back
// what a side deleted), and each edit it discards is recorded as a conflict
// with rule `deletion`, so `conflicts list` says what was lost. A record
// deleted with no edit on the other side records nothing.
#include <gtest/gtest.h>

#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kPeopleSql =
    "CREATE TABLE people (id serial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text, phone text);"
    "INSERT INTO people (email, first_name, phone) VALUES ('ann@x.io', 'Ann', '1'), ('bob@x.io', 'Bob', '2')";

std::unique_ptr<PushHarness> synced(const std::string& server, const std::string& conflict) {
  auto h = quick_harness(server, kPeopleSql,
                         {"name: people\npostgres: {table: public.people, key: id}\n"
                          "hubspot: {object: contacts, match: email}\nconflict: " + conflict + "\n"
                          "max_deletes: off\n"  // both records go, more than the default lets a table of 2
                          "fields:\n  - {column: email, property: email}\n"
                          "  - {column: first_name, property: firstname}\n  - {column: phone, property: phone}\n"});
  h->migrate();
  EXPECT_EQ(push_ok(*h, "people").created, 2);
  pull_ok(*h, "people");
  return h;
}

std::vector<state::ConflictRecord> recorded(PushHarness& h) {
  auto r = h.store->list_conflicts("people", 10);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::vector<state::ConflictRecord>{};
}

void expect_lost(const state::ConflictRecord& c, const std::string& object, const std::string& field,
                 std::optional<std::string> pg, std::optional<std::string> hs, const std::string& base,
                 state::Side winner) {
  EXPECT_EQ(c.hubspot_id, object);
  EXPECT_FALSE(c.pg_key.empty());
  EXPECT_EQ(c.field, field);
  EXPECT_EQ(c.pg_value, pg);
  EXPECT_EQ(c.hs_value, hs);
  EXPECT_EQ(c.base_value, base);
  EXPECT_EQ(c.winner, winner);
  EXPECT_EQ(c.rule, "deletion");
}

// Even with `conflict: postgres`, Postgres's edit does not bring back a
// contact deleted in HubSpot.
TEST(DeletionConflicts, APostgresEditToARowWhoseObjectHubSpotDeletedIsRecordedAsLost) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "postgres");
  auto live = h->live_by("contacts", "email");
  h->db.exec("UPDATE people SET first_name = 'Annie' WHERE email = 'ann@x.io'");
  h->sim.ui_delete("contacts", live.at("ann@x.io").id);
  h->sim.ui_delete("contacts", live.at("bob@x.io").id);  // Bob's row was not edited

  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.deleted, 2);
  EXPECT_EQ(pulled.conflicts, 1);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "0");
  auto lost = recorded(*h);
  ASSERT_EQ(lost.size(), 1u);
  expect_lost(lost[0], live.at("ann@x.io").id, "first_name", "Annie", std::nullopt, "Ann", state::Side::hubspot);

  // The edit's captured change finds no row and no object: nothing is made again.
  auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.created + pushed.updated + pushed.archived, 0);
  EXPECT_TRUE(h->live_by("contacts", "email").empty());
  EXPECT_EQ(recorded(*h).size(), 1u);
}

// The push meets the deletion first (it runs before the pull has seen it):
// HubSpot answers 404, the row is deleted, and the edit is recorded.
TEST(DeletionConflicts, APushThatFindsTheObjectDeletedRecordsTheEditItDrops) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "newest");
  auto live = h->live_by("contacts", "email");
  h->sim.ui_delete("contacts", live.at("ann@x.io").id);
  h->db.exec("UPDATE people SET phone = '9' WHERE email = 'ann@x.io'");

  auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.deleted_in_postgres, 1);
  EXPECT_EQ(pushed.conflicts, 1);
  EXPECT_EQ(h->db.scalar("SELECT string_agg(email, ',') FROM people"), "bob@x.io");
  EXPECT_EQ(pull_ok(*h, "people").conflicts, 0);  // recorded once
  auto lost = recorded(*h);
  ASSERT_EQ(lost.size(), 1u);
  expect_lost(lost[0], live.at("ann@x.io").id, "phone", "9", std::nullopt, "1", state::Side::hubspot);
}

// Even with `conflict: hubspot`, a HubSpot edit does not keep alive a
// contact whose row was deleted; the push reads the objects it archives
// (one batch read) to record what the archive discards.
TEST(DeletionConflicts, AHubSpotEditToAnObjectWhoseRowPostgresDeletedIsRecordedAsLost) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "hubspot");
  auto live = h->live_by("contacts", "email");
  h->sim.ui_edit("contacts", live.at("ann@x.io").id, {{"phone", "555"}, {"firstname", "Ann"}});
  h->db.exec("DELETE FROM people");

  EXPECT_EQ(pull_ok(*h, "people").conflicts, 0);  // a run pulls first: the row is gone, nothing to pull
  h->sim.reset_counters();
  auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.archived, 2);
  EXPECT_EQ(pushed.conflicts, 1);
  EXPECT_EQ(h->calls("/batch/read"), 1);
  EXPECT_TRUE(h->live_by("contacts", "email").empty());
  auto lost = recorded(*h);
  ASSERT_EQ(lost.size(), 1u);
  expect_lost(lost[0], live.at("ann@x.io").id, "phone", std::nullopt, "555", "1", state::Side::postgres);
}

// A contact merged away in HubSpot deletes the row that synced it, as an
// archive does: its pending edit is recorded the same way.
TEST(DeletionConflicts, AnEditToARowWhoseObjectWasMergedAwayIsRecordedAsLost) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "newest");
  auto live = h->live_by("contacts", "email");
  h->db.exec("UPDATE people SET first_name = 'Annie' WHERE email = 'ann@x.io'");
  h->sim.ui_merge("contacts", live.at("bob@x.io").id, live.at("ann@x.io").id);

  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.deleted, 1);
  EXPECT_EQ(pulled.conflicts, 1);
  EXPECT_EQ(h->db.scalar("SELECT string_agg(email, ',') FROM people"), "bob@x.io");
  auto lost = recorded(*h);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].field, "first_name");
  EXPECT_EQ(lost[0].pg_value, "Annie");
  EXPECT_EQ(lost[0].rule, "deletion");
  EXPECT_EQ(lost[0].hubspot_id, live.at("ann@x.io").id) << "the object merged away, though its link moved";
}

// A field both sides held empty at the sync: a value Postgres gives it
// since is an edit, and the deletion records it (rows written after
// migrate, with the object id pulled back into the row, as a first run).
TEST(DeletionConflicts, AFieldFilledSinceItWasEmptyAtTheSyncIsRecordedAsLost) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                         "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text,"
                         " city text, hubspot_id text)",
                         {"name: people\npostgres: {table: public.people, key: id}\n"
                          "hubspot: {object: contacts, match: email}\nconflict: newest\nmax_deletes: off\n"
                          "fields:\n  - {column: email, property: email}\n"
                          "  - {column: first_name, property: firstname}\n  - {column: city, property: city}\n"
                          "  - {column: hubspot_id, property: hs_object_id, direction: to_postgres}\n"});
  h->migrate();
  h->db.exec("INSERT INTO people (email, first_name, city) VALUES ('ann@x.io', 'Ann', NULL), ('cy@x.io', 'Cy', 'Cork')");
  pull_ok(*h, "people");
  EXPECT_EQ(push_ok(*h, "people").created, 2);
  auto live = h->live_by("contacts", "email");
  h->db.exec("UPDATE people SET city = 'Athens' WHERE email = 'ann@x.io'");
  h->sim.ui_delete("contacts", live.at("ann@x.io").id);

  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.deleted, 1);
  EXPECT_EQ(pulled.conflicts, 1);
  auto lost = recorded(*h);
  ASSERT_EQ(lost.size(), 1u);
  expect_lost(lost[0], live.at("ann@x.io").id, "city", "Athens", std::nullopt, "", state::Side::hubspot);
}

}  // namespace
}  // namespace hubsync::test
