// Pull (HubSpot -> Postgres) and the two-way reconcile, end to end against
// real PostgreSQL and the simulator over HTTP (issue 10's proofs).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "engine/ops/logging.h"
#include "engine/ratelimit/fake_clock.h"
#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kPeopleSql =
    "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text,"
    " last_name text, city text)";

constexpr const char* kFourPeople =
    "INSERT INTO people (email, first_name) SELECT 'p' || g || '@x.io', 'P' FROM generate_series(1, 4) g";

std::string people(const std::string& direction = "both", const std::string& extra = "") {
  return "name: people\npostgres: {table: public.people, key: id}\n"
         "hubspot: {object: contacts, match: email}\ndirection: " + direction + "\n" + extra +
         "fields:\n  - {column: email, property: email}\n  - {column: first_name, property: firstname}\n"
         "  - {column: last_name, property: lastname}\n  - {column: city, property: city}\n";
}

// Every row as "email|first|last|city", ordered by email.
std::string table(PushHarness& h) {
  return h.db.scalar(
      "SELECT coalesce(string_agg(email || '|' || coalesce(first_name, '') || '|' ||"
      " coalesce(last_name, '') || '|' || coalesce(city, ''), ',' ORDER BY lower(email)), '') FROM people");
}

// Every live contact the same way.
std::string contacts(PushHarness& h) {
  std::string out;
  for (auto& [email, o] : h.live_by("contacts", "email"))
    out += std::string(out.empty() ? "" : ",") + email + "|" + o.props["firstname"] + "|" +
           o.props["lastname"] + "|" + o.props["city"];
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A harness whose `people` rows (`insert`: an INSERT) are pushed and pulled
// once: both sides linked and in agreement.
std::unique_ptr<PushHarness> synced_people(const std::string& server, const std::string& sql,
                                           const std::string& mapping, const std::string& insert) {
  auto h = quick_harness(server, sql, {mapping});
  h->db.exec(insert);
  h->migrate();
  push_ok(*h, "people");
  pull_ok(*h, "people");
  return h;
}

std::int64_t writes(PushHarness& h) {
  std::int64_t n = 0;
  for (const auto& [route, statuses] : h.sim.counters().requests) {
    const bool write = route.find("batch/update") != std::string::npos ||
                       route.find("batch/upsert") != std::string::npos ||
                       route.find("batch/create") != std::string::npos ||
                       route.find("batch/archive") != std::string::npos;
    if (write)
      for (const auto& [status, c] : statuses) n += c;
  }
  return n;
}

TEST(Pull, FiftyContactsEditedInTheUiReachPostgresWithOneSearchAndNoHubSpotWrite) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql, {people()});
  h->db.exec("INSERT INTO people (email, first_name, last_name, city) SELECT 'p' || g || '@x.io',"
             " 'F' || g, 'L' || g, 'C' || g FROM generate_series(1, 120) g");
  h->migrate();
  push_ok(*h, "people");
  pull_ok(*h, "people");  // the first pull links; nothing to write
  auto live = h->live_by("contacts", "email");
  for (int i = 1; i <= 50; ++i)
    h->sim.ui_edit("contacts", live.at("p" + std::to_string(i) + "@x.io").id,
                   {{"city", "UI" + std::to_string(i)}, {"lastname", ""}});
  h->sim.reset_counters();
  auto stats = pull_ok(*h, "people");
  EXPECT_EQ(stats.updated, 50);
  EXPECT_EQ(stats.conflicts, 0);
  EXPECT_EQ(h->calls("/search"), 1);  // ceil(50 / 200)
  EXPECT_EQ(writes(*h), 0);
  EXPECT_EQ(table(*h), contacts(*h));
  EXPECT_EQ(h->db.scalar("SELECT city || '/' || coalesce(last_name, 'NULL') FROM people WHERE email = 'p7@x.io'"),
            "UI7/NULL");
  // Pulled writes are hubsync's own: nothing captured, nothing to push.
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog"), "0");
  EXPECT_EQ(push_ok(*h, "people").pushed(), 0);
}

