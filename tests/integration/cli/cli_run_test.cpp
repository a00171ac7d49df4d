// `hubsync run --once` as a cron job sees it: the exit code and what it says
// when a dependency is down, and that nothing captured is lost meanwhile.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <rapidjson/document.h>

#include "tests/integration/push/push_harness.h"
#include "tests/support/process.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPeople = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: to_hubspot
fields:
  - {column: email, property: email}
  - {column: name, property: firstname}
)";

CommandOutput run_cli(const fs::path& config, const std::string& args) {
  return run_command("'" HUBSYNC_BIN "' --config '" + config.string() + "' " + args);
}

TEST(CliRun, AnUnreachableHubSpotExits2NamingItAndLosesNothing) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                         "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, name text);"
                         "INSERT INTO people SELECT g, 'p' || g || '@x.io', 'P' FROM generate_series(1, 3) g",
                         {kPeople});
  fs::create_directories(h->dir / "mappings");
  std::ofstream(h->dir / "mappings" / "people.yaml") << kPeople;
  const fs::path config = h->dir / "hubsync.yaml";
  std::string yaml = h->config_yaml();
  // A cron job that gives HubSpot 3 s before leaving work for the next run.
  yaml = std::regex_replace(yaml, std::regex("portal_id: 62515,"), "portal_id: 62515, retry_for_s: 3,");
  std::ofstream(config) << yaml;
  ASSERT_EQ(run_cli(config, "migrate").code, 0);

  // HubSpot goes away: its port refuses connections.
  const std::string url = h->sim.base_url();
  h->sim.stop();
  h->db.exec("INSERT INTO people VALUES (4, 'p4@x.io', 'P')");
  auto down = run_cli(config, "run --once");
  EXPECT_EQ(down.code, 2) << down.out;
  EXPECT_THAT(down.out, HasSubstr("HubSpot unreachable"));
  EXPECT_THAT(down.out, HasSubstr("wait for a later run"));
  EXPECT_EQ(h->db.scalar("SELECT count(*) >= 4 FROM hubsync.changelog"), "t") << down.out;

  // It comes back (a new simulator, the config pointed at it): all of it lands.
  sim::SimulatorOptions so;
  so.rate_limits = false;
  so.index_lag_ms = 0;
  sim::Simulator back(so);
  back.start();
  const std::string text = std::regex_replace(yaml, std::regex(url), back.base_url());
  std::ofstream(config) << text;
  h->db.exec("UPDATE hubsync.changelog SET claimed_until = NULL");  // skip the retry delay
  auto up = run_cli(config, "run --once");
  EXPECT_EQ(up.code, 0) << up.out;
  int live = 0;
  const std::string dump = back.dump_json("contacts");
  for (int i = 1; i <= 4; ++i) live += dump.find("p" + std::to_string(i) + "@x.io") != std::string::npos;
  EXPECT_EQ(live, 4) << up.out;
}

constexpr const char* kTwoWay = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: both
conflict: hubspot
fields:
  - {column: email, property: email}
  - {column: name, property: firstname}
)";

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

constexpr const char* kPeopleTable =
    "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text);";

// A harness with the two-way `people` mapping (`sql` makes the table) and
// the config file a `hubsync` process reads, migrated.
std::pair<std::unique_ptr<PushHarness>, fs::path> two_way_cli(const std::string& server, const std::string& sql) {
  auto h = quick_harness(server, sql, {kTwoWay});
  fs::create_directories(h->dir / "mappings");
  std::ofstream(h->dir / "mappings" / "people.yaml") << kTwoWay;
  fs::path config = h->dir / "hubsync.yaml";
  std::ofstream(config) << h->config_yaml();
  EXPECT_EQ(run_cli(config, "migrate").code, 0);
  return {std::move(h), config};
}

