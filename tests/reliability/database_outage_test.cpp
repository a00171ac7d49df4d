// The database goes away in the middle of a push: the pass stops with a
// clear, retryable error naming what failed, and a later pass after the
// database is back converges with nothing lost and nothing duplicated.
// Uses a cluster of its own (tests/pg/throwaway-pg.sh), since it kills it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "tests/integration/push/push_harness.h"
#include "tests/support/process.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSql =
    "CREATE TABLE public.people (id bigint PRIMARY KEY, email text NOT NULL, city text)";
constexpr const char* kMapping = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: to_hubspot
fields:
  - {column: email, property: email}
  - {column: city, property: city}
)";

class OwnCluster {
 public:
  OwnCluster() {
    std::random_device rd;
    state_ = fs::temp_directory_path() / ("hubsync-outage-" + std::to_string(rd()));
    ok_ = script("start") == 0;
  }
  ~OwnCluster() {
    script("stop");
    std::error_code ec;  // the script leaves the emptied directory
    fs::remove_all(state_, ec);
  }
  bool ok() const { return ok_; }
  int script(const std::string& cmd) const {
    return std::system(("bash '" + source_dir() + "/tests/pg/throwaway-pg.sh' " + cmd + " '" +
                        state_.string() + "' >/dev/null 2>&1")
                           .c_str());
  }
  std::string dsn() const {
    std::ifstream in(state_ / "dsn");
    std::string d;
    std::getline(in, d);
    return d;
  }

 private:
  fs::path state_;
  bool ok_ = false;
};

TEST(DatabaseOutage, PushStopsWithATransientErrorAndConvergesAfterRecovery) {
  HUBSYNC_REQUIRE_PG(unused);  // the same fail-not-skip rule for CI
  OwnCluster cluster;
  ASSERT_TRUE(cluster.ok()) << "could not start a cluster of its own";
  sim::SimulatorOptions so;
  so.rate_limits = false;
  so.latency_min_ms = 20;  // slow enough that the kill lands mid-load
  so.latency_max_ms = 40;
  PushHarness h(cluster.dsn(), kSql, {kMapping}, so);
  h.db.exec("INSERT INTO people SELECT g, 'q' || g || '@example.com', 'C' || g "
            "FROM generate_series(1, 30000) g");
  h.migrate();

  pipeline::PushOptions options;
  options.wave = 500;
  auto pass = std::async(std::launch::async, [&] { return h.push("people", options); });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_EQ(cluster.script("crash"), 0);
  auto failed = pass.get();
  ASSERT_FALSE(failed.ok()) << "the pass finished before the database went away";
  EXPECT_EQ(failed.error().kind, model::ErrorKind::transient) << failed.error().message;
  EXPECT_THAT(failed.error().message, ::testing::HasSubstr("mapping people"));
  const std::size_t landed_before = h.live_by("contacts", "email").size();
  EXPECT_GT(landed_before, 0u);
  EXPECT_LT(landed_before, 30000u);

  // While it is down, a pass fails fast the same way.
  auto down = h.push("people", options);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().kind, model::ErrorKind::transient);

  ASSERT_EQ(cluster.script("resume"), 0);
  auto recovered = h.push("people", options);
  ASSERT_TRUE(recovered.ok()) << recovered.error().message;
  auto live = h.live_by("contacts", "email");  // throws on a duplicate
  EXPECT_EQ(live.size(), 30000u);
  EXPECT_EQ(h.dump("contacts").size(), 30000u);
  EXPECT_EQ(live.at("q29999@example.com").props.at("city"), "C29999");
}

