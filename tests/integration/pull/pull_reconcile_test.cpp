// Two-way reconcile (issue 10): the conflict matrix, associations moved in
// HubSpot, link-table rows, push and pull never interleaving on a mapping,
// and a user's trigger cascading a pulled change still being captured.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine/ops/logging.h"
#include "engine/pipeline/resync.h"
#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

// Nine fields, one per direction x policy; each is edited on both sides.
constexpr const char* kMatrixSql =
    "CREATE TABLE matrix (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE,"
    " f1 text, f2 text, f3 text, f4 text, f5 text, f6 text, f7 text, f8 text, f9 text)";

struct Cell {
  const char* column;
  const char* direction;
  const char* policy;
};
constexpr Cell kCells[] = {
    {"f1", "both", "postgres"},       {"f2", "both", "hubspot"},       {"f3", "both", "newest"},
    {"f4", "to_hubspot", "postgres"}, {"f5", "to_hubspot", "hubspot"}, {"f6", "to_hubspot", "newest"},
    {"f7", "to_postgres", "postgres"}, {"f8", "to_postgres", "hubspot"}, {"f9", "to_postgres", "newest"},
};

std::string matrix_mapping() {
  std::string y = "name: matrix\npostgres: {table: public.matrix, key: id}\n"
                  "hubspot: {object: contacts, match: email}\nfields:\n  - {column: email, property: email}\n";
  for (const auto& c : kCells)
    y += std::string("  - {column: ") + c.column + ", property: m_" + c.column + ", direction: " +
         c.direction + ", conflict: " + c.policy + "}\n";
  return y;
}

TEST(Reconcile, TheConflictMatrixResolvesAsTheTableSaysAndNeverWritesAgainstADirection) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kMatrixSql, {matrix_mapping()});
  for (const auto& c : kCells) h->create_text_property("contacts", std::string("m_") + c.column, false);
  h->db.exec("INSERT INTO matrix (email, f1, f2, f3, f4, f5, f6, f7, f8, f9)"
             " VALUES ('m@x.io', 'a', 'a', 'a', 'a', 'a', 'a', NULL, NULL, NULL)");
  h->migrate();
  push_ok(*h, "matrix");
  // HubSpot's to_postgres fields start as 'a' too, and reach Postgres.
  const std::string id = h->live_by("contacts", "email").at("m@x.io").id;
  std::map<std::string, std::string> start;
  for (const auto& c : kCells) start[std::string("m_") + c.column] = "a";
  h->sim.ui_edit("contacts", id, start);
  pull_ok(*h, "matrix");
  ASSERT_EQ(h->db.scalar("SELECT f7 || f8 || f9 FROM matrix"), "aaa");

  // Both sides change every field: Postgres first, then HubSpot (newer).
  h->db.exec("UPDATE matrix SET f1 = 'pg', f2 = 'pg', f3 = 'pg', f4 = 'pg', f5 = 'pg', f6 = 'pg',"
             " f7 = 'pg', f8 = 'pg', f9 = 'pg'");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // HubSpot's edit is newer
  std::map<std::string, std::string> edit;
  for (const auto& c : kCells) edit[std::string("m_") + c.column] = "hs";
  h->sim.ui_edit("contacts", id, edit);
  auto pulled = pull_ok(*h, "matrix");
  push_ok(*h, "matrix");
  EXPECT_EQ(pulled.conflicts, 3);  // only two-way fields can conflict

  auto c = h->live_by("contacts", "email").at("m@x.io");
  auto pg = [&](const char* col) { return h->db.scalar(std::string("SELECT ") + col + " FROM matrix"); };
  // both: the policy decides, both sides end equal.
  EXPECT_EQ(pg("f1"), "pg");
  EXPECT_EQ(c.props["m_f1"], "pg");
  EXPECT_EQ(pg("f2"), "hs");
  EXPECT_EQ(c.props["m_f2"], "hs");
  EXPECT_EQ(pg("f3"), "hs");  // HubSpot's edit is newer
  EXPECT_EQ(c.props["m_f3"], "hs");
  // to_hubspot: Postgres is the source; Postgres is never written.
  for (const char* f : {"f4", "f5", "f6"}) {
    EXPECT_EQ(pg(f), "pg") << f;
    EXPECT_EQ(c.props[std::string("m_") + f], "pg") << f;
  }
  // to_postgres: HubSpot is the source; HubSpot is never written.
  for (const char* f : {"f7", "f8", "f9"}) {
    EXPECT_EQ(pg(f), "hs") << f;
    EXPECT_EQ(c.props[std::string("m_") + f], "hs") << f;
  }
  auto recorded = h->store->list_conflicts("matrix", 10);
  ASSERT_TRUE(recorded.ok());
  std::map<std::string, std::string> rules;
  for (const auto& r : *recorded) rules[r.field] = r.rule + ":" + state::to_string(r.winner);
  EXPECT_EQ(rules, (std::map<std::string, std::string>{
                       {"f1", "postgres:postgres"}, {"f2", "hubspot:hubspot"}, {"f3", "newest:hubspot"}}));
  // And nothing comes back.
  h->sim.reset_counters();
  EXPECT_EQ(pull_ok(*h, "matrix").updated, 0);
  EXPECT_EQ(push_ok(*h, "matrix").pushed(), 0);
}

