// What `config check` prints, and scrubbing secrets out of other text.
#include <algorithm>
#include <sstream>

#include "engine/config/config.h"
#include "engine/config/urls.h"

namespace hubsync::config {

namespace {

std::string dsn_line(const PostgresConfig& pg) {
  if (!pg.dsn.set()) return "(not set)";
  std::string out = mask_dsn(pg.dsn.value) + "  (from " + pg.dsn.source;
  if (pg.password.source == "postgres.dsn") out += "; password in the DSN, masked";
  else if (pg.password.set()) out += "; password from " + pg.password.source;
  return out + ")";
}

std::string authorize_line(const HubSpotConfig& h) {
  if (!h.authorize_url.empty()) return mask_url_userinfo(h.authorize_url);
  if (auto derived = derive_authorize_url(h.base_url)) return *derived + "  (derived from base_url)";
  return "(cannot be derived from base_url: set hubspot.authorize_url)";
}

void replace_all(std::string& text, const std::string& what) {
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 4))
    text.replace(pos, what.size(), "****");
}

}  // namespace

std::string render_masked(const Config& c) {
  std::ostringstream out;
  auto line = [&](const std::string& key, const std::string& value) {
    out << key << std::string(key.size() < 26 ? 26 - key.size() : 1, ' ') << "= " << value << '\n';
  };
  auto secret = [&](const std::string& key, const Secret& s) {
    line(key, s.set() ? "**** (from " + s.source + ")" : "(not set)");
  };
  out << "# hubsync configuration" << (c.file.empty() ? "" : " from " + c.file) << " (secrets masked)\n";
  line("postgres.dsn", dsn_line(c.postgres));
  line("postgres.notify", c.postgres.notify ? "true" : "false");
  line("postgres.capture", c.postgres.logical ? "logical" : "trigger");
  if (c.postgres.logical) {
    line("postgres.slot", c.postgres.slot);
    line("postgres.relay", c.postgres.relay_stream ? "stream" : "sql");
  }
  line("hubspot.base_url", mask_url_userinfo(c.hubspot.base_url));
  line("hubspot.allow_insecure_http",
       c.hubspot.allow_insecure_http
           ? std::string("true") + (insecure_http_in_use(c.hubspot) ? "  (WARNING: the token travels unencrypted)" : "")
           : "false");
  line("hubspot.portal_id", std::to_string(c.hubspot.portal_id));
  line("hubspot.auth", c.hubspot.auth == AuthMode::oauth ? "oauth" : "private_app");
  if (c.hubspot.auth == AuthMode::private_app) {
    secret("hubspot.token", c.hubspot.token);
  } else {
    line("hubspot.client_id", c.hubspot.client_id);
    secret("hubspot.client_secret", c.hubspot.client_secret);
    secret("hubspot.refresh_token", c.hubspot.refresh_token);
    line("hubspot.redirect_uri", mask_url_userinfo(c.hubspot.redirect_uri));
    line("hubspot.authorize_url", authorize_line(c.hubspot));
    line("hubspot.scopes", c.hubspot.scopes);
  }
  line("hubspot.timeout_ms", std::to_string(c.hubspot.timeout_ms));
  line("hubspot.retry_for_s", std::to_string(c.hubspot.retry_for_s));
  line("rate_limit.tier", std::to_string(c.rate_limit.tier));
  line("rate_limit.daily_limit", std::to_string(c.rate_limit.daily_limit));
  std::ostringstream headroom;
  headroom << c.rate_limit.headroom;
  line("rate_limit.headroom", headroom.str());
  line("rate_limit.search_per_second", std::to_string(c.rate_limit.search_per_second));
  line("rate_limit.max_in_flight", std::to_string(c.rate_limit.max_in_flight));
  line("webhook.listen", c.webhook.listen);
  line("webhook.public_url", c.webhook.public_url.empty() ? "(not set)" : mask_url_userinfo(c.webhook.public_url));
  secret("webhook.client_secret", c.webhook.client_secret);
  line("webhook.max_skew_ms", std::to_string(c.webhook.max_skew_ms));
  line("webhook.path", c.webhook.path);
  line("webhook.accept_v1_v2", c.webhook.accept_v1_v2 ? "true  (v1/v2 signatures carry no timestamp: replayable)" : "false");
  line("webhook.max_body_bytes", std::to_string(c.webhook.max_body_bytes));
  line("webhook.max_events", std::to_string(c.webhook.max_events));
  line("webhook.max_connections", std::to_string(c.webhook.max_connections));
  line("webhook.header_timeout_ms", std::to_string(c.webhook.header_timeout_ms));
  line("webhook.body_timeout_ms", std::to_string(c.webhook.body_timeout_ms));
  line("state.path", c.state.path);
  line("pull.overlap_s", std::to_string(c.pull.overlap_s));
  line("pull.association_pass_every_s", std::to_string(c.pull.association_pass_every_s));
  line("serve.debounce_ms", std::to_string(c.serve.debounce_ms));
  line("serve.poll_s", std::to_string(c.serve.poll_s));
  line("serve.change_poll_ms", std::to_string(c.serve.change_poll_ms));
  line("serve.inbox_every_ms", std::to_string(c.serve.inbox_every_ms));
  line("serve.sweep_every_s", std::to_string(c.serve.sweep_every_s));
  line("serve.reconcile_every_s", std::to_string(c.serve.reconcile_every_s));
  line("serve.reconcile_window_s", std::to_string(c.serve.reconcile_window_s));
  secret("serve.health_auth", c.serve.health_auth);
  line("actions.app_id", std::to_string(c.actions.app_id));
  secret("actions.developer_api_key", c.actions.developer_api_key);
  line("actions.path", c.actions.path);
  line("actions.public_url", actions_base_url(c).empty() ? "(not set)" : mask_url_userinfo(actions_base_url(c)));
  line("actions.answer_within_ms", std::to_string(c.actions.answer_within_ms));
  line("mappings.dir", c.mappings.dir);
  line("log.level", c.log.level);
  line("log.format", c.log.format);
  return out.str();
}

std::string redact(const Config& c, std::string text) {
  std::vector<std::string> secrets = inspect_dsn(c.postgres.dsn.value).passwords;
  for (const Secret* s : {&c.postgres.password, &c.hubspot.token, &c.hubspot.client_secret,
                          &c.hubspot.refresh_token, &c.webhook.client_secret, &c.serve.health_auth,
                          &c.actions.developer_api_key})
    if (s->set()) secrets.push_back(s->value);
  // Longest first, so a secret that contains another is replaced whole.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& s : secrets)
    if (s.size() >= 4) replace_all(text, s);
  return text;
}

}  // namespace hubsync::config