TEST(CliRun, BothWaysWithAConflictListedByRuleAndAPrunedArchive) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, config] = two_way_cli(server, std::string(kPeopleTable) + "INSERT INTO people (email, name) VALUES ('a@x.io', 'A'), ('pg@x.io', 'Pg')");
  h->sim.ui_create("contacts", {{"email", "hs@x.io"}, {"firstname", "Hs"}});
  auto first = run_cli(config, "run --once");
  ASSERT_EQ(first.code, 0) << first.out;
  EXPECT_THAT(first.out, HasSubstr("people (to_postgres): created 1"));
  EXPECT_THAT(first.out, HasSubstr("people (to_hubspot): created 2"));
  // The same field changed on both sides: the mapping's rule (hubspot) decides.
  h->db.exec("UPDATE people SET name = 'A from Postgres' WHERE email = 'a@x.io';"
             "UPDATE hubsync.settings SET value = '0 seconds' WHERE key = 'archive_retention'");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  h->sim.ui_edit("contacts", h->live_by("contacts", "email").at("a@x.io").id, {{"firstname", "A from HubSpot"}});
  auto second = run_cli(config, "run --once");
  ASSERT_EQ(second.code, 0) << second.out;
  EXPECT_THAT(second.out, HasSubstr("conflicts 1"));
  EXPECT_EQ(h->db.scalar("SELECT name FROM people WHERE email = 'a@x.io'"), "A from HubSpot");
  EXPECT_EQ(h->live_by("contacts", "email").at("a@x.io").props["firstname"], "A from HubSpot");
  // Processed changes older than the retention are pruned by the run.
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog_archive"), "0");

  auto listed = run_cli(config, "conflicts list --since 1h");
  EXPECT_EQ(listed.code, 0) << listed.out;
  EXPECT_THAT(listed.out, HasSubstr("field=name"));
  EXPECT_THAT(listed.out, HasSubstr("postgres 'A from Postgres', hubspot 'A from HubSpot'"));
  EXPECT_THAT(listed.out, HasSubstr("hubspot won (rule: hubspot)"));
  auto json = run_cli(config, "conflicts list --json");
  EXPECT_THAT(json.out, HasSubstr("\"rule\":\"hubspot\""));
  EXPECT_THAT(json.out, HasSubstr("\"winner\":\"hubspot\""));
  for (const auto& o : {listed.out, json.out, first.out, second.out}) EXPECT_THAT(o, Not(HasSubstr(sim::kHubsyncToken)));
  EXPECT_EQ(run_cli(config, "conflicts list --since 1x").code, 2);
}

