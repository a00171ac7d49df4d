// A row's key changes: an UPDATE of a key column in Postgres (an email
// that is the table's key, ids renumbered), a HubSpot edit of the value the
// key holds, a table reloaded under new keys. The row keeps its HubSpot
// object either way: nothing is archived, created or held, and later edits
// of either side still reach the other.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>

#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

std::string people_mapping(const std::string& table, const std::string& key, const std::string& direction) {
  return "name: " + table + "\npostgres: {table: public." + table + ", key: " + key + "}\n"
         "hubspot: {object: contacts, match: email}\ndirection: " + direction + "\n"
         "fields:\n  - {column: email, property: email}\n  - {column: name, property: firstname}\n";
}

// Every live contact's id by email.
std::map<std::string, std::string> ids_by_email(PushHarness& h) {
  std::map<std::string, std::string> out;
  for (const auto& [email, o] : h.live_by("contacts", "email")) out[email] = o.id;
  return out;
}

// A harness whose table people (key id of `key_type`) holds `n` rows,
// pushed to HubSpot (to_hubspot).
std::unique_ptr<PushHarness> pushed_people(const std::string& server, const std::string& key_type, int n) {
  auto h = quick_harness(server,
                         "CREATE TABLE people (id " + key_type + " PRIMARY KEY, email text NOT NULL, name text);"
                         "INSERT INTO people (id, email, name) SELECT g, 'p' || g || '@x.io', 'P'"
                         " FROM generate_series(1, " + std::to_string(n) + ") g",
                         {people_mapping("people", "id", "to_hubspot")});
  h->migrate();
  EXPECT_EQ(push_ok(*h, "people").created, n);
  return h;
}

// A harness whose table subs, keyed by email, holds `rows` (SQL VALUES),
// pushed to HubSpot by a two-way mapping; `logical`: capture by logical decoding.
std::unique_ptr<PushHarness> pushed_subs(const std::string& server, const std::string& rows, bool logical) {
  auto h = quick_harness(server, "CREATE TABLE subs (email text PRIMARY KEY, name text); INSERT INTO subs VALUES " + rows,
                         {people_mapping("subs", "email", "both")});
  h->migrate(logical);
  EXPECT_GT(push_ok(*h, "subs").created, 0);
  return h;
}

// What a pass after the one under test finds: nothing to do, nothing refused.
void expect_settled(PushHarness& h, const std::string& mapping) {
  auto again = push_ok(h, mapping);
  EXPECT_EQ(again.pushed() + again.archived + again.held, 0);
  EXPECT_TRUE(dead_letters(h).empty());
}

// With the capture trigger, and with capture by logical decoding (the
// relay writes the changelog, moved_to included, at each claim).
class KeyChangeCaptured : public ::testing::TestWithParam<bool> {};