// Both sides edit f1..f4 of one row (f1-f3 two-way with the rules postgres,
// hubspot, newest; f4 to_hubspot); HubSpot's edit is not searchable for an
// hour, and is newer than Postgres's except on f3.
void edit_both_sides_unsearchable(PushHarness& h) {
  for (const auto& c : kCells) h.create_text_property("contacts", std::string("m_") + c.column, false);
  h.db.exec("INSERT INTO matrix (email, f1, f2, f3, f4, f5) VALUES ('m@x.io', 'a', 'a', 'a', 'a', 'a')");
  h.migrate();
  push_ok(h, "matrix");
  pull_ok(h, "matrix");
  const std::string id = h.live_by("contacts", "email").at("m@x.io").id;
  h.db.exec("UPDATE matrix SET f1 = 'pg', f2 = 'pg', f4 = 'pg'");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  h.sim.set_index_lag_ms(3'600'000);
  h.sim.ui_edit("contacts", id, {{"m_f1", "hs"}, {"m_f2", "hs"}, {"m_f3", "hs"}, {"m_f4", "hs"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  h.db.exec("UPDATE matrix SET f3 = 'pg'");  // newer than HubSpot's f3
}

const std::map<std::string, std::string> kRuled = {
    {"f1", "postgres:postgres"}, {"f2", "hubspot:hubspot"}, {"f3", "newest:postgres"}};

// A push that runs before the pull has seen a HubSpot edit (serve pushes on
// NOTIFY while the webhook is on its way; search lags) must not overwrite
// it unless the field's rule lets Postgres win. It reads the fields whose
// rule could let HubSpot win; a field HubSpot wins stays for the pull,
// which records it. (f1's rule is `postgres`: HubSpot's value cannot change
// the answer, so it is neither read nor recorded.)
TEST(Reconcile, APushNeverOverwritesAHubSpotEditItHasNotSeenUnlessPostgresWins) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kMatrixSql, {matrix_mapping()});
  edit_both_sides_unsearchable(*h);
  h->sim.reset_counters();
  auto pushed = push_ok(*h, "matrix");
  EXPECT_EQ(pushed.updated, 1);
  EXPECT_EQ(pushed.conflicts, 1);     // f3: Postgres's edit is newer
  EXPECT_EQ(pushed.left_to_pull, 1);  // f2
  EXPECT_EQ(h->calls("/batch/read"), 2);  // the values, then f3's time
  auto c = h->live_by("contacts", "email").at("m@x.io");
  EXPECT_EQ(c.props["m_f1"] + c.props["m_f2"] + c.props["m_f3"] + c.props["m_f4"], "pghspgpg");

  // The pull brings HubSpot's winners to Postgres and records them: each
  // conflict once, by the side that applied it.
  h->sim.set_index_lag_ms(0);
  pipeline::PullOptions o;  // the real overlap: the object comes back from search
  auto pulled = h->pull("matrix", o);
  ASSERT_TRUE(pulled.ok());
  EXPECT_EQ(pulled->conflicts, 1);  // f2
  EXPECT_EQ(h->db.scalar("SELECT f1 || f2 || f3 || f4 FROM matrix"), "pghspgpg");
  EXPECT_EQ(conflict_rules(*h, "matrix"), (std::map<std::string, std::string>{{"f2", "hubspot:hubspot"}, {"f3", "newest:postgres"}}));
  h->sim.reset_counters();
  EXPECT_EQ(push_ok(*h, "matrix").pushed(), 0);
  EXPECT_EQ(pull_ok(*h, "matrix").updated, 0);
  EXPECT_EQ(h->calls("/batch/update"), 0);
}

// The sweep (with the real overlap window) meets the object as search last
// indexed it, before the edit: its values must not be taken for HubSpot's
// (Postgres would overwrite the edit), nor, once hubsync has agreed on
// newer ones, put back in Postgres. The pull reads such objects again.
TEST(Reconcile, APullNeverTrustsASearchVersionOlderThanWhatItWrites) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kMatrixSql, {matrix_mapping()});
  edit_both_sides_unsearchable(*h);
  pipeline::PullOptions o;  // overlap 60 s: the stale version is in it
  auto pulled = h->pull("matrix", o);
  ASSERT_TRUE(pulled.ok());
  EXPECT_EQ(pulled->conflicts, 3);
  EXPECT_EQ(h->db.scalar("SELECT f1 || f2 || f3 || f4 FROM matrix"), "pghspgpg");
  push_ok(*h, "matrix");
  auto c = h->live_by("contacts", "email").at("m@x.io");
  EXPECT_EQ(c.props["m_f1"] + c.props["m_f2"] + c.props["m_f3"] + c.props["m_f4"], "pghspgpg");
  EXPECT_EQ(conflict_rules(*h, "matrix"), kRuled);
  // Search still holds the old version: a later pull reads the object again
  // and changes nothing.
  h->sim.reset_counters();
  auto again = h->pull("matrix", o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->updated + again->hubspot_updates + again->conflicts, 0);
  EXPECT_EQ(h->db.scalar("SELECT f1 || f2 || f3 || f4 FROM matrix"), "pghspgpg");
  EXPECT_EQ(h->calls("/batch/update"), 0);
}

