// Push edge cases of issue 9: TRUNCATE, rows waiting for a parent, removing
// only the mapped association label, counts of a first run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/ops/logging.h"
#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

using ::testing::HasSubstr;


constexpr const char* kPeople = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: to_hubspot
fields:
  - {column: email, property: email}
  - {column: name, property: firstname}
)";

TEST(PushEdge, TruncateThenReloadArchivesNoneAndTruncateForGoodIsHeldUntilAllowed) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                   "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text);"
                   "INSERT INTO people SELECT g, 'p' || g || '@x.io', 'P' FROM generate_series(1, 5) g",
                   {kPeople});
  h->migrate();
  EXPECT_EQ(push_ok(*h, "people").created, 5);
  // Emptied and loaded again in one transaction (a reload): only the
  // changed row is written, nothing is archived.
  h->db.exec("BEGIN; TRUNCATE people;"
             "INSERT INTO people SELECT g, 'p' || g || '@x.io', CASE WHEN g = 3 THEN 'Q' ELSE 'P' END"
             " FROM generate_series(1, 5) g; COMMIT");
  auto reload = push_ok(*h, "people");
  EXPECT_EQ(reload.archived, 0);
  EXPECT_EQ(reload.updated, 1);
  EXPECT_EQ(h->live_by("contacts", "email").at("p3@x.io").props.at("firstname"), "Q");
  // Emptied for good: more than half of the table goes, which the default
  // max_deletes holds; allowed, every object is archived.
  h->db.exec("TRUNCATE people");
  auto held = push_ok(*h, "people");
  EXPECT_EQ(held.archived, 0);
  EXPECT_EQ(held.held, 5);
  pipeline::PushOptions allow;
  allow.allow_deletes = true;
  auto gone = h->push("people", allow);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->archived, 5);
  EXPECT_TRUE(h->live_by("contacts", "email").empty());
}

constexpr const char* kOrgs = R"(name: orgs
postgres: {table: public.orgs, key: id}
hubspot: {object: companies, match: org_code}
direction: to_hubspot
filter: "active"
fields:
  - {column: code, property: org_code}
  - {column: name, property: name}
)";

std::string staff(const std::string& type) {
  return std::string("name: staff\npostgres: {table: public.staff, key: id}\n"
                     "hubspot: {object: contacts, match: email}\ndirection: to_hubspot\n"
                     "fields:\n  - {column: email, property: email}\n"
                     "associations:\n  - {column: org_id, to: orgs") + type + "}\n";
}

class OrgTest : public ::testing::Test {
 protected:
  void start(const std::string& type) {
    HUBSYNC_REQUIRE_PG(server);
    h_ = quick_harness(server,
                 "CREATE TABLE orgs (id numeric PRIMARY KEY, code text NOT NULL, name text, active boolean NOT NULL DEFAULT true);"
                 "CREATE TABLE staff (id bigint PRIMARY KEY, email text NOT NULL, org_id numeric)",
                 {kOrgs, staff(type)});
    h_->create_text_property("companies", "org_code", true);
  }
  // A user-defined association label from contacts to companies.
  void label(const std::string& name) {
    auto r = h_->hubspot->crm.client().call(
        hubspot::HttpMethod::post, "/crm/v4/associations/contacts/companies/labels",
        "{\"label\":\"" + name + "\",\"name\":\"" + name + "\"}", {});
    ASSERT_TRUE(r.ok() && r->status < 300) << (r.ok() ? r->body : r.error().message);
  }
  std::unique_ptr<PushHarness> h_;
};

