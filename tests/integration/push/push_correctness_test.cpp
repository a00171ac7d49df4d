// Push correctness (issue 9): the set-ups in which push used to lose or
// destroy data, each against real PostgreSQL and the simulator.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/hubspot/properties.h"
#include "engine/ops/logging.h"
#include "engine/ratelimit/fake_clock.h"
#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

using ::testing::HasSubstr;


std::string contact_mapping(const std::string& name, const std::string& table,
                            const std::string& extra, const std::string& direction = "to_hubspot") {
  return "name: " + name + "\npostgres: {table: public." + table + ", key: id}\n"
         "hubspot: {object: contacts, match: email}\ndirection: " + direction + "\n" + extra +
         "fields:\n  - {column: email, property: email}\n  - {column: name, property: firstname}\n";
}

// --- 2: a boolean soft-delete column means deleted when true ---

TEST(PushCorrectness, BooleanSoftDeleteArchivesOnlyRowsMarkedTrue) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                   "CREATE TABLE flagged (id bigint PRIMARY KEY, email text NOT NULL, name text,"
                   " is_deleted boolean NOT NULL DEFAULT false);"
                   "CREATE TABLE maybe (id bigint PRIMARY KEY, email text NOT NULL, name text, gone boolean);"
                   "CREATE TABLE stamped (id bigint PRIMARY KEY, email text NOT NULL, name text, deleted_at timestamptz);"
                   "INSERT INTO flagged (id, email, name) SELECT g, 'f' || g || '@x.io', 'F' FROM generate_series(1, 4) g;"
                   "INSERT INTO maybe (id, email, name) SELECT g, 'm' || g || '@x.io', 'M' FROM generate_series(1, 3) g;"
                   "INSERT INTO stamped (id, email, name) SELECT g, 's' || g || '@x.io', 'S' FROM generate_series(1, 3) g;"
                   "UPDATE maybe SET gone = false WHERE id = 2",
                   {contact_mapping("flagged", "flagged", "deletes: {soft: {column: is_deleted}}\n"),
                    contact_mapping("maybe", "maybe", "deletes: {soft: {column: gone}}\n"),
                    contact_mapping("stamped", "stamped", "deletes: {soft: {column: deleted_at}}\n")});
  h->migrate();
  EXPECT_EQ(push_ok(*h, "flagged").created, 4);
  EXPECT_EQ(push_ok(*h, "maybe").created, 3);  // NULL and false are not deleted
  EXPECT_EQ(push_ok(*h, "stamped").created, 3);
  EXPECT_EQ(h->live_by("contacts", "email").size(), 10u);

  h->db.exec("UPDATE flagged SET is_deleted = true WHERE id = 2;"
             "UPDATE maybe SET gone = true WHERE id = 3;"
             "UPDATE stamped SET deleted_at = now() WHERE id = 1");
  EXPECT_EQ(push_ok(*h, "flagged").archived, 1);
  EXPECT_EQ(push_ok(*h, "maybe").archived, 1);
  EXPECT_EQ(push_ok(*h, "stamped").archived, 1);
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.size(), 7u);
  EXPECT_FALSE(live.count("f2@x.io"));
  EXPECT_FALSE(live.count("m3@x.io"));
  EXPECT_FALSE(live.count("s1@x.io"));
  EXPECT_TRUE(live.count("f1@x.io") && live.count("m1@x.io") && live.count("s2@x.io"));
}

// --- 3: a row entering or leaving the filter through an unmapped column ---

TEST(PushCorrectness, ARowLeavingAndEnteringTheFilterThroughAnUnmappedColumnIsArchivedThenPushed) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                   "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text,"
                   " status text NOT NULL DEFAULT 'active');"
                   "INSERT INTO people (id, email, name) SELECT g, 'p' || g || '@x.io', 'P' FROM generate_series(1, 3) g",
                   {contact_mapping("people", "people", "filter: \"status <> 'test'\"\n")});
  h->migrate();
  EXPECT_EQ(push_ok(*h, "people").created, 3);
  h->db.exec("UPDATE people SET status = 'test' WHERE id = 2");
  auto left = push_ok(*h, "people");
  EXPECT_EQ(left.archived, 1);
  EXPECT_FALSE(h->live_by("contacts", "email").count("p2@x.io"));
  h->db.exec("UPDATE people SET status = 'active' WHERE id = 2");
  auto back = push_ok(*h, "people");
  EXPECT_EQ(back.pushed(), 1);
  EXPECT_TRUE(h->live_by("contacts", "email").count("p2@x.io"));
}

