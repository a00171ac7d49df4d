// An operator edits a mapping between runs. The state store's links and
// merge bases were made with the old one: a field pointed at another
// property starts afresh (its old base read an empty new property as a
// change that cleared the column, in every row the association pass
// reached), and a changed key, table or object type stops the run (the
// links would name other rows).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/cli/cli_support.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kPeopleSql =
    "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, title text, ext_no int UNIQUE);"
    "INSERT INTO people (email, title, ext_no) VALUES ('a@x.io', 'CTO', 2), ('b@x.io', 'CEO', 1)";

std::string people(const std::string& key, const std::string& title_property, const std::string& object = "contacts") {
  return "name: people\npostgres: {table: public.people, key: " + key + "}\n"
         "hubspot: {object: " + object + ", match: email}\nconflict: newest\nfields:\n"
         "  - {column: email, property: email}\n  - {column: title, property: " + title_property + "}\n";
}

Cli synced_cli(const std::string& server, const std::string& mapping = people("id", "jobtitle"),
               const std::string& sql = kPeopleSql, const std::string& pull = "{association_pass_every_s: 0}") {
  return cli_after_first_run(server, mapping, sql, pull);
}

std::string title(PushHarness& h, const std::string& email) {
  return h.db.scalar("SELECT coalesce(title, '<null>') FROM people WHERE email = '" + email + "'");
}

TEST(MappingEdits, AFieldPointedAtAnotherPropertyStartsAfreshInsteadOfClearingTheColumn) {
  HUBSYNC_REQUIRE_PG(server);
  Cli c = synced_cli(server);
  auto live = c.h->live_by("contacts", "email");
  ASSERT_EQ(live.at("a@x.io").props.at("jobtitle"), "CTO");
  c.h->sim.ui_edit("contacts", live.at("b@x.io").id, {{"company", "Bee Corp"}});

  c.write_mapping(people("id", "company"));  // title now maps `company`, empty on a's contact
  auto run = c.run("run --once");
  EXPECT_EQ(run.code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("field title: jobtitle -> company since the last sync"));
  // a: the old base ('CTO') took the empty `company` for a cleared title.
  // As a first link, the row's value fills the empty property instead.
  EXPECT_EQ(title(*c.h, "a@x.io"), "CTO");
  live = c.h->live_by("contacts", "email");
  EXPECT_EQ(live.at("a@x.io").props["company"], "CTO");
  // b: both hold a value and never agreed: a conflict its rule decides
  // (newest: HubSpot's time is known, the row's is not), and recorded.
  EXPECT_EQ(title(*c.h, "b@x.io"), "Bee Corp");
  EXPECT_THAT(c.run("conflicts list").out, HasSubstr("field=title"));
  // Once: the next run forgets nothing.
  auto again = c.run("run --once");
  EXPECT_EQ(again.code, 0);
  EXPECT_THAT(again.out, ::testing::Not(HasSubstr("since the last sync")));
}

TEST(MappingEdits, AChangedKeyStopsTheRunBeforeItTouchesAnything) {
  HUBSYNC_REQUIRE_PG(server);
  Cli c = synced_cli(server);
  c.h->db.exec("UPDATE people SET title = 'Chief' WHERE email = 'a@x.io'");
  c.write_mapping(people("ext_no", "jobtitle"));  // same numbers, other rows: id 1 is ext_no 2
  ASSERT_EQ(c.run("migrate").code, 0);
  auto run = c.run("run --once");
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.out, HasSubstr("links were made for public.people (id) <-> contacts"));
  EXPECT_THAT(run.out, HasSubstr("now says public.people (ext_no) <-> contacts"));
  EXPECT_THAT(run.out, HasSubstr("nothing was synced"));
  EXPECT_EQ(c.h->live_by("contacts", "email").at("a@x.io").props.at("jobtitle"), "CTO");
  // Put back, the run goes on as before, with the edit made meanwhile.
  c.write_mapping(people("id", "jobtitle"));
  ASSERT_EQ(c.run("migrate").code, 0);
  EXPECT_EQ(c.run("run --once").code, 0);
  EXPECT_EQ(c.h->live_by("contacts", "email").at("a@x.io").props.at("jobtitle"), "Chief");
}

