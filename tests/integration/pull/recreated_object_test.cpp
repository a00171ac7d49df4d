// A contact deleted in HubSpot and created again with the same email (a
// mistaken deletion undone by hand, a re-import, a form filled in again):
// one pull follows the deletion as `deletes` says, then takes the new
// contact as a new object, as two pulls would. The new contact meets the
// old one's row before the archived listing is read (search comes first),
// so it must not be dead-lettered as a second object claiming that row.
#include <gtest/gtest.h>

#include <memory>

#include "engine/ops/logging.h"
#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kPeopleSql =
    "CREATE TABLE people (id serial PRIMARY KEY, email text NOT NULL, first_name text, deleted_at timestamptz);"
    "CREATE UNIQUE INDEX people_live_email ON people (email) WHERE deleted_at IS NULL;"
    "INSERT INTO people (email, first_name) VALUES ('ann@x.io', 'Ann'), ('bob@x.io', 'Bob')";

std::unique_ptr<PushHarness> synced(const std::string& server, const std::string& deletes) {
  auto h = quick_harness(server, kPeopleSql,
                         {"name: people\npostgres: {table: public.people, key: id}\n"
                          "hubspot: {object: contacts, match: email}\ndeletes: " + deletes + "\n"
                          "max_deletes: off\n"
                          "fields:\n  - {column: email, property: email}\n"
                          "  - {column: first_name, property: firstname}\n"});
  h->migrate();
  EXPECT_EQ(push_ok(*h, "people").created, 2);
  pull_ok(*h, "people");
  return h;
}

std::string rows(PushHarness& h) {
  return h.db.scalar(
      "SELECT string_agg(id || ':' || email || ':' || coalesce(first_name, '') || ':' || (deleted_at IS NOT NULL)::text,"
      " ',' ORDER BY id) FROM people");
}

// Deletes Ann's contact and creates her again; returns the new contact's id.
std::string recreate_ann(PushHarness& h) {
  const std::string old_id = h.live_by("contacts", "email").at("ann@x.io").id;
  h.sim.ui_delete("contacts", old_id);
  return h.sim.ui_create("contacts", {{"email", "ann@x.io"}, {"firstname", "Ann again"}});
}

std::unique_ptr<pipeline::Puller> puller(PushHarness& h, pipeline::PullOptions o = {}) {
  return std::make_unique<pipeline::Puller>(h.mapping("people"), h.by_name, *h.pg, h.hubspot->crm, *h.store,
                                            h.clock, ops::logger("pull"), o);
}

// What serve does with the objects its webhooks name.
model::Result<pipeline::PullStats> pull_ids(PushHarness& h, const std::vector<std::string>& ids) {
  return puller(h)->pull_ids(ids);
}

TEST(RecreatedObject, OnePullDeletesTheRowAndMakesOneForTheNewContact) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "archive");
  const std::string new_id = recreate_ann(*h);
  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.dead_lettered, 0) << "no LINK_CONFLICT for a row whose object is gone";
  EXPECT_EQ(pulled.deleted, 1);
  EXPECT_EQ(pulled.created, 1);
  EXPECT_TRUE(dead_letters(*h).empty());
  EXPECT_EQ(rows(*h), "2:bob@x.io:Bob:false,3:ann@x.io:Ann again:false");
  auto link = h->store->find_link_by_hubspot_id("people", new_id);
  ASSERT_TRUE(link.ok() && link->has_value());
  EXPECT_EQ((*link)->pg_key, h->db.scalar("SELECT id FROM people WHERE first_name = 'Ann again'"));
  auto again = pull_ok(*h, "people");
  EXPECT_EQ(again.created + again.updated + again.deleted + again.dead_lettered, 0) << "settled in one pull";
}

TEST(RecreatedObject, WithSoftDeletesTheRowIsMarkedAndTheNewContactLeftAlone) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "{soft: {column: deleted_at}}");
  recreate_ann(*h);
  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.dead_lettered, 0);
  EXPECT_EQ(pulled.deleted, 1);
  EXPECT_EQ(pulled.filtered, 1) << "a namesake of a soft-deleted row is left alone";
  EXPECT_TRUE(dead_letters(*h).empty());
  EXPECT_EQ(rows(*h), "1:ann@x.io:Ann:true,2:bob@x.io:Bob:false");
}

// serve pulls the objects its webhooks name, the new contact and the
// deleted one in one call, and must settle both the same way.
TEST(RecreatedObject, APullOfBothIdsAtOnceSettlesThemAsTheSweepDoes) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "archive");
  const std::string old_id = h->live_by("contacts", "email").at("ann@x.io").id;
  const std::string new_id = recreate_ann(*h);
  auto r = pull_ids(*h, {new_id, old_id});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->dead_lettered, 0);
  EXPECT_EQ(r->deleted, 1);
  EXPECT_EQ(r->created, 1);
  EXPECT_TRUE(dead_letters(*h).empty());
  EXPECT_EQ(rows(*h), "2:bob@x.io:Bob:false,3:ann@x.io:Ann again:false");
}

// One Puller pulls letters' objects again (run --once's retry), then runs:
// an object the retry dead-lettered again, met again by the sweep, and then
// freed by the archived listing is counted once, as what its pull made.
TEST(RecreatedObject, ALetterRetriedThenFreedInTheSameRunIsNotCountedBelowZero) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "archive");
  const std::string ann = h->live_by("contacts", "email").at("ann@x.io").id;
  h->sim.ui_edit("contacts", ann, {{"email", "ann-old@x.io"}});
  const std::string again = h->sim.ui_create("contacts", {{"email", "ann@x.io"}, {"firstname", "Ann again"}});
  pipeline::PullOptions o;
  o.overlap_ms = 0;
  auto one = puller(*h, o);
  auto retried = one->pull_ids({again});
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->dead_lettered, 1) << "Ann's row still syncs her contact";
  h->sim.ui_delete("contacts", ann);
  auto run = one->run();
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->dead_lettered, 0);
  EXPECT_EQ(run->deleted, 1);
  EXPECT_EQ(run->created, 1);
  EXPECT_TRUE(dead_letters(*h).empty());
}

// A row whose object is still there keeps its LINK_CONFLICT: the retry is
// only for rows the same pull freed.
TEST(RecreatedObject, ASecondObjectClaimingALiveRowIsStillDeadLettered) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "archive");
  const std::string ann = h->live_by("contacts", "email").at("ann@x.io").id;
  h->sim.ui_edit("contacts", ann, {{"email", "ann@y.io"}});
  const std::string other = h->sim.ui_create("contacts", {{"email", "ann@x.io"}, {"firstname", "Other"}});
  auto r = pull_ids(*h, {other});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->dead_lettered, 1);
  auto letters = dead_letters(*h);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].hubspot_id, other);
  EXPECT_EQ(letters[0].category, "LINK_CONFLICT");
}

}  // namespace
}  // namespace hubsync::test