// A row inserted after the initial load whose email names a contact made in
// HubSpot since the last pull: the upsert would link it and overwrite its
// values. The push reads it by email first; with no base, a value on one
// side fills the other and different values are the rule's to decide.
TEST(Reconcile, ANewRowMatchingAContactThePullHasNotSeenIsMergedNotOverwritten) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kMatrixSql, {matrix_mapping()});
  for (const auto& c : kCells) h->create_text_property("contacts", std::string("m_") + c.column, false);
  h->migrate();
  push_ok(*h, "matrix");
  pull_ok(*h, "matrix");
  h->sim.ui_create("contacts", {{"email", "n@x.io"}, {"m_f1", "hs"}, {"m_f2", "hs"}, {"m_f3", "hs"}});
  h->db.exec("INSERT INTO matrix (email, f1, f2) VALUES ('n@x.io', 'pg', 'pg')");
  h->sim.reset_counters();
  auto pushed = push_ok(*h, "matrix");
  EXPECT_EQ(pushed.pushed(), 1);
  EXPECT_EQ(pushed.left_to_pull, 1);  // f2: HubSpot's by the rule
  EXPECT_EQ(h->calls("/batch/read"), 1);
  auto c = h->live_by("contacts", "email");
  ASSERT_EQ(c.size(), 1u);
  // f1's rule is postgres (not read); f3 is empty in Postgres: never sent.
  EXPECT_EQ(c.at("n@x.io").props["m_f1"] + c.at("n@x.io").props["m_f2"] + c.at("n@x.io").props["m_f3"], "pghshs");
  auto pulled = pull_ok(*h, "matrix");
  EXPECT_EQ(pulled.conflicts, 1);
  EXPECT_EQ(h->db.scalar("SELECT f1 || f2 || f3 FROM matrix"), "pghshs");
  EXPECT_EQ(conflict_rules(*h, "matrix"), (std::map<std::string, std::string>{{"f2", "hubspot:hubspot"}}));
}

