#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/model/result.h"

namespace hubsync::hubspot {

/// Supplies the bearer token for API calls. Thread-safe: every worker asks.
class TokenProvider {
 public:
  virtual ~TokenProvider() = default;
  /// The token to send now. May refresh first (blocking the caller) when the
  /// token is about to expire. Errors: auth when no usable token can be had,
  /// transient when the token endpoint could not be reached.
  virtual model::Result<std::string> access_token() = 0;
  /// Called after a 401 EXPIRED_AUTHENTICATION with the token that failed.
  /// Refreshes unless another thread already replaced that token; ok means
  /// a retry may succeed. The client calls this at most once per request.
  virtual model::Status on_expired(const std::string& failed_token) = 0;
  /// False for tokens that cannot be refreshed (private apps).
  virtual bool refreshable() const = 0;
};

/// A private app's access token: no expiry, nothing to refresh.
class PrivateAppToken final : public TokenProvider {
 public:
  explicit PrivateAppToken(std::string token) : token_(std::move(token)) {}
  model::Result<std::string> access_token() override { return token_; }
  model::Status on_expired(const std::string&) override {
    return model::make_error(model::ErrorKind::auth, "private app token refused as expired");
  }
  bool refreshable() const override { return false; }

 private:
  std::string token_;
};

/// OAuth tokens of one installed portal.
struct OAuthTokens {
  std::string access_token;
  std::string refresh_token;
  std::int64_t expires_at_ms = 0;   ///< wall clock
  std::int64_t issued_at_ms = 0;    ///< wall clock, to size the refresh margin
  std::int64_t hub_id = 0;          ///< the portal, when the token endpoint says
  std::vector<std::string> scopes;
};

/// Where OAuth tokens live between runs (the state store implements it).
/// save() must be durable when it returns: a rotated refresh token is saved
/// before it is ever used, so a crash never loses the only valid one.
/// Implementations are thread-safe.
class TokenStore {
 public:
  virtual ~TokenStore() = default;
  /// The tokens saved for `portal`, or nullopt. Errors: fatal on storage failure.
  virtual model::Result<std::optional<OAuthTokens>> load(const std::string& portal) = 0;
  /// Replaces the tokens for `portal`. Idempotent. Errors: fatal on storage failure.
  virtual model::Status save(const std::string& portal, const OAuthTokens& tokens) = 0;
};

/// A TokenStore in memory, for tests and one-shot tools.
class InMemoryTokenStore final : public TokenStore {
 public:
  model::Result<std::optional<OAuthTokens>> load(const std::string& portal) override;
  model::Status save(const std::string& portal, const OAuthTokens& tokens) override;
  int saves() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, OAuthTokens>> rows_;
  int saves_ = 0;
};

}  // namespace hubsync::hubspot
