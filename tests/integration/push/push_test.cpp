// Push (Postgres -> HubSpot) end to end: real PostgreSQL, the simulator over
// HTTP, the SQLite state store. Issue 6's proofs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/hubspot/properties.h"
#include "engine/ops/logging.h"
#include "engine/ratelimit/fake_clock.h"
#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kPeopleSql =
    "CREATE TABLE public.people (id bigint PRIMARY KEY, email text, first_name text,"
    " last_name text, city text, notes text, status text DEFAULT 'active')";

constexpr const char* kPeopleMapping = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: to_hubspot
filter:
  postgres: "status <> 'test'"
fields:
  - {column: email, property: email}
  - {column: first_name, property: firstname}
  - {column: last_name, property: lastname}
  - {column: city, property: city}
)";

std::string insert_people(int from, int to) {
  return "INSERT INTO people (id, email, first_name, last_name, city, notes) "
         "SELECT g, 'user' || g || '@example.com', 'First' || g, 'Last' || g, 'City' || (g % 50), 'n' "
         "FROM generate_series(" + std::to_string(from) + ", " + std::to_string(to) + ") g";
}

class PushTest : public ::testing::Test {
 protected:
  void start(sim::SimulatorOptions so = {}) {
    HUBSYNC_REQUIRE_PG(server);
    so.rate_limits = false;
    h_ = std::make_unique<PushHarness>(server, kPeopleSql, std::vector<std::string>{kPeopleMapping}, so);
  }
  pipeline::PushStats push_ok(const std::string& mapping = "people") {
    auto r = h_->push(mapping);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : pipeline::PushStats{};
  }
  // The simulator holds exactly the mapped rows of the table, once each.
  void expect_hubspot_equals_table() {
    auto live = h_->live_by("contacts", "email");
    auto rows = h_->db.scalar("SELECT count(*) FROM people WHERE status <> 'test'");
    EXPECT_EQ(std::to_string(live.size()), rows);
    std::string sample = h_->db.scalar(
        "SELECT coalesce(string_agg(email || '|' || first_name || '|' || last_name || '|' || city,"
        " ',' ORDER BY id), '') FROM people WHERE status <> 'test'");
    std::size_t checked = 0;
    std::size_t start = 0;
    while (start < sample.size()) {
      auto end = sample.find(',', start);
      if (end == std::string::npos) end = sample.size();
      std::string rec = sample.substr(start, end - start);
      auto p1 = rec.find('|'), p2 = rec.find('|', p1 + 1), p3 = rec.find('|', p2 + 1);
      const std::string email = rec.substr(0, p1);
      auto it = live.find(email);
      if (it == live.end()) {
        ADD_FAILURE() << "missing in HubSpot: " << email;
      } else {
        EXPECT_EQ(it->second.props["firstname"], rec.substr(p1 + 1, p2 - p1 - 1)) << email;
        EXPECT_EQ(it->second.props["lastname"], rec.substr(p2 + 1, p3 - p2 - 1)) << email;
        EXPECT_EQ(it->second.props["city"], rec.substr(p3 + 1)) << email;
      }
      ++checked;
      start = end + 1;
    }
    EXPECT_EQ(checked, live.size());
  }

  std::unique_ptr<PushHarness> h_;
};

TEST_F(PushTest, InitialLoadOf10000RowsLandsExactlyAndCostsNothingTheSecondTime) {
  start();
  if (!h_) return;  // skipped or failed: no database
  h_->db.exec(insert_people(1, 10000));
  h_->migrate();
  auto stats = push_ok();
  EXPECT_EQ(stats.created, 10000);
  EXPECT_EQ(h_->calls("batch/upsert"), 100);
  expect_hubspot_equals_table();

  h_->sim.reset_counters();
  auto again = push_ok();
  EXPECT_EQ(again.pushed(), 0);
  EXPECT_EQ(h_->calls("/crm/"), 0);
}