// `--direction` limits a run to one way, the other way's work waiting for a
// later run; a row Postgres refuses is a to_postgres dead letter that
// `dead-letters retry` brings back once the table is fixed.
TEST(CliRun, DirectionLimitsTheRunAndAToPostgresLetterIsRetriedFromTheCli) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, config] = two_way_cli(server,
                                 "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE,"
                                 " name text CONSTRAINT no_bots CHECK (name <> 'bot'));"
                                 "INSERT INTO people (email, name) VALUES ('a@x.io', 'A'), ('b@x.io', 'B')");
  ASSERT_EQ(run_cli(config, "run --once").code, 0);
  auto name_pg = [&](const char* email) {
    return h->db.scalar(std::string("SELECT name FROM people WHERE email = '") + email + "'");
  };
  auto name_hs = [&](const char* email) { return h->live_by("contacts", "email").at(email).props["firstname"]; };

  h->db.exec("UPDATE people SET name = 'A2' WHERE email = 'a@x.io'");
  h->sim.ui_edit("contacts", h->live_by("contacts", "email").at("b@x.io").id, {{"firstname", "B2"}});
  h->sim.reset_counters();
  auto pull_only = run_cli(config, "run --once --direction to_postgres");
  EXPECT_EQ(h->calls("batch/update") + h->calls("batch/upsert") + h->calls("batch/archive"), 0);
  ASSERT_EQ(pull_only.code, 0) << pull_only.out;
  EXPECT_THAT(pull_only.out, HasSubstr("people (to_postgres): created 0, updated 1"));
  EXPECT_THAT(pull_only.out, Not(HasSubstr("(to_hubspot)")));
  EXPECT_EQ(name_pg("b@x.io"), "B2");
  EXPECT_EQ(name_hs("a@x.io"), "A");  // waits for a run that pushes
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog"), "1");
  auto push_only = run_cli(config, "run --once --direction to_hubspot");
  ASSERT_EQ(push_only.code, 0) << push_only.out;
  EXPECT_THAT(push_only.out, HasSubstr("people (to_hubspot): created 0, updated 1"));
  EXPECT_THAT(push_only.out, Not(HasSubstr("(to_postgres)")));
  EXPECT_EQ(name_hs("a@x.io"), "A2");

  // Postgres refuses HubSpot's value: exit 3, a to_postgres letter naming
  // the constraint; fixed and retried from the CLI, it lands and resolves.
  h->sim.ui_edit("contacts", h->live_by("contacts", "email").at("b@x.io").id, {{"firstname", "bot"}});
  auto refused = run_cli(config, "run --once");
  EXPECT_EQ(refused.code, 3) << refused.out;
  auto listed = run_cli(config, "dead-letters list");
  EXPECT_THAT(listed.out, HasSubstr("people  to_postgres"));
  EXPECT_THAT(listed.out, HasSubstr("no_bots"));
  const auto hash = listed.out.find('#');
  ASSERT_NE(hash, std::string::npos);
  const std::string id = listed.out.substr(hash + 1, listed.out.find(' ', hash) - hash - 1);
  h->db.exec("ALTER TABLE people DROP CONSTRAINT no_bots");
  auto retried = run_cli(config, "dead-letters retry " + id);
  EXPECT_EQ(retried.code, 0) << retried.out;
  auto after = run_cli(config, "run --once");
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_EQ(name_pg("b@x.io"), "bot");
  EXPECT_THAT(run_cli(config, "dead-letters list").out, HasSubstr("no dead letters"));

  // More letters than the list shows: it says so.
  std::vector<std::map<std::string, std::string>> bots;
  for (int i = 0; i < 1001; ++i) bots.push_back({{"email", "bot" + std::to_string(i) + "@x.io"}, {"firstname", "bot"}});
  h->db.exec("ALTER TABLE people ADD CONSTRAINT no_bots CHECK (name <> 'bot') NOT VALID");  // b stays a bot
  h->sim.ui_bulk_import("contacts", bots, h->clock.wall_ms());
  EXPECT_EQ(run_cli(config, "run --once").code, 3);
  auto many = run_cli(config, "dead-letters list");
  EXPECT_EQ(many.code, 0);
  EXPECT_THAT(many.out, HasSubstr("(the first 1000 only: there are more; `hubsync status` counts them"));
  EXPECT_EQ(std::count(many.out.begin(), many.out.end(), '#'), 1000);
}

// A two-way mapping pushed before its first pull (the backfill) reads its
// rows' objects by match value first: a row is never upserted over the
// contact HubSpot already has, its differing values overwritten whatever
// the rule. The merge decides them, by the rule, and records the conflict.
TEST(CliRun, AFirstPushBeforeTheBackfillLetsTheRuleDecideWhatBothSidesHave) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, config] = two_way_cli(server, std::string(kPeopleTable) + "INSERT INTO people (email, name) VALUES ('a@x.io', 'A'), ('new@x.io', 'N')");
  h->sim.ui_create("contacts", {{"email", "a@x.io"}, {"firstname", "Hub A"}});
  auto push_only = run_cli(config, "run --once --direction to_hubspot");
  EXPECT_EQ(push_only.code, 0) << push_only.out;
  EXPECT_THAT(push_only.out, HasSubstr("people (to_hubspot): created 1, updated 1"));
  EXPECT_THAT(push_only.out, HasSubstr("fields left for the pull (HubSpot changed them too and wins) 1"));
  EXPECT_EQ(h->live_by("contacts", "email").at("a@x.io").props["firstname"], "Hub A");
  EXPECT_EQ(h->live_by("contacts", "email").at("new@x.io").props["firstname"], "N");
  auto both = run_cli(config, "run --once");
  EXPECT_EQ(both.code, 0) << both.out;
  EXPECT_EQ(h->db.scalar("SELECT name FROM people WHERE email = 'a@x.io'"), "Hub A");  // the rule: hubspot
  EXPECT_EQ(h->live_by("contacts", "email").size(), 2u);
  EXPECT_THAT(run_cli(config, "conflicts list").out, HasSubstr("hubspot won (rule: hubspot)"));
}

