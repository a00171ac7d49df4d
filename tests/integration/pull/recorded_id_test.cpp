// Rows that keep their object's id (a to_postgres field on hs_object_id)
// find that object again when the state store no longer links them: a
// state file lost or replaced, or a mapping renamed. A row whose match
// value changed since must not be taken for a new row (a duplicate in
// Postgres) nor pushed as a new object (a duplicate in HubSpot).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kSql =
    "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text,"
    " hubspot_id bigint, status text NOT NULL DEFAULT 'active');"
    "INSERT INTO people (email, first_name) VALUES ('ann@x.io', 'Ann'), ('bob@x.io', 'Bob')";

std::string people(const std::string& name = "people", const std::string& extra = "") {
  return "name: " + name + "\npostgres: {table: public.people, key: id}\nhubspot: {object: contacts, match: email}\n" +
         extra +
         "fields:\n  - {column: email, property: email}\n  - {column: first_name, property: firstname}\n"
         "  - {column: hubspot_id, property: hs_object_id, direction: to_postgres}\n";
}

// Ann and Bob synced both ways: each row holds its contact's id.
std::unique_ptr<PushHarness> synced(const std::string& server, const std::string& extra = "") {
  auto h = quick_harness(server, kSql, {people("people", extra)});
  h->migrate();
  push_ok(*h, "people");
  pull_ok(*h, "people");
  EXPECT_EQ(h->db.scalar("SELECT count(hubspot_id) FROM people"), "2");
  return h;
}

// The state store is replaced by an empty one (the old object stays alive:
// the HubSpot stack keeps its tokens there).
std::unique_ptr<state::SqliteStateStore> lose_state(PushHarness& h) {
  static int n = 0;
  state::SqliteOptions so;
  so.path = (h.dir / ("new-state-" + std::to_string(++n) + ".db")).string();
  auto opened = state::SqliteStateStore::open(so);
  EXPECT_TRUE(opened.ok());
  auto old = std::move(h.store);
  h.store = std::move(*opened);
  return old;
}

TEST(RecordedId, ALostStateFileWithAChangedEmailMakesNoDuplicateOnEitherSide) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server);
  const std::string ann_id = h->db.scalar("SELECT hubspot_id FROM people WHERE email = 'ann@x.io'");
  h->db.exec("UPDATE people SET email = 'ann.new@x.io' WHERE email = 'ann@x.io'");
  auto old = lose_state(*h);

  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.created, 0);
  EXPECT_EQ(pulled.linked, 2);  // Bob by his email, Ann by the id her row kept
  auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.created, 0);
  EXPECT_EQ(pushed.dead_lettered, 0);

  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "2");
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.size(), 2u);
  ASSERT_TRUE(live.count("ann.new@x.io"));
  EXPECT_EQ(live.at("ann.new@x.io").id, ann_id);
  EXPECT_EQ(h->db.scalar("SELECT email FROM people WHERE hubspot_id = " + ann_id), "ann.new@x.io");
}

// `serve` may push before its pull has met the object (and `run
// --direction to_hubspot` never pulls): the push updates the object by the
// id the row kept rather than upsert a second one by the new email.
TEST(RecordedId, APushBeforeAnyPullUpdatesTheObjectTheRowKeptTheIdOf) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server);
  const std::string ann_id = h->db.scalar("SELECT hubspot_id FROM people WHERE email = 'ann@x.io'");
  h->db.exec("UPDATE people SET email = 'ann.new@x.io', first_name = 'Anna' WHERE email = 'ann@x.io'");
  auto old = lose_state(*h);

  auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.created, 0);
  EXPECT_EQ(pushed.relinked, 2);  // Bob kept his id too
  EXPECT_EQ(pushed.dead_lettered, 0);
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.size(), 2u);
  ASSERT_TRUE(live.count("ann.new@x.io"));
  EXPECT_EQ(live.at("ann.new@x.io").id, ann_id);
  EXPECT_EQ(live.at("ann.new@x.io").props.at("firstname"), "Anna");
  auto link = h->store->find_link_by_pg_key("people", h->db.scalar("SELECT id FROM people WHERE hubspot_id = " + ann_id));
  ASSERT_TRUE(link.ok() && *link);
  EXPECT_EQ((*link)->hubspot_id, ann_id);

  // A row whose kept id names an object deleted in HubSpot follows the
  // deletion, as it would have with its link: it is not made again.
  h->sim.ui_delete("contacts", ann_id);
  h->db.exec("UPDATE people SET first_name = 'Anne'");
  auto old2 = lose_state(*h);
  pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.created, 0);
  EXPECT_EQ(pushed.deleted_in_postgres, 1);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people WHERE hubspot_id = " + ann_id), "0");
  EXPECT_EQ(h->live_by("contacts", "email").size(), 1u);
  EXPECT_EQ(h->dump("contacts").size(), 2u);  // Ann's stays archived, no third contact
}

