#include "engine/cli/token_portal.h"

#include "connectors/hubspot/account.h"
#include "engine/cli/app.h"
#include "engine/webhook/signature.h"

namespace hubsync::cli {

namespace {

// Under mapping "" like the rest of the store's identity; status hides it.
constexpr const char* kTokenPortal = "fingerprint token portal";

// "the HubSpot token (env HS_TOKEN)": never the value.
std::string token_words(const config::Config& cfg) {
  return cfg.hubspot.token.source.empty() ? "the HubSpot token" : "the HubSpot token (" + cfg.hubspot.token.source + ")";
}

// One-way: hex SHA-256 of the token and a constant, shortened. Tells a token
// seen before from a new one; the token cannot be had back from it.
std::string token_fingerprint(const std::string& token) {
  return webhook::sign_v1(token, "\nhubsync token portal").substr(0, 32);
}

// The portal recorded for this token, or "" when it is new to the store.
model::Result<std::string> known_portal(state::StateStore& store, const std::string& fingerprint) {
  auto cp = store.get_checkpoint("", kTokenPortal);
  if (!cp.ok()) return std::move(cp).error();
  const std::string prefix = fingerprint + " ";
  if (!*cp || (*cp)->value.rfind(prefix, 0) != 0) return std::string();
  return (*cp)->value.substr(prefix.size());
}

std::string fallback_words(const config::Config& cfg) {
  return cfg.hubspot.portal_id ? "the state store is checked against hubspot.portal_id " +
                                     std::to_string(cfg.hubspot.portal_id) + " only"
                               : "the state store is not checked against a portal (hubspot.portal_id is not set)";
}

// The token's portal against hubspot.portal_id.
int take(const config::Config& cfg, const std::string& portal, const Report& report, PortalIdentity& out) {
  const std::string want = std::to_string(cfg.hubspot.portal_id);
  if (cfg.hubspot.portal_id != 0 && portal != want) {
    report(token_words(cfg) + " is for HubSpot portal " + portal + ", but hubspot.portal_id is " + want +
               ": every object id would name another portal's record. Give the token of portal " + want +
               ", or set hubspot.portal_id: " + portal + " if that is the portal to sync",
           true);
    return kExitError;
  }
  out = {portal, true};
  return kExitOk;
}

// What HubSpot's failure to answer means for the run.
int unanswered(const config::Config& cfg, const model::Error& e, state::StateStore* store, const Report& report) {
  const std::string why = config::redact(cfg, e.http_status > 0 ? "HTTP " + std::to_string(e.http_status) +
                                                                      (e.category.empty() ? "" : " " + e.category)
                                                                : e.message);
  if (e.http_status == 401 || (e.kind == model::ErrorKind::auth && e.http_status != 403)) {
    report("HubSpot refused " + token_words(cfg) + " (" + why + ")", true);
    return kExitError;
  }
  const bool down = e.kind == model::ErrorKind::transient || e.kind == model::ErrorKind::rate_limited;
  if (down && store) {
    auto links = store->count_links_by_mapping();
    if (!links.ok()) {
      report("state store: " + links.error().message, true);
      return kExitUnavailable;
    }
    if (!links->empty()) {
      report("HubSpot unreachable while asking which portal " + token_words(cfg) + " is for (" + why +
                 "): it is new to this state store, whose links must not reach another portal's records",
             true);
      return kExitUnavailable;
    }
  }
  report(std::string(down ? "HubSpot unreachable" : "HubSpot would not say") + " which portal " + token_words(cfg) +
             " is for (" + why + "): " + fallback_words(cfg),
         false);
  return kExitOk;
}

}  // namespace

PortalIdentity configured_portal(const config::Config& cfg) {
  return {cfg.hubspot.portal_id ? std::to_string(cfg.hubspot.portal_id) : "", false};
}

int learn_portal(const config::Config& cfg, hubspot::HubSpotClient& client, state::StateStore* store, bool record,
                 const Report& report, PortalIdentity& out) {
  out = configured_portal(cfg);
  if (cfg.hubspot.auth == config::AuthMode::oauth) return kExitOk;
  const std::string fingerprint = token_fingerprint(cfg.hubspot.token.value);
  if (store) {
    auto known = known_portal(*store, fingerprint);
    if (!known.ok()) {
      report("state store: " + known.error().message, true);
      return kExitUnavailable;
    }
    if (!known->empty()) return take(cfg, *known, report, out);
  }
  auto details = hubspot::account_details(client);
  if (!details.ok()) return unanswered(cfg, details.error(), store, report);
  const std::string portal = std::to_string(details->portal_id);
  if (int rc = take(cfg, portal, report, out); rc != kExitOk || !record || !store) return rc;
  if (auto st = store->set_checkpoint("", kTokenPortal, fingerprint + " " + portal); !st.ok()) {
    report("state store: " + st.error().message, true);
    return kExitUnavailable;
  }
  return kExitOk;
}

}  // namespace hubsync::cli
