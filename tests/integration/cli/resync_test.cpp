// `hubsync resync`: changes hubsync never saw (written while the capture
// trigger was disabled, or behind the pull's sweep checkpoint) reach the
// other side at the next run after the operator asks, and nothing else is
// written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/cli/cli_support.h"

namespace hubsync::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPeopleSql =
    "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, title text);"
    "INSERT INTO people (email, title) VALUES ('a@x.io', 'CTO'), ('b@x.io', 'CEO')";

constexpr const char* kPeople =
    "name: people\npostgres: {table: public.people, key: id}\nhubspot: {object: contacts, match: email}\n"
    "fields:\n  - {column: email, property: email}\n  - {column: title, property: jobtitle}\n";

std::int64_t writes(const sim::CountersSnapshot& c) {
  std::int64_t n = 0;
  for (const auto& [_, inputs] : c.inputs_written) n += inputs;
  return n;
}

std::string jobtitle(PushHarness& h, const std::string& email) {
  auto live = h.live_by("contacts", "email");
  auto it = live.find(email);
  if (it == live.end()) return "<none>";
  auto v = it->second.props.find("jobtitle");
  return v == it->second.props.end() ? "" : v->second;
}

// A data-only pg_restore (--disable-triggers) disables every trigger for
// its load and then runs ENABLE TRIGGER ALL, which leaves hubsync's
// triggers firing for ordinary sessions only. run says so; migrate mends
// the triggers, not the changes they missed; resync does.
TEST(Resync, APushResyncSendsWhatTheCaptureMissedAndArchivesTheRowsDeletedMeanwhile) {
  HUBSYNC_REQUIRE_PG(server);
  // One way: a two-way pull's sweep would meet the objects of the last
  // minute again and write the rows' missed values back itself.
  Cli c = cli_after_first_run(server, std::string(kPeople) + "direction: to_hubspot\n", kPeopleSql);
  ASSERT_EQ(c.h->live_by("contacts", "email").size(), 2u);
  c.h->db.exec("ALTER TABLE people DISABLE TRIGGER ALL;"
               "UPDATE people SET title = 'CFO' WHERE email = 'a@x.io';"
               "DELETE FROM people WHERE email = 'b@x.io';"
               "INSERT INTO people (email, title) VALUES ('c@x.io', 'COO');"
               "ALTER TABLE people ENABLE TRIGGER ALL");
  auto refused = c.run("run --once");
  EXPECT_EQ(refused.code, 1) << refused.out;
  EXPECT_THAT(refused.out, HasSubstr("fires only when session_replication_role is origin"));
  ASSERT_EQ(c.run("migrate").code, 0);
  ASSERT_EQ(c.run("run --once").code, 0);
  EXPECT_EQ(jobtitle(*c.h, "a@x.io"), "CTO");  // nothing was captured: nothing moved
  EXPECT_EQ(jobtitle(*c.h, "b@x.io"), "CEO");

  auto asked = c.run("resync --mapping people --direction to_hubspot");
  ASSERT_EQ(asked.code, 0) << asked.out;
  EXPECT_THAT(asked.out, HasSubstr("people  to_hubspot  resync asked: the next push loads every row again"));
  EXPECT_THAT(asked.out, HasSubstr("the next `hubsync run --once` does it"));
  EXPECT_THAT(c.run("status --offline").out, HasSubstr("checkpoint resync to_hubspot = asked"));
  auto plan = c.run("plan");
  EXPECT_THAT(plan.out, HasSubstr("people (to_hubspot): resync asked: every row is loaded again"));
  EXPECT_THAT(plan.out, HasSubstr("people (to_hubspot): Postgres nothing; HubSpot 1 create, 1 update, 1 archive"));
  EXPECT_THAT(c.run("status --offline").out, HasSubstr("checkpoint resync to_hubspot = asked"));  // plan took nothing
  c.h->sim.reset_counters();
  auto run = c.run("run --once");
  ASSERT_EQ(run.code, 0) << run.out;
  EXPECT_EQ(jobtitle(*c.h, "a@x.io"), "CFO");
  EXPECT_EQ(jobtitle(*c.h, "b@x.io"), "<none>");  // archived: its row is gone
  EXPECT_EQ(jobtitle(*c.h, "c@x.io"), "COO");
  EXPECT_EQ(writes(c.h->sim.counters()), 3);  // a's update, b's archive, c's create
  EXPECT_THAT(run.out, HasSubstr("created 1, updated 1, unchanged 0, archived 1"));
  EXPECT_THAT(c.run("status --offline").out, Not(HasSubstr("resync")));

  // Asked again with everything in agreement: nothing is written.
  ASSERT_EQ(c.run("resync --mapping people").code, 0);
  c.h->sim.reset_counters();
  ASSERT_EQ(c.run("run --once").code, 0);
  EXPECT_EQ(writes(c.h->sim.counters()), 0);
  EXPECT_EQ(c.h->live_by("contacts", "email").size(), 2u);
}

