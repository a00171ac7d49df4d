// `hubsync serve` as an operator runs it: the real binary against a real
// PostgreSQL and the simulator. Pushes are woken by the changelog watch (or
// with postgres.notify by the capture's NOTIFY); the fallback poll and the
// sweep are set far away, so nothing else could explain them.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <regex>
#include <thread>

#include "tests/integration/push/push_harness.h"
#include "tests/integration/serve/serve_support.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Serve : public ::testing::Test {
 protected:
  // Writes the config and the mapping, migrates, returns the config path.
  fs::path setup(PushHarness& h, const std::string& serve_yaml, bool notify = false) {
    fs::create_directories(h.dir / "mappings");
    std::ofstream(h.dir / "mappings" / "people.yaml") << kServePeople;
    const fs::path config = h.dir / "hubsync.yaml";
    std::string yaml = h.config_yaml();
    if (notify) yaml.replace(yaml.find("postgres: {"), 11, "postgres: {notify: true, ");
    yaml.replace(yaml.find("level: warn"), 11, "level: info");  // the log says what serve did
    std::ofstream(config) << yaml << "webhook: {listen: '127.0.0.1:0'}\n" << serve_yaml;
    const std::string cmd = "'" HUBSYNC_BIN "' --config '" + config.string() + "' migrate >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return config;
  }

  static std::unique_ptr<PushHarness> people(const std::string& server) {
    return quick_harness(server, "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text)",
                         {kServePeople});
  }

  // SIGTERM (or SIGINT): a clean stop, exit 0.
  static void stop(pid_t pid, const std::string& log, int sig = SIGTERM) {
    kill(pid, sig);
    EXPECT_EQ(wait_for_exit(pid, 15000), 0) << log_tail(log);
  }

  static bool leased(PushHarness& h) { return h.db.scalar("SELECT count(*) FROM hubsync.leases") == "1"; }

  pid_t serve(const fs::path& config, const std::string& log) {
    return spawn_hubsync(HUBSYNC_BIN, {"--config", config.string(), "serve"}, log);
  }

  static bool has_contact(PushHarness& h, const std::string& email) {
    return h.live_by("contacts", "email").count(email) > 0;
  }
};

// Far-away safety nets: only the changelog watch (or a NOTIFY) can make a
// push happen in seconds.
constexpr const char* kQuiet =
    "serve: {poll_s: 3600, sweep_every_s: 3600, reconcile_every_s: 7200, debounce_ms: 100}\n";

class ServeWakeup : public Serve, public ::testing::WithParamInterface<bool> {};

// Both ways serve learns of captured changes: the look at the changelog
// every serve.change_poll_ms (the default) and postgres.notify's NOTIFY.
TEST_P(ServeWakeup, ARowWrittenInPostgresReachesHubSpotWithinSeconds) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = people(server);
  const auto config = setup(*h, kQuiet, /*notify=*/GetParam());
  EXPECT_EQ(h->db.scalar("SELECT notify::text FROM hubsync.captures"), GetParam() ? "true" : "false");
  const std::string log = (h->dir / "serve.log").string();
  const pid_t pid = serve(config, log);
  // The start-up catch-up has run once the lease row exists.
  ASSERT_TRUE(eventually([&] { return leased(*h); }))
      << log_tail(log);
  std::this_thread::sleep_for(300ms);
  h->db.exec("INSERT INTO people (email, name) VALUES ('n1@x.io', 'Ann')");
  EXPECT_TRUE(eventually([&] { return has_contact(*h, "n1@x.io"); }, 10s)) << log_tail(log);
  h->db.exec("UPDATE people SET name = 'Anna' WHERE email = 'n1@x.io'");
  EXPECT_TRUE(eventually([&] { return h->live_by("contacts", "email")["n1@x.io"].props["firstname"] == "Anna"; }, 10s))
      << log_tail(log);
  stop(pid, log);
  // A clean stop gives the lease back: a batch run can start at once.
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.leases"), "0");
}

