// Typed values made in HubSpot, pulled into the Postgres types users map
// them to (date, timestamptz and timestamp across DST, numeric with a
// scale, integer, boolean NOT NULL DEFAULT false, text[], jsonb), with the
// database's zone not UTC; then neither side moves again (no value the
// column rounds or reformats reads as an edit and flaps back). And match
// values as users' tables hold them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kFactsSql =
    "CREATE TABLE facts (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, born date, seen_at timestamptz,"
    " local_at timestamp, score numeric(12,4), qty integer, active boolean NOT NULL DEFAULT false, tags text[],"
    " meta jsonb)";

constexpr const char* kFacts = R"(name: facts
postgres: {table: public.facts, key: id}
hubspot: {object: contacts, match: email}
fields:
  - {column: email, property: email}
  - {column: born, property: born, type: date}
  - {column: seen_at, property: seen_at, type: datetime}
  - {column: local_at, property: local_at, type: datetime}
  - {column: score, property: score, type: decimal}
  - {column: qty, property: qty, type: integer}
  - {column: active, property: active, type: boolean}
  - {column: tags, property: tags, type: multi_select}
  - {column: meta, property: meta, type: json}
)";

void make_properties(PushHarness& h) {
  for (const char* name : {"born", "seen_at", "local_at"})
    h.create_property("contacts", name, std::string(name) == "born" ? "date" : "datetime", "date");
  h.create_property("contacts", "score", "number", "number");
  h.create_property("contacts", "qty", "number", "number");
  h.create_property("contacts", "active", "bool", "booleancheckbox", {{"Yes", "true"}, {"No", "false"}});
  h.create_property("contacts", "tags", "enumeration", "checkbox",
                    {{"VIP", "vip"}, {"Beta", "beta"}, {"Partner", "partner"}});
  h.create_property("contacts", "meta", "string", "textarea");
}

std::string row(PushHarness& h, const std::string& email) {
  return h.db.scalar(
      "SELECT concat_ws('|', born, to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), local_at, score,"
      " qty, active, array_to_string(tags, ';'), meta::text) FROM facts WHERE email = '" + email + "'");
}

TEST(PullValues, TypedValuesMadeInHubSpotLandInTheirColumnsAndStayPut) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kFactsSql, {kFacts});
  h->db.exec("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), "
             "'America/New_York'); END $$");
  make_properties(*h);
  h->migrate();
  h->sim.ui_create("contacts", {{"email", "a@x.io"},
                                {"born", "2024-03-10"},
                                {"seen_at", "2024-03-10T07:30:00.125Z"},   // 03:30 EDT, the morning DST began
                                {"local_at", "2024-11-03T06:30:00.000Z"},  // 01:30, the hour that repeats
                                {"score", "1234.56785"},
                                {"qty", "42"},
                                {"active", "true"},
                                {"tags", "vip;beta"},
                                {"meta", R"({"plan": "pro", "seats": 3})"}});
  h->sim.ui_create("contacts", {{"email", "b@x.io"}});
  h->sim.ui_create("contacts", {{"email", "c@x.io"}, {"active", "false"}, {"score", "0.1"}, {"qty", "7"}});
  auto pulled = pull_ok(*h, "facts");
  EXPECT_EQ(pulled.created, 3);
  EXPECT_EQ(pulled.dead_lettered, 0);
  for (const auto& dl : dead_letters(*h)) ADD_FAILURE() << dl.pg_key << ": " << dl.message;
  EXPECT_EQ(row(*h, "a@x.io"),
            "2024-03-10|2024-03-10 07:30:00.125|2024-11-03 06:30:00|1234.5679|42|t|vip;beta|"
            "{\"plan\": \"pro\", \"seats\": 3}");
  EXPECT_EQ(row(*h, "b@x.io"), "f");
  EXPECT_EQ(row(*h, "c@x.io"), "0.1000|7|f");

  // Nothing flaps: the push sends nothing back, the next pull writes nothing.
  const auto pushed = push_ok(*h, "facts");
  EXPECT_EQ(pushed.created + pushed.updated, 0);
  EXPECT_EQ(pushed.dead_lettered, 0);
  const auto again = pull_ok(*h, "facts");
  EXPECT_EQ(again.updated + again.created, 0);
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.at("a@x.io").props["score"], "1234.56785") << "HubSpot keeps its own precision";

  // Later: a precise edit in HubSpot is rounded by the column; an edit of
  // another column in Postgres then sends that column only.
  h->sim.ui_edit("contacts", live.at("a@x.io").id, {{"score", "2.718281828"}});
  EXPECT_EQ(pull_ok(*h, "facts").updated, 1);
  EXPECT_EQ(h->db.scalar("SELECT score FROM facts WHERE email = 'a@x.io'"), "2.7183");
  h->db.exec("UPDATE facts SET qty = 43 WHERE email = 'a@x.io'");
  EXPECT_EQ(push_ok(*h, "facts").updated, 1);
  live = h->live_by("contacts", "email");
  EXPECT_EQ(live.at("a@x.io").props["qty"], "43");
  EXPECT_EQ(live.at("a@x.io").props["score"], "2.718281828") << "the rounding is no Postgres edit";
  EXPECT_EQ(pull_ok(*h, "facts").updated, 0);
  EXPECT_EQ(h->db.scalar("SELECT score FROM facts WHERE email = 'a@x.io'"), "2.7183");
}

