// kill -9 `hubsync serve` at random moments, 20 times, while Postgres writers
// and HubSpot UI edits go on, restarting it each time; then let it catch up:
// both systems agree field by field, the last write of each side survives,
// no object or row is made twice. A second test does the same under the
// simulator's fault matrix (5xx, 429, 423, slow, dropped, reset and
// malformed answers) instead of kills.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "tests/integration/push/push_harness.h"
#include "tests/integration/serve/serve_support.h"
#include "tests/support/prom_text.h"
#include "tests/support/people.h"
#include "tests/support/process.h"

namespace hubsync::test {
namespace {

constexpr int kRows = 30;

class ServeUnderFire : public ::testing::Test {
 protected:
  /// `relay`: postgres.relay of a logical capture ("" for the default).
  explicit ServeUnderFire(bool logical = false, std::string relay = "") : logical_(logical), relay_(std::move(relay)) {}

  void SetUp() override {
    HUBSYNC_REQUIRE_PG(server);
    sim::SimulatorOptions so;
    so.rate_limits = false;
    so.index_lag_ms = 200;
    so.webhook_time_compression = 50;  // HubSpot's webhook retries, in milliseconds
    h_ = std::make_unique<PushHarness>(server, people_table_sql("bigserial"), std::vector<std::string>{kPeopleMapping},
                                       so);
    h_->db.exec("INSERT INTO people (email, first_name, city) SELECT 'p' || g || '@example.com', 'n0', 'c0' "
                "FROM generate_series(1, " + std::to_string(kRows) + ") g");
    h_->migrate(logical_);
    std::filesystem::create_directories(h_->dir / "mappings");
    std::ofstream(h_->dir / "mappings" / "people.yaml") << kPeopleMapping;
    port_ = free_port();
    config_ = (h_->dir / "hubsync.yaml").string();
    std::ofstream(config_) << h_->config_yaml(logical_, relay_.empty() ? "" : "relay: " + relay_) << "webhook: {listen: '127.0.0.1:" << port_ << "', client_secret: '"
                           << sim::kOAuthClientSecret << "'}\n"
                           << "serve: {poll_s: 2, debounce_ms: 50, inbox_every_ms: 100, sweep_every_s: 3, "
                              "reconcile_every_s: 10, reconcile_window_s: 120}\n"
                           ;
    log_ = (h_->dir / "serve.log").string();
    h_->sim.set_webhook_target("http://127.0.0.1:" + std::to_string(port_) + "/webhooks/hubspot");
    sim::WebhookSubscription sub;
    sub.event_type = "contact.*";
    h_->sim.add_webhook_subscription(sub);
    start();
    ASSERT_TRUE(wait_for([&] { return h_->live_by("contacts", "email").size() == kRows; }, 60'000)) << log_tail(log_);
    for (auto& [email, o] : h_->live_by("contacts", "email")) contact_ids_.push_back(o.id), emails_.push_back(email);
  }
  void TearDown() override {
    stop_edits();
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  void start() { pid_ = spawn_hubsync(HUBSYNC_BIN, {"--config", config_, "serve"}, log_); }

  static bool wait_for(const std::function<bool()>& done, int ms) {
    for (int waited = 0; waited < ms; waited += 100) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
  }

  // Postgres writers change first names (and add rows); HubSpot users
  // change cities: each side's last write must survive.
  void start_edits() {
    stop_ = false;
    editors_.emplace_back([this] {
      std::mt19937 rng(1 + pg_seq_);
      for (int seq = ++pg_seq_; !stop_.load(); seq = ++pg_seq_) {  // numbers go on across soak rounds
        std::lock_guard lock(mu_);
        if (seq % 25 == 0) {
          const std::string email = "new" + std::to_string(seq) + "@example.com";
          h_->db.exec("INSERT INTO people (email, first_name, city) VALUES ('" + email + "', 'n', 'c')");
          ++pg_writes_;
          continue;
        }
        const int id = 1 + static_cast<int>(rng() % kRows);
        h_->db.exec("UPDATE people SET first_name = 'n" + std::to_string(seq) + "' WHERE id = " + std::to_string(id));
        ++pg_writes_;
        std::this_thread::sleep_for(std::chrono::milliseconds(15));
      }
    });
    editors_.emplace_back([this] {
      std::mt19937 rng(2 + hs_seq_);
      for (int seq = ++hs_seq_; !stop_.load(); seq = ++hs_seq_) {
        const std::size_t i = rng() % contact_ids_.size();
        h_->sim.ui_edit("contacts", contact_ids_[i], {{"city", "c" + std::to_string(seq)}});
        {
          std::lock_guard lock(mu_);
          last_city_[emails_[i]] = "c" + std::to_string(seq);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
    });
  }
  void stop_edits() {
    stop_ = true;
    for (auto& t : editors_) t.join();
    editors_.clear();
  }

  // Postgres rows and HubSpot contacts, as "email|first|city" lines.
  std::string pg_side() {
    return h_->db.scalar("SELECT string_agg(email || '|' || first_name || '|' || city, E'\\n' ORDER BY email) "
                         "FROM people");
  }
  std::string hubspot_side() {
    std::string out;
    for (auto& [email, o] : h_->live_by("contacts", "email"))
      out += (out.empty() ? "" : "\n") + email + "|" + o.props["firstname"] + "|" + o.props["city"];
    return out;
  }

  // Both sides agree, each side's last write survived, nothing twice.
  void expect_converged() {
    const bool agreed = wait_for([&] { return pg_side() == hubspot_side(); }, 120'000);
    EXPECT_TRUE(agreed) << "postgres:\n" << pg_side() << "\nhubspot:\n" << hubspot_side() << "\n" << log_tail(log_);
    EXPECT_EQ(h_->dump("contacts").size(), static_cast<std::size_t>(std::stoi(h_->db.scalar("SELECT count(*) FROM people"))))
        << "an object was made twice, or a row is missing";
    for (const auto& [email, city] : last_city_)
      EXPECT_EQ(h_->db.scalar("SELECT city FROM people WHERE email = '" + email + "'"), city) << email;
    std::size_t checked = 0;
    for (auto& [email, o] : h_->live_by("contacts", "email")) {
      EXPECT_EQ(o.props["firstname"], h_->db.scalar("SELECT first_name FROM people WHERE email = '" + email + "'"));
      ++checked;
    }
    EXPECT_GT(checked, static_cast<std::size_t>(kRows));  // the rows added meanwhile too
  }

  // 20 x kill -9 at random moments under edits, each followed by a restart;
  // the kill points are printed.
  void twenty_kills(std::mt19937_64& rng) {
    std::string points;
    int trials = 0;
    for (; trials < 20; ++trials) {
      const int after_ms = 150 + static_cast<int>(rng() % 1200);
      std::this_thread::sleep_for(std::chrono::milliseconds(after_ms));
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      points += (points.empty() ? "" : ",") + std::to_string(after_ms);
      start();
    }
    std::printf("serve crash trials: %d kill -9 after %s ms of serving each\n", trials, points.c_str());
  }

  // The simulator's whole fault matrix on every CRM route.
  static sim::FaultRule fault_matrix() {
    sim::FaultRule f;
    f.route = "/crm/*";
    f.pct_500 = 15;
    f.pct_429 = 15;
    f.pct_423 = 10;
    f.pct_slow = 5;
    f.slow_ms = 1500;
    f.pct_drop = 5;
    f.pct_reset = 5;
    f.pct_malformed = 5;
    return f;
  }

  static long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
  }

  std::unique_ptr<PushHarness> h_;
  int port_ = 0;
  std::string config_, log_;
  pid_t pid_ = -1;
  std::vector<std::string> contact_ids_, emails_;
  std::mutex mu_;
  std::map<std::string, std::string> last_city_;  // guarded by mu_ while editing
  std::atomic<bool> stop_{false};
  std::atomic<int> pg_writes_{0};  // statements the Postgres writer committed
  int pg_seq_ = 0, hs_seq_ = 0;  // each written by its editor thread only
  std::vector<std::thread> editors_;
  bool logical_;
  std::string relay_;
};

// The same, the changes of Postgres captured by logical decoding, relayed by
// each of serve's relays (postgres.relay: the replication stream, the SQL
// functions): the relay is killed too, between its commit and the slot's
// advance among other moments, and still relays each change once.
class ServeUnderFireLogical : public ServeUnderFire, public ::testing::WithParamInterface<std::string> {
 protected:
  ServeUnderFireLogical() : ServeUnderFire(true, GetParam()) {}

  // Whether a walsender (a replication connection) holds the test's slot.
  bool streamed() {
    return h_->db.scalar("SELECT count(*) FROM pg_catalog.pg_stat_replication r JOIN pg_catalog.pg_replication_slots s "
                         "ON s.active_pid = r.pid WHERE s.slot_name = '" + h_->db.name() + "'") != "0";
  }
};

// One round in the test command. The soak: with HUBSYNC_SOAK_MINUTES=N,
// rounds of 20 kills, then one serve through the fault matrix (8 s) and
// under edits for a minute, then convergence, until N minutes have passed
// (run the binary itself: ctest's timeout is for one round); each round
// prints that serve's RSS at the start and the end of its minute.
TEST_F(ServeUnderFire, TwentyKillsUnderTwoWayEditsLoseNothingAndMakeNothingTwice) {
  const char* soak_env = std::getenv("HUBSYNC_SOAK_MINUTES");
  const int soak_minutes = soak_env ? std::atoi(soak_env) : 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(soak_minutes);
  std::mt19937_64 rng(20261203);
  int round = 0;
  do {
    ++round;
    start_edits();
    twenty_kills(rng);
    long rss_before = 0;
    if (soak_minutes > 0) {  // then one serve through the fault matrix and a quiet minute
      std::this_thread::sleep_for(std::chrono::seconds(3));
      rss_before = rss_kib(pid_);
      h_->sim.set_faults({fault_matrix()});
      std::this_thread::sleep_for(std::chrono::seconds(8));
      h_->sim.set_faults({});
      std::this_thread::sleep_for(std::chrono::seconds(50));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    stop_edits();
    expect_converged();
    if (soak_minutes > 0)
      std::printf("soak round %d: converged, %s rows; the last serve's RSS %ld -> %ld KiB over its minute\n", round,
                  h_->db.scalar("SELECT count(*) FROM people").c_str(), rss_before, rss_kib(pid_));
  } while (!HasFailure() && std::chrono::steady_clock::now() < until);
}

TEST_P(ServeUnderFireLogical, TwentyKillsUnderTwoWayEditsLoseNothingAndMakeNothingTwice) {
  std::mt19937_64 rng(20261204);
  // The relay asked for is the one serving: the stream holds the slot from
  // a walsender; the SQL functions never open one.
  if (GetParam() == "sql") {
    for (int i = 0; i < 10; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(100)))
      ASSERT_FALSE(streamed()) << "postgres.relay: sql, yet the slot is streamed";
  } else {
    ASSERT_TRUE(wait_for([&] { return streamed(); }, 10'000)) << "no stream holds the slot";
  }
  start_edits();
  twenty_kills(rng);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  stop_edits();
  expect_converged();
  EXPECT_EQ(h_->db.scalar("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'people'::regclass AND NOT tgisinternal"),
            "0");
  // Each write of the application relayed exactly once, none of hubsync's.
  EXPECT_EQ(h_->db.scalar("SELECT (SELECT count(*) FROM hubsync.changelog) + "
                          "(SELECT count(*) FROM hubsync.changelog_archive)"),
            std::to_string(pg_writes_.load()));
  // The metrics show the WAL the slot holds back, as the server counts it.
  std::optional<double> held;
  eventually([&] {
    held = parse_prometheus_text(http_get(port_, "/metrics").second).value("hubsync_capture_slot_retained_wal_bytes", {});
    return held.has_value();
  });
  ASSERT_TRUE(held.has_value()) << http_get(port_, "/metrics").second;
  EXPECT_GT(*held, 0);
  EXPECT_LT(*held, 64.0 * 1024 * 1024) << "the relay keeps the slot moving";
}

INSTANTIATE_TEST_SUITE_P(Relay, ServeUnderFireLogical, ::testing::Values("stream", "sql"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST_F(ServeUnderFire, TheSimulatorsFaultMatrixUnderTwoWayEditsStillConverges) {
  h_->sim.set_faults({fault_matrix()});
  start_edits();
  std::this_thread::sleep_for(std::chrono::seconds(8));
  stop_edits();
  h_->sim.set_faults({});
  expect_converged();
  std::int64_t faulted = 0, all = 0;
  for (const auto& [route, by_status] : h_->sim.counters().requests)
    for (const auto& [status, n] : by_status) {
      all += n;
      if (status == 500 || status == 429 || status == 423) faulted += n;
    }
  EXPECT_GT(faulted, 0) << "no fault was injected";
  std::printf("serve fault matrix: %lld of %lld API answers were 500/429/423 (plus slow, dropped, reset and "
              "malformed ones) while editing\n",
              static_cast<long long>(faulted), static_cast<long long>(all));
}

}  // namespace
}  // namespace hubsync::test