TEST_F(PushTest, Updating250RowsCostsThreeBatchCallsAndNoOpTouchesCostNone) {
  start();
  if (!h_) return;  // skipped or failed: no database
  h_->db.exec(insert_people(1, 1000));
  h_->migrate();
  push_ok();
  h_->sim.reset_counters();

  h_->db.exec("UPDATE people SET city = 'Moved' WHERE id <= 250");
  auto stats = push_ok();
  EXPECT_EQ(stats.updated, 250);
  EXPECT_EQ(h_->calls("batch/update"), 3);
  EXPECT_EQ(h_->calls("/crm/"), 3);
  expect_hubspot_equals_table();

  h_->sim.reset_counters();
  // notes is unmapped, but the mapping has a filter, so capture watches every
  // column (the filter may read any): captured, and it costs no call either.
  h_->db.exec("UPDATE people SET notes = 'unmapped column' WHERE id <= 500");
  h_->db.exec("UPDATE people SET city = 'Tmp' WHERE id <= 100");
  h_->db.exec("UPDATE people SET city = 'Moved' WHERE id <= 100");  // back to what HubSpot has
  auto touched = push_ok();
  EXPECT_EQ(touched.pushed(), 0);
  EXPECT_EQ(touched.unchanged, 500);
  EXPECT_EQ(h_->calls("/crm/"), 0);
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM hubsync.changelog"), "0");
  // One captured change per row for notes, two for city (to Tmp and back),
  // all archived as unchanged.
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM hubsync.changelog_archive WHERE outcome = 'unchanged'"), "700");
}

// PushOptions::yield is asked between changelog rounds, never before the
// first: a pass told to yield sends one wave, says `more` and leaves the rest
// in the changelog for the next pass, which sends it once.
TEST_F(PushTest, APassThatYieldsSendsOneWaveAndLeavesTheRestForTheNext) {
  start();
  if (!h_) return;  // skipped or failed: no database
  h_->db.exec(insert_people(1, 300));
  h_->migrate();
  push_ok();
  h_->db.exec("UPDATE people SET city = 'Moved' WHERE id <= 250");
  int asked = 0;
  pipeline::PushOptions o;
  o.wave = 100;
  o.yield = [&] { return ++asked > 0; };
  auto first = h_->push("people", o);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(asked, 1);
  EXPECT_TRUE(first->more);
  EXPECT_EQ(first->updated, 100);
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM hubsync.changelog"), "150");
  auto rest = push_ok();
  EXPECT_FALSE(rest.more);
  EXPECT_EQ(rest.updated, 150);
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM hubsync.changelog"), "0");
  expect_hubspot_equals_table();
}

// A permit's slot is held until its answer could still come: never freed
// before the transport's own timeout has passed.
TEST(LimiterSettings, APermitOutlivesTheTransportTimeout) {
  config::Config cfg;
  EXPECT_EQ(cli::limiter_config(cfg).settle_within, std::chrono::seconds(120));
  cfg.hubspot.timeout_ms = 300'000;
  EXPECT_EQ(cli::limiter_config(cfg).settle_within, std::chrono::seconds(360));
  cfg.rate_limit.tier = 250;
  EXPECT_EQ(cli::limiter_config(cfg).burst_limit, 250);
}

TEST_F(PushTest, ChangedEmailUpdatesTheSameContact) {
  start();
  if (!h_) return;  // skipped or failed: no database
  h_->db.exec(insert_people(1, 3));
  h_->migrate();
  push_ok();
  auto before = h_->live_by("contacts", "email");
  const std::string id = before.at("user2@example.com").id;
  h_->db.exec("UPDATE people SET email = 'renamed@example.com' WHERE id = 2");
  auto stats = push_ok();
  EXPECT_EQ(stats.updated, 1);
  auto after = h_->live_by("contacts", "email");
  EXPECT_EQ(after.size(), 3u);
  EXPECT_EQ(after.at("renamed@example.com").id, id);
}

