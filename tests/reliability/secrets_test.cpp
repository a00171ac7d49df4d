// Secrets never shown: every command an operator runs, at log level trace,
// and a running serve (its log, /metrics, /readyz, the health page, a
// webhook, a workflow action) — none of them prints the HubSpot token, the
// app's client secret, the developer API key, the DSN's password or the
// health page's credentials, nor their URL-encoded or base64 forms.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>

#include "engine/webhook/signature.h"
#include "tests/integration/push/push_harness.h"
#include "tests/integration/serve/serve_support.h"
#include "tests/support/people.h"
#include "tests/support/process.h"

namespace hubsync::test {
namespace {

constexpr const char* kToken = "pat-na1-SECRET-token-5150";
constexpr const char* kClientSecret = "whsec-SECRET-client-9931";
constexpr const char* kDeveloperKey = "devkey-SECRET-2718";
constexpr const char* kDsnPassword = "pg-SECRET-pass-7781";
constexpr const char* kHealthAuth = "ops:health-SECRET-1234";

const std::string kPeople = std::string(kPeopleMapping) + "actions:\n  - {name: people_lookup, kind: lookup, columns: [city]}\n";

// Every form a secret could leak in.
std::vector<std::string> forms(const std::string& secret) {
  return {secret, webhook::base64(secret), secret.substr(secret.find("SECRET"))};
}

class SecretsNeverShown : public ::testing::Test {
 protected:
  void SetUp() override {
    HUBSYNC_REQUIRE_PG(server);
    sim::SimulatorOptions so;
    so.rate_limits = false;
    so.index_lag_ms = 0;
    so.tokens.push_back({kToken, sim::kHubsyncAppId});
    so.oauth_client_secret = kClientSecret;
    so.developer_api_key = kDeveloperKey;
    h_ = std::make_unique<PushHarness>(server, people_table_sql("bigserial"), std::vector<std::string>{kPeople}, so);
    h_->db.exec("INSERT INTO people (email, first_name, city) VALUES ('a@example.com', 'A', 'Oslo')");
    std::filesystem::create_directories(h_->dir / "mappings");
    std::ofstream(h_->dir / "mappings" / "people.yaml") << kPeople;
    std::ofstream(h_->dir / "token") << kToken << "\n";
    std::ofstream(h_->dir / "client-secret") << kClientSecret << "\n";
    std::ofstream(h_->dir / "developer-key") << kDeveloperKey << "\n";
    std::ofstream(h_->dir / "health") << kHealthAuth << "\n";
    const std::string dsn = h_->db.dsn() + (h_->db.dsn().find('?') == std::string::npos ? "?" : "&") +
                            "password=" + kDsnPassword;
    std::ofstream(h_->dir / "dsn") << dsn << "\n";
    port_ = free_port();
    const std::string base = "http://127.0.0.1:" + std::to_string(port_);
    config_ = (h_->dir / "hubsync.yaml").string();
    std::ofstream(config_) << "postgres: {dsn_file: dsn}\n"
                           << "hubspot: {base_url: '" << h_->sim.base_url() << "', portal_id: 62515, token_file: token}\n"
                           << "state: {path: cli-state.db}\nmappings: {dir: mappings}\n"
                           << "webhook: {listen: '127.0.0.1:" << port_ << "', public_url: '" << base
                           << "/webhooks/hubspot', client_secret_file: client-secret}\n"
                           << "serve: {health_auth_file: health, poll_s: 1}\n"
                           << "actions: {app_id: " << sim::kHubsyncAppId << ", developer_api_key_file: developer-key}\n";
  }

  void run(const std::string& args) {
    auto o = run_command("'" HUBSYNC_BIN "' --log-level trace --config '" + config_ + "' " + args);
    seen_ += "\n$ hubsync " + args + " (exit " + std::to_string(o.code) + ")\n" + o.out;
  }

  void expect_no_secret(const std::string& text) {
    for (const char* s : {kToken, kClientSecret, kDeveloperKey, kDsnPassword, kHealthAuth})
      for (const auto& form : forms(s)) EXPECT_EQ(text.find(form), std::string::npos) << "'" << form << "' shown in:\n" << text;
  }

  std::unique_ptr<PushHarness> h_;
  int port_ = 0;
  std::string config_;
  std::string seen_;
};

TEST_F(SecretsNeverShown, InAnyCommandsOutputOrServesLogsPagesAndMetrics) {
  run("config check");
  run("validate");
  run("migrate");
  run("run --once");
  run("plan --show-values");
  run("status");
  run("status --json");
  run("dead-letters list");
  run("conflicts list");
  run("actions plan");
  run("actions apply");
  auto live = h_->live_by("contacts", "email");
  ASSERT_EQ(live.count("a@example.com"), 1u) << seen_;
  h_->sim.ui_edit("contacts", live.at("a@example.com").id, {{"city", "Bergen"}});

  const std::string log = (h_->dir / "serve.log").string();
  const pid_t pid = spawn_hubsync(HUBSYNC_BIN, {"--log-level", "trace", "--config", config_, "serve"}, log);
  ASSERT_TRUE(eventually([&] { return http_get(port_, "/healthz").first == 200; })) << log_tail(log);
  seen_ += http_get(port_, "/metrics").second;
  seen_ += http_get(port_, "/readyz").second;
  const auto page = http_get(port_, "/", "Authorization: Basic " + webhook::base64(kHealthAuth) + "\r\n");
  EXPECT_EQ(page.first, 200);
  seen_ += page.second;
  seen_ += http_get(port_, "/", "Authorization: Basic " + webhook::base64("ops:wrong") + "\r\n").second;
  // A forged webhook and a forged action: their refusals are logged.
  seen_ += http_post(port_, "/webhooks/hubspot", "[]", "X-HubSpot-Signature-v3: forged\r\n").second;
  seen_ += http_post(port_, "/hubspot/actions/people_lookup", R"({"callbackId":"x","object":{"objectId":1}})",
                     "X-HubSpot-Signature: forged\r\n").second;
  ASSERT_TRUE(eventually([&] { return h_->db.scalar("SELECT city FROM people") == "Bergen"; })) << log_tail(log);
  kill(pid, SIGTERM);
  EXPECT_EQ(wait_for_exit(pid, 30000), 0);
  std::ifstream in(log);
  seen_ += std::string(std::istreambuf_iterator<char>(in), {});

  // Wrong credentials: the errors name the cause, never the secret.
  std::ofstream(h_->dir / "token") << "pat-na1-SECRET-token-5150-revoked\n";
  run("run --once");
  EXPECT_NE(seen_.find("401"), std::string::npos);
  run("status");

  EXPECT_GT(seen_.size(), 10'000u) << "trace logging produced too little to check";
  expect_no_secret(seen_);
}

}  // namespace
}  // namespace hubsync::test
