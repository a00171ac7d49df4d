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

#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kPeople = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: to_hubspot
fields:
  - {column: email, property: email}
  - {column: name, property: firstname}
)";

struct Output {
  int code = -1;
  std::string out;
};

Output run_cli(const fs::path& config, const std::string& args) {
  const std::string cmd = "'" HUBSYNC_BIN "' --config '" + config.string() + "' " + args + " 2>&1";
  Output o;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  while (auto n = fread(buf.data(), 1, buf.size(), p)) o.out.append(buf.data(), n);
  const int status = pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
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

}  // namespace
}  // namespace hubsync::test