// --- 4: a row deleted and inserted again keeps its HubSpot object ---

TEST(PushCorrectness, DeleteAndReinsertOfTheSameEmailKeepsAndUpdatesTheObject) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                   "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text);"
                   "INSERT INTO people VALUES (1, 'ann@x.io', 'Ann'), (5, 'bob@x.io', 'Bob')",
                   {contact_mapping("people", "people", "")});
  h->migrate();
  push_ok(*h, "people");
  const std::string ann = h->live_by("contacts", "email").at("ann@x.io").id;

  // A new key, the same email, in one transaction.
  h->db.exec("BEGIN; DELETE FROM people WHERE id = 1;"
             "INSERT INTO people VALUES (2, 'ann@x.io', 'Anna'); COMMIT");
  auto moved = push_ok(*h, "people");
  EXPECT_EQ(moved.archived, 0);
  EXPECT_EQ(moved.relinked, 1);
  EXPECT_EQ(moved.updated, 1);
  EXPECT_EQ(moved.created, 0);
  EXPECT_EQ(moved.dead_lettered, 0);
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.size(), 2u);
  EXPECT_EQ(live.at("ann@x.io").id, ann);
  EXPECT_EQ(live.at("ann@x.io").props.at("firstname"), "Anna");
  auto link = h->store->find_link_by_pg_key("people", "2");
  ASSERT_TRUE(link.ok() && link->has_value());
  EXPECT_EQ((*link)->hubspot_id, ann);
  EXPECT_FALSE(h->store->find_link_by_pg_key("people", "1")->has_value());

  // The same key, deleted and inserted again.
  h->db.exec("BEGIN; DELETE FROM people WHERE id = 2;"
             "INSERT INTO people VALUES (2, 'ann@x.io', 'Annie'); COMMIT");
  auto again = push_ok(*h, "people");
  EXPECT_EQ(again.updated, 1);
  EXPECT_EQ(again.archived, 0);
  live = h->live_by("contacts", "email");
  EXPECT_EQ(live.at("ann@x.io").id, ann);
  EXPECT_EQ(live.at("ann@x.io").props.at("firstname"), "Annie");

  // Deleted in one run, inserted again under a new key in a later one: the
  // deletion archived the object; the new row gets an object of its own.
  h->db.exec("DELETE FROM people WHERE id = 5");
  EXPECT_EQ(push_ok(*h, "people").archived, 1);
  h->db.exec("INSERT INTO people VALUES (6, 'bob@x.io', 'Bob')");
  auto fresh = push_ok(*h, "people");
  EXPECT_EQ(fresh.pushed(), 1);
  EXPECT_TRUE(h->live_by("contacts", "email").count("bob@x.io"));
  EXPECT_TRUE(dead_letters(*h).empty());
}

// --- 5: a link conflict is one row's dead letter, never the batch's ---

TEST(PushCorrectness, TwoRowsWithOneEmailInTwoCasesDeadLetterTheSecondNamingTheFirst) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                   "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text);"
                   "INSERT INTO people VALUES (1, 'dup@x.io', 'One'), (2, 'Dup@X.io', 'Two'),"
                   " (3, 'other@x.io', 'Three')",
                   {contact_mapping("people", "people", "")});
  h->migrate();
  auto first = push_ok(*h, "people");
  EXPECT_EQ(first.created, 2);
  EXPECT_EQ(first.dead_lettered, 1);
  auto live = h->live_by("contacts", "email");
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live.at("dup@x.io").props.at("firstname"), "One");  // the second row wrote nothing
  auto dead = dead_letters(*h);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].pg_key, "2");
  EXPECT_EQ(dead[0].category, "LINK_CONFLICT");
  EXPECT_THAT(dead[0].message, HasSubstr("id=1"));

  // Later, row 1 is linked: the conflict names its object too, and the
  // rest of the batch still goes through.
  h->db.exec("UPDATE people SET name = 'Two again' WHERE id = 2; UPDATE people SET name = 'Three!' WHERE id = 3");
  auto second = push_ok(*h, "people");
  EXPECT_EQ(second.updated, 1);
  EXPECT_EQ(second.dead_lettered, 1);
  dead = dead_letters(*h);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_THAT(dead[0].message, HasSubstr("id=1"));
  EXPECT_THAT(dead[0].message, HasSubstr("contacts " + live.at("dup@x.io").id));
  // Failed again before its retry was due: the letter's error is the new
  // one, and the try is not counted (it would use up the retry schedule).
  EXPECT_EQ(dead[0].attempts, 1);
  EXPECT_EQ(h->live_by("contacts", "email").at("other@x.io").props.at("firstname"), "Three!");

  // The operator fixes the row: it syncs and its dead letter goes.
  h->db.exec("UPDATE people SET email = 'dup2@x.io' WHERE id = 2");
  EXPECT_EQ(push_ok(*h, "people").created, 1);
  EXPECT_TRUE(dead_letters(*h).empty());
  EXPECT_EQ(h->live_by("contacts", "email").size(), 3u);
}

