// OAuth refresh with the tokens kept in the real SQLite state store through
// StateTokenStore: a rotated refresh token is on disk before it is used.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "connectors/hubspot/oauth.h"
#include "connectors/hubspot/state_token_store.h"
#include "engine/state/sqlite_state_store.h"
#include "tests/integration/hubspot/sim_env.h"

namespace hubsync::hubspot::testing {
namespace {

TEST(StateTokenStore, RefreshedTokensArePersistedInTheStateStore) {
  sim::SimulatorOptions so;
  so.index_lag_ms = 0;
  sim::Simulator s(so);
  s.start();
  char dir_template[] = "/tmp/hubsync-token-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  {
    state::SqliteOptions opt;
    opt.path = dir + "/state.db";
    opt.logger = quiet_logger();
    auto opened = state::SqliteStateStore::open(opt);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    StateTokenStore store(**opened);

    OAuthApp app;
    app.client_id = sim::kOAuthClientId;
    app.client_secret = sim::kOAuthClientSecret;
    app.redirect_uri = "http://127.0.0.1:9/cb";
    app.scopes = {"crm.objects.contacts.write"};
    app.authorize_base = s.base_url() + "/oauth/authorize";
    app.api_base = s.base_url();
    ratelimit::SystemClock clock;
    CurlTransport transport;
    HttpRequest consent;
    consent.url = authorize_url(app, "st");
    auto redirect = transport.send(consent);
    ASSERT_TRUE(redirect.ok());
    const std::string location(find_header(redirect->headers, "Location"));
    const auto code_at = location.find("code=") + 5;
    auto tokens = exchange_code(transport, app, location.substr(code_at, location.find('&', code_at) - code_at), clock);
    ASSERT_TRUE(tokens.ok()) << tokens.error().message;
    ASSERT_TRUE(store.save("62515", *tokens).ok());

    OAuthTokenProvider provider(transport, app, store, "62515", clock, quiet_logger());
    Stack stack(s.base_url(), provider);
    s.expire_oauth_tokens();
    auto r = stack.crm.upsert("contacts", "email", {contact("state@example.com")});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(provider.refreshes(), 1);
    auto saved = store.load("62515");
    ASSERT_TRUE(saved.ok() && saved->has_value());
    EXPECT_NE((*saved)->refresh_token, tokens->refresh_token);
    EXPECT_GT((*saved)->expires_at_ms, tokens->expires_at_ms - 1);
    // The stored refresh token is the live one.
    auto again = refresh_tokens(transport, app, (*saved)->refresh_token, clock);
    EXPECT_TRUE(again.ok()) << again.error().message;
  }
  std::filesystem::remove_all(dir);
  s.stop();
}

}  // namespace
}  // namespace hubsync::hubspot::testing
