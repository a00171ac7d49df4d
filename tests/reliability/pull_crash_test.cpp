// kill -9 the real `hubsync run --once` at random moments of a 20,000-object
// pull backfill, then let it finish: Postgres ends equal to HubSpot, with no
// duplicate row and nothing missing (issue 10).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <random>

#include "tests/integration/push/push_harness.h"
#include "tests/support/people.h"

namespace hubsync::test {
namespace {

constexpr int kObjects = 20000;
constexpr int kKills = 8;
const std::string kSql = people_table_sql("bigserial");
constexpr const char* kMapping = kPeopleMapping;

void trial(std::uint64_t seed) {
  HUBSYNC_REQUIRE_PG(server);
  sim::SimulatorOptions so;
  so.tier = 250;
  so.index_lag_ms = 0;
  PushHarness h(server, kSql, {kMapping}, so);
  std::vector<std::map<std::string, std::string>> rows;
  for (int i = 0; i < kObjects; ++i)
    rows.push_back({{"email", "c" + std::to_string(i) + "@example.com"},
                    {"firstname", "F" + std::to_string(i)},
                    {"city", "C" + std::to_string(i % 97)}});
  // Several imports, so the sweep crosses timestamps and one large tie.
  for (int part = 0; part < 4; ++part)
    h.sim.ui_bulk_import("contacts",
                         {rows.begin() + part * kObjects / 4, rows.begin() + (part + 1) * kObjects / 4},
                         h.clock.wall_ms() - 60'000 + part * 1000);
  h.migrate();
  std::filesystem::create_directories(h.dir / "mappings");
  std::ofstream(h.dir / "mappings" / "people.yaml") << kMapping;
  const std::string config = (h.dir / "hubsync.yaml").string();
  std::ofstream(config) << h.config_yaml() << "pull: {overlap_s: 1}\n";
  const std::string log = (h.dir / "hubsync.log").string();
  const std::vector<std::string> args{"--config", config, "run", "--once", "--direction", "to_postgres"};

  std::mt19937_64 rng(seed);
  std::vector<int> kill_points;
  for (int k = 0; k < kKills; ++k) {
    pid_t pid = spawn_hubsync(HUBSYNC_BIN, args, log);
    const int kill_after = 300 + static_cast<int>(rng() % 2500);
    if (wait_for_exit(pid, kill_after) != -1) break;  // finished before its kill
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    kill_points.push_back(kill_after);
  }
  ASSERT_EQ(wait_for_exit(spawn_hubsync(HUBSYNC_BIN, args, log), 240000), 0) << log_tail(log);
  EXPECT_GE(kill_points.size(), 2u) << "the backfill finished too fast to be interrupted";

  EXPECT_EQ(h.db.scalar("SELECT count(*) FROM people"), std::to_string(kObjects));
  EXPECT_EQ(h.db.scalar("SELECT count(DISTINCT email) FROM people"), std::to_string(kObjects));
  for (int i = 0; i < kObjects; i += 1999)
    EXPECT_EQ(h.db.scalar("SELECT first_name || '/' || city FROM people WHERE email = 'c" +
                          std::to_string(i) + "@example.com'"),
              "F" + std::to_string(i) + "/C" + std::to_string(i % 97));
  EXPECT_EQ(h.live_by("contacts", "email").size(), static_cast<std::size_t>(kObjects));  // no duplicate object either
  std::string points;
  for (int p : kill_points) points += std::to_string(p) + "ms ";
  std::cerr << "seed " << seed << ": " << kill_points.size() << " kill -9 at " << points << "\n";
}

TEST(PullCrash, KilledDuringA20000ObjectBackfillConvergesWithoutDuplicates) { trial(5); }

TEST(PullCrash, OtherKillPointsToo) { trial(987654); }

}  // namespace
}  // namespace hubsync::test