// A long operation shows its progress: a bar with the rate and the time
// left on a terminal (a pseudo-terminal here, through script(1)), nothing
// for operations over within a moment.
TEST(CliRun, APullBackfillShowsABarWithItsRateOnATerminal) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, config] = two_way_cli(server, kPeopleTable);
  std::vector<std::map<std::string, std::string>> rows;
  for (int i = 0; i < 2000; ++i) rows.push_back({{"email", "p" + std::to_string(i) + "@x.io"}, {"firstname", "P"}});
  h->sim.ui_bulk_import("contacts", rows, 0);
  sim::FaultRule slow;  // ~10 pages of ~200 contacts: over a second in all
  slow.latency_min_ms = 150;
  slow.latency_max_ms = 200;
  h->sim.set_faults({slow});
  auto out = run_command("script -qec \"'" HUBSYNC_BIN "' --config '" + config.string() + "' run --once\" /dev/null");
  EXPECT_EQ(out.code, 0) << out.out;
  EXPECT_THAT(out.out, HasSubstr("pull backfill people ["));
  EXPECT_THAT(out.out, testing::ContainsRegex("pull backfill people \\[#+\\] 2,000/2,000 \\(100%\\) [0-9,]+/s"));
  EXPECT_THAT(out.out, testing::ContainsRegex("about [0-9]+ s left"));  // while it ran
  EXPECT_THAT(out.out, Not(HasSubstr("pull sweep")));
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "2000");
}

// A plan's later reads see its own recorded HubSpot writes, as the run's
// would see them made: the association pass (every run here) re-reads an
// object whose Postgres edit the pull had just written back, and must not
// take HubSpot's old value for a change that reverts the edit.
TEST(CliRun, PlanReadsItsOwnHubSpotWritesAsTheRunWouldSeeThem) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, config] = two_way_cli(server, std::string(kPeopleTable) + "INSERT INTO people (email, name) VALUES ('a@x.io', 'A')");
  std::ofstream(config, std::ios::app) << "pull: {association_pass_every_s: 0}\n";
  ASSERT_EQ(run_cli(config, "run --once").code, 0);
  ASSERT_EQ(run_cli(config, "run --once").code, 0);
  h->db.exec("UPDATE people SET name = 'A2' WHERE email = 'a@x.io'");
  auto plan = run_cli(config, "plan --show-values");
  ASSERT_EQ(plan.code, 0) << plan.out;
  EXPECT_THAT(plan.out, Not(HasSubstr("name \"A2\" -> \"A\""))) << plan.out;
  EXPECT_THAT(plan.out, testing::ContainsRegex("to HubSpot:  update contacts [0-9]+: firstname \"A\" -> \"A2\"")) << plan.out;
  ASSERT_EQ(run_cli(config, "run --once").code, 0);
  EXPECT_EQ(h->db.scalar("SELECT name FROM people"), "A2");
}

