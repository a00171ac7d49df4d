#include <filesystem>
#include <iostream>
#include <regex>

#include "connectors/hubspot/oauth.h"
#include "connectors/hubspot/state_token_store.h"
#include "engine/cli/app.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/cli/runtime.h"
#include "engine/config/urls.h"
#include "engine/model/value.h"

namespace hubsync::cli {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// The port of a loopback redirect URI (http://127.0.0.1:8976/oauth/callback).
int redirect_port(const std::string& uri) {
  std::smatch m;
  static const std::regex re(R"(^http://(127\.0\.0\.1|localhost):(\d+)(/.*)?$)");
  if (!std::regex_match(uri, m, re)) return 0;
  return std::stoi(m[2].str());
}

int exit_code_for(const model::Error& e) {
  return e.kind == model::ErrorKind::transient ? kExitUnavailable : kExitError;
}

// The user picks the portal on HubSpot's consent page: tokens for another
// portal than the configured one would sync the wrong CRM. Fills
// tokens.hub_id from token introspection when the token response had none.
model::Status check_portal(hubspot::HttpTransport& transport, const config::Config& cfg,
                           hubspot::OAuthTokens& tokens) {
  if (tokens.hub_id == 0) {
    auto info = hubspot::access_token_info(transport, cfg.hubspot.base_url, tokens.access_token);
    if (!info.ok()) {
      auto e = std::move(info).error();
      e.message = "could not tell which portal the token is for (" + e.message + ")";
      return e;
    }
    tokens.hub_id = info->hub_id;
  }
  const std::string got = std::to_string(tokens.hub_id);
  const std::string want = std::to_string(cfg.hubspot.portal_id);
  if (tokens.hub_id == 0)
    return model::make_error(model::ErrorKind::fatal, "HubSpot did not say which portal the token is for");
  if (cfg.hubspot.portal_id == 0)
    return model::make_error(model::ErrorKind::fatal, "hubspot.portal_id is not set and this login is for portal " +
                                                          got + ": set hubspot.portal_id: " + got +
                                                          " and log in again");
  if (tokens.hub_id != cfg.hubspot.portal_id)
    return model::make_error(model::ErrorKind::fatal,
                             "the login is for portal " + got + ", but hubspot.portal_id is " + want +
                                 ": choose portal " + want + " on HubSpot's consent page, or change "
                                 "hubspot.portal_id");
  return {};
}

// Exchanges the code, checks the portal and stores the tokens; prints what
// went wrong and returns the exit code. Tokens not kept are revoked.
int finish_login(const config::Config& cfg, state::StateStore& store, const std::string& code) {
  ratelimit::SystemClock clock;
  hubspot::CurlTransport transport(curl_options(cfg));
  const auto app = oauth_app(cfg);
  auto tokens = hubspot::exchange_code(transport, app, code, clock);
  if (!tokens.ok()) {
    std::cerr << "auth login: " << tokens.error().message << '\n';
    return exit_code_for(tokens.error());
  }
  if (auto st = check_portal(transport, cfg, *tokens); !st.ok()) {
    (void)hubspot::revoke_refresh_token(transport, cfg.hubspot.base_url, tokens->refresh_token);
    std::cerr << "auth login: " << st.error().message << "; nothing stored\n";
    return exit_code_for(st.error());
  }
  hubspot::StateTokenStore token_store(store);
  if (auto st = token_store.save(std::to_string(cfg.hubspot.portal_id), *tokens); !st.ok()) {
    std::cerr << "auth login: could not store the tokens: " << st.error().message << '\n';
    return kExitError;
  }
  std::cout << "logged in: portal " << tokens->hub_id << ", scopes " << join(tokens->scopes)
            << ", access token valid until " << model::format_datetime(model::DateTime{tokens->expires_at_ms})
            << " (refreshed automatically; tokens stored in " << cfg.state.path << ")\n";
  return kExitOk;
}

}  // namespace