// An id HubSpot has never had (copied from another portal's sync, or made
// up) says nothing about a deletion: the row goes by its match value. With
// `deletes: ignore` a deleted object's row is pushed as new, as with a link.
TEST(RecordedId, AKeptIdHubSpotNeverHadOrADeletionIgnoredPushesTheRowAsNew) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server);
  h->db.exec("INSERT INTO people (email, first_name, hubspot_id) VALUES ('cy@x.io', 'Cy', 987654321)");
  auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.created, 1);
  EXPECT_EQ(pushed.deleted_in_postgres, 0);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "3");
  EXPECT_EQ(h->live_by("contacts", "email").count("cy@x.io"), 1u);

  auto g = synced(server, "deletes: ignore\n");
  const std::string ann_id = g->db.scalar("SELECT hubspot_id FROM people WHERE email = 'ann@x.io'");
  g->sim.ui_delete("contacts", ann_id);
  g->db.exec("UPDATE people SET first_name = 'Anne' WHERE email = 'ann@x.io'");
  auto old = lose_state(*g);
  pushed = push_ok(*g, "people");
  EXPECT_EQ(pushed.created, 1);
  EXPECT_EQ(pushed.deleted_in_postgres, 0);
  EXPECT_EQ(g->db.scalar("SELECT count(*) FROM people"), "2");
  EXPECT_EQ(g->live_by("contacts", "email").at("ann@x.io").props.at("firstname"), "Anne");
}

// HubSpot changed the email while the links were lost: the object still
// finds its row by the id the row kept, and takes the new email there.
TEST(RecordedId, AnObjectWhoseEmailChangedInHubSpotFindsItsRowByItsId) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server);
  const std::string bob_id = h->db.scalar("SELECT hubspot_id FROM people WHERE email = 'bob@x.io'");
  h->sim.ui_edit("contacts", bob_id, {{"email", "robert@x.io"}});
  auto old = lose_state(*h);

  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.created, 0);
  EXPECT_EQ(push_ok(*h, "people").created, 0);
  EXPECT_EQ(h->db.scalar("SELECT string_agg(email, ',' ORDER BY id) FROM people"), "ann@x.io,robert@x.io");
  EXPECT_EQ(h->live_by("contacts", "email").size(), 2u);
}

// Ann's contact merged into a HubSpot-only one while the links were lost:
// the survivor lists Ann's old id among those it absorbed, so the pull
// links it to Ann's row (no new row), and the push updates it (no new
// contact).
TEST(RecordedId, AMergeMadeWhileTheLinksWereLostIsFollowedThroughTheKeptId) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server);
  const std::string ann_id = h->db.scalar("SELECT hubspot_id FROM people WHERE email = 'ann@x.io'");
  const std::string x = h->sim.ui_create("contacts", {{"email", "x@x.io"}, {"firstname", "X"}});
  const std::string survivor = h->sim.ui_merge("contacts", x, ann_id);
  auto old = lose_state(*h);

  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.created, 0);
  EXPECT_EQ(push_ok(*h, "people").created, 0);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "2");
  EXPECT_EQ(h->live_by("contacts", "email").size(), 2u);  // the survivor and Bob
  auto link = h->store->find_link_by_hubspot_id("people", survivor);
  ASSERT_TRUE(link.ok() && *link);
  EXPECT_EQ((*link)->pg_key, h->db.scalar("SELECT id FROM people WHERE hubspot_id = " + survivor));
}