TEST(Pull, TheFirstRunLinksRowsBothSidesHaveInsertsTheRestAndDuplicatesNothing) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql, {people()});
  h->db.exec("INSERT INTO people (email, first_name, city) VALUES ('both@x.io', 'Pg', NULL),"
             " ('Same@X.io', 'Same', 'Oslo'), ('pgonly@x.io', 'Only', 'Rome')");
  h->sim.ui_create("contacts", {{"email", "both@x.io"}, {"firstname", "Hs"}, {"city", "Bergen"}});
  h->sim.ui_create("contacts", {{"email", "same@x.io"}, {"firstname", "Same"}, {"city", "Oslo"}});
  h->sim.ui_create("contacts", {{"email", "hsonly@x.io"}, {"firstname", "New"}, {"lastname", "Row"}});
  h->migrate();
  h->sim.reset_counters();
  auto pulled = pull_ok(*h, "people");
  EXPECT_EQ(pulled.created, 1);   // hsonly
  EXPECT_EQ(pulled.linked, 2);    // both, same (emails compared as HubSpot does)
  EXPECT_EQ(pulled.conflicts, 1); // both@: Pg vs Hs, decided and recorded
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "4");
  EXPECT_EQ(h->db.scalar("SELECT first_name || '/' || last_name FROM people WHERE email = 'hsonly@x.io'"), "New/Row");
  // A value present on one side only fills the other; no conflict.
  EXPECT_EQ(h->db.scalar("SELECT city FROM people WHERE email = 'both@x.io'"), "Bergen");
  auto conflicts = h->store->list_conflicts("people", 10);
  ASSERT_TRUE(conflicts.ok());
  ASSERT_EQ(conflicts->size(), 1u);
  EXPECT_EQ(conflicts->front().field, "first_name");
  EXPECT_EQ(conflicts->front().rule, "newest");
  push_ok(*h, "people");
  EXPECT_EQ(h->live_by("contacts", "email").size(), 4u);  // pgonly created, nothing duplicated
  // Both sides agree (HubSpot keeps emails lower-cased; Postgres keeps its own).
  EXPECT_EQ(lower(table(*h)), lower(contacts(*h)));
  // Equal rows cost no write on either side, the second time too.
  h->sim.reset_counters();
  auto again = pull_ok(*h, "people");
  EXPECT_EQ(again.updated + again.created + again.conflicts, 0);
  EXPECT_EQ(writes(*h), 0);
}

TEST(Pull, EchoesDieAtTheReconcileStep) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced_people(server, kPeopleSql, people(),
                         "INSERT INTO people (email, first_name) VALUES ('a@x.io', 'A'), ('b@x.io', 'B')");
  // A Postgres edit, pushed: the next pull writes nothing, captures nothing.
  h->db.exec("UPDATE people SET city = 'Pg' WHERE email = 'a@x.io'");
  EXPECT_EQ(push_ok(*h, "people").updated, 1);
  auto back = pull_ok(*h, "people");
  EXPECT_EQ(back.updated + back.created, 0);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog"), "0");
  // A HubSpot edit, pulled: the next push writes nothing to HubSpot.
  h->sim.ui_edit("contacts", h->live_by("contacts", "email").at("b@x.io").id, {{"city", "Hs"}});
  EXPECT_EQ(pull_ok(*h, "people").updated, 1);
  h->sim.reset_counters();
  EXPECT_EQ(push_ok(*h, "people").pushed(), 0);
  // A third round is a no-op on both sides.
  EXPECT_EQ(pull_ok(*h, "people").updated, 0);
  EXPECT_EQ(push_ok(*h, "people").pushed(), 0);
  EXPECT_EQ(writes(*h), 0);
  EXPECT_EQ(table(*h), contacts(*h));
}

TEST(Pull, ArchiveMergeAndRestoreInHubSpotFollowTheDeleteRule) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced_people(server, kPeopleSql, people(), kFourPeople);
  auto live = h->live_by("contacts", "email");
  h->sim.ui_delete("contacts", live.at("p1@x.io").id);
  const std::string survivor = h->sim.ui_merge("contacts", live.at("p2@x.io").id, live.at("p3@x.io").id);
  auto stats = pull_ok(*h, "people");
  EXPECT_EQ(stats.deleted, 2);  // p1 archived; p3's object merged into p2's
  EXPECT_EQ(h->db.scalar("SELECT string_agg(email, ',' ORDER BY email) FROM people"), "p2@x.io,p4@x.io");
  EXPECT_EQ((*h->store->find_link_by_pg_key("people", h->db.scalar("SELECT id FROM people WHERE email = 'p2@x.io'")))->hubspot_id,
            survivor);
  // Restored in HubSpot: pulled again as a row.
  h->sim.ui_restore("contacts", live.at("p1@x.io").id);
  auto restored = pull_ok(*h, "people");
  EXPECT_EQ(restored.created, 1);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people WHERE email = 'p1@x.io'"), "1");
}