// The backfill meets every object, but links only those it could write:
// one Postgres refused (a CHECK) or that two rows claim is dead-lettered,
// not linked. The initial load after it must still read such an object by
// match value, or its upsert overwrites HubSpot's values against the rule
// (`hubspot` here) and records no conflict.
TEST(Reconcile, AnObjectTheBackfillDeadLetteredIsReadBeforeTheLoadWritesIt) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                         "CREATE TABLE matrix (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE,"
                         " f2 text, city text CHECK (length(city) < 6))",
                         {"name: matrix\npostgres: {table: public.matrix, key: id}\n"
                          "hubspot: {object: contacts, match: email}\nconflict: hubspot\nfields:\n"
                          "  - {column: email, property: email}\n  - {column: f2, property: m_f2}\n"
                          "  - {column: city, property: city}\n"});
  h->create_text_property("contacts", "m_f2", false);
  h->db.exec("INSERT INTO matrix (email, f2) VALUES ('b@x.io', 'pg')");
  h->sim.ui_create("contacts", {{"email", "b@x.io"}, {"m_f2", "hs"}, {"city", "Amsterdam"}});
  h->migrate();
  auto pulled = pull_ok(*h, "matrix");
  ASSERT_EQ(pulled.dead_lettered, 1) << "Postgres refuses the city";
  h->sim.reset_counters();
  push_ok(*h, "matrix");
  EXPECT_EQ(h->calls("/batch/read"), 1) << "read by match value first";
  auto c = h->live_by("contacts", "email");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c.at("b@x.io").props["m_f2"], "hs") << "HubSpot wins by the rule";
  EXPECT_EQ(c.at("b@x.io").props["city"], "Amsterdam");
}

// The read costs nothing where it cannot change the answer: a push of
// fields whose rule is `postgres` (or one-way) reads nothing first.
TEST(Reconcile, APushOfFieldsPostgresAlwaysWinsReadsNothingFirst) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kMatrixSql, {matrix_mapping()});
  for (const auto& c : kCells) h->create_text_property("contacts", std::string("m_") + c.column, false);
  h->db.exec("INSERT INTO matrix (email, f1, f4) SELECT 'r' || g || '@x.io', 'a', 'a' FROM generate_series(1, 150) g");
  h->migrate();
  push_ok(*h, "matrix");
  h->db.exec("UPDATE matrix SET f1 = 'b', f4 = 'b'");
  h->sim.reset_counters();
  EXPECT_EQ(push_ok(*h, "matrix").updated, 150);
  EXPECT_EQ(h->calls("/batch/read"), 0);
  EXPECT_EQ(h->calls("/batch/update"), 2);
  // A two-way `newest` field costs one read per 100 rows, no more.
  h->db.exec("UPDATE matrix SET f3 = 'c'");
  h->sim.reset_counters();
  EXPECT_EQ(push_ok(*h, "matrix").updated, 150);
  EXPECT_EQ(h->calls("/batch/read"), 2);
}

constexpr const char* kOrgsSql =
    "CREATE TABLE orgs (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text);"
    "CREATE TABLE staff (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, org_id bigint REFERENCES orgs);"
    "CREATE TABLE members (staff_id bigint NOT NULL, org_id bigint NOT NULL, PRIMARY KEY (staff_id, org_id))";
constexpr const char* kOrgs = R"(name: orgs
postgres: {table: public.orgs, key: id}
hubspot: {object: companies, match: org_code}
fields:
  - {column: code, property: org_code}
  - {column: name, property: name}
)";
constexpr const char* kStaff = R"(name: staff
postgres: {table: public.staff, key: id}
hubspot: {object: contacts, match: email}
fields:
  - {column: email, property: email}
associations:
  - {column: org_id, to: orgs}
)";
constexpr const char* kMembers = R"(name: members
postgres: {table: public.members, key: [staff_id, org_id]}
link:
  from: {column: staff_id, mapping: staff}
  to: {column: org_id, mapping: orgs}
  type: Member
)";

// A pull with the association pass on every run (association changes move
// no modified time: only the pass sees them) and no sweep overlap.
pipeline::PullOptions every_pass() {
  pipeline::PullOptions o;
  o.overlap_ms = 0;
  o.association_pass_every_ms = 0;
  return o;
}

