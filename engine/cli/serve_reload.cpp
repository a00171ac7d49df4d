#include "engine/cli/serve_reload.h"

#include <functional>

#include "connectors/postgres/pg_database.h"
#include "engine/cli/capture_check.h"
#include "engine/ops/logging.h"

namespace hubsync::cli {

namespace {

using config::Config;

// Keys `serve` reads once, at start: its connections, credentials, endpoint
// and limiter are built from them.
const std::vector<std::pair<const char*, std::function<bool(const Config&, const Config&)>>>& restart_only_keys() {
  static const std::vector<std::pair<const char*, std::function<bool(const Config&, const Config&)>>> keys = {
      {"postgres.dsn", [](auto& a, auto& b) { return a.postgres.dsn.value == b.postgres.dsn.value; }},
      {"postgres.password", [](auto& a, auto& b) { return a.postgres.password.value == b.postgres.password.value; }},
      {"hubspot.base_url", [](auto& a, auto& b) { return a.hubspot.base_url == b.hubspot.base_url; }},
      {"hubspot.allow_insecure_http", [](auto& a, auto& b) { return a.hubspot.allow_insecure_http == b.hubspot.allow_insecure_http; }},
      {"hubspot.portal_id", [](auto& a, auto& b) { return a.hubspot.portal_id == b.hubspot.portal_id; }},
      {"hubspot.auth", [](auto& a, auto& b) { return a.hubspot.auth == b.hubspot.auth; }},
      {"hubspot.token", [](auto& a, auto& b) { return a.hubspot.token.value == b.hubspot.token.value; }},
      {"hubspot.client_id", [](auto& a, auto& b) { return a.hubspot.client_id == b.hubspot.client_id; }},
      {"hubspot.client_secret", [](auto& a, auto& b) { return a.hubspot.client_secret.value == b.hubspot.client_secret.value; }},
      {"hubspot.refresh_token", [](auto& a, auto& b) { return a.hubspot.refresh_token.value == b.hubspot.refresh_token.value; }},
      {"hubspot.timeout_ms", [](auto& a, auto& b) { return a.hubspot.timeout_ms == b.hubspot.timeout_ms; }},
      {"hubspot.retry_for_s", [](auto& a, auto& b) { return a.hubspot.retry_for_s == b.hubspot.retry_for_s; }},
      {"rate_limit", [](auto& a, auto& b) {
         const auto& x = a.rate_limit;
         const auto& y = b.rate_limit;
         return x.tier == y.tier && x.daily_limit == y.daily_limit && x.headroom == y.headroom &&
                x.search_per_second == y.search_per_second && x.max_in_flight == y.max_in_flight;
       }},
      {"webhook.listen", [](auto& a, auto& b) { return a.webhook.listen == b.webhook.listen; }},
      {"webhook.path", [](auto& a, auto& b) { return a.webhook.path == b.webhook.path; }},
      {"webhook.public_url", [](auto& a, auto& b) { return a.webhook.public_url == b.webhook.public_url; }},
      {"webhook.client_secret", [](auto& a, auto& b) { return a.webhook.client_secret.value == b.webhook.client_secret.value; }},
      {"webhook (limits and timeouts)", [](auto& a, auto& b) {
         const auto& x = a.webhook;
         const auto& y = b.webhook;
         return x.max_skew_ms == y.max_skew_ms && x.accept_v1_v2 == y.accept_v1_v2 && x.max_body_bytes == y.max_body_bytes &&
                x.max_events == y.max_events && x.max_connections == y.max_connections &&
                x.header_timeout_ms == y.header_timeout_ms && x.body_timeout_ms == y.body_timeout_ms;
       }},
      {"state.path", [](auto& a, auto& b) { return a.state.path == b.state.path; }},
  };
  return keys;
}

}  // namespace

int load_serving(const Config& cfg, std::vector<mapping::Mapping>& out, const Report& report) {
  std::vector<mapping::Mapping> mappings;
  if (!load_mappings(cfg.mappings.dir, {}, mappings, report)) return kExitError;
  if (int rc = check_capture(cfg, mappings, "", "serve", report ? &report : nullptr); rc != kExitOk) return rc;
  out = std::move(mappings);
  return kExitOk;
}

std::vector<std::string> restart_only_changes(const Config& a, const Config& b) {
  std::vector<std::string> out;
  for (const auto& [key, same] : restart_only_keys())
    if (!same(a, b)) out.emplace_back(key);
  return out;
}

std::optional<Serving> reload_serving(const GlobalOptions& global, const Serving& running, state::StateStore& store,
                                      spdlog::logger& log) {
  auto loaded = config::load_config(global.config_path, config::process_env());
  bool ok = loaded.ok();
  for (const auto& issue : loaded.issues) {
    if (issue.severity == config::Severity::error) log.error("{}", issue.format());
    else log.warn("{}", issue.format());
  }
  Serving next{running.config, {}, running.portal};
  if (ok) {
    // Only what can change while running is taken from the new file.
    next.config.pull = loaded.config.pull;
    next.config.serve = loaded.config.serve;
    next.config.mappings = loaded.config.mappings;
    next.config.log = loaded.config.log;
    const auto report = [&log](const std::string& line, bool error) {
      if (error) log.error("{}", line);
      else log.warn("{}", line);
    };
    // A connection of its own: the service's belongs to its worker thread.
    postgres::PgDatabase db(next.config.postgres.dsn.value, ops::logger("postgres"));
    ok = load_serving(next.config, next.mappings, report) == kExitOk &&
         check_fingerprints(next.config, next.mappings, "", store, db, next.portal, report) == kExitOk;
  }
  if (!ok) {
    log.error("reload refused: the findings above are errors; still serving the previous config and mappings");
    return std::nullopt;
  }
  for (const auto& key : restart_only_changes(running.config, loaded.config))
    log.warn("reload: {} changed; it takes effect when serve restarts (the running value is kept)", key);
  const std::string level = global.log_level.empty() ? next.config.log.level : global.log_level;
  const std::string format = global.log_format.empty() ? next.config.log.format : global.log_format;
  (void)ops::setup_logging(level, format == "json" ? ops::LogFormat::json : ops::LogFormat::text);
  log.info("reloaded {} and {} mapping(s)", global.config_path, next.mappings.size());
  return next;
}

}  // namespace hubsync::cli