// Two merges HubSpot made before one pull: p2 into p1, then that contact
// into p3. The survivor keeps p3's values (a merge's primary wins) and lists
// the ids of the first merge first; p3's row stays, the others lost their
// objects. Keeping p1's row would write p3's email over it and delete p3's.
TEST(Pull, AChainOfMergesKeepsTheRowWhoseEmailTheSurvivorHolds) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced_people(server, kPeopleSql, people(), kFourPeople);
  auto live = h->live_by("contacts", "email");
  const std::string p3_row = h->db.scalar("SELECT id FROM people WHERE email = 'p3@x.io'");
  const std::string first = h->sim.ui_merge("contacts", live.at("p1@x.io").id, live.at("p2@x.io").id);
  const std::string survivor = h->sim.ui_merge("contacts", live.at("p3@x.io").id, first);
  ASSERT_EQ(h->live_by("contacts", "email").at("p3@x.io").id, survivor);
  auto stats = pull_ok(*h, "people");
  EXPECT_EQ(stats.deleted, 2);
  EXPECT_EQ(stats.dead_lettered, 0);
  EXPECT_EQ(h->db.scalar("SELECT string_agg(id || ':' || email, ',' ORDER BY email) FROM people"),
            p3_row + ":p3@x.io," + h->db.scalar("SELECT id FROM people WHERE email = 'p4@x.io'") + ":p4@x.io");
  auto link = h->store->find_link_by_pg_key("people", p3_row);
  ASSERT_TRUE(link.ok() && link->has_value());
  EXPECT_EQ((*link)->hubspot_id, survivor);
  EXPECT_EQ(push_ok(*h, "people").pushed(), 0) << "nothing left to send";
}

// Search lags writes, and not evenly: an edit indexed late can carry a
// modified time older than one already swept past. Each sweep restarts the
// overlap window before its checkpoint, so the late edit is still met; with
// no window it would be missed until the object changed again.
TEST(Pull, AnEditSearchIndexesLateIsMetByTheOverlapWindow) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced_people(server, kPeopleSql, people(),
                         "INSERT INTO people (email, first_name) VALUES ('a@x.io', 'A'), ('b@x.io', 'B')");
  auto live = h->live_by("contacts", "email");
  h->sim.reset_counters();
  auto edit_late_then_early = [&](const std::string& a_city, const std::string& b_city) {
    h->sim.set_index_lag_ms(1500);
    h->sim.ui_edit("contacts", live.at("a@x.io").id, {{"city", a_city}});  // searchable 1.5 s later
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    h->sim.set_index_lag_ms(0);
    h->sim.ui_edit("contacts", live.at("b@x.io").id, {{"city", b_city}});  // newer, searchable now
  };
  auto city = [&](const char* email) {
    return h->db.scalar(std::string("SELECT coalesce(city, '') FROM people WHERE email = '") + email + "'");
  };
  pipeline::PullOptions no_window;
  no_window.overlap_ms = 0;
  edit_late_then_early("Oslo", "Bergen");
  ASSERT_TRUE(h->pull("people", no_window).ok());
  EXPECT_EQ(city("a@x.io") + "," + city("b@x.io"), ",Bergen");  // a's edit is not searchable yet
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  ASSERT_TRUE(h->pull("people", no_window).ok());
  EXPECT_EQ(city("a@x.io"), "");  // indexed now, but older than the checkpoint: missed

  pipeline::PullOptions window;  // the default: 60 s
  edit_late_then_early("Lima", "Quito");
  ASSERT_TRUE(h->pull("people", window).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  auto late = h->pull("people", window);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(city("a@x.io") + "," + city("b@x.io"), "Lima,Quito");
  EXPECT_EQ(late->conflicts, 0);
  EXPECT_EQ(writes(*h), 0);
}