TEST_F(OrgTest, ARowWaitingForAParentThatNeverSyncsIsDeadLetteredNamingIt) {
  start("");
  if (!h_) return;
  h_->db.exec("INSERT INTO orgs VALUES (1.50, 'A', 'Org A', false);"  // outside the filter
              "INSERT INTO staff VALUES (10, 'x@a.io', 1.5)");
  h_->migrate();
  push_ok(*h_, "orgs");
  int runs = 0;
  pipeline::PushStats s;
  do {
    s = push_ok(*h_, "staff");
    h_->db.exec("UPDATE hubsync.changelog SET claimed_until = NULL");  // skip the wait
  } while (s.dead_lettered == 0 && ++runs < 8);
  EXPECT_GE(runs, 4) << "dead-lettered before waiting a few tries";
  EXPECT_EQ(s.dead_lettered, 1) << "still waiting after " << runs << " runs";
  auto dead = h_->store->list_dead_letters({});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().category, "PARENT_NOT_SYNCED");
  EXPECT_THAT(dead->front().message, HasSubstr("orgs row id=1.5"));
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM hubsync.changelog WHERE mapping = 'staff'"), "0");

  // The parent enters its filter: the dead letter's retry associates them.
  h_->db.exec("UPDATE orgs SET active = true");
  push_ok(*h_, "orgs");
  auto queued = pipeline::requeue_dead_letters(h_->mapping("staff"), *h_->pg, *h_->store, *dead);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(*queued, 1);
  EXPECT_EQ(push_ok(*h_, "staff").associations, 1);
  EXPECT_TRUE(h_->store->list_dead_letters({})->empty());
}

TEST_F(OrgTest, MovingARowRemovesOnlyTheMappedLabelNotOnesPeopleAdded) {
  start(", type: Employer");
  if (!h_) return;
  label("Employer");
  label("Billing");
  h_->db.exec("INSERT INTO orgs VALUES (1, 'A', 'Org A'), (2, 'B', 'Org B');"
              "INSERT INTO staff VALUES (10, 'x@a.io', 1)");
  h_->migrate();
  push_ok(*h_, "orgs");
  EXPECT_EQ(push_ok(*h_, "staff").associations, 1);
  auto orgs = h_->live_by("companies", "org_code");
  const std::string contact = h_->live_by("contacts", "email").at("x@a.io").id;
  // A person adds a second label between the same pair in HubSpot.
  auto billing = h_->hubspot->crm.association_type("contacts", "companies", "Billing");
  ASSERT_TRUE(billing.ok() && billing->has_value());
  ASSERT_TRUE(h_->hubspot->crm.associate("contacts", "companies",
                                         {{contact, orgs.at("A").id, **billing}}).ok());

  h_->db.exec("UPDATE staff SET org_id = 2 WHERE id = 10");
  push_ok(*h_, "staff");
  auto assoc = h_->hubspot->crm.associations("contacts", "companies", {contact});
  ASSERT_TRUE(assoc.ok());
  std::map<std::string, std::set<std::string>> labels;  // company -> labels
  for (const auto& t : assoc->front().to)
    for (const auto& type : t.types) labels[t.to_id].insert(type.label);
  EXPECT_TRUE(labels[orgs.at("B").id].count("Employer"));
  EXPECT_FALSE(labels[orgs.at("A").id].count("Employer"));
  EXPECT_TRUE(labels[orgs.at("A").id].count("Billing")) << "the label a person added was removed";
}

TEST(PushEdge, AFirstRunCountsEachRowOnceWhateverWasCapturedBeforeIt) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text)",
                   {kPeople});
  h->migrate();
  // Written after migrate, before the first run: captured and loaded.
  h->db.exec("INSERT INTO people SELECT g, 'p' || g || '@x.io', 'P' FROM generate_series(1, 30) g");
  // One HubSpot refuses: dead-lettered once, not again for its captured insert.
  h->db.exec("INSERT INTO people VALUES (31, 'not-an-email', 'Bad')");
  auto first = push_ok(*h, "people");
  EXPECT_EQ(first.created, 30);
  EXPECT_EQ(first.unchanged, 0);
  EXPECT_EQ(first.dead_lettered, 1);
  EXPECT_EQ(dead_letters(*h).size(), 1u);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog"), "0");
  EXPECT_EQ(h->calls("/batch/upsert") + h->calls("/batch/create"), 1) << "the refused row was sent once";
  // Later no-op touches still count as unchanged.
  h->db.exec("UPDATE people SET name = 'X' WHERE id = 1; UPDATE people SET name = 'P' WHERE id = 1");
  EXPECT_EQ(push_ok(*h, "people").unchanged, 1);
}

