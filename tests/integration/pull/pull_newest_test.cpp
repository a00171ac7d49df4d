// `conflict: newest` compares HubSpot's property time with the time
// Postgres's change OF THAT FIELD was captured: a later Postgres edit of
// another column (mapped or not) must not make an older edit of the field
// beat a newer HubSpot edit, in the pull or in the push's check.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kSql =
    "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text,"
    " last_name text, status text NOT NULL DEFAULT 'active', last_login timestamptz)";

// conflict: newest is the default; `extra` adds mapping keys (a filter).
std::string people(const std::string& extra = "") {
  return "name: people\npostgres: {table: public.people, key: id}\nhubspot: {object: contacts, match: email}\n" +
         extra +
         "fields:\n  - {column: email, property: email}\n  - {column: first_name, property: firstname}\n"
         "  - {column: last_name, property: lastname}\n";
}

void pause() { std::this_thread::sleep_for(std::chrono::milliseconds(30)); }

// A harness holding Ann Lee, synced both ways, and her contact's id.
SyncedAnn synced_ann(const std::string& server, const std::string& extra = "") {
  return test::synced_ann(server, kSql, people(extra));
}

// Postgres edits first_name, then HubSpot edits it (newer), then Postgres
// edits `later` (another column).
void older_pg_edit_then_newer_hubspot_edit(PushHarness& h, const std::string& id, const std::string& later) {
  h.db.exec("UPDATE people SET first_name = 'PG-older'");
  pause();
  h.sim.ui_edit("contacts", id, {{"firstname", "HS-newer"}});
  pause();
  h.db.exec("UPDATE people SET " + later);
}

// Both sides read back: first_name and last_name in Postgres and HubSpot,
// and the one conflict recorded, first_name's ("newest:<winner>").
void expect_both(PushHarness& h, const std::string& first, const std::string& last, const std::string& rule) {
  EXPECT_EQ(h.db.scalar("SELECT first_name || ' ' || last_name FROM people"), first + " " + last);
  auto c = h.live_by("contacts", "email").at("a@x.io");
  EXPECT_EQ(c.props["firstname"], first);
  EXPECT_EQ(c.props["lastname"], last);
  EXPECT_EQ(conflict_rules(h, "people"), (std::map<std::string, std::string>{{"first_name", rule}}));
}

TEST(Newest, APullLetsANewerHubSpotEditWinThoughPostgresThenEditedAnotherColumn) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, id] = synced_ann(server);
  older_pg_edit_then_newer_hubspot_edit(*h, id, "last_name = 'PG-B'");
  auto pulled = pull_ok(*h, "people");
  push_ok(*h, "people");
  EXPECT_EQ(pulled.conflicts, 1);
  expect_both(*h, "HS-newer", "PG-B", "newest:hubspot");
}

// The push runs first: its check reads HubSpot's time and leaves the field
// to the pull; the other column goes out.
TEST(Newest, APushLeavesANewerHubSpotEditToThePullThoughPostgresThenEditedAnotherColumn) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, id] = synced_ann(server);
  older_pg_edit_then_newer_hubspot_edit(*h, id, "last_name = 'PG-B'");
  auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.left_to_pull, 1);
  auto c = h->live_by("contacts", "email").at("a@x.io");
  EXPECT_EQ(c.props["firstname"], "HS-newer");
  EXPECT_EQ(c.props["lastname"], "PG-B");
  pull_ok(*h, "people");
  expect_both(*h, "HS-newer", "PG-B", "newest:hubspot");
}

// The push left first_name to the pull; before the pull, Postgres edits
// another column. first_name's own change is no longer pending: its time
// is unknown, and HubSpot's known (newer) time still wins.
TEST(Newest, AFieldThePushLeftToThePullStaysHubSpotsThoughPostgresEditsAnotherColumnBeforeThePull) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, id] = synced_ann(server);
  older_pg_edit_then_newer_hubspot_edit(*h, id, "last_name = 'PG-B'");
  EXPECT_EQ(push_ok(*h, "people").left_to_pull, 1);
  pause();
  h->db.exec("UPDATE people SET last_name = 'PG-C'");
  pull_ok(*h, "people");
  push_ok(*h, "people");
  expect_both(*h, "HS-newer", "PG-C", "newest:hubspot");
}

// With filter.postgres the capture watches every column: an edit of a
// column no field maps lends its time to no field either.
TEST(Newest, AnEditOfAnUnmappedColumnDoesNotMakeAnOlderPostgresEditWin) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, id] = synced_ann(server, "filter: {postgres: \"status <> 'test'\"}\n");
  older_pg_edit_then_newer_hubspot_edit(*h, id, "last_login = now()");
  pull_ok(*h, "people");
  expect_both(*h, "HS-newer", "Lee", "newest:hubspot");
}

// The control: Postgres's edit of the field is the newer one, and wins.
TEST(Newest, ANewerPostgresEditOfTheFieldStillWins) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, id] = synced_ann(server);
  h->sim.ui_edit("contacts", id, {{"firstname", "HS-older"}});
  pause();
  h->db.exec("UPDATE people SET first_name = 'PG-newer'");
  pause();
  h->db.exec("UPDATE people SET last_name = 'PG-B'");
  pull_ok(*h, "people");
  push_ok(*h, "people");
  expect_both(*h, "PG-newer", "PG-B", "newest:postgres");
}

}  // namespace
}  // namespace hubsync::test