// `deletes: soft` and `deletes: ignore` under archive, merge and restore in
// HubSpot: soft marks the row and a restore clears the mark on the same row;
// ignore leaves the row as it is and a restore links the object back to it.
// Neither makes a duplicate row or object.
TEST(Pull, ArchiveMergeAndRestoreUnderSoftAndIgnoreKeepOneRowEach) {
  HUBSYNC_REQUIRE_PG(server);
  for (const std::string rule : {"soft", "ignore"}) {
    SCOPED_TRACE(rule);
    std::string sql = kPeopleSql;
    sql.insert(sql.size() - 1, ", gone boolean NOT NULL DEFAULT false");
    const std::string deletes = rule == "soft" ? "deletes: {soft: {column: gone}}\n" : "deletes: ignore\n";
    auto h = synced_people(server, sql, people("both", deletes), kFourPeople);
    auto live = h->live_by("contacts", "email");
    h->sim.ui_delete("contacts", live.at("p1@x.io").id);
    h->sim.ui_merge("contacts", live.at("p2@x.io").id, live.at("p3@x.io").id);
    auto stats = pull_ok(*h, "people");
    const std::string marked = "SELECT coalesce(string_agg(email, ',' ORDER BY email), '') FROM people WHERE gone";
    EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "4");
    EXPECT_EQ(h->db.scalar(marked), rule == "soft" ? "p1@x.io,p3@x.io" : "");
    EXPECT_EQ(stats.deleted, rule == "soft" ? 2 : 0);

    h->sim.ui_restore("contacts", live.at("p1@x.io").id);
    auto restored = pull_ok(*h, "people");
    EXPECT_EQ(restored.created, 0);
    EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people WHERE email = 'p1@x.io'"), "1");
    EXPECT_EQ(h->db.scalar(marked), rule == "soft" ? "p3@x.io" : "");
    auto link = h->store->find_link_by_hubspot_id("people", live.at("p1@x.io").id);
    ASSERT_TRUE(link.ok() && link->has_value());
    EXPECT_EQ((*link)->pg_key, h->db.scalar("SELECT id FROM people WHERE email = 'p1@x.io'"));
    // A push after it all makes no object: the merged-away row is not
    // pushed again as a new contact.
    push_ok(*h, "people");
    EXPECT_EQ(h->live_by("contacts", "email").size(), 3u);
    EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "4");
  }
}

// A contact deleted for good (GDPR) is never in the archived listing nor in
// search: the periodic pass over linked objects finds it gone, for a mapping
// without associations too, and the row follows the delete rule.
TEST(Pull, AContactDeletedForGoodIsFoundByThePeriodicPassAndFollowsTheDeleteRule) {
  HUBSYNC_REQUIRE_PG(server);
  std::string sql = kPeopleSql;
  sql.insert(sql.size() - 1, ", deleted_at timestamptz");  // before the closing parenthesis
  auto h = quick_harness(server, sql, {people("both", "deletes: {soft: {column: deleted_at}}\n")});
  h->db.exec("INSERT INTO people (email, first_name) SELECT 'g' || g || '@x.io', 'G' FROM generate_series(1, 3) g");
  h->migrate();
  push_ok(*h, "people");
  pipeline::PullOptions o;
  o.overlap_ms = 0;
  o.association_pass_every_ms = 0;
  ASSERT_TRUE(h->pull("people", o).ok());  // the first pull: the backfill, no pass yet
  const auto id = h->live_by("contacts", "email").at("g2@x.io").id;
  auto r = h->hubspot->crm.client().call(hubspot::HttpMethod::post, "/crm/v3/objects/contacts/gdpr-delete",
                                         R"({"objectId":")" + id + R"("})", {});
  ASSERT_TRUE(r.ok() && r->status == 204) << (r.ok() ? r->body : r.error().message);
  auto pulled = h->pull("people", o);
  ASSERT_TRUE(pulled.ok()) << pulled.error().message;
  EXPECT_EQ(pulled->deleted, 1);
  EXPECT_EQ(h->db.scalar("SELECT string_agg(email, ',' ORDER BY email) FROM people WHERE deleted_at IS NOT NULL"),
            "g2@x.io");
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people WHERE deleted_at IS NULL"), "2");
  EXPECT_FALSE(h->store->find_link_by_hubspot_id("people", id)->has_value());
  // Nothing comes back: the soft-deleted row is not pushed again as a new contact.
  auto again = push_ok(*h, "people");
  EXPECT_EQ(again.created, 0);
  EXPECT_EQ(h->live_by("contacts", "email").count("g2@x.io"), 0u);
}