int cmd_auth_login(const GlobalOptions& global, int timeout_s) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  if (cfg.hubspot.auth != config::AuthMode::oauth) {
    std::cerr << "auth login: hubspot.auth is private_app; a private-app token needs no login\n";
    return kExitError;
  }
  const int port = redirect_port(cfg.hubspot.redirect_uri);
  if (port == 0) {
    std::cerr << "auth login: hubspot.redirect_uri must be a loopback URL like "
                 "http://127.0.0.1:8976/oauth/callback (got " << cfg.hubspot.redirect_uri << ")\n";
    return kExitError;
  }
  warn_if_insecure(cfg);
  auto store = open_state(cfg, /*read_only=*/false);
  if (!store) return kExitUnavailable;
  const std::string state = hubspot::random_state();
  std::cout << "Open this URL in a browser and approve hubsync:\n\n  "
            << hubspot::authorize_url(oauth_app(cfg), state) << "\n\nwaiting for the redirect on "
            << cfg.hubspot.redirect_uri << " ..." << std::endl;
  auto redirect = hubspot::wait_for_redirect(port, state, std::chrono::seconds(timeout_s));
  if (!redirect.ok()) {
    std::cerr << "auth login: " << redirect.error().message << '\n';
    return exit_code_for(redirect.error());
  }
  return finish_login(cfg, *store, redirect->code);
}

namespace {

int private_app_status(const config::Config& cfg) {
  ratelimit::SystemClock clock;
  std::cout << "auth: private app token (from " << cfg.hubspot.token.source << ")\n";
  HubSpotStack hubspot(cfg, nullptr, clock, std::nullopt, /*interactive=*/true);
  auto r = hubspot.client.call(hubspot::HttpMethod::get, "/crm/v3/objects/contacts?limit=1", "",
                               {.op = "auth.status"});
  if (!r.ok()) {
    std::cerr << "auth status: " << r.error().message << '\n';
    return r.error().kind == model::ErrorKind::auth ? kExitError : kExitUnavailable;
  }
  if (r->status == 401 || r->status == 403) {
    std::cout << "token refused by HubSpot (HTTP " << r->status << ")\n";
    return kExitError;
  }
  std::cout << "token accepted by " << config::mask_url_userinfo(cfg.hubspot.base_url) << " (portal "
            << cfg.hubspot.portal_id << ")\n";
  return kExitOk;
}

// What HubSpot says about a live access token; 1 when it is for another portal.
int introspect(const config::Config& cfg, const hubspot::OAuthTokens& t) {
  warn_if_insecure(cfg);
  hubspot::CurlTransport transport(curl_options(cfg));
  auto info = hubspot::access_token_info(transport, cfg.hubspot.base_url, t.access_token);
  if (!info.ok()) return kExitOk;
  std::cout << "  HubSpot says:  hub " << info->hub_id << " (" << info->hub_domain << "), " << info->expires_in_s
            << " s left\n";
  if (info->hub_id == cfg.hubspot.portal_id) return kExitOk;
  std::cout << "  the token is for portal " << info->hub_id << ", not hubspot.portal_id " << cfg.hubspot.portal_id
            << ": run `hubsync auth login` again\n";
  return kExitError;
}

}  // namespace

int cmd_auth_status(const GlobalOptions& global) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  if (cfg.hubspot.auth == config::AuthMode::private_app) return private_app_status(cfg);
  const std::string portal = std::to_string(cfg.hubspot.portal_id);
  if (!std::filesystem::exists(cfg.state.path)) {
    std::cout << "auth: oauth, not logged in for portal " << portal << " (no state file "
              << cfg.state.path << "): run `hubsync auth login`\n";
    return kExitError;
  }
  auto store = open_state(cfg, /*read_only=*/true);
  if (!store) return kExitUnavailable;
  hubspot::StateTokenStore token_store(*store);
  auto tokens = token_store.load(portal);
  if (!tokens.ok()) {
    std::cerr << "auth status: " << tokens.error().message << '\n';
    return kExitUnavailable;
  }
  if (!*tokens) {
    std::cout << "auth: oauth, not logged in for portal " << portal << ": run `hubsync auth login`\n";
    return kExitError;
  }
  const auto& t = **tokens;
  std::cout << "auth: oauth, portal " << portal << "\n"
            << "  scopes:        " << (t.scopes.empty() ? "(unknown)" : join(t.scopes)) << "\n"
            << "  access token:  " << (t.access_token.empty() ? "none yet" : "expires " + model::format_datetime(model::DateTime{t.expires_at_ms}))
            << "\n  refresh token: " << (t.refresh_token.empty() ? "missing" : "stored") << '\n';
  ratelimit::SystemClock clock;
  if (t.access_token.empty() || t.expires_at_ms <= clock.wall_ms()) return kExitOk;
  return introspect(cfg, t);
}

}  // namespace hubsync::cli
