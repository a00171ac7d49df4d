// The pull and a mapping's filters, on columns and properties no field maps:
// rows outside filter.postgres and objects outside filter.hubspot take no
// part in the sync, whichever read finds them.
#include <gtest/gtest.h>

#include "engine/ops/logging.h"
#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kPeopleSql =
    "CREATE TABLE people (id serial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text,"
    " status text NOT NULL DEFAULT 'active', notes text);"
    "INSERT INTO people (email, first_name, status) VALUES ('real@x.io', 'Real', 'active'),"
    " ('test@x.io', 'TestRow', 'test')";

std::string people(const std::string& filter) {
  return "name: people\npostgres: {table: public.people, key: id}\n"
         "hubspot: {object: contacts, match: email}\ndirection: both\nfilter:\n" + filter +
         "fields:\n  - {column: email, property: email}\n  - {column: first_name, property: firstname}\n";
}

std::string row(PushHarness& h, const std::string& email) {
  return h.db.scalar("SELECT first_name || '|' || status FROM people WHERE email = '" + email + "'");
}

// A person creates, in HubSpot, a contact whose email only a row outside
// filter.postgres has. The pull linked them and wrote HubSpot's values
// into the row, and the row's next edit (still outside the filter) then
// archived the person's contact, as a row that left the filter.
TEST(PullFilters, AnObjectMatchingOnlyARowOutsideFilterPostgresIsLeftAloneUntilTheRowEntersIt) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql, {people("  postgres: \"status <> 'test'\"\n")});
  h->migrate();
  EXPECT_EQ(push_ok(*h, "people").created, 1);
  pull_ok(*h, "people");
  const std::string tess = h->sim.ui_create("contacts", {{"email", "test@x.io"}, {"firstname", "Tess"}});

  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.filtered, 1);
  EXPECT_EQ(pulled.linked, 0);
  EXPECT_EQ(pulled.created, 0);
  EXPECT_EQ(pulled.updated, 0);
  EXPECT_EQ(row(*h, "test@x.io"), "TestRow|test");
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "2");
  EXPECT_FALSE(*h->store->find_link_by_hubspot_id("people", tess));

  // The row is edited, still outside the filter: nothing reaches HubSpot.
  h->db.exec("UPDATE people SET notes = 'checked' WHERE email = 'test@x.io'");
  auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.archived, 0);
  auto live = h->live_by("contacts", "email");
  ASSERT_TRUE(live.count("test@x.io"));
  EXPECT_EQ(live.at("test@x.io").id, tess);
  EXPECT_EQ(live.at("test@x.io").props.at("firstname"), "Tess");

  // It enters the filter: the push links it to the person's contact, no duplicate.
  h->db.exec("UPDATE people SET status = 'active' WHERE email = 'test@x.io'");
  push_ok(*h, "people");
  pull_ok(*h, "people");
  live = h->live_by("contacts", "email");
  EXPECT_EQ(live.size(), 2u);
  EXPECT_EQ(live.at("test@x.io").id, tess);
  auto link = *h->store->find_link_by_hubspot_id("people", tess);
  ASSERT_TRUE(link);
  EXPECT_EQ(link->pg_key, h->db.scalar("SELECT id FROM people WHERE email = 'test@x.io'"));
}

// filter.hubspot on a property no field maps: a read by id (webhooks, the
// association pass, dead-letter retries) must read that property to test
// it. It did not, so NEQ let every object through.
TEST(PullFilters, AReadByIdTestsFilterHubSpotOnAPropertyNoFieldMaps) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql,
                         {people("  hubspot: [{property: jobtitle, operator: NEQ, value: tester}]\n")});
  h->migrate();
  push_ok(*h, "people");
  pull_ok(*h, "people");
  auto live = h->live_by("contacts", "email");
  ASSERT_EQ(live.size(), 2u);
  const std::string real = live.at("real@x.io").id;
  const std::string test = live.at("test@x.io").id;

  // One edit puts the object out of the filter; another stays in it.
  h->sim.ui_edit("contacts", real, {{"jobtitle", "tester"}, {"firstname", "Real-HS"}});
  h->sim.ui_edit("contacts", test, {{"jobtitle", "lead"}, {"firstname", "Test-HS"}});
  pipeline::Puller puller(h->mapping("people"), h->by_name, *h->pg, h->hubspot->crm, *h->store, h->clock,
                          ops::logger("pull"));
  auto r = puller.pull_ids({real, test});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->filtered, 1);
  EXPECT_EQ(r->updated, 1);
  EXPECT_EQ(row(*h, "real@x.io"), "Real|active");
  EXPECT_EQ(row(*h, "test@x.io"), "Test-HS|test");

  // The sweep agrees: its search leaves the object out.
  auto swept = pull_ok(*h, "people");
  EXPECT_EQ(swept.updated, 0);
  EXPECT_EQ(row(*h, "real@x.io"), "Real|active");
}

// An initial load that follows the first pull skips looking rows up by
// match value, as that pull met every object. Not when filter.hubspot hid
// some from it: a row whose email names a contact outside the filter
// overwrote its values, with no conflict decided or recorded.
TEST(PullFilters, AnInitialLoadAfterAFilteredBackfillStillFindsObjectsTheFilterHid) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql,
                         {people("  hubspot: [{property: jobtitle, operator: EQ, value: lead}]\n")});
  h->sim.ui_create("contacts", {{"email", "real@x.io"}, {"firstname", "Real-HS"}, {"jobtitle", "customer"}});
  h->migrate();
  EXPECT_EQ(pull_ok(*h, "people").linked, 0);  // the backfill: its search leaves the contact out

  auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.created, 1);  // test@x.io: HubSpot has no such contact
  // Both sides have a first name and no agreement: a conflict, decided by
  // `newest` (HubSpot's time is known, the row's is not: HubSpot wins).
  EXPECT_EQ(pushed.left_to_pull, 1);
  EXPECT_EQ(h->live_by("contacts", "email").at("real@x.io").props.at("firstname"), "Real-HS");
}

}  // namespace
}  // namespace hubsync::test
