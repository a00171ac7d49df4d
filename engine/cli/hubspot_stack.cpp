#include "engine/cli/hubspot_stack.h"

#include <algorithm>
#include <sstream>

#include "connectors/hubspot/oauth.h"
#include "engine/config/urls.h"
#include "engine/ops/logging.h"

namespace hubsync::cli {

hubspot::OAuthApp oauth_app(const config::Config& cfg) {
  hubspot::OAuthApp app;
  app.client_id = cfg.hubspot.client_id;
  app.client_secret = cfg.hubspot.client_secret.value;
  app.redirect_uri = cfg.hubspot.redirect_uri;
  std::istringstream scopes(cfg.hubspot.scopes);
  for (std::string s; scopes >> s;) app.scopes.push_back(s);
  app.api_base = cfg.hubspot.base_url;
  if (auto url = config::authorize_url(cfg.hubspot)) app.authorize_base = *url;
  return app;
}

hubspot::CurlOptions curl_options(const config::Config& cfg) {
  hubspot::CurlOptions o;
  o.total_timeout = std::chrono::milliseconds(cfg.hubspot.timeout_ms);
  o.log = ops::logger("hubspot");
  return o;
}

void warn_if_insecure(const config::Config& cfg) {
  if (!config::insecure_http_in_use(cfg.hubspot)) return;
  ops::logger("hubspot")->warn(
      "insecure transport host={} hubspot.allow_insecure_http=true: plain http to a host that is not "
      "loopback; the HubSpot token and CRM data travel unencrypted",
      config::url_host(cfg.hubspot.base_url).value_or("?"));
}

ratelimit::LimiterConfig limiter_config(const config::Config& cfg) {
  ratelimit::LimiterConfig l;
  l.burst_limit = cfg.rate_limit.tier;
  l.headroom = cfg.rate_limit.headroom;
  l.daily_limit = cfg.rate_limit.daily_limit;
  l.search_limit = cfg.rate_limit.search_per_second;
  // A permit is settled when its answer (or failure) comes, at the latest
  // after the transport's timeout: only a lost one may be taken as answered.
  l.settle_within = std::max<ratelimit::Clock::Duration>(
      l.settle_within, std::chrono::milliseconds(cfg.hubspot.timeout_ms) + std::chrono::seconds(60));
  return l;
}

namespace {

hubspot::ClientConfig client_config(const config::Config& cfg, bool interactive) {
  hubspot::ClientConfig c;
  c.base_url = cfg.hubspot.base_url;
  c.in_flight = cfg.rate_limit.max_in_flight;
  c.max_retry_wait = std::chrono::seconds(cfg.hubspot.retry_for_s);
  if (interactive) {
    c.max_attempts = 3;
    c.max_retry_wait = std::chrono::seconds(5);
  }
  return c;
}

}  // namespace

namespace {

// OAuth without the state store: a rotated refresh token would have nowhere
// durable to go, so refuse rather than risk losing it.
class NoTokenStore final : public hubspot::TokenProvider {
 public:
  model::Result<std::string> access_token() override { return refuse(); }
  model::Status on_expired(const std::string&) override { return refuse(); }
  bool refreshable() const override { return false; }

 private:
  static model::Error refuse() {
    return model::make_error(model::ErrorKind::auth,
                             "OAuth needs the state store (refresh tokens rotate): run this "
                             "command where the state file is writable");
  }
};

}  // namespace

HubSpotStack::HubSpotStack(const config::Config& cfg, state::StateStore* store,
                           ratelimit::Clock& clock, std::optional<ratelimit::LimiterConfig> limits,
                           bool interactive)
    : transport(curl_options(cfg)),
      limiter(clock, limits ? *limits : limiter_config(cfg)),
      client(transport, *[&]() -> hubspot::TokenProvider* {
        if (cfg.hubspot.auth == config::AuthMode::private_app) {
          tokens = std::make_unique<hubspot::PrivateAppToken>(cfg.hubspot.token.value);
        } else if (!store) {
          tokens = std::make_unique<NoTokenStore>();
        } else {
          token_store = std::make_unique<hubspot::StateTokenStore>(*store);
          const std::string portal = std::to_string(cfg.hubspot.portal_id);
          // First run: seed the store with the configured refresh token.
          auto existing = token_store->load(portal);
          if (existing.ok() && !*existing && cfg.hubspot.refresh_token.set()) {
            hubspot::OAuthTokens seed;
            seed.refresh_token = cfg.hubspot.refresh_token.value;
            (void)token_store->save(portal, seed);
          }
          tokens = std::make_unique<hubspot::OAuthTokenProvider>(
              transport, oauth_app(cfg), *token_store, portal, clock, ops::logger("auth"));
        }
        return tokens.get();
      }(), limiter, clock, client_config(cfg, interactive), ops::logger("hubspot")),
      crm(client) {
  warn_if_insecure(cfg);
}

}  // namespace hubsync::cli