// `people` whose city Postgres refuses above 5 characters.
constexpr const char* kShortCitiesSql =
    "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE,"
    " first_name text, last_name text, city text CONSTRAINT city_short CHECK (length(city) < 6))";

// The table takes long cities again; `retry` (a Puller's) then pulls the one
// refused object, `email`'s, and no dead letter is left.
void fix_then_retry_pulls(PushHarness& h, const std::function<model::Result<std::int64_t>()>& retry,
                          const std::string& email) {
  h.db.exec("ALTER TABLE people DROP CONSTRAINT city_short");
  auto retried = retry();
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(*retried, 1);
  EXPECT_EQ(h.db.scalar("SELECT city FROM people WHERE email = '" + email + "'"), "Constantinople");
  EXPECT_TRUE(h.store->list_dead_letters({})->empty());
}

TEST(Pull, ARowPostgresRefusesIsDeadLetteredAloneAndItsRetrySucceedsOnceFixed) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                         kShortCitiesSql,
                         {people()});
  h->migrate();
  for (int i = 1; i <= 5; ++i)
    h->sim.ui_create("contacts", {{"email", "n" + std::to_string(i) + "@x.io"}, {"city", i == 3 ? "Constantinople" : "Oslo"}});
  auto stats = pull_ok(*h, "people");
  EXPECT_EQ(stats.created, 4);
  EXPECT_EQ(stats.dead_lettered, 1);
  auto dead = h->store->list_dead_letters({});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().direction, state::Direction::to_postgres);
  EXPECT_THAT(dead->front().message, HasSubstr("city_short"));
  EXPECT_FALSE(dead->front().hubspot_id.empty());
  // The table is fixed; the dead letter's retry pulls the object.
  pipeline::Puller puller(h->mapping("people"), h->by_name, *h->pg, h->hubspot->crm, *h->store,
                          h->clock, ops::logger("pull"));
  fix_then_retry_pulls(*h, [&] { return puller.retry_dead_letters(true); }, "n3@x.io");
}

// Runs close together read the refused object again (the sweep's overlap)
// and fail it again before its letter's retry is due. Those are not tries:
// twelve of them used up the whole schedule (1 min doubling to 6 h, 12
// tries) in a second, and the object, fixed later, was never pulled.
TEST(Pull, RunsRightAfterEachOtherDoNotUseUpADeadLettersRetries) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                         kShortCitiesSql,
                         {people()});
  h->migrate();
  h->sim.ui_create("contacts", {{"email", "far@x.io"}, {"city", "Constantinople"}});
  ratelimit::FakeClock clock(h->clock.wall_ms());
  pipeline::PullOptions o;  // the default overlap: every run reads the object again
  auto puller = [&] {
    return pipeline::Puller(h->mapping("people"), h->by_name, *h->pg, h->hubspot->crm, *h->store,
                            clock, ops::logger("pull"), o);
  };
  const std::int64_t first = clock.wall_ms();
  for (int run = 1; run <= 12; ++run) {
    auto r = puller().run();
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->dead_lettered, 1) << "run " << run;
    clock.advance(std::chrono::milliseconds(100));
  }
  auto dead = *h->store->list_dead_letters({});
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 1);
  ASSERT_TRUE(dead[0].next_retry_at_ms.has_value());
  EXPECT_EQ(*dead[0].next_retry_at_ms, first + 60'000);

  // Fixed; the retry comes due and pulls the object.
  EXPECT_EQ(*puller().retry_dead_letters(false), 0);
  clock.advance(std::chrono::milliseconds(*dead[0].next_retry_at_ms - clock.wall_ms()));
  fix_then_retry_pulls(*h, [&] { return puller().retry_dead_letters(false); }, "far@x.io");
}

