#include <filesystem>
#include <iostream>
#include <regex>

#include "connectors/hubspot/oauth.h"
#include "connectors/hubspot/state_token_store.h"
#include "engine/cli/app.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/cli/runtime.h"
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
  auto store = open_state(cfg, /*read_only=*/false);
  if (!store) return kExitUnavailable;
  const auto app = oauth_app(cfg);
  const std::string state = hubspot::random_state();
  std::cout << "Open this URL in a browser and approve hubsync:\n\n  "
            << hubspot::authorize_url(app, state) << "\n\nwaiting for the redirect on "
            << cfg.hubspot.redirect_uri << " ..." << std::endl;
  auto redirect = hubspot::wait_for_redirect(port, state, std::chrono::seconds(timeout_s));
  if (!redirect.ok()) {
    std::cerr << "auth login: " << redirect.error().message << '\n';
    return redirect.error().kind == model::ErrorKind::transient ? kExitUnavailable : kExitError;
  }
  ratelimit::SystemClock clock;
  hubspot::CurlTransport transport;
  auto tokens = hubspot::exchange_code(transport, app, redirect->code, clock);
  if (!tokens.ok()) {
    std::cerr << "auth login: " << tokens.error().message << '\n';
    return tokens.error().kind == model::ErrorKind::transient ? kExitUnavailable : kExitError;
  }
  hubspot::StateTokenStore token_store(*store);
  const std::string portal = std::to_string(cfg.hubspot.portal_id);
  if (auto st = token_store.save(portal, *tokens); !st.ok()) {
    std::cerr << "auth login: could not store the tokens: " << st.error().message << '\n';
    return kExitError;
  }
  std::cout << "logged in: portal " << (tokens->hub_id ? std::to_string(tokens->hub_id) : portal)
            << ", scopes " << join(tokens->scopes) << ", access token valid until "
            << model::format_datetime(model::DateTime{tokens->expires_at_ms})
            << " (refreshed automatically; tokens stored in " << cfg.state.path << ")\n";
  return kExitOk;
}

int cmd_auth_status(const GlobalOptions& global) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  ratelimit::SystemClock clock;
  hubspot::CurlTransport transport;
  const std::string portal = std::to_string(cfg.hubspot.portal_id);
  if (cfg.hubspot.auth == config::AuthMode::private_app) {
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
    std::cout << "token accepted by " << cfg.hubspot.base_url << " (portal " << portal << ")\n";
    return kExitOk;
  }
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
  if (!t.access_token.empty() && t.expires_at_ms > clock.wall_ms()) {
    auto info = hubspot::access_token_info(transport, cfg.hubspot.base_url, t.access_token);
    if (info.ok())
      std::cout << "  HubSpot says:  hub " << info->hub_id << " (" << info->hub_domain << "), "
                << info->expires_in_s << " s left\n";
  }
  return kExitOk;
}

}  // namespace hubsync::cli
