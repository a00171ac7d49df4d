#include "engine/config/keys.h"

#include <charconv>

namespace hubsync::config {

namespace {

using Setter = std::function<std::optional<std::string>(Config&, const std::string&)>;

std::optional<std::string> to_int(const std::string& s, std::int64_t lo, std::int64_t hi,
                                  std::int64_t& out) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty())
    return "'" + s + "' is not an integer";
  if (v < lo || v > hi)
    return "'" + s + "' is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  out = v;
  return std::nullopt;
}

template <class T>
Setter int_key(T Config::*section_member, auto member, std::int64_t lo, std::int64_t hi) {
  return [=](Config& c, const std::string& s) -> std::optional<std::string> {
    std::int64_t v = 0;
    if (auto err = to_int(s, lo, hi, v)) return err;
    (c.*section_member).*member = static_cast<std::remove_reference_t<decltype((c.*section_member).*member)>>(v);
    return std::nullopt;
  };
}

template <class T>
Setter string_key(T Config::*section_member, std::string T::*member) {
  return [=](Config& c, const std::string& s) -> std::optional<std::string> {
    (c.*section_member).*member = s;
    return std::nullopt;
  };
}

template <class T>
Setter choice_key(T Config::*section_member, std::string T::*member,
                  std::vector<std::string> choices) {
  return [=](Config& c, const std::string& s) -> std::optional<std::string> {
    for (const auto& ch : choices)
      if (ch == s) {
        (c.*section_member).*member = s;
        return std::nullopt;
      }
    std::string all;
    for (const auto& ch : choices) all += (all.empty() ? "" : ", ") + ch;
    return "'" + s + "' is not one of: " + all;
  };
}

// A key with named values, each setting a bool: {{"trigger", false}, {"logical", true}}.
template <class T>
Setter named_bool_key(T Config::*section_member, bool T::*member,
                      std::vector<std::pair<std::string, bool>> names) {
  return [=](Config& c, const std::string& s) -> std::optional<std::string> {
    for (const auto& [name, v] : names)
      if (name == s) {
        (c.*section_member).*member = v;
        return std::nullopt;
      }
    std::string all;
    for (const auto& n : names) all += (all.empty() ? "" : ", ") + n.first;
    return "'" + s + "' is not one of: " + all;
  };
}

template <class T>
Setter bool_key(T Config::*section_member, bool T::*member) {
  return [=](Config& c, const std::string& s) -> std::optional<std::string> {
    if (s == "true") (c.*section_member).*member = true;
    else if (s == "false") (c.*section_member).*member = false;
    else return "'" + s + "' is not true or false";
    return std::nullopt;
  };
}

bool looks_like_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