class AssocPull : public ::testing::Test {
 protected:
  void SetUp() override {
    HUBSYNC_REQUIRE_PG(server);
    h_ = quick_harness(server, kOrgsSql, {kOrgs, kStaff, kMembers});
    h_->create_text_property("companies", "org_code", true);
    auto r = h_->hubspot->crm.client().call(hubspot::HttpMethod::post,
                                            "/crm/v4/associations/contacts/companies/labels",
                                            R"({"label":"Member","name":"member"})", {});
    ASSERT_TRUE(r.ok() && r->status < 300);
    h_->db.exec("INSERT INTO orgs VALUES (1, 'A', 'Org A'), (2, 'B', 'Org B');"
                "INSERT INTO staff VALUES (10, 'x@a.io', 1), (11, 'y@a.io', NULL);"
                "INSERT INTO members VALUES (10, 1)");
    h_->migrate();
    for (const char* m : {"orgs", "staff", "members"}) push_ok(*h_, m);
    for (const char* m : {"orgs", "staff", "members"}) pull_ok(*h_, m);
  }
  /// In HubSpot: y becomes a Member of B, x stops being one of A.
  void move_membership() {
    auto orgs = h_->live_by("companies", "org_code");
    auto staff = h_->live_by("contacts", "email");
    auto& crm = h_->hubspot->crm;
    auto member = crm.association_type("contacts", "companies", "Member");
    ASSERT_TRUE(member.ok() && member->has_value());
    ASSERT_TRUE(crm.associate("contacts", "companies", {{staff.at("y@a.io").id, orgs.at("B").id, **member}}).ok());
    ASSERT_TRUE(
        crm.unassociate_types("contacts", "companies", {{staff.at("x@a.io").id, orgs.at("A").id, **member}}).ok());
  }
  std::unique_ptr<PushHarness> h_;
};