INSTANTIATE_TEST_SUITE_P(WatchOrNotify, ServeWakeup, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Notify" : "ChangelogWatch"; });

// The debounce counts from a change's capture, not from when serve's poll
// of the changelog found it: a fresh change waits it out (8 s here); one
// that has already waited longer (its capture time set 20 s back, as a
// long transaction or a slow relay would leave it) is pushed at once.
TEST_F(Serve, TheDebounceCountsFromTheChangesCaptureNotFromThePoll) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = people(server);
  const auto config = setup(*h, "serve: {poll_s: 3600, sweep_every_s: 3600, reconcile_every_s: 7200, "
                                "debounce_ms: 8000, change_poll_ms: 100}\n");
  const std::string log = (h->dir / "serve.log").string();
  const pid_t pid = serve(config, log);
  ASSERT_TRUE(eventually([&] { return leased(*h); })) << log_tail(log);
  std::this_thread::sleep_for(300ms);
  h->db.exec("INSERT INTO people (email, name) VALUES ('d1@x.io', 'Dee')");
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(has_contact(*h, "d1@x.io")) << "pushed before the debounce passed";
  h->db.exec("UPDATE hubsync.changelog SET changed_at = pg_catalog.clock_timestamp() - interval '20 seconds'");
  const auto backdated = std::chrono::steady_clock::now();
  EXPECT_TRUE(eventually([&] { return has_contact(*h, "d1@x.io"); }, 10s)) << log_tail(log);
  EXPECT_LT(std::chrono::steady_clock::now() - backdated, 5s) << "the change waited for the debounce again";
  stop(pid, log);
}

// `hubsync status` beside a running serve: it must not need the state
// store's writer lock, and it shows what serve did.
TEST_F(Serve, StatusReportsWhatServeDidWhileServeHoldsTheStateStore) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = people(server);
  const auto config = setup(*h, kQuiet);
  const std::string log = (h->dir / "serve.log").string();
  const pid_t pid = serve(config, log);
  ASSERT_TRUE(eventually([&] { return leased(*h); })) << log_tail(log);
  h->db.exec("INSERT INTO people (email, name) VALUES ('st@x.io', 'Stu')");
  ASSERT_TRUE(eventually([&] { return has_contact(*h, "st@x.io"); }, 10s)) << log_tail(log);
  CommandOutput o;
  // The pass record follows the push that sent the row.
  EXPECT_TRUE(eventually([&] {
    o = run_command("'" HUBSYNC_BIN "' --config '" + config.string() + "' status --json");
    return o.code == 0 && o.out.find("\"direction\":\"to_hubspot\",\"backlog\":0,") != std::string::npos &&
           o.out.find("\"last_success\":null") == std::string::npos;
  }, 10s)) << o.code << "\n" << o.out << log_tail(log);
  const std::string& out = o.out;
  EXPECT_NE(out.find("\"direction\":\"to_postgres\",\"backlog\":0,"), std::string::npos) << out;
  stop(pid, log);
}

// serve checks the capture as run does: a mapping changed without
// `hubsync migrate` would have its changes lost in silence.
TEST_F(Serve, RefusesToStartUntilTheCaptureIsCurrentAndExits2WithoutPostgres) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = people(server);
  const auto config = setup(*h, kQuiet);
  h->db.exec("ALTER TABLE people ADD COLUMN phone text");
  std::string gained = kServePeople;
  gained += "  - {column: phone, property: phone}\n";
  std::ofstream(h->dir / "mappings" / "people.yaml") << gained;
  const std::string log = (h->dir / "serve.log").string();
  const pid_t pid = serve(config, log);
  EXPECT_EQ(wait_for_exit(pid, 15000), 1) << log_tail(log);
  const auto said = log_tail(log);
  EXPECT_NE(said.find("mapping people: the capture watches other columns"), std::string::npos) << said;
  EXPECT_NE(said.find("run `hubsync migrate`"), std::string::npos) << said;
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.leases"), "0");  // it never started

  // PostgreSQL unreachable at start: exit 2, naming it, the password masked.
  std::ifstream in(config);
  std::string yaml((std::istreambuf_iterator<char>(in)), {});
  const auto dsn_at = yaml.find("dsn: '") + 6;
  yaml.replace(dsn_at, yaml.find('\'', dsn_at) - dsn_at, "postgresql://app:pw-SECRET-77@127.0.0.1:1/none");
  std::ofstream(config) << yaml;
  const pid_t down = serve(config, log);
  EXPECT_EQ(wait_for_exit(down, 15000), 2) << log_tail(log);
  const auto told = log_tail(log);
  EXPECT_NE(told.find("serve: PostgreSQL unreachable"), std::string::npos) << told;
  EXPECT_EQ(told.find("pw-SECRET-77"), std::string::npos) << told;
}

