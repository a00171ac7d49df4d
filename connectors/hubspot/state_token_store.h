#pragma once

// TokenStore over the engine's StateStore (its oauth token table), for the
// composition root: OAuthTokenProvider(…, StateTokenStore(state), portal, …).
// Header-only so that connectors/hubspot does not link the state library.
#include "connectors/hubspot/auth.h"
#include "engine/state/state_store.h"

namespace hubsync::hubspot {

/// Thread-safe because StateStore is (every method callable from any thread).
class StateTokenStore final : public TokenStore {
 public:
  explicit StateTokenStore(state::StateStore& store) : store_(store) {}

  model::Result<std::optional<OAuthTokens>> load(const std::string& portal) override {
    auto r = store_.load_oauth_tokens(portal);
    if (!r.ok()) return std::move(r).error();
    if (!r->has_value()) return std::optional<OAuthTokens>();
    const state::OAuthTokens& s = **r;
    OAuthTokens t;
    t.access_token = s.access_token;
    t.refresh_token = s.refresh_token;
    t.expires_at_ms = s.expires_at_ms;
    t.issued_at_ms = s.issued_at_ms;
    t.hub_id = s.hub_id;
    t.scopes = s.scopes;
    return std::optional<OAuthTokens>(std::move(t));
  }

  model::Status save(const std::string& portal, const OAuthTokens& t) override {
    state::OAuthTokens s;
    s.portal_id = portal;
    s.access_token = t.access_token;
    s.refresh_token = t.refresh_token;
    s.expires_at_ms = t.expires_at_ms;
    s.issued_at_ms = t.issued_at_ms;
    s.hub_id = t.hub_id;
    s.scopes = t.scopes;
    return store_.save_oauth_tokens(s);
  }

 private:
  state::StateStore& store_;
};

}  // namespace hubsync::hubspot
