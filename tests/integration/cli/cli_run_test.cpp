// `hubsync run --once` as a cron job sees it: the exit code and what it says
// when a dependency is down, and that nothing captured is lost meanwhile.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

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

TEST(CliRun, BothWaysWithAConflictListedByRuleAndAPrunedArchive) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server,
                         "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text);"
                         "INSERT INTO people (email, name) VALUES ('a@x.io', 'A'), ('pg@x.io', 'Pg')",
                         {kTwoWay});
  fs::create_directories(h->dir / "mappings");
  std::ofstream(h->dir / "mappings" / "people.yaml") << kTwoWay;
  const fs::path config = h->dir / "hubsync.yaml";
  std::ofstream(config) << h->config_yaml();
  ASSERT_EQ(run_cli(config, "migrate").code, 0);
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

}  // namespace
}  // namespace hubsync::test