TEST_P(KeyChangeCaptured, AnEmailThatIsTheKeyChangesOnEitherSideAndTheContactStaysTheSame) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed_subs(server, "('a@x.io', 'A'), ('b@x.io', 'B'), ('c@x.io', 'C')", GetParam());
  pull_ok(*h, "subs");
  const auto ids = ids_by_email(*h);
  const auto emails = [&] { return h->db.scalar("SELECT string_agg(email || ':' || name, ',' ORDER BY email) FROM subs"); };

  // In Postgres: the contact's email changes, nothing is archived or made.
  h->db.exec("UPDATE subs SET email = 'a2@x.io' WHERE email = 'a@x.io'");
  // A pull first (serve's order): the old key's row is gone, but its
  // deletion is the push's to decide; the new key's row is not the pull's.
  auto before = pull_ok(*h, "subs");
  EXPECT_EQ(before.updated + before.created + before.deleted + before.hubspot_updates, 0);
  auto moved = push_ok(*h, "subs");
  EXPECT_EQ(moved.archived, 0);
  EXPECT_EQ(moved.created, 0);
  EXPECT_EQ(moved.held, 0);
  EXPECT_EQ(moved.updated, 1);
  auto now = ids_by_email(*h);
  EXPECT_EQ(now.size(), 3u);
  EXPECT_EQ(now["a2@x.io"], ids.at("a@x.io")) << "the same contact, its email changed";
  EXPECT_EQ(h->dump("contacts").size(), 3u) << "no contact archived";
  EXPECT_FALSE(h->store->find_link_by_pg_key("subs", model::RecordKey{{"a@x.io"}}.encoded())->has_value());
  auto link = h->store->find_link_by_pg_key("subs", model::RecordKey{{"a2@x.io"}}.encoded());
  ASSERT_TRUE(link.ok() && link->has_value());
  EXPECT_EQ((*link)->hubspot_id, ids.at("a@x.io"));
  // The pull agrees: nothing to write either way.
  auto agreed = pull_ok(*h, "subs");
  EXPECT_EQ(agreed.updated + agreed.created + agreed.deleted + agreed.hubspot_updates, 0);

  // In HubSpot: the row's key follows the contact's new email, and the
  // contact's later edits still reach it.
  h->sim.ui_edit("contacts", ids.at("b@x.io"), {{"email", "b2@x.io"}});
  pull_ok(*h, "subs");
  EXPECT_EQ(emails(), "a2@x.io:A,b2@x.io:B,c@x.io:C");
  h->sim.ui_edit("contacts", ids.at("b@x.io"), {{"firstname", "Bee"}});
  pull_ok(*h, "subs");
  EXPECT_EQ(emails(), "a2@x.io:A,b2@x.io:Bee,c@x.io:C");
  // And the row's later edits reach the contact.
  h->db.exec("UPDATE subs SET name = 'Beatrice' WHERE email = 'b2@x.io'");
  EXPECT_EQ(push_ok(*h, "subs").updated, 1);
  now = ids_by_email(*h);
  EXPECT_EQ(now.size(), 3u);
  EXPECT_EQ(now["b2@x.io"], ids.at("b@x.io"));
  EXPECT_EQ(h->live_by("contacts", "email").at("b2@x.io").props.at("firstname"), "Beatrice");
  expect_settled(*h, "subs");
}

// A pull that changed a row's key and stopped before its state commit
// (killed): the link is still on the old key. The pull's write recorded the
// key change in the changelog with the write, so the push moves the link.
TEST(KeyChange, APullStoppedBeforeItsStateCommitLeavesTheKeyChangeToThePush) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed_subs(server, "('a@x.io', 'A'), ('b@x.io', 'B')", false);
  const auto ids = ids_by_email(*h);
  h->sim.ui_edit("contacts", ids.at("b@x.io"), {{"email", "b2@x.io"}});
  pull_ok(*h, "subs");
  ASSERT_EQ(h->db.scalar("SELECT string_agg(email, ',' ORDER BY email) FROM subs"), "a@x.io,b2@x.io");
  EXPECT_EQ(h->db.scalar("SELECT pk::text || ' ' || op || ' ' || moved_to::text FROM hubsync.changelog"),
            R"({"email": "b@x.io"} delete {"email": "b2@x.io"})");
  // The store as the stopped pull left it.
  const std::string old_key = model::RecordKey{{"b@x.io"}}.encoded(), new_key = model::RecordKey{{"b2@x.io"}}.encoded();
  ASSERT_TRUE(h->store->move_link("subs", new_key, old_key).value());

  auto st = push_ok(*h, "subs");
  EXPECT_EQ(st.archived + st.created + st.held, 0);
  auto link = h->store->find_link_by_pg_key("subs", new_key);
  ASSERT_TRUE(link.ok() && link->has_value());
  EXPECT_EQ((*link)->hubspot_id, ids.at("b@x.io"));
  h->sim.ui_edit("contacts", ids.at("b@x.io"), {{"firstname", "Bee"}});
  pull_ok(*h, "subs");
  EXPECT_EQ(h->db.scalar("SELECT name FROM subs WHERE email = 'b2@x.io'"), "Bee");
  EXPECT_EQ(ids_by_email(*h).size(), 2u);
  expect_settled(*h, "subs");
}

