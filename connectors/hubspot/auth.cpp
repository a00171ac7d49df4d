#include "connectors/hubspot/auth.h"

namespace hubsync::hubspot {

model::Result<std::optional<OAuthTokens>> InMemoryTokenStore::load(const std::string& portal) {
  std::lock_guard lock(mu_);
  for (const auto& [p, t] : rows_)
    if (p == portal) return std::optional<OAuthTokens>(t);
  return std::optional<OAuthTokens>();
}

model::Status InMemoryTokenStore::save(const std::string& portal, const OAuthTokens& tokens) {
  std::lock_guard lock(mu_);
  ++saves_;
  for (auto& [p, t] : rows_) {
    if (p == portal) {
      t = tokens;
      return {};
    }
  }
  rows_.emplace_back(portal, tokens);
  return {};
}

int InMemoryTokenStore::saves() const {
  std::lock_guard lock(mu_);
  return saves_;
}

}  // namespace hubsync::hubspot