// `filter.leaving: keep`: a row leaving the filter stops syncing and keeps
// its object (a customer who churned stays in HubSpot with its history);
// back in the filter it updates the same object. A deletion still archives.
// Two-way: HubSpot's edits of such an object do not reach the row either.
TEST(PushEdge, ARowLeavingAFilterThatKeepsStopsSyncingAndComesBackToItsObject) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                         "CREATE TABLE members (id bigint PRIMARY KEY, email text NOT NULL, name text,"
                         " active boolean NOT NULL DEFAULT true);"
                         "INSERT INTO members SELECT g, 'm' || g || '@x.io', 'M' || g FROM generate_series(1, 3) g",
                         {"name: members\npostgres: {table: public.members, key: id}\n"
                          "hubspot: {object: contacts, match: email}\n"
                          "filter: {postgres: active, leaving: keep}\n"
                          "fields:\n  - {column: email, property: email}\n  - {column: name, property: firstname}\n"});
  h->migrate();
  EXPECT_EQ(push_ok(*h, "members").created, 3);
  pull_ok(*h, "members");
  const std::string m2 = h->live_by("contacts", "email").at("m2@x.io").id;

  h->db.exec("UPDATE members SET active = false WHERE id = 2");
  auto left = push_ok(*h, "members");
  EXPECT_EQ(left.archived, 0);
  EXPECT_EQ(left.filtered, 1);
  h->db.exec("UPDATE members SET name = 'Gone quiet' WHERE id = 2");
  EXPECT_EQ(push_ok(*h, "members").pushed(), 0);
  h->sim.ui_edit("contacts", m2, {{"firstname", "Edited in HubSpot"}});
  pull_ok(*h, "members");
  EXPECT_EQ(h->db.scalar("SELECT name FROM members WHERE id = 2"), "Gone quiet");
  EXPECT_EQ(h->live_by("contacts", "email").at("m2@x.io").props.at("firstname"), "Edited in HubSpot");

  h->db.exec("UPDATE members SET active = true, name = 'Back' WHERE id = 2");
  auto back = push_ok(*h, "members");
  EXPECT_EQ(back.updated, 1);
  EXPECT_EQ(back.created, 0);
  EXPECT_EQ(h->live_by("contacts", "email").at("m2@x.io").id, m2);
  EXPECT_EQ(h->live_by("contacts", "email").at("m2@x.io").props.at("firstname"), "Back");
  EXPECT_EQ(h->dump("contacts").size(), 3u);

  h->db.exec("DELETE FROM members WHERE id = 3");
  EXPECT_EQ(push_ok(*h, "members").archived, 1);
}


// --- unique match values passed from row to row ---

// `n` people pushed once; `extra`: more mapping keys.
std::unique_ptr<PushHarness> linked_people(const std::string& server, int n, const std::string& extra = "") {
  auto h = quick_harness(server,
                         "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text);"
                         "INSERT INTO people SELECT g, 'p' || g || '@x.io', 'P' || g FROM generate_series(1, " +
                             std::to_string(n) + ") g",
                         {std::string(kPeople) + extra});
  h->migrate();
  EXPECT_EQ(push_ok(*h, "people").created, n);
  return h;
}

TEST(PushEdge, RowsPassingEmailsAlongLandInOnePassWhateverTheirOrder) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = linked_people(server, 4);
  const auto ids = h->live_by("contacts", "email");
  // One statement, rows in key order: each row takes the email of one that
  // comes after it, which HubSpot still holds when this row's write goes.
  h->db.exec("UPDATE people SET email = CASE id WHEN 4 THEN 'p4b@x.io' ELSE 'p' || (id + 1) || '@x.io' END");
  auto r = push_ok(*h, "people");
  EXPECT_EQ(r.updated, 4);
  EXPECT_EQ(r.dead_lettered, 0);
  EXPECT_EQ(r.deferred, 0);
  auto live = h->live_by("contacts", "email");
  ASSERT_EQ(live.size(), 4u);
  EXPECT_EQ(live.at("p2@x.io").id, ids.at("p1@x.io").id);
  EXPECT_EQ(live.at("p3@x.io").id, ids.at("p2@x.io").id);
  EXPECT_EQ(live.at("p4@x.io").id, ids.at("p3@x.io").id);
  EXPECT_EQ(live.at("p4b@x.io").id, ids.at("p4@x.io").id);
  EXPECT_TRUE(dead_letters(*h).empty());
}