TEST_F(AssocPull, AContactMovedToAnotherCompanyInHubSpotMovesTheForeignKey) {
  if (!h_) return;
  auto orgs = h_->live_by("companies", "org_code");
  auto staff = h_->live_by("contacts", "email");
  auto& crm = h_->hubspot->crm;
  auto unlabelled = crm.association_type("contacts", "companies", "");
  ASSERT_TRUE(unlabelled.ok() && unlabelled->has_value());
  ASSERT_TRUE(crm.unassociate_types("contacts", "companies",
                                    {{staff.at("x@a.io").id, orgs.at("A").id, **unlabelled}}).ok());
  ASSERT_TRUE(crm.associate("contacts", "companies", {{staff.at("x@a.io").id, orgs.at("B").id, **unlabelled},
                                                      {staff.at("y@a.io").id, orgs.at("A").id, **unlabelled}}).ok());
  // Association changes move no modified time: the association pass finds them.
  const auto o = every_pass();
  auto r = h_->pull("staff", o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  // Two foreign keys, and the link row: in HubSpot, removing a pair's
  // unlabelled association removes its labels (Member) too.
  EXPECT_EQ(r->associations, 3);
  EXPECT_EQ(h_->db.scalar("SELECT string_agg(id || '>' || coalesce(org_id::text, '-'), ',' ORDER BY id) FROM staff"),
            "10>2,11>1");
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM members"), "0");
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM hubsync.changelog"), "0");
  EXPECT_EQ(push_ok(*h_, "staff").associations, 0);  // nothing echoes back
}

// Association changes move no modified time, and the pass that finds them
// runs every six hours by default; a link table has no sweep, only this
// pass. `hubsync resync --direction to_postgres` makes it run at the next
// pull. (An object mapping's foreign keys go the same way; there the
// sweep also reads the associations of objects modified since, as these
// test objects all were.)
TEST_F(AssocPull, AResyncRunsTheAssociationPassOfALinkTableAtTheNextPull) {
  if (!h_) return;
  move_membership();
  const auto members = [&] { return h_->db.scalar("SELECT string_agg(staff_id || '-' || org_id, ',') FROM members"); };
  pull_ok(*h_, "members");  // the pass is not due
  EXPECT_EQ(members(), "10-1");
  ASSERT_TRUE(pipeline::ask_resync(*h_->store, "members", state::Direction::to_postgres).ok());
  EXPECT_EQ(pull_ok(*h_, "members").associations, 2);
  EXPECT_EQ(members(), "11-2");
  EXPECT_EQ(*pipeline::resync_request(*h_->store, "members", state::Direction::to_postgres),
            pipeline::ResyncRequest::none);
}

TEST_F(AssocPull, ALinkAddedOrRemovedInHubSpotInsertsOrDeletesTheLinkRow) {
  if (!h_) return;
  move_membership();
  const auto o = every_pass();
  auto r = h_->pull("members", o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->associations, 2);
  EXPECT_EQ(h_->db.scalar("SELECT string_agg(staff_id || '-' || org_id, ',') FROM members"), "11-2");
  EXPECT_EQ(push_ok(*h_, "members").associations, 0);
}

// A link row deleted in Postgres, its deletion not yet pushed: the pulls
// that run first in a run (every mapping's, association pass included) saw
// the pair still associated in HubSpot and inserted the row again, so the
// deletion never reached HubSpot.
TEST_F(AssocPull, ALinkRowDeletedInPostgresIsNotWrittenBackBeforeThePushRemovesItsPair) {
  if (!h_) return;
  auto orgs = h_->live_by("companies", "org_code");
  auto staff = h_->live_by("contacts", "email");
  auto member = h_->hubspot->crm.association_type("contacts", "companies", "Member");
  ASSERT_TRUE(member.ok() && member->has_value());
  auto members_in_hubspot = [&] {
    auto read = h_->hubspot->crm.associations("contacts", "companies", {staff.at("x@a.io").id});
    EXPECT_TRUE(read.ok());
    int n = 0;
    if (read.ok())
      for (const auto& a : *read)
        for (const auto& t : a.to)
          for (const auto& type : t.types)
            if (t.to_id == orgs.at("A").id && type.type_id == (*member)->type_id) ++n;
    return n;
  };
  ASSERT_EQ(members_in_hubspot(), 1);
  h_->db.exec("DELETE FROM members WHERE staff_id = 10 AND org_id = 1");
  const auto o = every_pass();
  for (const char* m : {"orgs", "staff", "members"}) {
    auto r = h_->pull(m, o);
    ASSERT_TRUE(r.ok()) << m << ": " << r.error().message;
    EXPECT_EQ(r->associations, 0) << m;
  }
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM members"), "0");
  EXPECT_EQ(push_ok(*h_, "members").archived, 1);  // the pair's association removed
  EXPECT_EQ(members_in_hubspot(), 0);
  for (const char* m : {"orgs", "staff", "members"}) pull_ok(*h_, m);
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM members"), "0");
}

// A company deleted in HubSpot while a contact's row still points at it:
// Postgres refuses the row's deletion (the foreign key), and the letter
// says so. Once the contact's pull has cleared the key, the deletion goes
// through; its letter went on saying it had failed.
TEST_F(AssocPull, ADeletionPostgresRefusedThenTookLeavesNoDeadLetter) {
  if (!h_) return;
  h_->db.exec("UPDATE staff SET org_id = 2 WHERE id = 11");
  push_ok(*h_, "staff");
  for (const char* code : {"A", "B"}) h_->sim.ui_delete("companies", h_->live_by("companies", "org_code").at(code).id);
  auto o = every_pass();
  o.allow_deletes = true;  // both of the two companies go: over the default max_deletes
  auto first = h_->pull("orgs", o);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->dead_lettered, 2);  // two rows, each counted (no object id names them)
  ASSERT_EQ(h_->store->list_dead_letters({})->size(), 2u);
  EXPECT_THAT(h_->store->list_dead_letters({})->front().message, ::testing::HasSubstr("foreign key"));
  ASSERT_TRUE(h_->pull("staff", o).ok());
  EXPECT_EQ(h_->db.scalar("SELECT count(org_id) FROM staff"), "0");
  auto second = h_->pull("orgs", o);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->deleted, 2);
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM orgs"), "0");
  EXPECT_TRUE(h_->store->list_dead_letters({})->empty());
}