// The same outage seen by `run --once`: the exit code says a dependency was
// unreachable and the line names PostgreSQL (not only libpq's words), and
// the contacts created before it stopped are counted in the run's lines,
// where the total said "pushed 0".
TEST(DatabaseOutage, ARunStoppedByALostDatabaseNamesItAndCountsWhatItWrote) {
  HUBSYNC_REQUIRE_PG(unused);
  OwnCluster cluster;
  ASSERT_TRUE(cluster.ok()) << "could not start a cluster of its own";
  sim::SimulatorOptions so;
  so.rate_limits = false;
  so.latency_min_ms = 20;
  so.latency_max_ms = 40;
  PushHarness h(cluster.dsn(), kSql, {kMapping}, so);
  h.db.exec("INSERT INTO people SELECT g, 'q' || g || '@example.com', 'C' || g "
            "FROM generate_series(1, 30000) g");
  h.migrate();
  fs::create_directories(h.dir / "mappings");
  std::ofstream(h.dir / "mappings" / "people.yaml") << kMapping;
  const std::string config = (h.dir / "hubsync.yaml").string();
  std::ofstream(config) << h.config_yaml();
  auto run = std::async(std::launch::async, [&] {
    return run_command("'" HUBSYNC_BIN "' --config '" + config + "' run --once --direction to_hubspot 2>/dev/null");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  ASSERT_EQ(cluster.script("crash"), 0);
  const auto out = run.get();
  const std::size_t landed = h.live_by("contacts", "email").size();
  ASSERT_GT(landed, 0u) << out.out;
  ASSERT_LT(landed, 30000u) << "the run finished before the database went away: " << out.out;
  EXPECT_EQ(out.code, 2) << out.out;
  EXPECT_THAT(out.out, ::testing::HasSubstr("people (to_hubspot): PostgreSQL unreachable: "));
  EXPECT_THAT(out.out, ::testing::HasSubstr("people (to_hubspot): created " + std::to_string(landed) +
                                            ", updated 0,"));
  EXPECT_THAT(out.out, ::testing::HasSubstr("before it stopped"));
  EXPECT_THAT(out.out, ::testing::HasSubstr("pushed " + std::to_string(landed) + " (created " +
                                            std::to_string(landed)));
  EXPECT_THAT(out.out, ::testing::Not(::testing::HasSubstr("password")));
}

// serve rides out its database going away (a crash, then a restart): it
// keeps running, says so on /readyz, and once the database is back syncs
// what changed on both sides meanwhile.
TEST(DatabaseOutage, ServeRidesOutADatabaseRestartAndCatchesUp) {
  HUBSYNC_REQUIRE_PG(unused);
  OwnCluster cluster;
  ASSERT_TRUE(cluster.ok()) << "could not start a cluster of its own";
  constexpr const char* kTwoWay = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: both
fields:
  - {column: email, property: email}
  - {column: city, property: city}
)";
  sim::SimulatorOptions so;
  so.rate_limits = false;
  so.index_lag_ms = 0;
  so.webhook_time_compression = 50;
  PushHarness h(cluster.dsn(), kSql, {kTwoWay}, so);
  h.db.exec("INSERT INTO people VALUES (1, 'a@example.com', 'Oslo'), (2, 'b@example.com', 'Rome')");
  h.migrate();
  fs::create_directories(h.dir / "mappings");
  std::ofstream(h.dir / "mappings" / "people.yaml") << kTwoWay;
  const int port = free_port();
  const std::string config = (h.dir / "hubsync.yaml").string();
  std::ofstream(config) << h.config_yaml() << "webhook: {listen: '127.0.0.1:" << port << "', client_secret: '"
                        << sim::kOAuthClientSecret << "'}\nserve: {poll_s: 1, sweep_every_s: 2, inbox_every_ms: 100}\n";
  h.sim.set_webhook_target("http://127.0.0.1:" + std::to_string(port) + "/webhooks/hubspot");
  sim::WebhookSubscription sub;
  sub.event_type = "contact.*";
  h.sim.add_webhook_subscription(sub);
  const std::string log = (h.dir / "serve.log").string();
  const pid_t pid = spawn_hubsync(HUBSYNC_BIN, {"--config", config, "serve"}, log);
  const auto until = [](const std::function<bool()>& done, int seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
  };
  ASSERT_TRUE(until([&] { return h.live_by("contacts", "email").size() == 2; }, 30)) << log_tail(log);

  ASSERT_EQ(cluster.script("crash"), 0);
  h.sim.ui_edit("contacts", h.live_by("contacts", "email").at("a@example.com").id, {{"city", "Bergen"}});
  EXPECT_TRUE(until([&] { return run_command("curl -s http://127.0.0.1:" + std::to_string(port) + "/readyz").out.find(
                                     "postgres: unreachable") != std::string::npos; },
                    20))
      << log_tail(log);
  EXPECT_EQ(wait_for_exit(pid, 0), -1) << "serve exited when the database went away\n" << log_tail(log);

  ASSERT_EQ(cluster.script("resume"), 0);
  h.db.exec("UPDATE people SET city = 'Milan' WHERE id = 2");
  EXPECT_TRUE(until([&] { return h.db.scalar("SELECT city FROM people WHERE id = 1") == "Bergen"; }, 60))
      << log_tail(log);
  EXPECT_TRUE(until([&] { return h.live_by("contacts", "email").at("b@example.com").props["city"] == "Milan"; }, 60))
      << log_tail(log);
  EXPECT_EQ(h.dump("contacts").size(), 2u);
  kill(pid, SIGTERM);
  EXPECT_EQ(wait_for_exit(pid, 30000), 0) << log_tail(log);
}

}  // namespace
}  // namespace hubsync::test