TEST_F(PushTest, DeletesArchiveAndFilteredRowsStayOut) {
  start();
  if (!h_) return;  // skipped or failed: no database
  h_->db.exec(insert_people(1, 50));
  h_->db.exec("UPDATE people SET status = 'test' WHERE id > 45");
  h_->migrate();
  auto first = push_ok();
  EXPECT_EQ(first.created, 45);
  EXPECT_EQ(first.filtered, 5);
  h_->sim.reset_counters();
  h_->db.exec("DELETE FROM people WHERE id <= 10");
  auto stats = push_ok();
  EXPECT_EQ(stats.archived, 10);
  EXPECT_EQ(h_->calls("batch/archive"), 1);
  int archived = 0;
  for (const auto& o : h_->dump("contacts")) archived += o.archived;
  EXPECT_EQ(archived, 10);
  expect_hubspot_equals_table();
}

TEST_F(PushTest, AnInvalidEmailIsDeadLetteredWhileTheOther99Land) {
  start();
  if (!h_) return;  // skipped or failed: no database
  h_->db.exec(insert_people(1, 100));
  h_->db.exec("UPDATE people SET email = 'not-an-email' WHERE id = 50");
  h_->migrate();
  auto stats = push_ok();
  EXPECT_EQ(stats.created, 99);
  EXPECT_EQ(stats.dead_lettered, 1);
  EXPECT_EQ(h_->live_by("contacts", "email").size(), 99u);
  state::DeadLetterFilter filter;
  auto dead = h_->store->list_dead_letters(filter);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().pg_key, "50");
  EXPECT_EQ(dead->front().http_status, 400);
  EXPECT_EQ(dead->front().category, "VALIDATION_ERROR");
  EXPECT_THAT(dead->front().message, HasSubstr("not-an-email"));
  EXPECT_THAT(dead->front().payload_json, HasSubstr("not-an-email"));

  // The operator fixes the row; the retry pushes it.
  h_->db.exec("UPDATE people SET email = 'fixed50@example.com' WHERE id = 50");
  auto fixed = push_ok();
  EXPECT_EQ(fixed.created, 1);
  EXPECT_EQ(h_->live_by("contacts", "email").size(), 100u);
  auto after = h_->store->list_dead_letters({});
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty()) << "a row that synced keeps no dead letter";
}

TEST_F(PushTest, ConvergesUnderServerErrorsRateLimitsAndDroppedConnections) {
  start();
  if (!h_) return;  // skipped or failed: no database
  h_->db.exec(insert_people(1, 10000));
  h_->migrate();
  // Random faults on every CRM call, plus one certain 429 and one certain
  // dropped connection so each kind is exercised whatever the dice say.
  sim::FaultRule random;
  random.route = "/crm/*";
  random.pct_500 = 5;
  random.pct_429 = 2;
  random.pct_drop = 2;
  random.pct_reset = 1;
  sim::FaultRule one_429;
  one_429.route = "/crm/*";
  one_429.pct_429 = 100;
  one_429.remaining = 1;
  sim::FaultRule one_drop;
  one_drop.route = "/crm/*";
  one_drop.pct_drop = 100;
  one_drop.remaining = 1;
  h_->sim.set_faults({random, one_429, one_drop});

  auto converge = [&] {
    for (int run = 0; run < 10; ++run) {
      push_ok();
      if (h_->db.scalar("SELECT count(*) FROM hubsync.changelog") == "0") return;
      // Rows released after a transient failure wait out a delay; skip it.
      h_->db.exec("UPDATE hubsync.changelog SET claimed_until = NULL");
    }
  };
  converge();
  h_->db.exec("UPDATE people SET city = 'Changed' WHERE id % 7 = 0");
  h_->db.exec("UPDATE people SET email = 'moved' || id || '@example.com' WHERE id % 13 = 0");
  h_->db.exec("DELETE FROM people WHERE id % 11 = 0");
  converge();
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM hubsync.changelog"), "0");

  std::map<int, std::int64_t> by_status;
  for (const auto& [route, statuses] : h_->sim.counters().requests)
    for (const auto& [status, n] : statuses) by_status[status] += n;
  EXPECT_GT(by_status[500], 0);
  EXPECT_GT(by_status[429], 0);
  EXPECT_GT(by_status[0], 0);  // connections closed without an answer
  h_->sim.set_faults({});
  expect_hubspot_equals_table();
}

}  // namespace
}  // namespace hubsync::test