INSTANTIATE_TEST_SUITE_P(Capture, KeyChangeCaptured, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Logical" : "Trigger"; });

// Ids renumbered in one statement: as many key changes as rows. None is a
// deletion, so the default max_deletes (5 of 11) holds nothing, and the
// one row deleted beside them is archived.
TEST(KeyChange, RenumberingEveryIdMovesEveryLinkAndArchivesAndHoldsNothing) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed_people(server, "bigint", 11);
  const auto ids = ids_by_email(*h);
  // The email changes with the id in three rows: no match value ties them.
  h->db.exec("BEGIN; DELETE FROM people WHERE id = 11;"
             "UPDATE people SET id = id + 1000, email = CASE WHEN id <= 3 THEN 'n' || id || '@x.io' ELSE email END;"
             "COMMIT");
  // Small batches: the deletion's archive comes while most key changes
  // still wait in the changelog, and the guard counts what is pending.
  pipeline::PushOptions small;
  small.wave = 4;
  auto pushed = h->push("people", small);
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  const auto& st = *pushed;
  EXPECT_EQ(st.archived, 1);
  EXPECT_EQ(st.held, 0);
  EXPECT_EQ(st.created, 0);
  EXPECT_EQ(st.updated, 3);
  const auto now = ids_by_email(*h);
  ASSERT_EQ(now.size(), 10u);
  EXPECT_FALSE(now.count("p11@x.io"));
  for (int i = 1; i <= 10; ++i) {
    const std::string was = "p" + std::to_string(i) + "@x.io";
    const std::string is = i <= 3 ? "n" + std::to_string(i) + "@x.io" : was;
    EXPECT_EQ(now.count(is) ? now.at(is) : "", ids.at(was)) << was;
    auto link = h->store->find_link_by_pg_key("people", model::RecordKey{{std::to_string(1000 + i)}}.encoded());
    ASSERT_TRUE(link.ok() && link->has_value()) << i;
    EXPECT_EQ((*link)->hubspot_id, ids.at(was));
  }
  EXPECT_EQ(h->dump("contacts").size(), 11u) << "one archived, none made";
  expect_settled(*h, "people");
}

// A key of each type changes in every row at once (two of them composite),
// with the email: every row keeps its object, found again under its new key.
struct KeyShape {
  const char* name;
  const char* columns;  // the key's column definitions
  const char* key;      // the mapping's key
  const char* values;   // the key's values for row g
  const char* change;   // the UPDATE's SET
  const char* pg_key;   // the new key's text as hubsync writes it (parts joined by '|')
};

void PrintTo(const KeyShape& k, std::ostream* os) { *os << k.name; }

class KeyChangeOfType : public ::testing::TestWithParam<KeyShape> {};

TEST_P(KeyChangeOfType, EveryRowKeepsItsObjectUnderItsNewKey) {
  HUBSYNC_REQUIRE_PG(server);
  const KeyShape& k = GetParam();
  auto h = quick_harness(server,
                         std::string("CREATE TABLE people (") + k.columns + ", email text NOT NULL, name text, "
                         "PRIMARY KEY (" + k.key + "));"
                         "INSERT INTO people SELECT " + k.values + ", 'p' || g || '@x.io', 'P' FROM generate_series(1, 6) g",
                         {"name: people\npostgres: {table: public.people, key: [" + std::string(k.key) + "]}\n"
                          "hubspot: {object: contacts, match: email}\ndirection: to_hubspot\n"
                          "fields:\n  - {column: email, property: email}\n  - {column: name, property: firstname}\n"});
  h->migrate();
  EXPECT_EQ(push_ok(*h, "people").created, 6);
  const auto ids = ids_by_email(*h);
  // The email changes too: only the key change ties a row to its object.
  h->db.exec(std::string("UPDATE people SET ") + k.change + ", email = 'n' || email");
  auto st = push_ok(*h, "people");
  EXPECT_EQ(st.archived + st.created + st.held + st.dead_lettered, 0);
  EXPECT_EQ(st.updated, 6);
  std::map<std::string, std::string> renamed;
  for (const auto& [email, id] : ids) renamed["n" + email] = id;
  EXPECT_EQ(ids_by_email(*h), renamed);
  EXPECT_EQ(h->dump("contacts").size(), 6u);
  // Each row's link is under its new key, naming its own contact.
  std::istringstream rows(h->db.scalar(std::string("SELECT string_agg(email || ' ' || ") + k.pg_key +
                                       ", E'\\n' ORDER BY email) FROM people"));
  for (std::string line; std::getline(rows, line);) {
    const auto space = line.find(' ');
    model::RecordKey key;
    std::istringstream parts(line.substr(space + 1));
    for (std::string part; std::getline(parts, part, '|');) key.parts.push_back(part);
    auto link = h->store->find_link_by_pg_key("people", key.encoded());
    ASSERT_TRUE(link.ok() && link->has_value()) << line;
    EXPECT_EQ((*link)->hubspot_id, renamed.at(line.substr(0, space))) << line;
  }
  expect_settled(*h, "people");
}