// A contact is associated in HubSpot with a company that has no row yet (its
// webhook not processed, say): the foreign key waits, named in a
// PARENT_NOT_SYNCED letter, and the retry after the company has its row
// fills it in and resolves the letter.
TEST_F(AssocPull, AForeignKeyWhoseParentHasNoRowYetWaitsAndIsFilledByTheRetry) {
  if (!h_) return;
  auto& crm = h_->hubspot->crm;
  const auto company = h_->sim.ui_create("companies", {{"org_code", "C"}, {"name", "Org C"}});
  const auto contact = h_->live_by("contacts", "email").at("y@a.io").id;
  auto unlabelled = crm.association_type("contacts", "companies", "");
  ASSERT_TRUE(unlabelled.ok() && unlabelled->has_value());
  ASSERT_TRUE(crm.associate("contacts", "companies", {{contact, company, **unlabelled}}).ok());
  const auto o = every_pass();
  auto staff = h_->pull("staff", o);
  ASSERT_TRUE(staff.ok()) << staff.error().message;
  EXPECT_GE(staff->deferred, 1);  // the sweep's overlap and the pass may both meet it
  EXPECT_EQ(h_->db.scalar("SELECT coalesce(org_id::text, '-') FROM staff WHERE id = 11"), "-");
  state::DeadLetterFilter f;
  f.mapping = "staff";
  f.direction = state::Direction::to_postgres;
  f.status = state::DeadLetterStatus::pending;
  auto letters = h_->store->list_dead_letters(f);
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].category, "PARENT_NOT_SYNCED");
  EXPECT_THAT((*letters)[0].message, ::testing::HasSubstr("orgs object " + company));
  // The company's row arrives (written in Postgres, linked by its code).
  h_->db.exec("INSERT INTO orgs VALUES (3, 'C', 'Org C')");
  ASSERT_TRUE(h_->pull("orgs", o).ok());
  pipeline::Puller retry(h_->mapping("staff"), h_->by_name, *h_->pg, crm, *h_->store, h_->clock,
                         ops::logger("pull"), o);
  auto retried = retry.retry_dead_letters(true);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(*retried, 1);
  EXPECT_EQ(h_->db.scalar("SELECT org_id FROM staff WHERE id = 11"), "3");
  EXPECT_TRUE(h_->store->list_dead_letters(f)->empty());
}

// Both sides moved the contact: Postgres cleared its company, HubSpot moved
// it to B. HubSpot keeps no time for associations, so `newest` lets
// Postgres's change win; the conflict is recorded, and the push that follows
// takes the contact off B.
TEST_F(AssocPull, AForeignKeyChangedOnBothSidesIsAConflictRecordedAndPostgresWins) {
  if (!h_) return;
  auto orgs = h_->live_by("companies", "org_code");
  const auto x = h_->live_by("contacts", "email").at("x@a.io").id;
  auto& crm = h_->hubspot->crm;
  auto unlabelled = crm.association_type("contacts", "companies", "");
  ASSERT_TRUE(unlabelled.ok() && unlabelled->has_value());
  ASSERT_TRUE(crm.unassociate_types("contacts", "companies", {{x, orgs.at("A").id, **unlabelled}}).ok());
  ASSERT_TRUE(crm.associate("contacts", "companies", {{x, orgs.at("B").id, **unlabelled}}).ok());
  h_->db.exec("UPDATE staff SET org_id = NULL WHERE id = 10");
  const auto o = every_pass();
  auto r = h_->pull("staff", o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->conflicts, 1);
  EXPECT_EQ(h_->db.scalar("SELECT coalesce(org_id::text, '-') FROM staff WHERE id = 10"), "-");
  auto conflicts = h_->store->list_conflicts("staff", 10);
  ASSERT_TRUE(conflicts.ok());
  ASSERT_EQ(conflicts->size(), 1u);
  const auto& c = conflicts->front();
  EXPECT_EQ(c.field, "assoc:org_id");
  EXPECT_EQ(c.winner, state::Side::postgres);
  EXPECT_EQ(c.hs_value, orgs.at("B").id);
  EXPECT_EQ(c.base_value, orgs.at("A").id);
  EXPECT_THAT(c.rule, ::testing::HasSubstr("newest"));
  push_ok(*h_, "staff");
  auto now = crm.associations("contacts", "companies", {x});
  ASSERT_TRUE(now.ok());
  std::size_t pairs = 0;
  for (const auto& a : *now) pairs += a.to.size();
  EXPECT_EQ(pairs, 0u);  // off B, as Postgres says
  auto again = h_->pull("staff", o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->conflicts, 0);
  EXPECT_EQ(h_->db.scalar("SELECT coalesce(org_id::text, '-') FROM staff WHERE id = 10"), "-");
}