// `object: 0-1` is read as `contacts` (its email rules included). A state
// store whose links were made when it was read as written goes on: the
// same objects, whichever way the mapping spells them.
TEST(MappingEdits, AStandardObjectWrittenByItsIdKeepsLinksMadeUnderThatSpelling) {
  HUBSYNC_REQUIRE_PG(server);
  Cli c = synced_cli(server);
  {
    state::SqliteOptions so;
    so.path = (c.h->dir / "cli-state.db").string();
    auto store = state::SqliteStateStore::open(so);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->set_checkpoint("people", "fingerprint links", "public.people (id) <-> 0-1").ok());
  }
  c.write_mapping(people("id", "jobtitle", "0-1"));
  ASSERT_EQ(c.run("migrate").code, 0);
  c.h->db.exec("UPDATE people SET title = 'Chief', email = 'A@X.IO' WHERE email = 'a@x.io'");
  auto run = c.run("run --once");
  EXPECT_EQ(run.code, 0) << run.out;
  auto live = c.h->live_by("contacts", "email");
  EXPECT_EQ(live.size(), 2u);
  EXPECT_EQ(live.at("a@x.io").props.at("jobtitle"), "Chief");
  c.write_mapping(people("id", "jobtitle", "contacts"));
  EXPECT_EQ(c.run("run --once").code, 0);
}

// Renamed with an email change pending: `migrate` hands the change to the
// new name, and the rows find their contacts by the id they keep. Neither
// side gets a duplicate, and the newer Postgres email wins.
TEST(MappingEdits, ARenamedMappingWithAPendingEmailChangeMakesNoDuplicate) {
  HUBSYNC_REQUIRE_PG(server);
  const std::string sql = std::string(kPeopleSql) + ";ALTER TABLE people ADD COLUMN hubspot_id text";
  const std::string fields = "\npostgres: {table: public.people, key: id}\nhubspot: {object: contacts, match: email}\n"
                             "fields:\n  - {column: email, property: email}\n  - {column: title, property: jobtitle}\n"
                             "  - {column: hubspot_id, property: hs_object_id, direction: to_postgres}\n";
  Cli c = synced_cli(server, "name: people" + fields, sql);
  ASSERT_EQ(c.run("run --once").code, 0);  // the pull keeps each contact's id in its row
  ASSERT_EQ(c.h->db.scalar("SELECT count(hubspot_id) FROM people"), "2");
  c.h->db.exec("UPDATE people SET email = 'ann@x.io' WHERE email = 'a@x.io'");
  fs::remove(c.h->dir / "mappings" / "people.yaml");
  std::ofstream(c.h->dir / "mappings" / "contacts_sync.yaml") << "name: contacts_sync" + fields;
  auto migrate = c.run("migrate");
  EXPECT_THAT(migrate.out, HasSubstr("pending changes carried over people -> contacts_sync"));
  auto run = c.run("run --once");
  EXPECT_EQ(run.code, 0) << run.out;
  EXPECT_EQ(c.h->db.scalar("SELECT string_agg(email, ',' ORDER BY email) FROM people"), "ann@x.io,b@x.io");
  auto live = c.h->live_by("contacts", "email");
  EXPECT_EQ(live.size(), 2u);
  EXPECT_TRUE(live.count("ann@x.io"));
  EXPECT_EQ(c.h->db.scalar("SELECT count(*) FROM hubsync.changelog WHERE mapping = 'people'"), "0");
}