// The other way: values Postgres holds in more detail than HubSpot keeps
// (microseconds, trailing zeros of a scale) are pushed, and the pull that
// reads them back finds nothing to write.
TEST(PullValues, TypedValuesPushedFromPostgresComeBackAsNoEdit) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kFactsSql, {kFacts});
  make_properties(*h);
  h->db.exec("INSERT INTO facts (email, born, seen_at, local_at, score, qty, active, tags, meta) VALUES "
             "('a@x.io', '2024-03-10', '2024-03-10 02:30:00.123456-05', '2024-11-03 01:30:00.5', 1.5000, 0, true,"
             " '{beta,vip}', '{\"b\": [1, 2], \"a\": null}'), "
             "('b@x.io', NULL, NULL, NULL, NULL, NULL, false, '{}', NULL)");
  h->migrate();
  const auto pushed = push_ok(*h, "facts");
  EXPECT_EQ(pushed.created, 2);
  EXPECT_EQ(pushed.dead_lettered, 0);
  for (const auto& dl : dead_letters(*h)) ADD_FAILURE() << dl.pg_key << ": " << dl.message;
  const std::string before = row(*h, "a@x.io") + "/" + row(*h, "b@x.io");
  const auto pulled = pull_ok(*h, "facts");
  EXPECT_EQ(pulled.updated + pulled.created, 0);
  EXPECT_EQ(pulled.dead_lettered, 0);
  EXPECT_EQ(row(*h, "a@x.io") + "/" + row(*h, "b@x.io"), before);
  EXPECT_EQ(push_ok(*h, "facts").updated, 0);
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.at("a@x.io").props["seen_at"].substr(0, 23), "2024-03-10T07:30:00.123");
  EXPECT_EQ(live.at("a@x.io").props["qty"], "0");
}

// A double precision column goes to HubSpot with every digit it holds (read
// through numeric it kept 15: 0.30000000000000004 became 0.3), and a number
// HubSpot holds in scientific notation lands in numeric and integer columns
// (it was dead-lettered as "not a decimal").
TEST(PullValues, FloatsKeepEveryDigitAndScientificNumbersFromHubSpotLand) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                         "CREATE TABLE nums (id bigserial PRIMARY KEY, email text UNIQUE, f double precision,"
                         " n numeric(12,4), i integer)",
                         {"name: nums\npostgres: {table: public.nums, key: id}\nhubspot: {object: contacts, match: email}\n"
                          "fields:\n  - {column: email, property: email}\n  - {column: f, property: f, type: decimal}\n"
                          "  - {column: n, property: n, type: decimal}\n  - {column: i, property: i, type: integer}\n"});
  for (const char* p : {"f", "n", "i"}) h->create_property("contacts", p, "number", "number");
  h->db.exec("INSERT INTO nums (email, f) VALUES ('a@x.io', 0.1::float8 + 0.2::float8), ('b@x.io', 2.718281828459045),"
             " ('c@x.io', 1.5e20), ('d@x.io', -2.5e-7)");
  h->migrate();
  EXPECT_EQ(push_ok(*h, "nums").created, 4);
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.at("a@x.io").props["f"], "0.30000000000000004");
  EXPECT_EQ(live.at("b@x.io").props["f"], "2.718281828459045");
  EXPECT_EQ(live.at("c@x.io").props["f"], "150000000000000000000");
  EXPECT_EQ(live.at("d@x.io").props["f"], "-0.00000025");
  const auto first = pull_ok(*h, "nums");
  EXPECT_EQ(first.updated, 0) << "what was pushed comes back as no edit";

  h->sim.ui_edit("contacts", live.at("a@x.io").id, {{"n", "1.5e3"}, {"i", "1E2"}, {"f", "1e-3"}});
  const auto pulled = pull_ok(*h, "nums");
  EXPECT_EQ(pulled.updated, 1);
  EXPECT_EQ(pulled.dead_lettered, 0);
  for (const auto& dl : dead_letters(*h)) ADD_FAILURE() << dl.pg_key << ": " << dl.message;
  EXPECT_EQ(h->db.scalar("SELECT concat_ws('|', f, n, i) FROM nums WHERE email = 'a@x.io'"), "0.001|1500.0000|100");
  EXPECT_EQ(push_ok(*h, "nums").updated, 0) << "the landed values compare equal to HubSpot's";
}

// A two-way mapping of people (email, name, city) to contacts, by email.
std::unique_ptr<PushHarness> people_harness(const std::string& server_dsn) {
  return quick_harness(server_dsn, "CREATE TABLE people (id bigserial PRIMARY KEY, email text UNIQUE, name text, city text)",
                       {"name: people\npostgres: {table: public.people, key: id}\n"
                        "hubspot: {object: contacts, match: email}\nfields:\n  - {column: email, property: email}\n"
                        "  - {column: name, property: firstname}\n  - {column: city, property: city}\n"});
}