// The association pass reads every linked object again after the sweep
// has read the changed ones: a run's summary counted those twice
// ("unchanged 200" for 100 objects, a refused object dead-lettered twice).
// Postgres names the type a value does not fit, not the column: the dead
// letter names it, for a new row and for an update alike.
TEST(Pull, AValuePostgresRefusesIsDeadLetteredNamingItsColumn) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                         "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE,"
                         " first_name varchar(10), last_name text, city varchar(5))",
                         {people()});
  h->migrate();
  h->sim.ui_create("contacts", {{"email", "a@x.io"}, {"city", "Constantinople"}, {"firstname", "Ann"}});
  h->sim.ui_create("contacts", {{"email", "b@x.io"}, {"city", "Oslo"}, {"firstname", "Bartholomew-Max"}});
  const std::string c = h->sim.ui_create("contacts", {{"email", "c@x.io"}, {"city", "Oslo"}});
  auto letters = [&] {
    std::map<std::string, std::string> out;  // email's object -> message
    for (const auto& dl : dead_letters(*h)) out[dl.hubspot_id] = dl.message;
    return out;
  };
  EXPECT_EQ(pull_ok(*h, "people").dead_lettered, 2);
  auto live = h->live_by("contacts", "email");
  auto dead = letters();
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_THAT(dead[live.at("a@x.io").id], HasSubstr("people, column \"city\": value too long for type character varying(5)"));
  EXPECT_THAT(dead[live.at("b@x.io").id],
              HasSubstr("people, column \"first_name\": value too long for type character varying(10)"));
  h->sim.ui_edit("contacts", c, {{"city", "Copenhagen"}});
  pull_ok(*h, "people");
  EXPECT_THAT(letters()[c], HasSubstr("column \"city\": value too long"));
  EXPECT_EQ(h->db.scalar("SELECT city FROM people WHERE email = 'c@x.io'"), "Oslo");
}

// Two rows whose emails differ only in case meet one contact: its letter
// names both rows, so the operator knows which to make unique.
TEST(Pull, AContactTwoRowsMatchIsDeadLetteredNamingBothRows) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql, {people()});
  h->db.exec("INSERT INTO people (id, email) VALUES (7, 'H@x.io'), (9, 'h@x.io')");
  h->sim.ui_create("contacts", {{"email", "h@x.io"}});
  h->migrate();
  EXPECT_EQ(pull_ok(*h, "people").dead_lettered, 1);
  auto letters = dead_letters(*h);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].category, "LINK_CONFLICT");
  EXPECT_THAT(letters[0].message, HasSubstr("id=7"));
  EXPECT_THAT(letters[0].message, HasSubstr("id=9"));
  EXPECT_THAT(letters[0].message, HasSubstr("): make it unique, then retry the letter"));
}

TEST(Pull, ARunCountsEachObjectOnceThoughTheAssociationPassReadsItAgain) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced_people(server, kPeopleSql, people(), kFourPeople);
  h->db.exec("ALTER TABLE people ADD CONSTRAINT city_short CHECK (length(city) < 6)");
  auto live = h->live_by("contacts", "email");
  h->sim.ui_edit("contacts", live.at("p1@x.io").id, {{"city", "Constantinople"}});
  h->sim.ui_edit("contacts", live.at("p2@x.io").id, {{"city", "Oslo"}});
  pipeline::PullOptions o;
  o.overlap_ms = 0;
  o.association_pass_every_ms = 0;  // every run, as the demo sets it
  auto r = h->pull("people", o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->dead_lettered, 1);
  EXPECT_EQ(r->updated, 1);
  EXPECT_LE(r->unchanged + r->updated + r->dead_lettered, 4);  // each of 4 objects once at most
  EXPECT_EQ(h->store->list_dead_letters({})->size(), 1u);
  auto again = h->pull("people", o);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->dead_lettered, 1);  // refused once more, counted once
  EXPECT_EQ(again->updated, 0);
  EXPECT_LE(again->unchanged + again->dead_lettered, 4);
}

TEST(Pull, TwentyFiveThousandContactsImportedInOneMillisecondArePulledOnceEach) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kPeopleSql, {people()});
  h->migrate();
  std::vector<std::map<std::string, std::string>> rows;
  for (int i = 0; i < 25000; ++i)
    rows.push_back({{"email", "imp" + std::to_string(i) + "@x.io"}, {"firstname", "I" + std::to_string(i)}});
  h->sim.ui_bulk_import("contacts", rows, h->clock.wall_ms() - 5000);
  auto stats = pull_ok(*h, "people");
  EXPECT_EQ(stats.created, 25000);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "25000");
  EXPECT_EQ(h->db.scalar("SELECT count(DISTINCT email) FROM people"), "25000");
  EXPECT_EQ(h->db.scalar("SELECT first_name FROM people WHERE email = 'imp24999@x.io'"), "I24999");
  // Past the 10,000-result cap and on one millisecond: nothing read twice.
  EXPECT_EQ(stats.read, 25000);
  EXPECT_EQ(pull_ok(*h, "people").created, 0);
}