// `plan` says what `run --once` would do, both ways, with field-level
// samples, and provably writes nothing: HubSpot's write counters, the
// changelog (claims and leases included), the table and the state file are
// as they were. The run that follows does what it said.
TEST(CliRun, PlanShowsWhatRunWouldDoBothWaysAndWritesNothing) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, config] = two_way_cli(server, std::string(kPeopleTable) +
                                             "INSERT INTO people (email, name) VALUES ('a@x.io', 'A'), ('b@x.io', 'B')");
  ASSERT_EQ(run_cli(config, "run --once").code, 0);
  h->db.exec("UPDATE people SET name = 'A2' WHERE email = 'a@x.io'; INSERT INTO people (email, name) VALUES ('c@x.io', 'C')");
  h->sim.ui_edit("contacts", h->live_by("contacts", "email").at("b@x.io").id, {{"firstname", "B2"}});
  h->sim.ui_create("contacts", {{"email", "d@x.io"}, {"firstname", "D"}});
  const fs::path state = h->dir / "cli-state.db";
  ASSERT_TRUE(fs::exists(state));
  auto snapshot = [&] {
    return h->db.scalar("SELECT coalesce(string_agg(id || ':' || coalesce(claimed_by, '-') || ':' || attempts, ',' ORDER BY id), '')"
                        " FROM hubsync.changelog") + "|" +
           h->db.scalar("SELECT count(*) FROM hubsync.leases") + "|" +
           h->db.scalar("SELECT string_agg(email || '=' || coalesce(name, ''), ',' ORDER BY email) FROM people") + "|" +
           file_bytes(state);
  };
  const std::string before = snapshot();
  h->sim.reset_counters();

  auto plan = run_cli(config, "plan --show-values");
  ASSERT_EQ(plan.code, 0) << plan.out;
  EXPECT_THAT(plan.out, HasSubstr("people (to_postgres): Postgres 1 create, 1 update"));
  EXPECT_THAT(plan.out, HasSubstr("to Postgres: update public.people id=2: name \"B\" -> \"B2\""));
  EXPECT_THAT(plan.out, HasSubstr("to Postgres: create public.people id=(new 1): email \"d@x.io\", name \"D\""));
  EXPECT_THAT(plan.out, HasSubstr("to HubSpot:  create contacts email=c@x.io: email \"c@x.io\", firstname \"C\""));
  EXPECT_THAT(plan.out, testing::ContainsRegex("to HubSpot:  update contacts [0-9]+: firstname \"A\" -> \"A2\""));
  EXPECT_THAT(plan.out, HasSubstr("plan: nothing was written"));
  auto hidden = run_cli(config, "plan --direction to_postgres --limit 1");
  EXPECT_EQ(hidden.code, 0) << hidden.out;
  EXPECT_THAT(hidden.out, Not(HasSubstr("B2")));  // no values unless asked
  EXPECT_THAT(hidden.out, HasSubstr("... and 1 more to Postgres"));
  EXPECT_THAT(hidden.out, Not(HasSubstr("(to_hubspot)")));
  for (const char* write : {"batch/update", "batch/upsert", "batch/create", "batch/archive", "associations"})
    EXPECT_EQ(h->calls(write), 0) << write;
  EXPECT_TRUE(snapshot() == before) << "plan wrote something";

  auto run = run_cli(config, "run --once");
  ASSERT_EQ(run.code, 0) << run.out;
  EXPECT_EQ(h->db.scalar("SELECT string_agg(email || '=' || name, ',' ORDER BY email) FROM people"),
            "a@x.io=A2,b@x.io=B2,c@x.io=C,d@x.io=D");
  auto live = h->live_by("contacts", "email");
  EXPECT_EQ(live.at("a@x.io").props["firstname"] + live.at("c@x.io").props["firstname"], "A2C");
}

// --- hubsync status: backlog, lag, last success, dead letters, conflicts,
// checkpoints and the HubSpot budget, per mapping and direction; read-only;
// honest when a dependency is down.

// `status` as a script reads it: stdout only (the JSON), stderr dropped.
CommandOutput status_cli(const fs::path& config, const std::string& args) {
  return run_command("('" HUBSYNC_BIN "' --config '" + config.string() + "' " + args + " 2>/dev/null)");
}


// The two-way people mapping's file and `h`'s config written, and
// `migrate` run; the config's path.
fs::path migrated_config(PushHarness& h) {
  fs::create_directories(h.dir / "mappings");
  std::ofstream(h.dir / "mappings" / "people.yaml") << kTwoWay;
  const fs::path config = h.dir / "hubsync.yaml";
  std::ofstream(config) << h.config_yaml();
  EXPECT_EQ(run_cli(config, "migrate").code, 0);
  return config;
}

const rapidjson::Value* find_direction(const rapidjson::Document& d, const char* mapping, const char* dir) {
  for (const auto& m : d["mappings"].GetArray()) {
    if (std::string(m["name"].GetString()) != mapping) continue;
    for (const auto& x : m["directions"].GetArray())
      if (std::string(x["direction"].GetString()) == dir) return &x;
  }
  return nullptr;
}