// Match values as users' tables hold them, on a first two-way sync with
// contacts HubSpot already had: a case variant links to its contact (and
// takes the value Postgres lacked) instead of making a second one, a
// unicode email is its own contact, and a row with no email at all is
// dead-lettered saying how to leave such rows out.
TEST(PullValues, CaseVariantsLinkUnicodeSyncsAndRowsWithoutAnEmailSayHowToLeaveThemOut) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = people_harness(server);
  h->db.exec("INSERT INTO people (email, name) VALUES ('Ann@X.io', 'Ann'), ('', 'Empty'), (NULL, 'Nobody'),"
             " ('zoë@x.io', 'Zoë')");
  const auto ann = h->sim.ui_create("contacts", {{"email", "ann@x.io"}, {"city", "Paris"}});
  h->migrate();
  const auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.created, 0);
  EXPECT_EQ(pulled.updated, 1);
  const auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.created, 1);
  EXPECT_EQ(pushed.dead_lettered, 2);
  EXPECT_EQ(h->db.scalar("SELECT string_agg(coalesce(email, '-') || '|' || name || '|' || coalesce(city, ''), ', '"
                         " ORDER BY id) FROM people"),
            "Ann@X.io|Ann|Paris, |Empty|, -|Nobody|, zoë@x.io|Zoë|");
  const auto live = h->live_by("contacts", "email");
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live.at("ann@x.io").id, ann);
  EXPECT_EQ(live.at("ann@x.io").props.at("firstname"), "Ann");
  EXPECT_EQ(live.at("zoë@x.io").props.at("firstname"), "Zoë");
  const auto letters = dead_letters(*h);
  ASSERT_EQ(letters.size(), 2u);
  for (const auto& dl : letters)
    EXPECT_EQ(dl.message, "match property email is empty: a row needs one to be matched with a HubSpot object; "
                          "leave such rows out of the sync with filter.postgres (\"email IS NOT NULL AND email <> "
                          "''\")");
  EXPECT_EQ(pull_ok(*h, "people").updated, 0);
  EXPECT_EQ(push_ok(*h, "people").updated, 0);
}

// Emails typed with whitespace around them (a form's stray space, a CSV's
// "\r\n"): HubSpot holds each without it, so the pull links the contacts it
// already had to those rows instead of adding rows beside them, the push
// sends the emails trimmed (HubSpot refuses the spaces), and neither side
// moves again while Postgres keeps its text.
TEST(PullValues, EmailsWithSpacesAroundThemLinkAndSyncWithoutADuplicate) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = people_harness(server);
  h->db.exec("INSERT INTO people (email, name) VALUES (' bob@x.io ', 'Bob'), (E'carl@x.io\r\n', 'Carl'),"
             " (E'\t Dee@X.io', 'Dee'), ('eve@x.io  ', 'Eve')");
  const auto bob = h->sim.ui_create("contacts", {{"email", "bob@x.io"}, {"city", "Paris"}});
  const auto dee = h->sim.ui_create("contacts", {{"email", "dee@x.io"}, {"city", "Rome"}});
  h->migrate();
  const auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.created, 0) << "no row beside the ones Postgres has";
  EXPECT_EQ(pulled.updated, 2);
  const auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.created, 2);
  EXPECT_EQ(pushed.dead_lettered, 0);
  EXPECT_TRUE(dead_letters(*h).empty());
  EXPECT_EQ(h->db.scalar("SELECT string_agg(replace(replace(email, E'\\r', '\\r'), E'\\n', '\\n') || '|' || name ||"
                         " '|' || coalesce(city, ''), ', ' ORDER BY id) FROM people"),
            " bob@x.io |Bob|Paris, carl@x.io\\r\\n|Carl|, \t Dee@X.io|Dee|Rome, eve@x.io  |Eve|")
      << "Postgres keeps its text";
  auto live = h->live_by("contacts", "email");
  ASSERT_EQ(live.size(), 4u);
  EXPECT_EQ(live.at("bob@x.io").id, bob);
  EXPECT_EQ(live.at("bob@x.io").props.at("firstname"), "Bob");
  EXPECT_EQ(live.at("dee@x.io").id, dee);
  EXPECT_EQ(live.at("carl@x.io").props.at("firstname"), "Carl");
  EXPECT_EQ(live.at("eve@x.io").props.at("firstname"), "Eve");
  EXPECT_EQ(pull_ok(*h, "people").updated, 0);
  EXPECT_EQ(push_ok(*h, "people").updated, 0) << "the spaces are no edit";
  h->sim.ui_edit("contacts", bob, {{"email", "robert@x.io"}});
  EXPECT_EQ(pull_ok(*h, "people").updated, 1);
  EXPECT_EQ(h->db.scalar("SELECT email FROM people WHERE name = 'Bob'"), "robert@x.io");
  EXPECT_EQ(push_ok(*h, "people").updated, 0);
}

}  // namespace
}  // namespace hubsync::test