TEST(PushEdge, ARowWhoseEmailIsStillOnAMovingRowsObjectWaitsForThatMove) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = linked_people(server, 2);
  const auto ids = h->live_by("contacts", "email");
  h->db.exec("UPDATE people SET email = 'p2@x.io' WHERE id = 1; UPDATE people SET email = 'p2b@x.io' WHERE id = 2");
  pipeline::PushOptions one_at_a_time;
  one_at_a_time.wave = 1;  // row 1's write goes before row 2's is claimed
  auto r = h->push("people", one_at_a_time);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->deferred, 1);
  EXPECT_EQ(r->updated, 1);
  EXPECT_EQ(r->dead_lettered, 0);
  EXPECT_EQ(h->live_by("contacts", "email").at("p2b@x.io").id, ids.at("p2@x.io").id);
  // Its turn comes again: the email is free now.
  h->db.exec("UPDATE hubsync.changelog SET claimed_until = now() - interval '1 second'");
  auto again = push_ok(*h, "people");
  EXPECT_EQ(again.updated, 1);
  EXPECT_EQ(h->live_by("contacts", "email").at("p2@x.io").id, ids.at("p1@x.io").id);
  EXPECT_TRUE(dead_letters(*h).empty());
}

TEST(PushEdge, RowsSwappingEmailsAreDeadLetteredNamingEachOtherAndTheWayOut) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = linked_people(server, 3);
  const auto ids = h->live_by("contacts", "email");
  h->db.exec("UPDATE people SET email = CASE id WHEN 1 THEN 'p2@x.io' ELSE 'p1@x.io' END, name = 'S'"
             " WHERE id IN (1, 2); UPDATE people SET name = 'Three' WHERE id = 3");
  auto r = push_ok(*h, "people");
  EXPECT_EQ(r.dead_lettered, 2);
  EXPECT_EQ(r.updated, 1);
  auto dead = dead_letters(*h);
  ASSERT_EQ(dead.size(), 2u);
  for (const auto& dl : dead) {
    EXPECT_EQ(dl.category, "UNIQUE_VALUE_EXCHANGE");
    const std::string other = dl.pg_key == "1" ? "2" : "1";
    EXPECT_THAT(dl.message, HasSubstr("id=" + dl.pg_key + " takes the email that id=" + other));
    EXPECT_THAT(dl.message, HasSubstr("contacts " + ids.at("p" + other + "@x.io").id));
    EXPECT_THAT(dl.message, HasSubstr("hubsync dead-letters retry"));
  }
  EXPECT_EQ(h->live_by("contacts", "email").at("p1@x.io").props.at("firstname"), "P1");  // nothing half-written
  // The way out the letter names: clear one object's email, then retry.
  auto cleared = h->hubspot->crm.client().call(
      hubspot::HttpMethod::patch, "/crm/v3/objects/contacts/" + ids.at("p1@x.io").id,
      "{\"properties\":{\"email\":\"\"}}", {});
  ASSERT_TRUE(cleared.ok() && cleared->status == 200) << (cleared.ok() ? cleared->body : cleared.error().message);
  auto queued = pipeline::requeue_dead_letters(h->mapping("people"), *h->pg, *h->store, dead);
  ASSERT_TRUE(queued.ok() && *queued == 2);
  auto retried = push_ok(*h, "people");
  EXPECT_EQ(retried.updated, 2);
  EXPECT_EQ(retried.dead_lettered, 0);
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.at("p2@x.io").id, ids.at("p1@x.io").id);
  EXPECT_EQ(live.at("p1@x.io").id, ids.at("p2@x.io").id);
  EXPECT_EQ(live.at("p1@x.io").props.at("firstname"), "S");
  for (const auto& dl : dead_letters(*h)) EXPECT_NE(dl.status, state::DeadLetterStatus::pending) << dl.message;
}