TEST(CliStatus, ShowsBacklogConflictsAndBudgetPerDirectionAndWritesNothing) {
  HUBSYNC_REQUIRE_PG(server);
  sim::SimulatorOptions so;
  so.index_lag_ms = 0;  // rate limits on: HubSpot's daily headers tell the budget
  auto h = std::make_unique<PushHarness>(
      server, "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text);"
              "INSERT INTO people (email, name) VALUES ('a@x.io', 'A')",
      std::vector<std::string>{kTwoWay}, so);
  const fs::path config = migrated_config(*h);
  auto before_any = status_cli(config, "status --offline");
  EXPECT_EQ(before_any.code, 0) << before_any.out;
  EXPECT_THAT(before_any.out, HasSubstr("nothing has run"));
  ASSERT_EQ(run_cli(config, "run --once").code, 0);
  // One conflict (both sides changed the name; the rule says hubspot).
  h->sim.ui_edit("contacts", h->live_by("contacts", "email").at("a@x.io").id, {{"firstname", "A in HubSpot"}});
  h->db.exec("UPDATE people SET name = 'A in Postgres' WHERE email = 'a@x.io'");
  ASSERT_EQ(run_cli(config, "run --once").code, 0);
  // Two captured changes wait for the next run.
  h->db.exec("INSERT INTO people (email, name) VALUES ('b@x.io', 'B'), ('c@x.io', 'C')");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));

  const auto state_before = file_bytes(h->dir / "cli-state.db");
  const auto writes_before = h->sim.counters().inputs_written;
  const auto changelog_before = h->db.scalar("SELECT count(*) FROM hubsync.changelog");
  auto json = status_cli(config, "status --json");
  ASSERT_EQ(json.code, 0) << json.out;
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(json.out.c_str()).HasParseError()) << json.out;
  EXPECT_EQ(d["version"].GetInt(), 1);
  EXPECT_TRUE(d["postgres"]["reachable"].GetBool());
  EXPECT_TRUE(d["hubspot"]["reachable"].GetBool());
  EXPECT_TRUE(d["state_store"]["reachable"].GetBool());
  ASSERT_TRUE(d["hubspot_daily_budget"]["used"].IsInt64()) << json.out;
  EXPECT_GT(d["hubspot_daily_budget"]["used"].GetInt64(), 3);  // two runs and this probe
  EXPECT_GT(d["hubspot_daily_budget"]["limit"].GetInt64(), d["hubspot_daily_budget"]["used"].GetInt64());
  const auto* out = find_direction(d, "people", "to_hubspot");
  const auto* in = find_direction(d, "people", "to_postgres");
  ASSERT_TRUE(out && in) << json.out;
  EXPECT_EQ((*out)["backlog"].GetInt64(), 2);
  EXPECT_GE((*out)["lag_seconds"].GetDouble(), 1.0);
  EXPECT_TRUE((*out)["last_success"].IsString());
  EXPECT_TRUE((*out)["last_failure"].IsNull());
  EXPECT_EQ((*in)["backlog"].GetInt64(), 0);
  EXPECT_TRUE((*in)["last_success"].IsString());
  const auto& people = d["mappings"][0];
  EXPECT_EQ(people["conflicts_24h"].GetInt64(), 1);
  EXPECT_GE(people["checkpoints"].Size(), 1u) << json.out;
  // Read-only: nothing written to HubSpot, Postgres or the state store.
  EXPECT_EQ(h->sim.counters().inputs_written, writes_before);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog"), changelog_before);
  EXPECT_EQ(file_bytes(h->dir / "cli-state.db"), state_before);

  auto text = status_cli(config, "status");
  EXPECT_EQ(text.code, 0) << text.out;
  EXPECT_THAT(text.out, HasSubstr("people (public.people <-> contacts, direction both)"));
  EXPECT_THAT(text.out, HasSubstr("to_hubspot: backlog 2, lag "));
  EXPECT_THAT(text.out, HasSubstr("conflicts in the last 24 h 1"));
  EXPECT_THAT(text.out, Not(HasSubstr(sim::kHubsyncToken)));

  // A token HubSpot refuses: reachable, but the config's to fix: exit 1.
  std::string yaml = h->config_yaml();
  yaml.replace(yaml.find(sim::kHubsyncToken), std::string(sim::kHubsyncToken).size(), "pat-revoked");
  const fs::path refused_config = h->dir / "refused.yaml";
  std::ofstream(refused_config) << yaml;
  auto refused = status_cli(refused_config, "status --json");
  EXPECT_EQ(refused.code, 1) << refused.out;
  rapidjson::Document rd;
  ASSERT_FALSE(rd.Parse(refused.out.c_str()).HasParseError()) << refused.out;
  EXPECT_TRUE(rd["hubspot"]["reachable"].GetBool());
  EXPECT_TRUE(rd["hubspot"]["refused"].GetBool());
  EXPECT_FALSE(d["hubspot"]["refused"].GetBool());
  auto refused_text = status_cli(refused_config, "status");
  EXPECT_EQ(refused_text.code, 1);
  EXPECT_THAT(refused_text.out, HasSubstr("hubspot: reachable, CREDENTIALS REFUSED (HTTP 401"));
  EXPECT_THAT(refused_text.out, Not(HasSubstr("pat-revoked")));

  // HubSpot goes away: status still reports, says so, and exits 2.
  h->sim.stop();
  auto down = status_cli(config, "status --json");
  EXPECT_EQ(down.code, 2) << down.out;
  rapidjson::Document dd;
  ASSERT_FALSE(dd.Parse(down.out.c_str()).HasParseError()) << down.out;
  EXPECT_FALSE(dd["hubspot"]["reachable"].GetBool());
  EXPECT_TRUE(dd["postgres"]["reachable"].GetBool());
  EXPECT_EQ((*find_direction(dd, "people", "to_hubspot"))["backlog"].GetInt64(), 2);
}