std::vector<KeyDesc> build_table() {
  std::vector<KeyDesc> t;
  auto value = [&](const char* section, const char* key, Setter set) {
    t.push_back({section, key, KeyType::value, std::move(set), nullptr});
  };
  auto secret = [&](const char* section, const char* key, std::function<Secret&(Config&)> get) {
    t.push_back({section, key, KeyType::secret, nullptr, std::move(get)});
  };

  secret("postgres", "dsn", [](Config& c) -> Secret& { return c.postgres.dsn; });
  value("postgres", "notify", bool_key(&Config::postgres, &PostgresConfig::notify));
  value("postgres", "capture",
        named_bool_key(&Config::postgres, &PostgresConfig::logical, {{"trigger", false}, {"logical", true}}));
  value("postgres", "slot", [](Config& c, const std::string& s) -> std::optional<std::string> {
    const bool ok = !s.empty() && s.size() <= 63 && s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") ==
                                                       std::string::npos;
    if (!ok) return "'" + s + "' is no replication slot name (1-63 of a-z, 0-9 and _)";
    c.postgres.slot = s;
    return std::nullopt;
  });
  value("postgres", "relay",
        named_bool_key(&Config::postgres, &PostgresConfig::relay_stream, {{"stream", true}, {"sql", false}}));

  value("hubspot", "base_url", [](Config& c, const std::string& s) -> std::optional<std::string> {
    if (!looks_like_url(s)) return "'" + s + "' is not an http(s) URL";
    c.hubspot.base_url = s;
    while (!c.hubspot.base_url.empty() && c.hubspot.base_url.back() == '/')
      c.hubspot.base_url.pop_back();
    return std::nullopt;
  });
  value("hubspot", "allow_insecure_http",
        bool_key(&Config::hubspot, &HubSpotConfig::allow_insecure_http));
  value("hubspot", "portal_id", int_key(&Config::hubspot, &HubSpotConfig::portal_id, 1, INT64_MAX));
  value("hubspot", "auth", [](Config& c, const std::string& s) -> std::optional<std::string> {
    if (s == "private_app") c.hubspot.auth = AuthMode::private_app;
    else if (s == "oauth") c.hubspot.auth = AuthMode::oauth;
    else return "'" + s + "' is not one of: private_app, oauth";
    return std::nullopt;
  });
  secret("hubspot", "token", [](Config& c) -> Secret& { return c.hubspot.token; });
  value("hubspot", "client_id", string_key(&Config::hubspot, &HubSpotConfig::client_id));
  secret("hubspot", "client_secret", [](Config& c) -> Secret& { return c.hubspot.client_secret; });
  secret("hubspot", "refresh_token", [](Config& c) -> Secret& { return c.hubspot.refresh_token; });
  value("hubspot", "redirect_uri", [](Config& c, const std::string& s) -> std::optional<std::string> {
    if (!looks_like_url(s)) return "'" + s + "' is not an http(s) URL";
    c.hubspot.redirect_uri = s;
    return std::nullopt;
  });
  value("hubspot", "authorize_url", [](Config& c, const std::string& s) -> std::optional<std::string> {
    if (!looks_like_url(s)) return "'" + s + "' is not an http(s) URL";
    c.hubspot.authorize_url = s;
    return std::nullopt;
  });
  value("hubspot", "scopes", string_key(&Config::hubspot, &HubSpotConfig::scopes));
  value("hubspot", "timeout_ms", int_key(&Config::hubspot, &HubSpotConfig::timeout_ms, 100, 600000));
  value("hubspot", "retry_for_s", int_key(&Config::hubspot, &HubSpotConfig::retry_for_s, 1, 86400));

  value("rate_limit", "tier", [](Config& c, const std::string& s) -> std::optional<std::string> {
    std::int64_t v = 0;
    if (auto err = to_int(s, 1, 100000, v)) return err;
    if (v != 100 && v != 110 && v != 190 && v != 250)
      return "'" + s + "' is not a HubSpot tier (requests per 10 s): 100, 110, 190 or 250";
    c.rate_limit.tier = static_cast<int>(v);
    return std::nullopt;
  });
  value("rate_limit", "daily_limit",
        int_key(&Config::rate_limit, &RateLimitConfig::daily_limit, 1, INT64_MAX));
  value("rate_limit", "headroom", [](Config& c, const std::string& s) -> std::optional<std::string> {
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) return "'" + s + "' is not a number";
    if (v < 0 || v > 0.9) return "'" + s + "' must be a fraction between 0 and 0.9";
    c.rate_limit.headroom = v;
    return std::nullopt;
  });
  value("rate_limit", "search_per_second",
        int_key(&Config::rate_limit, &RateLimitConfig::search_per_second, 1, 5));
  value("rate_limit", "max_in_flight",
        int_key(&Config::rate_limit, &RateLimitConfig::max_in_flight, 1, 64));

  value("webhook", "listen", [](Config& c, const std::string& s) -> std::optional<std::string> {
    auto colon = s.rfind(':');
    std::int64_t port = 0;
    if (colon == std::string::npos || colon == 0 ||
        to_int(s.substr(colon + 1), 0, 65535, port).has_value())
      return "'" + s + "' is not host:port";
    c.webhook.listen = s;
    return std::nullopt;
  });
  value("webhook", "path", [](Config& c, const std::string& s) -> std::optional<std::string> {
    if (s.empty() || s.front() != '/' || s.find_first_of("?# \t") != std::string::npos)
      return "'" + s + "' is not a path (starts with '/', no query, no spaces)";
    if (s == "/healthz" || s == "/readyz" || s == "/metrics")
      return "'" + s + "' is one of serve's service endpoints";
    c.webhook.path = s;
    return std::nullopt;
  });
  value("webhook", "public_url", [](Config& c, const std::string& s) -> std::optional<std::string> {
    if (!looks_like_url(s)) return "'" + s + "' is not an http(s) URL";
    if (s.find_first_of("?#") != std::string::npos)
      return "'" + s + "' holds a query or fragment: give the URL without it (the query HubSpot "
             "sends is appended when signatures are checked)";
    c.webhook.public_url = s;
    return std::nullopt;
  });
  secret("webhook", "client_secret", [](Config& c) -> Secret& { return c.webhook.client_secret; });
  value("webhook", "max_skew_ms",
        int_key(&Config::webhook, &WebhookConfig::max_skew_ms, 1000, 3600000));
  value("webhook", "accept_v1_v2", bool_key(&Config::webhook, &WebhookConfig::accept_v1_v2));
  value("webhook", "max_body_bytes",
        int_key(&Config::webhook, &WebhookConfig::max_body_bytes, 1024, 64 * 1024 * 1024));
  value("webhook", "max_events", int_key(&Config::webhook, &WebhookConfig::max_events, 1, 1000));
  value("webhook", "max_connections",
        int_key(&Config::webhook, &WebhookConfig::max_connections, 1, 10000));
  value("webhook", "header_timeout_ms",
        int_key(&Config::webhook, &WebhookConfig::header_timeout_ms, 100, 600000));
  value("webhook", "body_timeout_ms",
        int_key(&Config::webhook, &WebhookConfig::body_timeout_ms, 100, 600000));

  value("state", "path", [](Config& c, const std::string& s) -> std::optional<std::string> {
    if (s.empty()) return "must not be empty";
    c.state.path = s;
    return std::nullopt;
  });
  value("pull", "overlap_s", int_key(&Config::pull, &PullConfig::overlap_s, 0, 86400));
  value("pull", "association_pass_every_s",
        int_key(&Config::pull, &PullConfig::association_pass_every_s, 0, 30 * 86400));
  value("serve", "debounce_ms", int_key(&Config::serve, &ServeConfig::debounce_ms, 0, 60000));
  value("serve", "poll_s", int_key(&Config::serve, &ServeConfig::poll_s, 1, 86400));
  value("serve", "change_poll_ms", int_key(&Config::serve, &ServeConfig::change_poll_ms, 10, 60000));
  value("serve", "inbox_every_ms", int_key(&Config::serve, &ServeConfig::inbox_every_ms, 10, 60000));
  value("serve", "sweep_every_s", int_key(&Config::serve, &ServeConfig::sweep_every_s, 1, 86400));
  value("serve", "reconcile_every_s", int_key(&Config::serve, &ServeConfig::reconcile_every_s, 1, 7 * 86400));
  value("serve", "reconcile_window_s", int_key(&Config::serve, &ServeConfig::reconcile_window_s, 0, 7 * 86400));
  secret("serve", "health_auth", [](Config& c) -> Secret& { return c.serve.health_auth; });
  value("actions", "app_id", int_key(&Config::actions, &ActionsConfig::app_id, 1, INT64_MAX));
  secret("actions", "developer_api_key", [](Config& c) -> Secret& { return c.actions.developer_api_key; });
  value("actions", "path", [](Config& c, const std::string& s) -> std::optional<std::string> {
    if (s.size() < 2 || s.front() != '/' || s.back() == '/' || s.find_first_of("?# \t") != std::string::npos)
      return "'" + s + "' is not a path (starts with '/', no trailing '/', no query, no spaces)";
    c.actions.path = s;
    return std::nullopt;
  });
  value("actions", "public_url", [](Config& c, const std::string& s) -> std::optional<std::string> {
    if (!looks_like_url(s)) return "'" + s + "' is not an http(s) URL";
    if (s.find_first_of("?#") != std::string::npos) return "'" + s + "' holds a query or fragment";
    c.actions.public_url = s;
    while (!c.actions.public_url.empty() && c.actions.public_url.back() == '/') c.actions.public_url.pop_back();
    return std::nullopt;
  });
  value("actions", "answer_within_ms",
        int_key(&Config::actions, &ActionsConfig::answer_within_ms, 10, 20000));
  value("mappings", "dir", [](Config& c, const std::string& s) -> std::optional<std::string> {
    if (s.empty()) return "must not be empty";
    c.mappings.dir = s;
    return std::nullopt;
  });
  value("log", "level", choice_key(&Config::log, &LogConfig::level,
                                   {"trace", "debug", "info", "warn", "error", "off"}));
  value("log", "format", choice_key(&Config::log, &LogConfig::format, {"text", "json"}));
  return t;
}

}  // namespace

const std::vector<KeyDesc>& key_table() {
  static const std::vector<KeyDesc> table = build_table();
  return table;
}

const std::vector<std::string>& sections() {
  static const std::vector<std::string> names = {"postgres", "hubspot", "rate_limit", "webhook",
                                                 "state",    "pull",     "serve",    "actions", "mappings", "log"};
  return names;
}

std::vector<std::string> assignable_keys(const std::string& section) {
  std::vector<std::string> out;
  for (const auto& d : key_table()) {
    if (section != d.section) continue;
    out.emplace_back(d.key);
    if (d.type == KeyType::secret) {
      out.push_back(std::string(d.key) + "_env");
      out.push_back(std::string(d.key) + "_file");
    }
  }
  return out;
}

const KeyDesc* find_secret_base(const std::string& section, const std::string& key) {
  for (const auto& d : key_table()) {
    if (section != d.section || d.type != KeyType::secret) continue;
    std::string base = d.key;
    if (key == base || key == base + "_env" || key == base + "_file") return &d;
  }
  return nullptr;
}

}  // namespace hubsync::config
