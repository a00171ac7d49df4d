// The webhook section: serve's receiver limits, with defaults, bounds and
// every mistake reported together.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/config/config.h"
#include "tests/unit/config/config_fixture.h"

namespace hubsync::config {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

using WebhookConfigTest = ConfigFixture;

constexpr const char* kBase = "postgres: {dsn: 'host=x'}\nhubspot: {token_env: T}\n";

TEST_F(WebhookConfigTest, DefaultsAreSafe) {
  const WebhookConfig w;
  EXPECT_EQ(w.listen, "127.0.0.1:8080");
  EXPECT_EQ(w.path, "/webhooks/hubspot");
  EXPECT_FALSE(w.accept_v1_v2);
  EXPECT_EQ(w.max_skew_ms, 300000);
  EXPECT_EQ(w.max_body_bytes, 1024 * 1024);
  EXPECT_EQ(w.max_events, 100);
  EXPECT_EQ(w.max_connections, 64);
  EXPECT_EQ(w.header_timeout_ms, 5000);
  EXPECT_EQ(w.body_timeout_ms, 5000);
}

TEST_F(WebhookConfigTest, EveryKeyIsReadAndShown) {
  env_["T"] = "pat-x";
  env_["HS_SECRET"] = "webhook-secret-value-1234";
  env_["HUBSYNC_WEBHOOK_ACCEPT_V1_V2"] = "true";
  auto path = write("hubsync.yaml", std::string(kBase) + R"(webhook:
  listen: "[::1]:9090"
  path: /hs/events
  public_url: https://sync.example.com/hs/events
  client_secret_env: HS_SECRET
  max_skew_ms: 60000
  max_body_bytes: 2048
  max_events: 50
  max_connections: 8
  header_timeout_ms: 1500
  body_timeout_ms: 2500
)");
  auto r = load_config(path, env());
  ASSERT_TRUE(r.ok()) << all_issues(r);
  const auto& w = r.config.webhook;
  EXPECT_EQ(w.listen, "[::1]:9090");
  EXPECT_EQ(w.path, "/hs/events");
  EXPECT_TRUE(w.accept_v1_v2);
  EXPECT_EQ(w.max_skew_ms, 60000);
  EXPECT_EQ(w.max_body_bytes, 2048);
  EXPECT_EQ(w.max_events, 50);
  EXPECT_EQ(w.max_connections, 8);
  EXPECT_EQ(w.header_timeout_ms, 1500);
  EXPECT_EQ(w.body_timeout_ms, 2500);
  const std::string shown = render_masked(r.config);
  EXPECT_THAT(shown, ContainsRegex("webhook\\.path +=  ?/hs/events\n"));
  EXPECT_THAT(shown, ContainsRegex("webhook\\.accept_v1_v2 += true  \\(v1/v2 signatures carry no timestamp"));
  EXPECT_THAT(shown, ContainsRegex("webhook\\.max_connections += 8\n"));
  EXPECT_THAT(shown, ContainsRegex("webhook\\.header_timeout_ms += 1500\n"));
  EXPECT_THAT(shown, Not(HasSubstr("webhook-secret-value-1234")));
}

TEST_F(WebhookConfigTest, BadValuesAreAllReported) {
  env_["T"] = "pat-x";
  auto path = write("hubsync.yaml", std::string(kBase) + R"(webhook:
  path: hooks
  public_url: https://sync.example.com/hook?token=1
  client_secret: abcdefgh
  accept_v1_v2: yes
  max_body_bytes: 10
  max_events: 0
  max_connections: 100000
  header_timeout_ms: 50
  body_timeout_ms: soon
)");
  auto r = load_config(path, env());
  EXPECT_FALSE(r.ok());
  const std::string text = all_issues(r);
  EXPECT_THAT(text, HasSubstr(":4:9: error: webhook.path: 'hooks' is not a path"));
  EXPECT_THAT(text, HasSubstr("webhook.public_url: 'https://sync.example.com/hook?token=1' holds a query"));
  EXPECT_THAT(text, HasSubstr("webhook.accept_v1_v2: 'yes' is not true or false"));
  EXPECT_THAT(text, HasSubstr("webhook.max_body_bytes: '10' is out of range [1024, 67108864]"));
  EXPECT_THAT(text, HasSubstr("webhook.max_events: '0' is out of range [1, 1000]"));
  EXPECT_THAT(text, HasSubstr("webhook.max_connections: '100000' is out of range"));
  EXPECT_THAT(text, HasSubstr("webhook.header_timeout_ms: '50' is out of range [100, 600000]"));
  EXPECT_THAT(text, HasSubstr("webhook.body_timeout_ms: 'soon' is not an integer"));
  EXPECT_THAT(text, Not(HasSubstr("abcdefgh")));

  auto clash = write("clash.yaml", std::string(kBase) + "webhook: {path: /metrics}\n");
  EXPECT_THAT(all_issues(load_config(clash, env())), HasSubstr("one of serve's service endpoints"));
}

TEST_F(WebhookConfigTest, ActionsAreCalledUnderThePublicOriginAndTheirKeyIsASecret) {
  env_["T"] = "pat-x";
  env_["DEV_KEY"] = "dev-key-value-98765";
  auto path = write("hubsync.yaml", std::string(kBase) + R"(webhook:
  public_url: https://sync.example.com:8443/hs/events
  client_secret: abcdefgh12
actions:
  app_id: 1001
  developer_api_key_env: DEV_KEY
  path: /hs/actions
  answer_within_ms: 1500
)");
  auto r = load_config(path, env());
  ASSERT_TRUE(r.ok()) << all_issues(r);
  EXPECT_EQ(r.config.actions.app_id, 1001);
  EXPECT_EQ(r.config.actions.developer_api_key.value, "dev-key-value-98765");
  EXPECT_EQ(r.config.actions.answer_within_ms, 1500);
  EXPECT_EQ(actions_base_url(r.config), "https://sync.example.com:8443/hs/actions");
  const std::string shown = render_masked(r.config);
  EXPECT_THAT(shown, ContainsRegex("actions\\.developer_api_key += \\*\\*\\*\\* \\(from env DEV_KEY\\)"));
  EXPECT_THAT(shown, Not(HasSubstr("dev-key-value-98765")));
  EXPECT_EQ(redact(r.config, "refused hapikey=dev-key-value-98765"), "refused hapikey=****");
  r.config.actions.public_url = "https://actions.example.com/a";
  EXPECT_EQ(actions_base_url(r.config), "https://actions.example.com/a");
  r.config.actions.public_url.clear();
  r.config.webhook.public_url.clear();
  EXPECT_EQ(actions_base_url(r.config), "");

  auto bad = write("bad.yaml", std::string(kBase) + R"(webhook: {path: /hooks}
actions: {path: /hooks/actions, answer_within_ms: 60000, public_url: "ftp://x"}
)");
  const std::string text = all_issues(load_config(bad, env()));
  EXPECT_THAT(text, HasSubstr("actions.path: must differ from webhook.path and not lie under it"));
  EXPECT_THAT(text, HasSubstr("actions.answer_within_ms: '60000' is out of range [10, 20000]"));
  EXPECT_THAT(text, HasSubstr("actions.public_url: 'ftp://x' is not an http(s) URL"));
}

}  // namespace
}  // namespace hubsync::config