// HubSpot's clock ten minutes ahead of this host's: status shows how far
// each clock is (from the Date of HubSpot's answer to its probe, and three
// reads of the database's), and says which one is off.
TEST(CliStatus, ShowsHowFarHubSpotsAndTheDatabasesClocksAreFromThisHosts) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = std::make_unique<PushHarness>(
      server, "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text)",
      std::vector<std::string>{kTwoWay}, clock_ahead(quick_sim_options(), 600'000));
  const fs::path config = migrated_config(*h);
  auto json = status_cli(config, "status --json");
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(json.out.c_str()).HasParseError()) << json.out;
  const auto& hs = d["clocks"]["hubspot"];
  ASSERT_TRUE(hs.IsObject()) << json.out;
  EXPECT_NEAR(hs["offset_ms"].GetInt64(), 600'000, 1'000);
  EXPECT_LE(hs["low_ms"].GetInt64(), hs["offset_ms"].GetInt64());
  EXPECT_LE(hs["high_ms"].GetInt64() - hs["low_ms"].GetInt64(), 1'500) << "a Date header bounds it to its second";
  const auto& pg = d["clocks"]["postgres"];
  ASSERT_TRUE(pg.IsObject()) << json.out;
  EXPECT_NEAR(pg["offset_ms"].GetInt64(), 0, 50) << "the same host's clock";
  auto text = status_cli(config, "status");
  EXPECT_THAT(text.out, ::testing::ContainsRegex("hubspot clock: \\+(599|600)\\.[0-9]{3} s from this host's .*: OFF"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("database clock: [+-]0\\.0[0-9]{2} s from this host's \\(± "));
  auto offline = status_cli(config, "status --offline --json");
  rapidjson::Document od;
  ASSERT_FALSE(od.Parse(offline.out.c_str()).HasParseError()) << offline.out;
  EXPECT_TRUE(od["clocks"]["hubspot"].IsNull());
  EXPECT_TRUE(od["clocks"]["postgres"].IsObject());
}

TEST(CliStatus, AFailedPassIsShownWithItsCauseUntilTheNextSuccess) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text)",
                         {kTwoWay});
  fs::create_directories(h->dir / "mappings");
  std::ofstream(h->dir / "mappings" / "people.yaml") << kTwoWay;
  const fs::path config = h->dir / "hubsync.yaml";
  std::string yaml = h->config_yaml();
  yaml.replace(yaml.find("portal_id: 62515,"), 17, "portal_id: 62515, retry_for_s: 1,");
  std::ofstream(config) << yaml;
  ASSERT_EQ(run_cli(config, "migrate").code, 0);
  ASSERT_EQ(run_cli(config, "run --once").code, 0);
  h->sim.stop();
  h->db.exec("INSERT INTO people (email, name) VALUES ('late@x.io', 'L')");
  EXPECT_EQ(run_cli(config, "run --once").code, 2);
  auto json = status_cli(config, "status --json --offline");
  EXPECT_EQ(json.code, 0) << json.out;  // HubSpot not asked: Postgres answered
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(json.out.c_str()).HasParseError()) << json.out;
  EXPECT_FALSE(d["hubspot"]["checked"].GetBool());
  const auto* in = find_direction(d, "people", "to_postgres");
  ASSERT_NE(in, nullptr);
  EXPECT_TRUE((*in)["last_success"].IsString());  // the first run's
  ASSERT_TRUE((*in)["last_failure"].IsString()) << json.out;
  EXPECT_THAT(std::string((*in)["last_error"].GetString()), Not(HasSubstr(sim::kHubsyncToken)));
}