INSTANTIATE_TEST_SUITE_P(
    Keys, KeyChangeOfType,
    ::testing::Values(
        KeyShape{"Text", "id text", "id", "'k' || g", "id = id || '-new'", "id"},
        KeyShape{"Uuid", "id uuid", "id", "gen_random_uuid()", "id = gen_random_uuid()", "id::text"},
        KeyShape{"Numeric", "id numeric", "id", "g + 0.5", "id = id * 10", "trim_scale(id)::text"},
        KeyShape{"Composite", "tenant text, id int", "tenant, id", "'t1', g", "tenant = 't2'", "tenant || '|' || id"},
        KeyShape{"CompositeBoth", "tenant text, id int", "tenant, id", "'t1', g", "tenant = 't' || id, id = id + 100",
                 "tenant || '|' || id"}),
    [](const ::testing::TestParamInfo<KeyShape>& p) { return std::string(p.param.name); });

// Emptied and loaded again with new ids (a serial restarted, or ids made
// by another system): each row takes over the object of its email.
TEST(KeyChange, AReloadUnderNewKeysRelinksEveryObjectByItsEmail) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed_people(server, "bigint", 10);
  const auto ids = ids_by_email(*h);
  h->db.exec("BEGIN; TRUNCATE people;"
             "INSERT INTO people SELECT g + 100, 'p' || g || '@x.io', 'P' FROM generate_series(1, 10) g; COMMIT");
  auto reload = push_ok(*h, "people");
  EXPECT_EQ(reload.archived, 0);
  EXPECT_EQ(reload.created, 0);
  EXPECT_EQ(reload.held, 0);
  EXPECT_EQ(reload.relinked, 10);
  EXPECT_EQ(ids_by_email(*h), ids);
  expect_settled(*h, "people");
}

// The mapping's key changed (to email), an edit was captured under it, and
// the key changed back (to id) before the push ran: the change names no row
// by the key columns the mapping has now. The push does not fail on it for
// good; it sets it aside and asks a resync, whose load sends the edit.
TEST(KeyChange, AChangeCapturedUnderOtherKeyColumnsIsSentByAResyncNotAStuckPush) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = pushed_people(server, "bigint", 3);
  // What the trigger of a mapping keyed by email recorded; the row itself
  // is written as hubsync, so this is the edit's only trace.
  h->db.exec("BEGIN; SET LOCAL hubsync.origin = 'hubsync'; UPDATE people SET name = 'Poison' WHERE id = 2;"
             "INSERT INTO hubsync.changelog (mapping, table_schema, table_name, pk, op, changed_columns)"
             " VALUES ('people', 'public', 'people', '{\"email\": \"p2@x.io\"}', 'update', '{name}'); COMMIT");
  h->db.exec("UPDATE people SET name = 'Later' WHERE id = 3");
  auto first = h->push("people");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->updated, 1) << "a later edit of another row still goes out";
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog"), "0");
  EXPECT_EQ(h->db.scalar("SELECT outcome FROM hubsync.changelog_archive WHERE pk ? 'email'"), "ignored");
  auto second = push_ok(*h, "people");
  EXPECT_EQ(second.updated, 1) << "the resync's load sends the edit";
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.at("p2@x.io").props["firstname"], "Poison");
  EXPECT_EQ(live.at("p3@x.io").props["firstname"], "Later");
  EXPECT_EQ(push_ok(*h, "people").updated, 0);
}

}  // namespace
}  // namespace hubsync::test
