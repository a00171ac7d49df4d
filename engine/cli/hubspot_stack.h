#pragma once

#include <memory>
#include <optional>

#include "connectors/hubspot/auth.h"
#include "connectors/hubspot/client.h"
#include "connectors/hubspot/curl_transport.h"
#include "connectors/hubspot/hubspot_crm.h"
#include "connectors/hubspot/oauth.h"
#include "connectors/hubspot/state_token_store.h"
#include "engine/config/config.h"
#include "engine/ratelimit/clock.h"
#include "engine/ratelimit/rate_limiter.h"
#include "engine/state/state_store.h"

namespace hubsync::cli {

/// Everything that talks to HubSpot, built from the configuration: transport,
/// auth, the portal's rate limiter, the retrying client and the CrmPort.
struct HubSpotStack {
  /// `limits` replaces the limiter settings derived from cfg.rate_limit
  /// (benchmarks and tests that must not be throttled like a real portal).
  /// `store` may be null for commands that must not take the state store's
  /// write lock; OAuth then fails with an auth error naming the reason.
  /// `interactive` commands (validate, schema, auth status) give up on an
  /// unreachable HubSpot within seconds instead of retrying for minutes.
  HubSpotStack(const config::Config& cfg, state::StateStore* store, ratelimit::Clock& clock,
               std::optional<ratelimit::LimiterConfig> limits = std::nullopt,
               bool interactive = false);

  hubspot::CurlTransport transport;
  std::unique_ptr<hubspot::StateTokenStore> token_store;
  std::unique_ptr<hubspot::TokenProvider> tokens;
  ratelimit::RateLimiter limiter;
  hubspot::HubSpotClient client;
  hubspot::HubSpotCrm crm;
};

/// The portal's limits from cfg.rate_limit; a permit nobody settles is taken
/// as answered no sooner than a minute after hubspot.timeout_ms.
ratelimit::LimiterConfig limiter_config(const config::Config& cfg);

/// The OAuth app settings of a configuration; the consent page is
/// hubspot.authorize_url or the one derived from base_url (config/urls.h).
hubspot::OAuthApp oauth_app(const config::Config& cfg);

/// Transport settings of a configuration (timeouts; warnings go to the
/// "hubspot" logger).
hubspot::CurlOptions curl_options(const config::Config& cfg);

/// Logs a warning naming the risk when hubspot.allow_insecure_http lets the
/// token go over plain http to a host that is not loopback. Call once at the
/// start of a command that talks to HubSpot (HubSpotStack does).
void warn_if_insecure(const config::Config& cfg);

}  // namespace hubsync::cli
