#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "connectors/hubspot/oauth.h"
#include "tests/integration/hubspot/sim_env.h"
#include "tests/support/process.h"

namespace hubsync::hubspot::testing {
namespace {

using model::ErrorKind;
using SteadyClock = std::chrono::steady_clock;
using hubsync::test::free_port;

const std::string kPortal = "62515";

std::string query_value(const std::string& url, const std::string& name) {
  auto pos = url.find(name + "=");
  if (pos == std::string::npos) return "";
  pos += name.size() + 1;
  return url.substr(pos, url.find('&', pos) - pos);
}

class OAuth : public SimTest {
 protected:
  OAuthApp app() const {
    OAuthApp a;
    a.client_id = sim::kOAuthClientId;
    a.client_secret = sim::kOAuthClientSecret;
    a.redirect_uri = "http://127.0.0.1:9/oauth/callback";
    a.scopes = {"crm.objects.contacts.read", "crm.objects.contacts.write"};
    a.authorize_base = sim_->base_url() + "/oauth/authorize";
    a.api_base = sim_->base_url();
    return a;
  }

  // The user's consent, as the simulator grants it: the authorize URL
  // redirects to redirect_uri with a code and our state.
  std::string authorize(const OAuthApp& a, const std::string& state) {
    HttpRequest req;
    req.url = authorize_url(a, state);
    auto r = stack_->transport.send(req);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 302);
    const std::string location(find_header(r->headers, "Location"));
    EXPECT_EQ(query_value(location, "state"), state);
    return query_value(location, "code");
  }

  // Logs in (authorization code flow) and stores the tokens.
  void login() {
    auto a = app();
    auto tokens = exchange_code(stack_->transport, a, authorize(a, random_state()), stack_->clock);
    ASSERT_TRUE(tokens.ok()) << tokens.error().message;
    EXPECT_FALSE(tokens->refresh_token.empty());
    ASSERT_TRUE(store_.save(kPortal, *tokens).ok());
  }

  std::unique_ptr<Stack> oauth_stack(OAuthTokenProvider& provider) {
    StackOptions o;
    o.client.in_flight = 8;
    return std::make_unique<Stack>(sim_->base_url(), provider, o);
  }

