// `hubsync serve` fed by the simulator's signed webhooks over loopback: UI
// edits reach Postgres through the inbox (the sweep is set an hour away, so
// only a webhook can explain them), repeated deliveries apply once, SIGHUP
// reloads mappings or keeps them.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/integration/push/push_harness.h"
#include "tests/integration/serve/serve_support.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class ServeWebhooks : public ::testing::Test {
 protected:
  void SetUp() override {
    HUBSYNC_REQUIRE_PG(server);
    h_ = quick_harness(server, "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text)",
                       {kServePeople});
    fs::create_directories(h_->dir / "mappings");
    std::ofstream(h_->dir / "mappings" / "people.yaml") << kServePeople;
    config_ = h_->dir / "hubsync.yaml";
    std::string yaml = h_->config_yaml();
    yaml.replace(yaml.find("level: warn"), 11, "level: info");
    // The simulator signs with its OAuth client secret; no public_url: the
    // URL it calls is the one the server sees.
    std::ofstream(config_) << yaml << "webhook: {listen: '127.0.0.1:0', client_secret: '" << sim::kOAuthClientSecret
                           << "'}\nserve: {poll_s: 3600, sweep_every_s: 3600, reconcile_every_s: 7200, "
                              "inbox_every_ms: 100}\n";
    const std::string cmd = "'" HUBSYNC_BIN "' --config '" + config_.string() + "' migrate >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    log_ = (h_->dir / "serve.log").string();
    pid_ = spawn_hubsync(HUBSYNC_BIN, {"--config", config_.string(), "serve"}, log_);
    // The port it bound, from its first lines.
    std::smatch m;
    const std::regex port("listening on port ([0-9]+)");
    for (int i = 0; i < 100; ++i) {
      const std::string text = log_tail(log_, 200);
      if (std::regex_search(text, m, port)) break;
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_FALSE(m.empty()) << log_tail(log_);
    port_ = std::stoi(m[1]);
    h_->sim.set_webhook_target("http://127.0.0.1:" + std::to_string(port_) + "/webhooks/hubspot");
    sim::WebhookSubscription sub;
    sub.event_type = "contact.*";
    h_->sim.add_webhook_subscription(sub);
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      EXPECT_EQ(wait_for_exit(pid_, 30000), 0) << log_tail(log_);
    }
  }
  std::string pg(const std::string& sql) { return h_->db.scalar(sql); }

  std::unique_ptr<PushHarness> h_;
  fs::path config_;
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(ServeWebhooks, AHundredUiEditsReachPostgresThroughWebhooks) {
  const auto id = h_->sim.ui_create("contacts", {{"email", "w@x.io"}, {"firstname", "v0"}});
  ASSERT_TRUE(eventually([&] { return pg("SELECT name FROM people WHERE email = 'w@x.io'") == "v0"; }))
      << log_tail(log_);
  std::vector<double> ms;
  for (int i = 1; i <= 100; ++i) {
    const std::string v = "v" + std::to_string(i);
    const auto t0 = Clock::now();
    h_->sim.ui_edit("contacts", id, {{"firstname", v}});
    ASSERT_TRUE(eventually([&] { return pg("SELECT name FROM people WHERE email = 'w@x.io'") == v; }))
        << "edit " << i << " never arrived\n" << log_tail(log_);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("HubSpot edit -> Postgres through webhooks: p50 %.0f ms, p99 %.0f ms (100 edits, inbox_every_ms 100)\n",
              ms[49], ms[98]);
  EXPECT_EQ(pg("SELECT count(*) FROM people"), "1");
  // Nothing pulled was echoed back as a change to push.
  EXPECT_EQ(pg("SELECT count(*) FROM hubsync.changelog"), "0");
}

TEST_F(ServeWebhooks, DeletesAndRedeliveredBatchesApplyOnce) {
  const auto a = h_->sim.ui_create("contacts", {{"email", "a@x.io"}, {"firstname", "A"}});
  h_->sim.ui_create("contacts", {{"email", "b@x.io"}, {"firstname", "B"}});
  ASSERT_TRUE(eventually([&] { return pg("SELECT count(*) FROM people") == "2"; })) << log_tail(log_);
  h_->sim.ui_delete("contacts", a);
  EXPECT_TRUE(eventually([&] { return pg("SELECT count(*) FROM people WHERE email = 'a@x.io'") == "0"; }))
      << log_tail(log_);
  EXPECT_EQ(pg("SELECT count(*) FROM people"), "1");
  EXPECT_GE(h_->sim.counters().webhook_deliveries, 3);
}

TEST_F(ServeWebhooks, SighupAppliesAGoodMappingAndKeepsTheOldOneWhenBroken) {
  // A broken mapping file: serve says why and keeps syncing with the old one.
  std::ofstream(h_->dir / "mappings" / "people.yaml") << "name: people\npostgres: {table: public.people\n";
  kill(pid_, SIGHUP);
  EXPECT_TRUE(eventually([&] { return log_tail(log_).find("still serving the previous ones") != std::string::npos; }))
      << log_tail(log_);
  EXPECT_NE(log_tail(log_).find("people.yaml:"), std::string::npos) << "the finding names the file";
  const auto id = h_->sim.ui_create("contacts", {{"email", "after@x.io"}, {"firstname", "Old"}});
  EXPECT_TRUE(eventually([&] { return pg("SELECT name FROM people WHERE email = 'after@x.io'") == "Old"; }))
      << log_tail(log_);
  // A good one (firstname now comes from a new column) is applied.
  h_->db.exec("ALTER TABLE people ADD COLUMN nick text");
  std::string good = kServePeople;
  good.replace(good.find("{column: name, property: firstname}"), 35, "{column: nick, property: firstname}");
  std::ofstream(h_->dir / "mappings" / "people.yaml") << good;
  const std::string cmd = "'" HUBSYNC_BIN "' --config '" + config_.string() + "' migrate >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  kill(pid_, SIGHUP);
  EXPECT_TRUE(eventually([&] { return log_tail(log_).find("reloaded 1 mapping(s)") != std::string::npos; }))
      << log_tail(log_);
  h_->sim.ui_edit("contacts", id, {{"firstname", "New"}});
  EXPECT_TRUE(eventually([&] { return pg("SELECT nick FROM people WHERE email = 'after@x.io'") == "New"; }))
      << log_tail(log_);
}

}  // namespace
}  // namespace hubsync::test