namespace hubsync::test {
namespace {

constexpr const char* kOrgSql =
    "CREATE TABLE public.orgs (id bigint PRIMARY KEY, code text NOT NULL, name text);"
    "CREATE TABLE public.staff (id bigint PRIMARY KEY, email text NOT NULL, org_id bigint);";
constexpr const char* kOrgMapping = R"(name: orgs
postgres: {table: public.orgs, key: id}
hubspot: {object: companies, match: org_code}
direction: to_hubspot
fields:
  - {column: code, property: org_code}
  - {column: name, property: name}
)";

std::string staff_mapping(const std::string& type) {
  return "name: staff\n"
         "postgres: {table: public.staff, key: id}\n"
         "hubspot: {object: contacts, match: email}\n"
         "direction: to_hubspot\n"
         "fields:\n  - {column: email, property: email}\n"
         "associations:\n  - {column: org_id, to: orgs" + type + "}\n";
}

class AssociationPushTest : public ::testing::Test {
 protected:
  void start(const std::string& type) {
    HUBSYNC_REQUIRE_PG(server);
    sim::SimulatorOptions so;
    so.rate_limits = false;
    h_ = std::make_unique<PushHarness>(server, kOrgSql,
                                       std::vector<std::string>{kOrgMapping, staff_mapping(type)}, so);
    h_->create_text_property("companies", "org_code", true);
  }
  std::vector<std::string> companies_of(const std::string& email) {
    auto contacts = h_->live_by("contacts", "email");
    auto a = h_->hubspot->crm.associations("contacts", "companies", {contacts.at(email).id});
    EXPECT_TRUE(a.ok());
    std::vector<std::string> out;
    if (a.ok() && !a->empty())
      for (const auto& t : a->front().to) out.push_back(t.to_id);
    return out;
  }
  std::unique_ptr<PushHarness> h_;
};

TEST_F(AssociationPushTest, ChildPushedBeforeItsParentWaitsAndFollowsAForeignKeyChange) {
  start("");
  if (!h_) return;  // skipped or failed: no database
  h_->db.exec("INSERT INTO orgs VALUES (1, 'A', 'Org A'), (2, 'B', 'Org B');"
              "INSERT INTO staff VALUES (10, 'x@a.example', 1);");
  h_->migrate();
  // Child first: the association waits in the changelog, the contact lands.
  auto child = h_->push("staff");
  ASSERT_TRUE(child.ok()) << child.error().message;
  EXPECT_EQ(child->created, 1);
  EXPECT_EQ(child->deferred, 1);
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM hubsync.changelog WHERE mapping = 'staff'"), "1");

  ASSERT_TRUE(h_->push("orgs").ok());
  h_->db.exec("UPDATE hubsync.changelog SET claimed_until = NULL");  // skip the wait
  auto later = h_->push("staff");
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(later->associations, 1);
  const auto orgs = h_->live_by("companies", "org_code");
  EXPECT_EQ(companies_of("x@a.example"), std::vector<std::string>{orgs.at("A").id});

  // Moving the row to another org moves the association.
  h_->db.exec("UPDATE staff SET org_id = 2 WHERE id = 10");
  auto moved = h_->push("staff");
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(companies_of("x@a.example"), std::vector<std::string>{orgs.at("B").id});
  EXPECT_EQ(moved->pushed(), 0);  // no property changed: only the association
}

TEST_F(AssociationPushTest, AnAssociationHubSpotRefusesIsDeadLetteredNotDropped) {
  start(", type: 987654");  // no such association type
  h_->db.exec("INSERT INTO orgs VALUES (1, 'A', 'Org A'); INSERT INTO staff VALUES (10, 'x@a.example', 1);");
  h_->migrate();
  ASSERT_TRUE(h_->push("orgs").ok());
  auto r = h_->push("staff");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->created, 1);
  EXPECT_EQ(r->dead_lettered, 1);
  auto dead = h_->store->list_dead_letters({});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().pg_key, "10");
  EXPECT_THAT(dead->front().payload_json, HasSubstr("org_id"));
}

}  // namespace
}  // namespace hubsync::test