TEST(PushCorrectness, AMergeInHubSpotOfTwoSyncedObjectsDeadLettersTheRowThatLostItsObject) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                   "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text);"
                   "INSERT INTO people VALUES (1, 'a@x.io', 'A'), (2, 'b@x.io', 'B'), (3, 'c@x.io', 'C')",
                   {contact_mapping("people", "people", "")});
  h->migrate();
  push_ok(*h, "people");
  auto live = h->live_by("contacts", "email");
  const std::string survivor = h->sim.ui_merge("contacts", live.at("a@x.io").id, live.at("b@x.io").id);

  // Row 2 changes first: it follows its object into the survivor.
  h->db.exec("UPDATE people SET name = 'B2' WHERE id = 2");
  auto followed = push_ok(*h, "people");
  EXPECT_EQ(followed.updated, 1);
  EXPECT_EQ(followed.relinked, 1);
  EXPECT_EQ((*h->store->find_link_by_pg_key("people", "2"))->hubspot_id, survivor);

  // Row 1 lost its object to row 2: a dead letter naming row 2 and the
  // object; row 3's change goes through in the same batch.
  h->db.exec("UPDATE people SET name = 'A2' WHERE id = 1; UPDATE people SET name = 'C2' WHERE id = 3");
  auto lost = push_ok(*h, "people");
  EXPECT_EQ(lost.updated, 1);
  EXPECT_EQ(lost.dead_lettered, 1);
  auto dead = dead_letters(*h);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].pg_key, "1");
  EXPECT_THAT(dead[0].message, HasSubstr("id=2"));
  EXPECT_THAT(dead[0].message, HasSubstr(survivor));
  EXPECT_EQ(h->live_by("contacts", "email").at("c@x.io").props.at("firstname"), "C2");
}

// --- 6: a first push never blanks what HubSpot has ---

TEST(PushCorrectness, TheFirstPushOfATwoWayMappingNeverClearsHubSpotValues) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                   "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text,"
                   " city text, phone text)",
                   {"name: people\npostgres: {table: public.people, key: id}\n"
                    "hubspot: {object: contacts, match: email}\ndirection: both\nfields:\n"
                    "  - {column: email, property: email}\n  - {column: name, property: firstname}\n"
                    "  - {column: city, property: city}\n  - {column: phone, property: phone}\n"});
  const std::string id = h->sim.ui_create(
      "contacts", {{"email", "ann@x.io"}, {"firstname", "Ann"}, {"phone", "+47 123"},
                   {"lastname", "Lee"}});
  h->db.exec("INSERT INTO people VALUES (1, 'ann@x.io', NULL, 'Oslo', NULL)");
  h->migrate();
  auto stats = push_ok(*h, "people");
  EXPECT_EQ(stats.updated, 1);
  EXPECT_EQ(stats.created, 0);
  auto c = h->live_by("contacts", "email").at("ann@x.io");
  EXPECT_EQ(c.id, id);
  EXPECT_EQ(c.props["firstname"], "Ann");   // NULL in Postgres: not cleared
  EXPECT_EQ(c.props["phone"], "+47 123");
  EXPECT_EQ(c.props["lastname"], "Lee");    // not mapped: untouched
  EXPECT_EQ(c.props["city"], "Oslo");       // what Postgres has goes out
  // Only what was sent is the base: the NULL fields have none yet.
  auto base = h->store->get_synced("people", "1");
  ASSERT_TRUE(base.ok());
  EXPECT_TRUE(base->count("city"));
  EXPECT_FALSE(base->count("name"));
  EXPECT_FALSE(base->count("phone"));

  // Once linked, clearing a value in Postgres is a change like any other.
  h->db.exec("UPDATE people SET city = NULL WHERE id = 1");
  EXPECT_EQ(push_ok(*h, "people").updated, 1);
  EXPECT_EQ(h->live_by("contacts", "email").at("ann@x.io").props["city"], "");
}

// --- 404 on update: the mapping decides ---