TEST_F(Serve, AHubSpotEditReachesPostgresThroughTheSafetyNetSweep) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = people(server);
  const auto config = setup(*h, "serve: {poll_s: 3600, sweep_every_s: 1, reconcile_every_s: 7200}\npull: {overlap_s: 0}\n");
  const std::string log = (h->dir / "serve.log").string();
  const pid_t pid = serve(config, log);
  const auto id = h->sim.ui_create("contacts", {{"email", "ui@x.io"}, {"firstname", "Una"}});
  EXPECT_TRUE(eventually([&] { return h->db.scalar("SELECT count(*) FROM people WHERE email = 'ui@x.io'") == "1"; }))
      << log_tail(log);
  h->sim.ui_edit("contacts", id, {{"firstname", "Uma"}});
  EXPECT_TRUE(eventually([&] { return h->db.scalar("SELECT name FROM people WHERE email = 'ui@x.io'") == "Uma"; }))
      << log_tail(log);
  stop(pid, log, SIGINT);
  // No secret: webhooks are off, and said so; nothing warns how they would be checked.
  const std::string said = log_tail(log, 1 << 20);
  EXPECT_NE(said.find("webhooks off: no webhook.client_secret"), std::string::npos) << said;
  EXPECT_EQ(said.find("public_url not set"), std::string::npos) << said;
}

TEST_F(Serve, AKilledServiceIsReplacedAtOnceAndNothingIsLostOrDoubled) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = people(server);
  const auto config = setup(*h, kQuiet);
  const std::string log = (h->dir / "serve.log").string();
  pid_t pid = serve(config, log);
  for (int i = 0; i < 60; ++i) {
    h->db.exec("INSERT INTO people (email, name) VALUES ('k" + std::to_string(i) + "@x.io', 'K')");
    if (i % 20 == 19) {
      kill(pid, SIGKILL);  // mid-stream: its lease row stays behind
      waitpid(pid, nullptr, 0);
      pid = serve(config, log);  // same host, dead pid: taken over at once
    }
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(eventually([&] { return h->live_by("contacts", "email").size() == 60; }, 20s)) << log_tail(log);
  EXPECT_EQ(h->dump("contacts").size(), 60u) << "a duplicate object";
  stop(pid, log);
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM hubsync.changelog"), "0");
}

TEST_F(Serve, ASecondServiceWaitsWhileTheFirstHoldsTheLease) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = people(server);
  const auto config = setup(*h, kQuiet);
  // The second one needs its own state file (the first holds the store's lock).
  const fs::path config2 = h->dir / "second.yaml";
  {
    std::ifstream in(config);
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    s.replace(s.find("cli-state.db"), 12, "second-state.db");
    std::ofstream(config2) << s;
  }
  const std::string log1 = (h->dir / "serve1.log").string(), log2 = (h->dir / "serve2.log").string();
  const pid_t first = serve(config, log1);
  ASSERT_TRUE(eventually([&] { return leased(*h); })) << log_tail(log1);
  const std::string holder = h->db.scalar("SELECT holder FROM hubsync.leases");
  const pid_t second = serve(config2, log2);
  h->db.exec("INSERT INTO people (email, name) VALUES ('a@x.io', 'A')");
  EXPECT_TRUE(eventually([&] { return has_contact(*h, "a@x.io"); }, 10s)) << log_tail(log1);
  EXPECT_TRUE(eventually([&] { return log_tail(log2).find("another hubsync process is syncing it") != std::string::npos; }))
      << log_tail(log2);
  EXPECT_EQ(h->db.scalar("SELECT holder FROM hubsync.leases"), holder);
  // The first dies: the second takes over on the next change.
  kill(first, SIGKILL);
  waitpid(first, nullptr, 0);
  h->db.exec("INSERT INTO people (email, name) VALUES ('b@x.io', 'B')");
  EXPECT_TRUE(eventually([&] { return has_contact(*h, "b@x.io"); }, 15s)) << log_tail(log2);
  EXPECT_NE(h->db.scalar("SELECT holder FROM hubsync.leases"), holder);
  EXPECT_EQ(h->dump("contacts").size(), 2u);
  stop(second, log2);
}