// An edit behind the sweep's checkpoint (an import stamped an hour back,
// as the sweep meets a change HubSpot's search index or a lost webhook
// kept from it): the sweep passed it. A pull resync reads every object.
// (The daily association pass would also read the linked ones again.)
TEST(Resync, APullResyncReadsEveryObjectAgainAndBringsAnEditTheSweepPassed) {
  HUBSYNC_REQUIRE_PG(server);
  Cli c = cli_after_first_run(server, kPeople, kPeopleSql, "{association_pass_every_s: 86400}");
  ASSERT_EQ(c.run("run --once").code, 0);  // the first pull came before the push made the contacts
  const auto hour_ago = c.h->clock.wall_ms() - 3'600'000;
  c.h->sim.ui_bulk_import("contacts", {{{"email", "a@x.io"}, {"jobtitle", "Founder"}}}, hour_ago);
  ASSERT_EQ(c.run("run --once").code, 0);
  const auto title = [&] { return c.h->db.scalar("SELECT title FROM people WHERE email = 'a@x.io'"); };
  EXPECT_EQ(title(), "CTO");

  auto asked = c.run("resync --direction to_postgres");
  ASSERT_EQ(asked.code, 0) << asked.out;
  EXPECT_THAT(asked.out, HasSubstr("people  to_postgres  resync asked: the next pull's sweep reads every object"));
  EXPECT_THAT(asked.out, Not(HasSubstr("to_hubspot")));
  c.h->sim.reset_counters();
  ASSERT_EQ(c.run("run --once").code, 0);
  EXPECT_EQ(title(), "Founder");
  EXPECT_EQ(c.h->db.scalar("SELECT title FROM people WHERE email = 'b@x.io'"), "CEO");
  EXPECT_EQ(writes(c.h->sim.counters()), 0);
}

// A one-way field edited on the side it fills: a resync leaves it (no
// change on the source side asks for it); --overwrite puts it back, and
// clears a value filled there where the source has none.
TEST(Resync, OverwritePutsBackAOneWayFieldEditedInHubSpot) {
  HUBSYNC_REQUIRE_PG(server);
  Cli c = cli_after_first_run(server, std::string(kPeople) + "direction: to_hubspot\n", kPeopleSql);
  c.h->db.exec("UPDATE people SET title = NULL WHERE email = 'b@x.io'");
  ASSERT_EQ(c.run("run --once").code, 0);
  ASSERT_EQ(jobtitle(*c.h, "b@x.io"), "");
  auto live = c.h->live_by("contacts", "email");
  c.h->sim.ui_edit("contacts", live.at("a@x.io").id, {{"jobtitle", "Edited"}});
  c.h->sim.ui_edit("contacts", live.at("b@x.io").id, {{"jobtitle", "Filled in HubSpot"}});
  ASSERT_EQ(c.run("resync").code, 0);
  ASSERT_EQ(c.run("run --once").code, 0);
  EXPECT_EQ(jobtitle(*c.h, "a@x.io"), "Edited");
  EXPECT_EQ(jobtitle(*c.h, "b@x.io"), "Filled in HubSpot");

  auto asked = c.run("resync --overwrite");
  ASSERT_EQ(asked.code, 0) << asked.out;
  EXPECT_THAT(asked.out, HasSubstr("overwrite: email, title send their values again"));
  EXPECT_THAT(c.run("status --offline").out, HasSubstr("checkpoint resync to_hubspot = overwrite"));
  ASSERT_EQ(c.run("resync").code, 0);  // a plain request does not weaken it
  EXPECT_THAT(c.run("plan").out, HasSubstr("resync asked: every row is loaded again, one-way fields' values sent again"));
  c.h->sim.reset_counters();
  ASSERT_EQ(c.run("run --once").code, 0);
  EXPECT_EQ(jobtitle(*c.h, "a@x.io"), "CTO");
  EXPECT_EQ(jobtitle(*c.h, "b@x.io"), "") << "Postgres has none: the overwrite clears it";
  EXPECT_EQ(writes(c.h->sim.counters()), 2);  // both rows: HubSpot is not read first
  ASSERT_EQ(c.run("resync").code, 0);  // and after it, a plain resync writes nothing again
  c.h->sim.reset_counters();
  ASSERT_EQ(c.run("run --once").code, 0);
  EXPECT_EQ(writes(c.h->sim.counters()), 0);
}