// `postgres.capture: logical` through the binary, as a user runs it:
// `migrate` swaps the triggers for a publication and a slot (named like the
// test database: slots are the cluster's), `run --once` syncs both ways
// through the relay, nothing hubsync wrote comes back, and `status` shows
// the slot; back on the trigger, the slot is gone and nothing was lost.
TEST(CliLogical, BothWaysThroughTheSlotWithNoEchoAndBackToTheTrigger) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, std::string(kPeopleTable) + "INSERT INTO people (email, name) VALUES ('a@x.io', 'A'), ('b@x.io', 'B')",
                         {kTwoWay});
  fs::create_directories(h->dir / "mappings");
  std::ofstream(h->dir / "mappings" / "people.yaml") << kTwoWay;
  const fs::path config = h->dir / "hubsync.yaml";
  std::ofstream(config) << h->config_yaml(/*logical_capture=*/true);
  auto migrated = run_cli(config, "migrate");
  ASSERT_EQ(migrated.code, 0) << migrated.out;
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'people'::regclass AND NOT tgisinternal"),
            "0");

  h->sim.ui_create("contacts", {{"email", "hs@x.io"}, {"firstname", "Hs"}});
  auto first = run_cli(config, "run --once");
  ASSERT_EQ(first.code, 0) << first.out;
  EXPECT_THAT(first.out, HasSubstr("people (to_hubspot): created 2"));
  EXPECT_THAT(first.out, HasSubstr("people (to_postgres): created 1"));

  // An edit on each side, each reaching the other through one run.
  h->db.exec("UPDATE people SET name = 'A2' WHERE email = 'a@x.io'");
  h->sim.ui_edit("contacts", h->live_by("contacts", "email").at("b@x.io").id, {{"firstname", "B2"}});
  auto second = run_cli(config, "run --once");
  ASSERT_EQ(second.code, 0) << second.out;
  EXPECT_EQ(h->live_by("contacts", "email").at("a@x.io").props["firstname"], "A2");
  EXPECT_EQ(h->db.scalar("SELECT name FROM people WHERE email = 'b@x.io'"), "B2");

  // What the pull wrote to Postgres is not captured back: a third run makes
  // no write to HubSpot and leaves nothing pending.
  h->sim.reset_counters();
  auto third = run_cli(config, "run --once");
  ASSERT_EQ(third.code, 0) << third.out;
  EXPECT_EQ(h->calls("batch/update") + h->calls("batch/upsert") + h->calls("batch/create"), 0) << third.out;
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog"), "0");
  // The one change ever captured is the application's: neither the row the
  // pull inserted (hs@x.io) nor the one it updated (b@x.io) came back.
  EXPECT_EQ(h->db.scalar("SELECT string_agg(a.op || ' ' || p.email, ',') FROM hubsync.changelog_archive a "
                         "JOIN people p ON p.id::text = a.pk ->> 'id'"),
            "update a@x.io");

  auto status = run_cli(config, "status --offline");
  EXPECT_THAT(status.out, HasSubstr("capture slot " + h->db.name() + ": holds back"));
  auto json = run_cli(config, "status --offline --json");
  EXPECT_THAT(json.out, HasSubstr("\"capture_slot\":{\"slot\":\"" + h->db.name() + "\",\"exists\":true"));

  // A change made before switching back is not lost; the slot goes.
  h->db.exec("UPDATE people SET name = 'A3' WHERE email = 'a@x.io'");
  std::ofstream(config) << h->config_yaml();
  EXPECT_THAT(run_cli(config, "run --once").out, HasSubstr("migrate"));  // refused: capture not current
  auto back = run_cli(config, "migrate");
  ASSERT_EQ(back.code, 0) << back.out;
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + h->db.name() + "'"), "0");
  auto fourth = run_cli(config, "run --once");
  ASSERT_EQ(fourth.code, 0) << fourth.out;
  EXPECT_EQ(h->live_by("contacts", "email").at("a@x.io").props["firstname"], "A3");
  EXPECT_THAT(run_cli(config, "status --offline").out, Not(HasSubstr("capture slot")));
}

}  // namespace
}  // namespace hubsync::test