// HubSpot takes 3,000 characters of search body, properties included: a
// mapping of 120 long property names is swept for ids and times and its
// values are read by id, both ways, with no search refused.
TEST(Pull, AMappingOfMorePropertiesThanOneSearchBodyTakesSyncsEveryOneBothWays) {
  HUBSYNC_REQUIRE_PG(server);
  std::string sql = "CREATE TABLE wide (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE";
  std::string mapping = "name: wide\npostgres: {table: public.wide, key: id}\n"
                        "hubspot: {object: contacts, match: email}\ndirection: both\n"
                        "fields:\n  - {column: email, property: email}\n";
  for (int i = 100; i < 220; ++i) {
    sql += ", w" + std::to_string(i) + " text";
    mapping += "  - {column: w" + std::to_string(i) + ", property: wide_property_with_a_long_name_" +
               std::to_string(i) + "}\n";
  }
  auto h = quick_harness(server, sql + ")", {mapping});
  for (int i = 100; i < 220; ++i)
    h->create_text_property("contacts", "wide_property_with_a_long_name_" + std::to_string(i), false);
  h->db.exec("INSERT INTO wide (email, w100, w219) SELECT 'w' || g || '@x.io', 'a' || g, 'z' || g"
             " FROM generate_series(1, 150) g");
  h->migrate();
  EXPECT_EQ(push_ok(*h, "wide").pushed(), 150);
  EXPECT_EQ(h->live_by("contacts", "email").at("w7@x.io").props["wide_property_with_a_long_name_219"], "z7");
  pull_ok(*h, "wide");  // links; nothing to write

  auto live = h->live_by("contacts", "email");
  for (int i = 1; i <= 60; ++i)
    h->sim.ui_edit("contacts", live.at("w" + std::to_string(i) + "@x.io").id,
                   {{"wide_property_with_a_long_name_219", "UI" + std::to_string(i)},
                    {"wide_property_with_a_long_name_150", "mid" + std::to_string(i)}});
  h->sim.ui_create("contacts", {{"email", "new@x.io"}, {"wide_property_with_a_long_name_100", "born in HubSpot"}});
  h->sim.reset_counters();
  auto stats = pull_ok(*h, "wide");
  EXPECT_EQ(stats.updated, 60);
  EXPECT_EQ(stats.created, 1);
  EXPECT_EQ(h->calls("/search"), 1);
  EXPECT_GE(h->calls("/batch/read"), 1);
  for (const auto& [route, statuses] : h->sim.counters().requests)
    for (const auto& [status, n] : statuses) EXPECT_LT(status, 400) << route << " answered " << status;
  EXPECT_EQ(h->db.scalar("SELECT w219 || '/' || w150 || '/' || w100 FROM wide WHERE email = 'w7@x.io'"), "UI7/mid7/a7");
  EXPECT_EQ(h->db.scalar("SELECT w219 FROM wide WHERE email = 'w61@x.io'"), "z61");
  EXPECT_EQ(h->db.scalar("SELECT w100 FROM wide WHERE email = 'new@x.io'"), "born in HubSpot");
  EXPECT_EQ(push_ok(*h, "wide").pushed(), 0) << "pulled writes are not captured";
  EXPECT_EQ(pull_ok(*h, "wide").updated, 0);
}