TEST(PushCorrectness, AnObjectDeletedInHubSpotIsMadeAgainForAOneWayMapping) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                   "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text);"
                   "INSERT INTO people VALUES (1, 'a@x.io', 'A')",
                   {contact_mapping("people", "people", "")});
  h->migrate();
  push_ok(*h, "people");
  const std::string old = h->live_by("contacts", "email").at("a@x.io").id;
  h->sim.ui_delete("contacts", old);
  h->db.exec("UPDATE people SET name = 'A2' WHERE id = 1");
  auto again = push_ok(*h, "people");
  EXPECT_EQ(again.created + again.updated, 1);
  auto c = h->live_by("contacts", "email").at("a@x.io");
  EXPECT_EQ(c.props["firstname"], "A2");
  EXPECT_EQ((*h->store->find_link_by_pg_key("people", "1"))->hubspot_id, c.id);
}

TEST(PushCorrectness, AnObjectDeletedInHubSpotDeletesOrSoftDeletesTheRowOfATwoWayMapping) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                   "CREATE TABLE hard (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, name text);"
                   "CREATE TABLE soft (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, name text,"
                   " removed boolean NOT NULL DEFAULT false);"
                   "INSERT INTO hard VALUES (1, 'h1@x.io', 'H'), (2, 'h2@x.io', 'H');"
                   "INSERT INTO soft VALUES (1, 's1@x.io', 'S'), (2, 's2@x.io', 'S')",
                   {contact_mapping("hard", "hard", "", "both"),
                    contact_mapping("soft", "soft", "deletes: {soft: {column: removed}}\n", "both")});
  h->migrate();
  push_ok(*h, "hard");
  push_ok(*h, "soft");
  auto live = h->live_by("contacts", "email");
  h->sim.ui_delete("contacts", live.at("h1@x.io").id);
  h->sim.ui_delete("contacts", live.at("s1@x.io").id);
  h->db.exec("UPDATE hard SET name = 'H2'; UPDATE soft SET name = 'S2'");
  auto hard = push_ok(*h, "hard");
  EXPECT_EQ(hard.deleted_in_postgres, 1);
  EXPECT_EQ(hard.updated, 1);
  EXPECT_EQ(h->db.scalar("SELECT string_agg(id::text, ',') FROM hard"), "2");
  auto soft = push_ok(*h, "soft");
  EXPECT_EQ(soft.deleted_in_postgres, 1);
  EXPECT_EQ(h->db.scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM soft WHERE removed"), "1");
  // The deletion was written as hubsync: nothing captured, nothing recreated.
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog"), "0");
  EXPECT_FALSE(h->live_by("contacts", "email").count("h1@x.io"));
  EXPECT_FALSE(h->live_by("contacts", "email").count("s1@x.io"));
}

// --- dead letters back off across retries; waiting for a parent ends ---

TEST(PushCorrectness, ARowThatKeepsFailingWaitsLongerAfterEachRetry) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                   "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text);"
                   "INSERT INTO people VALUES (1, 'not-an-email', 'A'), (2, 'b@x.io', 'B')",
                   {contact_mapping("people", "people", "")});
  h->migrate();
  ratelimit::FakeClock clock(h->clock.wall_ms());
  auto pusher = [&] {
    return pipeline::Pusher(h->mapping("people"), h->by_name, *h->pg, h->hubspot->crm, *h->store,
                            clock, ops::logger("push"));
  };
  ASSERT_TRUE(pusher().run().ok());
  std::vector<std::int64_t> waits;
  for (int attempt = 1; attempt <= 4; ++attempt) {
    auto dl = dead_letters(*h);
    ASSERT_EQ(dl.size(), 1u);
    EXPECT_EQ(dl[0].attempts, attempt);
    ASSERT_TRUE(dl[0].next_retry_at_ms.has_value());
    waits.push_back(*dl[0].next_retry_at_ms - dl[0].last_failed_at_ms);
    EXPECT_EQ(*pusher().requeue_dead_letters(false), 0);  // not due yet
    clock.advance(std::chrono::milliseconds(*dl[0].next_retry_at_ms - clock.wall_ms()));
    EXPECT_EQ(*pusher().requeue_dead_letters(false), 1);
    EXPECT_EQ(*pusher().requeue_dead_letters(false), 0);  // queued once
    auto r = pusher().run();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->dead_lettered, 1);
  }
  EXPECT_EQ(waits, (std::vector<std::int64_t>{60'000, 120'000, 240'000, 480'000}));
}

}  // namespace
}  // namespace hubsync::test