// Edits that change which rows or fields a direction syncs change no row:
// the push loads every row again and the pull sweeps every object again,
// so a row let in by a filter removed is pushed, and a field added brings
// what HubSpot holds. A run with nothing edited restarts nothing.
TEST(MappingEdits, AFilterRemovedOrAFieldAddedReachesRowsNoChangeWouldBring) {
  HUBSYNC_REQUIRE_PG(server);
  const std::string head = "name: people\npostgres: {table: public.people, key: id}\n"
                           "hubspot: {object: contacts, match: email}\n";
  const std::string email = "fields:\n  - {column: email, property: email}\n";
  Cli c = synced_cli(server, head + "filter: {postgres: \"title <> 'skip'\"}\n" + email, kPeopleSql,
                     "{association_pass_every_s: 86400, overlap_s: 0}");
  c.h->db.exec("INSERT INTO people (email, title) VALUES ('c@x.io', 'skip')");
  ASSERT_EQ(c.run("run --once").code, 0);
  EXPECT_EQ(c.h->live_by("contacts", "email").count("c@x.io"), 0u);
  const std::string a_id = c.h->live_by("contacts", "email").at("a@x.io").id;
  c.h->sim.ui_edit("contacts", a_id, {{"jobtitle", "Founder"}});
  ASSERT_EQ(c.run("run --once").code, 0);  // no field takes a's edit yet
  EXPECT_EQ(title(*c.h, "a@x.io"), "CTO");

  c.write_mapping(head + email + "  - {column: title, property: jobtitle, direction: to_postgres}\n");
  ASSERT_EQ(c.run("migrate").code, 0);
  auto run = c.run("run --once");
  EXPECT_EQ(run.code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("what it pushes changed since the last sync"));
  EXPECT_THAT(run.out, HasSubstr("what it pulls changed since the last sync"));
  EXPECT_EQ(c.h->live_by("contacts", "email").count("c@x.io"), 1u);
  // (A sweep re-reads the last minute's edits anyway, as search lags
  // writes: what the restart adds for older edits, the message shows.)
  EXPECT_EQ(title(*c.h, "a@x.io"), "Founder");
  auto again = c.run("run --once");
  EXPECT_THAT(again.out, ::testing::Not(HasSubstr("changed since the last sync")));
}

// A scope edit that leaves most rows out would archive their objects (the
// push loads every row again). Over max_deletes nothing is archived: run
// exits 4 and says so, deletes list and status show the hold, and
// `deletes allow` lets the next run make them; reverting the edit instead
// would have archived none.
TEST(MappingEdits, AScopeEditThatDropsMostRowsIsHeldUntilAllowed) {
  HUBSYNC_REQUIRE_PG(server);
  const std::string head = "name: people\npostgres: {table: public.people, key: id}\n"
                           "hubspot: {object: contacts, match: email}\nmax_deletes: 2\n";
  const std::string email = "fields:\n  - {column: email, property: email}\n";
  Cli c = synced_cli(server, head + email,
                     std::string(kPeopleSql) + ";INSERT INTO people (email, title) SELECT 'p' || g || '@x.io', 'T'"
                                               " FROM generate_series(1, 4) g");
  ASSERT_EQ(c.h->live_by("contacts", "email").size(), 6u);

  c.write_mapping(head + "filter: {postgres: \"title = 'CEO'\"}\n" + email);  // meant: title <> 'CEO'
  ASSERT_EQ(c.run("migrate").code, 0);
  EXPECT_THAT(c.run("plan").out, HasSubstr("5 deletion(s) would be HELD"));
  auto run = c.run("run --once");
  EXPECT_EQ(run.code, 4) << run.out;
  EXPECT_THAT(run.out, HasSubstr("archives HELD (over max_deletes) 5"));
  EXPECT_THAT(run.out, HasSubstr("5 deletion(s) HELD"));
  EXPECT_EQ(c.h->live_by("contacts", "email").size(), 6u);
  EXPECT_THAT(c.run("deletes list").out,
              HasSubstr("people  to_hubspot  held 5 HubSpot objects to archive (max_deletes 2: 2 an hour"));
  EXPECT_THAT(c.run("status --offline").out, HasSubstr("DELETIONS HELD: 5 HubSpot objects to archive"));
  EXPECT_THAT(c.run("status --offline --json").out, HasSubstr("\"held_deletes\":{\"count\":5,\"limit\":2,"));
  // Held again, not made, by the next run (the changes wait in the changelog).
  EXPECT_EQ(c.run("run --once").code, 4);
  EXPECT_EQ(c.h->live_by("contacts", "email").size(), 6u);

  auto allow = c.run("deletes allow --mapping people");
  EXPECT_EQ(allow.code, 0) << allow.out;
  EXPECT_THAT(allow.out, HasSubstr("people  to_hubspot  allowed 5 HubSpot objects to archive"));
  auto made = c.run("run --once");
  EXPECT_EQ(made.code, 0) << made.out;
  EXPECT_THAT(made.out, HasSubstr("archived 5"));
  EXPECT_EQ(c.h->live_by("contacts", "email").size(), 1u);
  EXPECT_THAT(c.run("deletes list").out, HasSubstr("no deletions held"));
  EXPECT_THAT(c.run("status --offline --json").out, HasSubstr("\"held_deletes\":null"));
}

}  // namespace
}  // namespace hubsync::test