  InMemoryTokenStore store_;
};

TEST_F(OAuth, AuthorizeUrlCarriesEveryParameterEncoded) {
  OAuthApp a = app();
  a.authorize_base = "https://app.hubspot.com/oauth/authorize";
  const auto url = authorize_url(a, "abc123");
  EXPECT_EQ(url,
            "https://app.hubspot.com/oauth/authorize?client_id=sim-client-id"
            "&scope=crm.objects.contacts.read%20crm.objects.contacts.write"
            "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Foauth%2Fcallback&state=abc123");
  const auto s1 = random_state(), s2 = random_state();
  EXPECT_EQ(s1.size(), 32u);
  EXPECT_NE(s1, s2);
}

TEST_F(OAuth, LoopbackListenerChecksStateAndTheCodeExchanges) {
  const int port = free_port();
  OAuthApp a = app();
  a.redirect_uri = "http://127.0.0.1:" + std::to_string(port) + "/oauth/callback";
  const std::string state = random_state();
  auto waiting = std::async(std::launch::async, [&] { return wait_for_redirect(port, state, 5'000ms); });
  std::this_thread::sleep_for(100ms);  // the listener binds
  HttpRequest consent;
  consent.url = authorize_url(a, state);
  auto r = stack_->transport.send(consent);
  ASSERT_TRUE(r.ok());
  HttpRequest browser;  // the browser follows the redirect to the listener
  browser.url = std::string(find_header(r->headers, "Location"));
  auto page = stack_->transport.send(browser);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->status, 200);
  auto got = waiting.get();
  ASSERT_TRUE(got.ok()) << got.error().message;
  auto tokens = exchange_code(stack_->transport, a, got->code, stack_->clock);
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;

  auto info = access_token_info(stack_->transport, a.api_base, tokens->access_token);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->hub_id, 62515);
  EXPECT_GT(info->expires_in_s, 0);

  // A forged state is refused.
  const int port2 = free_port();
  auto forged = std::async(std::launch::async, [&] { return wait_for_redirect(port2, "expected", 5'000ms); });
  std::this_thread::sleep_for(100ms);
  HttpRequest evil;
  evil.url = "http://127.0.0.1:" + std::to_string(port2) + "/oauth/callback?code=x&state=other";
  (void)stack_->transport.send(evil);
  auto refused = forged.get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::auth);
}

TEST_F(OAuth, ExpiredTokenGetsExactlyOneRefreshAndRetry) {
  login();
  OAuthTokenProvider provider(stack_->transport, app(), store_, kPortal, stack_->clock, quiet_logger());
  auto s = oauth_stack(provider);
  ASSERT_TRUE(s->crm.upsert("contacts", "email", {contact("o1@example.com")}).ok());
  EXPECT_EQ(provider.refreshes(), 0);
  const auto before = store_.load(kPortal);
  sim_->expire_oauth_tokens();
  auto r = s->crm.upsert("contacts", "email", {contact("o2@example.com")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE((*r)[0].ok());
  EXPECT_EQ(provider.refreshes(), 1);
  EXPECT_EQ(s->client.counters().retries_auth, 1);
  EXPECT_EQ(s->client.counters().attempts, 3);
  // The rotated refresh token was stored; the old one no longer works.
  const auto after = store_.load(kPortal);
  ASSERT_TRUE(before.ok() && after.ok() && before->has_value() && after->has_value());
  EXPECT_NE((*before)->refresh_token, (*after)->refresh_token);
  auto stale = refresh_tokens(stack_->transport, app(), (*before)->refresh_token, stack_->clock);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind, ErrorKind::auth);
}

TEST_F(OAuth, ConcurrentWorkersShareOneRefresh) {
  login();
  OAuthTokenProvider provider(stack_->transport, app(), store_, kPortal, stack_->clock, quiet_logger());
  auto s = oauth_stack(provider);
  ASSERT_TRUE(s->crm.upsert("contacts", "email", {contact("w0@example.com")}).ok());
  sim_->expire_oauth_tokens();
  std::vector<pipeline::UpsertInput> in;
  for (int i = 0; i < 800; ++i) in.push_back(contact("w" + std::to_string(i) + "@example.com"));
  auto r = s->crm.upsert("contacts", "email", in);  // 8 chunks, 8 workers
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& o : *r) ASSERT_TRUE(o.ok()) << o.error->message;
  EXPECT_EQ(provider.refreshes(), 1);
  EXPECT_LE(s->client.counters().retries_auth, 8);
}

TEST_F(OAuth, ShortLivedTokensExpiringMidRunNeverFailARequest) {
  sim_->set_token_expiry(2);
  login();
  OAuthTokenProvider provider(stack_->transport, app(), store_, kPortal, stack_->clock, quiet_logger());
  auto s = oauth_stack(provider);
  const auto until = SteadyClock::now() + 7s;
  int calls = 0;
  std::atomic<int> failures{0};
  while (SteadyClock::now() < until) {
    std::vector<pipeline::UpsertInput> in;
    for (int i = 0; i < 300; ++i) in.push_back(contact("m" + std::to_string(calls * 300 + i) + "@example.com"));
    auto r = s->crm.upsert("contacts", "email", in);
    if (!r.ok()) {
      ++failures;
      ADD_FAILURE() << r.error().message;
    } else {
      for (const auto& o : *r)
        if (!o.ok()) ++failures;
    }
    ++calls;
    std::this_thread::sleep_for(150ms);
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(provider.refreshes(), 3);  // ~7 s of 2 s tokens
  EXPECT_GE(store_.saves(), provider.refreshes() + 1);
  EXPECT_GT(calls, 10);
  EXPECT_EQ(s->client.counters().failures, 0);
}

TEST_F(OAuth, MissingTokensAreAnAuthError) {
  OAuthTokenProvider provider(stack_->transport, app(), store_, "no-such-portal", stack_->clock, quiet_logger());
  auto s = oauth_stack(provider);
  auto r = s->crm.upsert("contacts", "email", {contact("x@example.com")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_EQ(s->client.counters().attempts, 0);
}

}  // namespace
}  // namespace hubsync::hubspot::testing
