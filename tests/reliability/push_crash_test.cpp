// kill -9 the real `hubsync run --once` at random moments during a large
// initial load, run it again, and check HubSpot ends up holding exactly the
// table: no duplicate, nothing missing.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kSql =
    "CREATE TABLE public.people (id bigint PRIMARY KEY, email text NOT NULL, first_name text,"
    " city text)";
constexpr const char* kMapping = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: to_hubspot
fields:
  - {column: email, property: email}
  - {column: first_name, property: firstname}
  - {column: city, property: city}
)";

pid_t spawn(const std::string& config, const std::string& log) {
  return spawn_hubsync(HUBSYNC_BIN, {"--config", config, "run", "--once"}, log);
}

int wait_for(pid_t pid, int ms) { return wait_for_exit(pid, ms); }

void crash_and_recover(std::uint64_t seed, int rows) {
  HUBSYNC_REQUIRE_PG(server);
  sim::SimulatorOptions so;
  so.tier = 250;
  PushHarness h(server, kSql, {kMapping}, so);
  h.db.exec("INSERT INTO people SELECT g, 'p' || g || '@example.com', 'F' || g, 'C' || (g % 97) "
            "FROM generate_series(1, " + std::to_string(rows) + ") g");
  h.migrate();
  std::filesystem::create_directories(h.dir / "mappings");
  std::ofstream(h.dir / "mappings" / "people.yaml") << kMapping;
  const std::string config = (h.dir / "hubsync.yaml").string();
  std::ofstream(config) << std::regex_replace(h.config_yaml(), std::regex("level: warn"), "level: info");
  const std::string log = (h.dir / "hubsync.log").string();

  std::mt19937_64 rng(seed);
  int kills = 0;
  int code = -1;
  for (int attempt = 0; attempt < 40 && code != 0; ++attempt) {
    pid_t pid = spawn(config, log);
    const int kill_after = 300 + static_cast<int>(rng() % 3000);
    code = wait_for(pid, kill_after);
    if (code == -1) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      ++kills;
    } else {
      ASSERT_EQ(code, 0) << "hubsync failed; see " << log;
    }
  }
  ASSERT_EQ(code, 0) << "never finished after " << kills << " kills; the log ends:\n" << log_tail(log);
  EXPECT_GE(kills, 2) << "the load finished too fast to be interrupted";

  // Exactly the table: every email once, no duplicates, nothing archived.
  auto all = h.dump("contacts");
  EXPECT_EQ(all.size(), static_cast<std::size_t>(rows));
  auto live = h.live_by("contacts", "email");  // throws on a duplicate email
  ASSERT_EQ(live.size(), static_cast<std::size_t>(rows));
  for (int i = 1; i <= rows; i += 997) {
    const auto& o = live.at("p" + std::to_string(i) + "@example.com");
    EXPECT_EQ(o.props.at("firstname"), "F" + std::to_string(i));
    EXPECT_EQ(o.props.at("city"), "C" + std::to_string(i % 97));
  }
  std::cerr << "seed " << seed << ": " << kills << " kill -9 before the load completed\n";
}

TEST(PushCrash, KilledRepeatedlyDuringA50000RowLoadConvergesWithoutDuplicates) {
  crash_and_recover(7, 50000);
}

TEST(PushCrash, DifferentKillPointsConvergeToo) {
  crash_and_recover(1234567, 50000);
}

}  // namespace
}  // namespace hubsync::test