TEST(PushEdge, ARowTakingTheEmailOfADuplicateDeletedInTheSameRunLandsAfterTheArchive) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = linked_people(server, 3);
  const auto ids = h->live_by("contacts", "email");
  // A clean-up: row 2 was a duplicate of row 1 under its work email.
  h->db.exec("UPDATE people SET email = 'p2@x.io', name = 'Merged' WHERE id = 1; DELETE FROM people WHERE id = 2");
  auto r = push_ok(*h, "people");
  EXPECT_EQ(r.archived, 1);
  EXPECT_EQ(r.updated, 1);
  EXPECT_EQ(r.dead_lettered, 0);
  auto live = h->live_by("contacts", "email");
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live.at("p2@x.io").id, ids.at("p1@x.io").id);
  EXPECT_EQ(live.at("p2@x.io").props.at("firstname"), "Merged");
  EXPECT_TRUE(dead_letters(*h).empty());
}

TEST(PushEdge, ARowTakingTheEmailOfADuplicateWhoseArchiveIsHeldWaitsForIt) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = linked_people(server, 3, "max_deletes: 1\n");
  const auto ids = h->live_by("contacts", "email");
  h->db.exec("UPDATE people SET email = 'p2@x.io' WHERE id = 1; DELETE FROM people WHERE id IN (2, 3)");
  auto held = push_ok(*h, "people");
  EXPECT_EQ(held.held, 2);
  EXPECT_EQ(held.archived, 0);
  EXPECT_EQ(held.deferred, 1);  // waits with the archive, not dead-lettered
  EXPECT_EQ(held.dead_lettered, 0);
  EXPECT_EQ(h->live_by("contacts", "email").at("p1@x.io").id, ids.at("p1@x.io").id);
  // The operator lets the deletions through: the email is freed, row 1 takes it.
  h->db.exec("UPDATE hubsync.changelog SET claimed_until = now() - interval '1 second'");
  pipeline::PushOptions allow;
  allow.allow_deletes = true;
  auto r = h->push("people", allow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->archived, 2);
  EXPECT_EQ(r->updated, 1);
  EXPECT_EQ(r->dead_lettered, 0);
  auto live = h->live_by("contacts", "email");
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live.at("p2@x.io").id, ids.at("p1@x.io").id);
  EXPECT_TRUE(dead_letters(*h).empty());
}

// HubSpot refuses whitespace around the value of a property that is not a
// string (LEADING_TRAILING_WHITESPACE, since 2025): an option typed with a
// trailing space, or after a no-break space, is dead-lettered saying how to
// trim it, and the other rows land. Either way out the letter names works:
// the column trimmed in Postgres, or the field given `transform: trim`.
constexpr const char* kTiersSql =
    "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text, tier text);"
    "INSERT INTO people VALUES (1, 'a@x.io', 'A', 'gold'), (2, 'b@x.io', 'B', 'gold '),"
    " (3, 'c@x.io', 'C', E'\\u00A0silver'), (4, 'd@x.io', 'D', 'silver')";

void expect_tiers_landed(PushHarness& h) {
  const auto live = h.live_by("contacts", "email");
  ASSERT_EQ(live.size(), 4u);
  EXPECT_EQ(live.at("b@x.io").props.at("tier"), "gold");
  EXPECT_EQ(live.at("c@x.io").props.at("tier"), "silver");
  EXPECT_EQ(push_ok(h, "people").updated, 0) << "nothing moves again";
}