TEST_F(Serve, ALostDatabaseConnectionIsReestablishedAndCatchesUp) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = people(server);
  const auto config = setup(*h, kQuiet);
  const std::string log = (h->dir / "serve.log").string();
  const pid_t pid = serve(config, log);
  ASSERT_TRUE(eventually([&] { return leased(*h); })) << log_tail(log);
  // Every other session of this database is cut (a failover, a restart);
  // a change is committed while serve is not listening.
  h->db.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  h->db.exec("INSERT INTO people (email, name) VALUES ('gap@x.io', 'G')");
  EXPECT_TRUE(eventually([&] { return has_contact(*h, "gap@x.io"); }, 15s)) << log_tail(log);
  // And it listens again afterwards.
  h->db.exec("INSERT INTO people (email, name) VALUES ('after@x.io', 'A')");
  EXPECT_TRUE(eventually([&] { return has_contact(*h, "after@x.io"); }, 10s)) << log_tail(log);
  stop(pid, log);
}

TEST_F(Serve, ALongSweepNeverHoldsBackALiveEdit) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = people(server);
  // 6,000 contacts made in HubSpot while nothing listened: the first sweep
  // has 30 pages to read, each answer 200-300 ms late. It yields to live
  // work between pages, so edits go out while it runs, and it logs its
  // progress (every 5 s, counting on across the steps it is swept in) of
  // the 6,001 contacts (live@x.io too, pushed first).
  constexpr int kImported = 6000;
  std::vector<std::map<std::string, std::string>> rows;
  for (int i = 0; i < kImported; ++i) rows.push_back({{"email", "old" + std::to_string(i) + "@x.io"}, {"firstname", "O"}});
  h->sim.ui_bulk_import("contacts", rows, std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch()).count() - 60'000);
  h->db.exec("INSERT INTO people (email, name) VALUES ('live@x.io', 'v0')");
  sim::FaultRule slow;
  slow.latency_min_ms = 200;
  slow.latency_max_ms = 300;
  h->sim.set_faults({slow});
  const auto config = setup(*h, kQuiet);
  const std::string log = (h->dir / "serve.log").string();
  const pid_t pid = serve(config, log);
  auto firstname = [&] { return h->live_by("contacts", "email")["live@x.io"].props["firstname"]; };
  ASSERT_TRUE(eventually([&] { return firstname() == "v0"; }, 20s, 200ms)) << log_tail(log);
  ASSERT_TRUE(eventually([&] { return std::stoi(h->db.scalar("SELECT count(*) FROM people")) > 1; }, 20s))
      << "the sweep started\n" << log_tail(log);
  // Edits in Postgres while the sweep runs go out between its steps.
  for (int i = 1; i <= 3; ++i) {
    const std::string v = "v" + std::to_string(i);
    const auto t0 = std::chrono::steady_clock::now();
    h->db.exec("UPDATE people SET name = '" + v + "' WHERE email = 'live@x.io'");
    EXPECT_TRUE(eventually([&] { return firstname() == v; }, 8s, 100ms)) << "edit " << i << "\n" << log_tail(log);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    const int swept = std::stoi(h->db.scalar("SELECT count(*) FROM people")) - 1;
    std::printf("live edit %d reached HubSpot in %lld ms with %d of %d swept\n", i,
                static_cast<long long>(took.count()), swept, kImported);
    EXPECT_LT(swept, kImported) << "the sweep was still running when the edit arrived";
  }
  EXPECT_TRUE(eventually([&] { return h->db.scalar("SELECT count(*) FROM people") == std::to_string(kImported + 1); }, 120s))
      << log_tail(log);
  EXPECT_TRUE(eventually([&] { return log_tail(log, 2000).find("progress pull backfill people done: ") != std::string::npos; }, 20s))
      << log_tail(log);
  const std::string text = log_tail(log, 2000);
  EXPECT_TRUE(std::regex_search(text, std::regex("progress pull backfill people: [0-9,]+/6,001 \\([0-9]+%\\) [0-9,]+/s")))
      << text;
  EXPECT_TRUE(std::regex_search(text, std::regex("progress pull backfill people done: 6,001/6,001 \\(100%\\)"))) << text;
  stop(pid, log);
}

}  // namespace
}  // namespace hubsync::test