// Two rows keep one id (a row copied with its hubspot_id) when the links
// are lost: one row takes the object, the other goes by its own email,
// and the push neither fails nor links one object twice.
TEST(RecordedId, TwoRowsKeepingOneIdMakeOneLinkAndTheOtherGoesByItsEmail) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server);
  const std::string ann_id = h->db.scalar("SELECT hubspot_id FROM people WHERE email = 'ann@x.io'");
  h->db.exec("INSERT INTO people (email, first_name, hubspot_id) VALUES ('cy@x.io', 'Cy', " + ann_id + ")");
  auto old = lose_state(*h);

  auto pushed = h->push("people");
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  EXPECT_EQ(pushed->dead_lettered, 0);
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.size(), 3u);  // Ann's, Bob's, and a new one for Cy
  EXPECT_EQ(live.at("ann@x.io").id, ann_id);
  EXPECT_TRUE(live.count("cy@x.io"));
}

// The id a row kept is a hint, not a link: a row outside filter.postgres
// is not taken (nor duplicated by a new row).
TEST(RecordedId, ARowOutsideTheFilterIsNotTakenByTheIdItKept) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "filter: {postgres: \"status = 'active'\"}\n");
  const std::string ann_id = h->db.scalar("SELECT hubspot_id FROM people WHERE email = 'ann@x.io'");
  h->db.exec("UPDATE people SET email = 'ann.new@x.io', status = 'paused' WHERE email = 'ann@x.io'");
  auto old = lose_state(*h);

  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.created, 0);  // not a new row beside the paused one
  EXPECT_EQ(pulled.filtered, 1);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "2");
  EXPECT_EQ(h->db.scalar("SELECT email FROM people WHERE hubspot_id = " + ann_id), "ann.new@x.io");
}

// Ann's contact archived in HubSpot soft-deletes her row; then the state
// file is lost, and with it the departed link that lets the contact's
// restore bring the row back. The row records the contact's id: the
// restore still brings it back (no second row, no second contact).
TEST(RecordedId, ARestoreBringsBackTheSoftDeletedRowRecordingItsIdThoughTheStateFileWasLost) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                         "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text,"
                         " hubspot_id bigint, deleted_at timestamptz);"
                         "INSERT INTO people (email, first_name) VALUES ('ann@x.io', 'Ann'), ('bob@x.io', 'Bob')",
                         {people("people", "deletes: {soft: {column: deleted_at}}\n")});
  h->migrate();
  push_ok(*h, "people");
  pull_ok(*h, "people");
  const std::string ann_id = h->db.scalar("SELECT hubspot_id FROM people WHERE email = 'ann@x.io'");
  h->sim.ui_delete("contacts", ann_id);
  pull_ok(*h, "people");
  ASSERT_EQ(h->db.scalar("SELECT email FROM people WHERE deleted_at IS NOT NULL"), "ann@x.io");
  auto old = lose_state(*h);

  h->sim.ui_restore("contacts", ann_id);
  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.created, 0);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people WHERE deleted_at IS NULL"), "2");
  auto link = h->store->find_link_by_hubspot_id("people", ann_id);
  ASSERT_TRUE(link.ok() && link->has_value());
  EXPECT_EQ((*link)->pg_key, h->db.scalar("SELECT id FROM people WHERE email = 'ann@x.io'"));
  push_ok(*h, "people");
  EXPECT_EQ(h->live_by("contacts", "email").size(), 2u);
}

}  // namespace
}  // namespace hubsync::test
