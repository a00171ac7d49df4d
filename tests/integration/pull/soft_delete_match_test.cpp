// Soft-deleted rows meet live HubSpot objects holding their match value
// (TESTING.md: rows deleted and re-inserted). A row deleted in Postgres is
// never brought back by an object it did not sync with: not at a first
// two-way sync, and not beside a live row re-inserted under the same email
// (a unique index on live rows only). A row whose own object was archived
// in HubSpot comes back when that object is restored (pull_test's
// ArchiveMergeAndRestore...).
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

// Emails unique among live rows only: a person deleted and signed up again has two rows.
constexpr const char* kSql =
    "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL, first_name text, last_name text,"
    " deleted_at timestamptz);"
    "CREATE UNIQUE INDEX people_live_email ON people (email) WHERE deleted_at IS NULL";
constexpr const char* kPeople =
    "name: people\npostgres: {table: public.people, key: id}\nhubspot: {object: contacts, match: email}\n"
    "deletes: {soft: {column: deleted_at}}\n"
    "fields:\n  - {column: email, property: email}\n  - {column: first_name, property: firstname}\n";

std::string rows(PushHarness& h) {
  return h.db.scalar(
      "SELECT string_agg(email || ':' || coalesce(first_name, '') || ':' || (deleted_at IS NOT NULL)::text, ','"
      " ORDER BY id) FROM people");
}

TEST(SoftDeleteMatch, AFirstTwoWaySyncLeavesARowDeletedInPostgresDeletedAndItsNamesakeAlone) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kSql, {kPeople});
  h->db.exec("INSERT INTO people (email, first_name, deleted_at) VALUES ('gone@x.io', 'Gone', now())");
  const auto id = h->sim.ui_create("contacts", {{"email", "gone@x.io"}, {"firstname", "Still here"}});
  h->migrate();
  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.linked, 0);
  EXPECT_EQ(pulled.created, 0);
  EXPECT_EQ(pulled.filtered, 1);
  push_ok(*h, "people");
  pull_ok(*h, "people");
  EXPECT_EQ(rows(*h), "gone@x.io:Gone:true") << "the deletion stays, and no second row";
  auto live = h->live_by("contacts", "email");
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live.at("gone@x.io").id, id);
  EXPECT_EQ(live.at("gone@x.io").props["firstname"], "Still here") << "the contact is left as it is";
  EXPECT_FALSE(h->store->find_link_by_hubspot_id("people", id)->has_value());
  EXPECT_TRUE(dead_letters(*h).empty());
}

TEST(SoftDeleteMatch, AContactTakesTheLiveRowReInsertedBesideADeletedOneOfTheSameEmail) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kSql, {kPeople});
  h->db.exec("INSERT INTO people (email, first_name, deleted_at) VALUES ('back@x.io', 'Old', now() - interval '1 day')");
  h->db.exec("INSERT INTO people (email, first_name) VALUES ('back@x.io', 'New')");
  const auto id = h->sim.ui_create("contacts", {{"email", "back@x.io"}, {"firstname", "New"}});
  h->migrate();
  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.linked, 1);
  EXPECT_TRUE(dead_letters(*h).empty()) << "not LINK_CONFLICT: the deleted row is nobody's";
  auto link = h->store->find_link_by_hubspot_id("people", id);
  ASSERT_TRUE(link.ok() && link->has_value());
  EXPECT_EQ((*link)->pg_key, h->db.scalar("SELECT id FROM people WHERE deleted_at IS NULL"));
  // Both directions from then on reach the live row only.
  h->sim.ui_edit("contacts", id, {{"firstname", "Newer"}});
  pull_ok(*h, "people");
  h->db.exec("UPDATE people SET first_name = 'Newest' WHERE deleted_at IS NULL");
  push_ok(*h, "people");
  EXPECT_EQ(rows(*h), "back@x.io:Old:true,back@x.io:Newest:false");
  EXPECT_EQ(h->live_by("contacts", "email").at("back@x.io").props["firstname"], "Newest");
  EXPECT_EQ(h->live_by("contacts", "email").size(), 1u);
}

}  // namespace
}  // namespace hubsync::test