// A text[] item holding HubSpot's separator would reach HubSpot as two
// options ({"a;b", vip} as a;b;vip): the row is refused, naming the item,
// and nothing is sent; the other rows sync.
TEST(PushEdge, AMultiSelectItemHoldingASemicolonIsRefusedNotSplit) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text, tags text[])",
                         {std::string(kPeople) + "  - {column: tags, property: tags, type: multi_select}\n"});
  h->create_property("contacts", "tags", "enumeration", "checkbox", {{"A", "a"}, {"B", "b"}, {"VIP", "vip"}});
  h->db.exec("INSERT INTO people VALUES (1, 'one@x.io', 'One', ARRAY['a;b', 'vip']), (2, 'two@x.io', 'Two', ARRAY['a', 'vip'])");
  h->migrate();
  const auto first = push_ok(*h, "people");
  EXPECT_EQ(first.created, 1);
  EXPECT_EQ(first.dead_lettered, 1);
  auto letters = dead_letters(*h);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_THAT(letters[0].message, HasSubstr("multi_select item 'a;b' is empty or contains ';'"));
  auto c = h->live_by("contacts", "email");
  EXPECT_EQ(c.count("one@x.io"), 0u);
  EXPECT_EQ(c.at("two@x.io").props["tags"], "a;vip");
  // And as a change of a synced row.
  h->db.exec("UPDATE people SET tags = ARRAY['b;vip'] WHERE id = 2");
  EXPECT_EQ(push_ok(*h, "people").dead_lettered, 1);
  EXPECT_EQ(h->live_by("contacts", "email").at("two@x.io").props["tags"], "a;vip");
}

// The changelog hands keys over as a text[]; PostgreSQL quotes no ';' in
// it, and libpqxx 6's parser split the key 'a;b' in two: the row's changes
// found no row, and never reached HubSpot.
TEST(PushEdge, ChangesOfARowWhoseTextKeyHoldsASemicolonReachHubSpot) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, "CREATE TABLE people (id text PRIMARY KEY, email text NOT NULL, name text)",
                         {kPeople});
  h->db.exec("INSERT INTO people VALUES ('a;b', 'semi@x.io', 'Before')");
  h->migrate();
  EXPECT_EQ(push_ok(*h, "people").created, 1);
  h->db.exec("UPDATE people SET name = 'After' WHERE id = 'a;b'");
  EXPECT_EQ(push_ok(*h, "people").updated, 1);
  EXPECT_EQ(h->live_by("contacts", "email").at("semi@x.io").props["firstname"], "After");
  h->db.exec("DELETE FROM people WHERE id = 'a;b'");
  EXPECT_EQ(push_ok(*h, "people").archived, 1);
  EXPECT_TRUE(h->live_by("contacts", "email").empty());
}

// A key is never sent: a value the field types cannot hold ('infinity', a
// BC date, NaN) is still a row's key. Such a row syncs, and one inserted
// in place of a deleted row with the same email keeps its contact (it was
// dead-lettered, and the deleted row's contact archived).
TEST(PushEdge, KeysNoFieldTypeCouldHoldSyncTheirRows) {
  HUBSYNC_REQUIRE_PG(server);
  for (const char* type : {"timestamptz", "date", "numeric"}) {
    SCOPED_TRACE(type);
    const std::string odd = std::string(type) == "numeric" ? "'NaN'" : "'infinity'";
    const std::string bc = std::string(type) == "numeric" ? "'-1e30'" : "'0044-03-15 BC'";
    const std::string plain = std::string(type) == "numeric" ? "'2.50'" : "'2026-01-02'";
    auto h = quick_harness(server, std::string("CREATE TABLE people (id ") + type +
                                       " PRIMARY KEY, email text NOT NULL, name text)",
                           {kPeople});
    h->db.exec("INSERT INTO people VALUES (" + odd + ", 'odd@x.io', 'Odd'), (" + bc + ", 'bc@x.io', 'Caesar'),"
               " (" + plain + ", 'plain@x.io', 'Plain')");
    h->migrate();
    auto first = push_ok(*h, "people");
    EXPECT_EQ(first.created, 3);
    EXPECT_EQ(first.dead_lettered, 0);
    h->db.exec("UPDATE people SET name = 'Odder' WHERE id = " + odd);
    EXPECT_EQ(push_ok(*h, "people").updated, 1);
    const std::string kept = h->live_by("contacts", "email").at("plain@x.io").id;
    const std::string other = std::string(type) == "numeric" ? "'-Infinity'" : "'-infinity'";
    h->db.exec("BEGIN; DELETE FROM people WHERE email = 'plain@x.io';"
               " INSERT INTO people VALUES (" + other + ", 'plain@x.io', 'Moved'); COMMIT");
    auto moved = push_ok(*h, "people");
    EXPECT_EQ(moved.dead_lettered, 0);
    auto live = h->live_by("contacts", "email");
    ASSERT_EQ(live.count("plain@x.io"), 1u);
    EXPECT_EQ(live.at("plain@x.io").id, kept) << "the re-inserted row keeps the email's contact";
    EXPECT_EQ(live.at("plain@x.io").props["firstname"], "Moved");
    EXPECT_EQ(live.at("odd@x.io").props["firstname"], "Odder");
    EXPECT_EQ(live.size(), 3u);
    EXPECT_TRUE(dead_letters(*h).empty());
  }
}

