// A conflict is counted and recorded once its decision took effect: when
// the side that won refuses the value (Postgres's CHECK, HubSpot's option
// list), nothing happened yet. Both were counted on every pass, and the
// second recorded again on every pass (the list grew by the same two
// conflicts each sweep).
#include <gtest/gtest.h>

#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kPeopleSql =
    "CREATE TABLE people (id serial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text,"
    " qty text CHECK (length(qty) < 3), stage text);"
    "INSERT INTO people (email, first_name, qty, stage) VALUES ('ann@x.io', 'Ann', '1', 'lead')";

std::unique_ptr<PushHarness> synced(const std::string& server, const std::string& conflict) {
  auto h = quick_harness(server, kPeopleSql,
                         {"name: people\npostgres: {table: public.people, key: id}\n"
                          "hubspot: {object: contacts, match: email}\nconflict: " + conflict + "\n"
                          "fields:\n  - {column: email, property: email}\n"
                          "  - {column: first_name, property: firstname}\n  - {column: qty, property: q_qty}\n"
                          "  - {column: stage, property: lifecyclestage}\n"});
  h->create_text_property("contacts", "q_qty", false);
  h->migrate();
  push_ok(*h, "people");
  pull_ok(*h, "people");
  return h;
}

std::size_t recorded(PushHarness& h) {
  auto r = h.store->list_conflicts("people", 100);
  EXPECT_TRUE(r.ok());
  return r.ok() ? r->size() : 0;
}

TEST(ConflictRecords, AConflictWhoseWinnerPostgresRefusesIsNeitherCountedNorRecorded) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "hubspot");
  h->db.exec("UPDATE people SET qty = '5', first_name = 'Ann-PG'");
  h->sim.ui_edit("contacts", h->live_by("contacts", "email").at("ann@x.io").id,
                 {{"q_qty", "500"}, {"firstname", "Ann-HS"}});
  for (int pass = 0; pass < 2; ++pass) {
    auto pulled = pull_ok(*h, "people");
    EXPECT_EQ(pulled.dead_lettered, 1) << pass;
    EXPECT_EQ(pulled.conflicts, 0) << pass;
  }
  EXPECT_EQ(recorded(*h), 0u);
  EXPECT_EQ(h->db.scalar("SELECT first_name || '|' || qty FROM people"), "Ann-PG|5");
}

TEST(ConflictRecords, AConflictWhoseWinnerHubSpotRefusesIsRecordedOnlyOnceItLands) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "postgres");
  const std::string id = h->live_by("contacts", "email").at("ann@x.io").id;
  h->db.exec("UPDATE people SET stage = 'bogus', first_name = 'Ann-PG'");
  h->sim.ui_edit("contacts", id, {{"lifecyclestage", "customer"}, {"firstname", "Ann-HS"}});
  for (int pass = 0; pass < 3; ++pass) {
    auto pulled = pull_ok(*h, "people");
    EXPECT_EQ(pulled.conflicts, 0) << pass;  // HubSpot refused the record: nothing decided took effect
  }
  EXPECT_EQ(recorded(*h), 0u);
  EXPECT_EQ(h->live_by("contacts", "email").at("ann@x.io").props.at("firstname"), "Ann-HS");

  // Fixed in Postgres: the next pass lands both, and records both once.
  h->db.exec("UPDATE people SET stage = 'evangelist'");
  EXPECT_EQ(pull_ok(*h, "people").conflicts, 2);
  EXPECT_EQ(pull_ok(*h, "people").conflicts, 0);
  EXPECT_EQ(recorded(*h), 2u);
  auto c = h->live_by("contacts", "email").at("ann@x.io");
  EXPECT_EQ(c.props.at("firstname") + "|" + c.props.at("lifecyclestage"), "Ann-PG|evangelist");
}

}  // namespace
}  // namespace hubsync::test