// The other way: a column filled from HubSpot, edited by hand.
TEST(Resync, OverwritePutsBackAColumnFilledFromHubSpotEditedByHand) {
  HUBSYNC_REQUIRE_PG(server);
  Cli c = cli_after_first_run(
      server,
      "name: people\npostgres: {table: public.people, key: id}\nhubspot: {object: contacts, match: email}\n"
      "fields:\n  - {column: email, property: email}\n  - {column: title, property: jobtitle, direction: to_postgres}\n",
      kPeopleSql, "{association_pass_every_s: 86400}");
  c.h->sim.ui_edit("contacts", c.h->live_by("contacts", "email").at("a@x.io").id, {{"jobtitle", "Founder"}});
  ASSERT_EQ(c.run("run --once").code, 0);
  const auto title = [&] { return c.h->db.scalar("SELECT title FROM people WHERE email = 'a@x.io'"); };
  ASSERT_EQ(title(), "Founder");
  c.h->db.exec("UPDATE people SET title = 'By hand' WHERE email = 'a@x.io'");
  ASSERT_EQ(c.run("resync --direction to_postgres").code, 0);
  ASSERT_EQ(c.run("run --once").code, 0);
  EXPECT_EQ(title(), "By hand");
  auto asked = c.run("resync --direction to_postgres --overwrite");
  EXPECT_THAT(asked.out, HasSubstr("overwrite: title send their values again"));
  ASSERT_EQ(c.run("run --once").code, 0);
  EXPECT_EQ(title(), "Founder");
  EXPECT_EQ(c.h->db.scalar("SELECT coalesce(title, '<null>') FROM people WHERE email = 'b@x.io'"), "<null>")
      << "HubSpot has none: the overwrite clears the value Postgres kept since the first link";
  c.h->sim.reset_counters();
  ASSERT_EQ(c.run("run --once").code, 0);
  EXPECT_EQ(c.h->db.scalar("SELECT coalesce(title, '<null>') FROM people WHERE email = 'a@x.io'"), "Founder");
  EXPECT_EQ(writes(c.h->sim.counters()), 0) << "done: the next run writes nothing";
}

TEST(Resync, AnUnknownMappingOrADirectionTheMappingDoesNotSyncIsRefused) {
  HUBSYNC_REQUIRE_PG(server);
  Cli c = cli_after_first_run(server, std::string(kPeople) + "direction: to_hubspot\n", kPeopleSql);
  auto unknown = c.run("resync --mapping peple");
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.out, HasSubstr("no mapping named 'peple'"));
  auto pull = c.run("resync --mapping people --direction to_postgres");
  EXPECT_EQ(pull.code, 1);
  EXPECT_THAT(pull.out, HasSubstr("mapping people does not sync to_postgres"));
  EXPECT_THAT(c.run("status --offline").out, Not(HasSubstr("resync")));
  auto both = c.run("resync");  // what the mapping syncs, and only that
  EXPECT_EQ(both.code, 0) << both.out;
  EXPECT_THAT(both.out, HasSubstr("people  to_hubspot  resync asked"));
  EXPECT_THAT(both.out, Not(HasSubstr("to_postgres")));
}

}  // namespace
}  // namespace hubsync::test