// serve told to stop (SIGTERM) in the middle of an initial load stops after
// the page under way, not after the whole table; the next pass resumes the
// load from its checkpoint, and nothing is sent twice.
TEST(PushEdge, AnInitialLoadStopsBetweenPagesWhenToldAndTheNextPassResumesIt) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                         "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text);"
                         "INSERT INTO people SELECT g, 'p' || g || '@x.io', 'P' FROM generate_series(1, 250) g",
                         {kPeople});
  h->migrate();
  pipeline::PushOptions o;
  o.wave = 100;
  int pages = 0;
  o.stop = [&] { return ++pages >= 1; };
  auto stopped = h->push("people", o);
  ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_TRUE(stopped->more);
  EXPECT_EQ(stopped->created, 100) << "one page, then the stop";
  EXPECT_EQ(h->live_by("contacts", "email").size(), 100u);
  h->sim.reset_counters();
  auto resumed = push_ok(*h, "people");
  EXPECT_FALSE(resumed.more);
  EXPECT_EQ(resumed.created, 150);
  EXPECT_EQ(resumed.updated + resumed.unchanged, 0) << "the first page is not read again";
  EXPECT_EQ(h->live_by("contacts", "email").size(), 250u);
}

TEST(PushEdge, AnOptionWithSpacesAroundItIsDeadLetteredSayingHowToTrimIt) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kTiersSql,
                         {std::string(kPeople) + "  - {column: tier, property: tier, type: enumeration}\n"});
  h->create_property("contacts", "tier", "enumeration", "select", {{"Gold", "gold"}, {"Silver", "silver"}});
  h->migrate();
  const auto first = push_ok(*h, "people");
  EXPECT_EQ(first.created, 2);
  EXPECT_EQ(first.dead_lettered, 2);
  auto letters = dead_letters(*h);
  ASSERT_EQ(letters.size(), 2u);
  std::vector<std::int64_t> ids;
  for (const auto& dl : letters) {
    ids.push_back(dl.id);
    EXPECT_THAT(dl.message, HasSubstr("code=LEADING_TRAILING_WHITESPACE"));
    EXPECT_THAT(dl.message, HasSubstr("includes leading or trailing whitespace"));
    EXPECT_THAT(dl.message, HasSubstr("trim the column in Postgres (UPDATE ... SET <column> = btrim(<column>)), "
                                      "or give its field `transform: trim` with `direction: to_hubspot`"));
  }
  h->db.exec("UPDATE people SET tier = btrim(tier, E' \\u00A0')");
  ASSERT_TRUE(h->store->reschedule_dead_letters(ids, h->clock.wall_ms()).ok());
  const auto fixed = push_ok(*h, "people");
  EXPECT_EQ(fixed.created, 2);
  EXPECT_EQ(fixed.dead_lettered, 0);
  EXPECT_TRUE(dead_letters(*h).empty()) << "a row that synced keeps no letter";
  expect_tiers_landed(*h);
}

TEST(PushEdge, AnOptionWithSpacesAroundItLandsTrimmedThroughTheTransform) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kTiersSql,
                         {std::string(kPeople) +
                          "  - {column: tier, property: tier, type: enumeration, transform: trim, direction: to_hubspot}\n"});
  h->create_property("contacts", "tier", "enumeration", "select", {{"Gold", "gold"}, {"Silver", "silver"}});
  h->migrate();
  const auto first = push_ok(*h, "people");
  EXPECT_EQ(first.created, 4);
  EXPECT_EQ(first.dead_lettered, 0);
  expect_tiers_landed(*h);
}

}  // namespace
}  // namespace hubsync::test
