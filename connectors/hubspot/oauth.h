#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/hubspot/auth.h"
#include "connectors/hubspot/http_transport.h"
#include "engine/ratelimit/clock.h"

namespace spdlog {
class logger;
}

namespace hubsync::hubspot {

using namespace std::chrono_literals;

/// A public app's OAuth settings. client_secret comes from the environment
/// or a file, never from a mapping or a log.
struct OAuthApp {
  std::string client_id;
  std::string client_secret;
  std::string redirect_uri;   ///< e.g. http://127.0.0.1:8085/oauth/callback
  std::vector<std::string> scopes;
  std::string authorize_base = "https://app.hubspot.com/oauth/authorize";
  std::string api_base = "https://api.hubapi.com";  ///< token endpoint host
};

/// 32 hex characters from a CSPRNG, for the authorize URL's `state`.
std::string random_state();

/// The URL the user opens: authorize_base?client_id&scope&redirect_uri&state,
/// each percent-encoded, scopes space-separated.
std::string authorize_url(const OAuthApp& app, const std::string& state);

/// Percent-encodes for a query component or a form body.
std::string url_encode(std::string_view s);

/// Exchanges an authorization code at POST /oauth/v1/token.
/// Errors: auth when HubSpot refuses the code (400), transient on transport
/// failures and 5xx. The tokens are not stored: the caller saves them.
model::Result<OAuthTokens> exchange_code(HttpTransport& transport, const OAuthApp& app,
                                         const std::string& code, ratelimit::Clock& clock);

/// Trades a refresh token for new tokens (grant_type=refresh_token). The
/// result keeps the old refresh token when HubSpot sends none.
/// Errors as exchange_code.
model::Result<OAuthTokens> refresh_tokens(HttpTransport& transport, const OAuthApp& app,
                                          const std::string& refresh_token, ratelimit::Clock& clock);

/// What GET /oauth/v1/access-tokens/{token} says about a token: for
/// `hubsync auth status` (never print the token itself).
struct TokenInfo {
  std::int64_t hub_id = 0;
  std::string hub_domain;
  std::string user;
  std::vector<std::string> scopes;
  std::int64_t expires_in_s = 0;
};
model::Result<TokenInfo> access_token_info(HttpTransport& transport, const std::string& api_base,
                                           const std::string& access_token);

/// Revokes a refresh token (DELETE /oauth/v1/refresh-tokens/{token}), for
/// tokens obtained but not kept. Errors: as access_token_info.
model::Status revoke_refresh_token(HttpTransport& transport, const std::string& api_base,
                                   const std::string& refresh_token);

/// What the loopback redirect listener received.
struct RedirectResult {
  std::string code;
  std::string state;
};
/// Listens on 127.0.0.1:`port` for the browser's redirect, answers it with a
/// short page, checks `expected_state` (constant time) and returns the code.
/// Errors: auth on a state mismatch or an `error=` redirect, transient on
/// timeout or socket failure.
model::Result<RedirectResult> wait_for_redirect(int port, const std::string& expected_state,
                                                std::chrono::milliseconds timeout);

/// OAuth tokens for one portal: loaded from the TokenStore, refreshed
/// proactively `refresh_margin` before expiry (at most a fifth of the token's
/// lifetime, so short-lived tokens are not refreshed on every call), and once
/// on EXPIRED_AUTHENTICATION. A rotated refresh token is saved to the store
/// before the new access token is handed out. One refresh at a time:
/// concurrent callers wait for it. Thread-safe.
class OAuthTokenProvider final : public TokenProvider {
 public:
  OAuthTokenProvider(HttpTransport& transport, OAuthApp app, TokenStore& store, std::string portal,
                     ratelimit::Clock& clock, std::shared_ptr<spdlog::logger> log,
                     std::chrono::milliseconds refresh_margin = 300'000ms);

  model::Result<std::string> access_token() override;
  model::Status on_expired(const std::string& failed_token) override;
  bool refreshable() const override { return true; }

  /// Number of refreshes done (tests, metrics).
  int refreshes() const;

 private:
  model::Status load_locked();
  model::Status refresh_locked(const char* why);
  bool due_locked() const;

  HttpTransport& transport_;
  OAuthApp app_;
  TokenStore& store_;
  std::string portal_;
  ratelimit::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  std::chrono::milliseconds margin_;
  mutable std::mutex mu_;
  bool loaded_ = false;
  OAuthTokens tokens_;
  int refreshes_ = 0;
};

}  // namespace hubsync::hubspot