TEST(Pull, EmailsPassedAlongInHubSpotLandInOnePastTheUniqueIndex) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced_people(server, kPeopleSql, people(), kFourPeople);
  auto live = h->live_by("contacts", "email");
  // In an order HubSpot accepts: each email is given up before another
  // contact takes it. Postgres writes the takers first (they change other
  // columns, written in a statement of their own that comes first), while
  // the unique index still holds the value they take.
  h->sim.ui_edit("contacts", live.at("p2@x.io").id, {{"email", "p2b@x.io"}, {"lastname", "Two"}});
  h->sim.ui_edit("contacts", live.at("p1@x.io").id, {{"email", "p2@x.io"}, {"firstname", "One"}});
  h->sim.ui_edit("contacts", live.at("p4@x.io").id, {{"email", "p4b@x.io"}, {"lastname", "Four"}});
  h->sim.ui_edit("contacts", live.at("p3@x.io").id, {{"email", "p4@x.io"}, {"firstname", "Three"}});
  const std::string fresh = h->sim.ui_create("contacts", {{"email", "p1@x.io"}, {"firstname", "New"}});
  auto r = h->pull("people");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->updated, 4);
  EXPECT_EQ(r->created, 1);
  EXPECT_EQ(r->dead_lettered, 0);
  EXPECT_EQ(table(*h), contacts(*h));
  EXPECT_EQ(h->db.scalar("SELECT first_name FROM people WHERE email = 'p2@x.io'"), "One");
  EXPECT_EQ(h->db.scalar("SELECT first_name FROM people WHERE email = 'p1@x.io'"), "New");
  auto dead = h->store->list_dead_letters({});
  ASSERT_TRUE(dead.ok());
  EXPECT_TRUE(dead->empty());
  EXPECT_EQ(pull_ok(*h, "people").updated, 0);  // nothing left over
  (void)fresh;
}

TEST(Pull, EmailsSwappedInHubSpotAreDeadLetteredNamingEachOtherAndTheWayOut) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced_people(server, kPeopleSql, people(), kFourPeople);
  auto live = h->live_by("contacts", "email");
  // HubSpot takes a swap only through a temporary value; Postgres gets the
  // end state, which no order of one-row writes reaches past the index.
  h->sim.ui_edit("contacts", live.at("p1@x.io").id, {{"email", "tmp@x.io"}});
  h->sim.ui_edit("contacts", live.at("p2@x.io").id, {{"email", "p1@x.io"}});
  h->sim.ui_edit("contacts", live.at("p1@x.io").id, {{"email", "p2@x.io"}});
  h->sim.ui_edit("contacts", live.at("p3@x.io").id, {{"city", "Three"}});
  auto r = h->pull("people");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->updated, 1);
  EXPECT_EQ(r->dead_lettered, 2);
  auto dead = h->store->list_dead_letters({});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 2u);
  for (const auto& dl : *dead) {
    EXPECT_EQ(dl.category, "UNIQUE_VALUE_EXCHANGE");
    EXPECT_EQ(dl.direction, state::Direction::to_postgres);
    const std::string other = dl.pg_key == "1" ? "2" : "1";
    EXPECT_THAT(dl.message, HasSubstr("id=" + dl.pg_key + " takes the email that id=" + other + " holds"));
    EXPECT_THAT(dl.message, HasSubstr("people_email_key"));  // the constraint, as PostgreSQL named it
    EXPECT_THAT(dl.message, HasSubstr("hubsync dead-letters retry"));
  }
  EXPECT_EQ(h->db.scalar("SELECT email FROM people WHERE id = 1"), "p1@x.io");  // nothing half-written
  // The way out the letters give: exchange them in one transaction.
  h->db.exec("BEGIN; UPDATE people SET email = 'tmp@x.io' WHERE id = 1; UPDATE people SET email = 'p1@x.io'"
             " WHERE id = 2; UPDATE people SET email = 'p2@x.io' WHERE id = 1; COMMIT");
  // Then what `hubsync dead-letters retry` and the next run do: the letters
  // fall due now and the run reads their objects again, however long ago the
  // swap left the overlap window behind.
  std::vector<std::int64_t> ids;
  for (const auto& dl : *dead) ids.push_back(dl.id);
  ASSERT_TRUE(h->store->reschedule_dead_letters(ids, h->clock.wall_ms()).ok());
  pipeline::Puller puller(h->mapping("people"), h->by_name, *h->pg, h->hubspot->crm, *h->store, h->clock,
                          ops::logger("pull"), {});
  auto retried = puller.retry_dead_letters(false);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(*retried, 2);
  push_ok(*h, "people");
  EXPECT_EQ(table(*h), contacts(*h));
  dead = h->store->list_dead_letters({});
  ASSERT_TRUE(dead.ok());
  for (const auto& dl : *dead) EXPECT_NE(dl.status, state::DeadLetterStatus::pending) << dl.message;
}

}  // namespace
}  // namespace hubsync::test