// The old parent is deleted in HubSpot (its row stays: `deletes: ignore`)
// while the contact moves to another company: the move is still followed.
TEST(Reconcile, AMoveAwayFromACompanyDeletedInHubSpotIsFollowed) {
  HUBSYNC_REQUIRE_PG(server);
  std::string orgs = kOrgs;
  orgs.replace(orgs.find("fields:"), 0, "deletes: ignore\n");
  auto h = quick_harness(server, kOrgsSql, {orgs, kStaff});
  h->create_text_property("companies", "org_code", true);
  h->db.exec("INSERT INTO orgs VALUES (1, 'A', 'Org A'), (2, 'B', 'Org B');"
             "INSERT INTO staff VALUES (10, 'x@a.io', 1)");
  h->migrate();
  for (const char* m : {"orgs", "staff"}) push_ok(*h, m);
  auto companies = h->live_by("companies", "org_code");
  const std::string contact = h->live_by("contacts", "email").at("x@a.io").id;
  auto& crm = h->hubspot->crm;
  auto unlabelled = crm.association_type("contacts", "companies", "");
  ASSERT_TRUE(unlabelled.ok() && unlabelled->has_value());
  h->sim.ui_delete("companies", companies.at("A").id);
  ASSERT_TRUE(crm.associate("contacts", "companies", {{contact, companies.at("B").id, **unlabelled}}).ok());
  const auto o = every_pass();
  ASSERT_TRUE(h->pull("orgs", o).ok());
  auto r = h->pull("staff", o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(h->db.scalar("SELECT org_id FROM staff WHERE id = 10"), "2");
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM orgs"), "2");  // ignore: the row stays
}

TEST(Reconcile, PushAndPullOfOneMappingNeverRunAtOnce) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text)",
                         {"name: people\npostgres: {table: public.people, key: id}\nhubspot: {object: contacts, match: email}\n"
                          "fields:\n  - {column: email, property: email}\n  - {column: name, property: firstname}\n"});
  h->migrate();
  // Another session holds the mapping (a pusher between its read and its write).
  postgres::PgDatabase other(h->db.dsn(), ops::logger("postgres"));
  ASSERT_TRUE(other.lock_mapping("people").ok());
  auto pull = h->pull("people");
  ASSERT_FALSE(pull.ok());
  EXPECT_EQ(pull.error().kind, model::ErrorKind::conflict);
  auto push = h->push("people");
  ASSERT_FALSE(push.ok());
  EXPECT_EQ(push.error().kind, model::ErrorKind::conflict);
}

TEST(Reconcile, AUsersTriggerCascadingAPulledChangeIsStillCaptured) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(
      server,
      "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text);"
      "CREATE TABLE audit (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, note text);"
      "CREATE FUNCTION cascade() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
      "  INSERT INTO audit (email, note) VALUES (NEW.email, NEW.name)"
      "  ON CONFLICT (email) DO UPDATE SET note = EXCLUDED.note; RETURN NULL; END $$;"
      "CREATE TRIGGER people_cascade AFTER INSERT OR UPDATE ON people FOR EACH ROW EXECUTE FUNCTION cascade()",
      {"name: people\npostgres: {table: public.people, key: id}\nhubspot: {object: contacts, match: email}\n"
       "fields:\n  - {column: email, property: email}\n  - {column: name, property: firstname}\n",
       "name: audit\npostgres: {table: public.audit, key: id}\nhubspot: {object: companies, match: domain_note}\n"
       "direction: to_hubspot\nfields:\n  - {column: email, property: domain_note}\n  - {column: note, property: name}\n"});
  h->migrate();
  h->sim.ui_create("contacts", {{"email", "c@x.io"}, {"firstname", "Cee"}});
  EXPECT_EQ(pull_ok(*h, "people").created, 1);
  // The pulled row itself is hubsync's write (not captured); what the
  // user's trigger made of it in another mapped table is a change to push.
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog WHERE mapping = 'people'"), "0");
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog WHERE mapping = 'audit'"), "1");
}

}  // namespace
}  // namespace hubsync::test