namespace hubsync::test {
namespace {

TEST_F(PushTest, DueDeadLettersAreRetriedOnALaterRunWithBackoff) {
  start();
  if (!h_) return;
  h_->db.exec(insert_people(1, 5));
  h_->db.exec("UPDATE people SET email = 'broken' WHERE id = 3");
  h_->migrate();
  // A clock the test moves: dead letters fall due on it, not on the wall.
  ratelimit::FakeClock clock(h_->clock.wall_ms());
  auto pusher = [&] {
    return pipeline::Pusher(h_->mapping("people"), h_->by_name, *h_->pg, h_->hubspot->crm, *h_->store,
                            clock, ops::logger("push"));
  };
  auto first = pusher().run();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->dead_lettered, 1);

  // Fix the row without a captured change, so only the dead-letter retry
  // can bring it to HubSpot.
  h_->db.exec("BEGIN; SET LOCAL hubsync.origin = 'hubsync'; "
              "UPDATE people SET email = 'fixed3@example.com' WHERE id = 3; COMMIT;");
  auto not_yet = pusher().requeue_dead_letters(false);
  ASSERT_TRUE(not_yet.ok());
  EXPECT_EQ(*not_yet, 0);  // the first retry waits a minute

  clock.advance(std::chrono::minutes(2));
  auto due = pusher().requeue_dead_letters(false);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, 1);
  auto retried = pusher().run();
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->created, 1);
  EXPECT_EQ(h_->live_by("contacts", "email").size(), 5u);
  auto left = h_->store->list_dead_letters({});
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

}  // namespace
}  // namespace hubsync::test

namespace hubsync::test {
namespace {

TEST(PushValues, AnUnreadableValueDeadLettersItsRowOnlyAndTimestampsTravelExactly) {
  HUBSYNC_REQUIRE_PG(server);
  sim::SimulatorOptions so;
  so.rate_limits = false;
  PushHarness h(server,
                "CREATE TABLE public.visits (id int PRIMARY KEY, email text NOT NULL, seen_at timestamptz,"
                " score float8)",
                {R"(name: visits
postgres: {table: public.visits, key: id}
hubspot: {object: contacts, match: email}
direction: to_hubspot
fields:
  - {column: email, property: email}
  - {column: seen_at, property: seen_at, type: datetime}
  - {column: score, property: score, type: decimal}
)"},
                so);
  h.create_property("contacts", "seen_at", "datetime", "date");
  h.create_property("contacts", "score", "number", "number");
  h.db.exec("SET TIME ZONE 'America/New_York';"  // the writer's zone must not matter
            "INSERT INTO visits VALUES (1, 'a@x.example', '2024-03-01 07:00:00.123-05', 1.25),"
            " (2, 'b@x.example', 'infinity', 2), (3, 'c@x.example', NULL, 'NaN'),"
            " (4, 'd@x.example', '1999-12-31 23:59:59.999+00', 0.1)");
  h.migrate();
  auto r = h.push("visits");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->created, 2);
  EXPECT_EQ(r->dead_lettered, 2);
  auto dead = h.store->list_dead_letters({});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 2u);
  std::string messages;
  for (const auto& d : *dead) messages += d.pg_key + ": " + d.message + "\n";
  EXPECT_THAT(messages, HasSubstr("seen_at"));
  EXPECT_THAT(messages, HasSubstr("score"));

  auto live = h.live_by("contacts", "email");
  ASSERT_EQ(live.size(), 2u);
  auto seen = model::parse_datetime(live.at("a@x.example").props.at("seen_at"));
  ASSERT_TRUE(seen.ok()) << live.at("a@x.example").props.at("seen_at");
  EXPECT_EQ(model::format_datetime(*seen), "2024-03-01T12:00:00.123Z");
  EXPECT_EQ(live.at("a@x.example").props.at("score"), "1.25");
  auto late = model::parse_datetime(live.at("d@x.example").props.at("seen_at"));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(model::format_datetime(*late), "1999-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace hubsync::test
