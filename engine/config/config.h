#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/dsn.h"

namespace hubsync::config {

/// A secret value and where it came from. `value` must never be logged or
/// printed; `source` ("config file", "env HUBSPOT_TOKEN", "file /run/x") may.
struct Secret {
  std::string value;
  std::string source;
  bool set() const { return !value.empty(); }
};

enum class AuthMode { private_app, oauth };

struct PostgresConfig {
  Secret dsn;  ///< libpq DSN or URI; may carry a password
  /// The password libpq will use when hubsync can tell: the DSN's own
  /// (source "postgres.dsn") or the environment's PGPASSWORD (source
  /// "PGPASSWORD"). Only its source is ever shown.
  Secret password;
  /// The capture trigger also sends NOTIFY hubsync_changes at commit, waking
  /// `serve` at once. Off: serve looks at the changelog every
  /// serve.change_poll_ms instead. A notifying transaction holds
  /// PostgreSQL's notification-queue lock across its commit, so concurrent
  /// writers of mapped tables commit one at a time (BENCHMARKS.md: about half
  /// the TPS of a busy table); `hubsync migrate` installs the choice.
  bool notify = false;
  /// How changes to mapped tables are captured: `trigger` (the default), a
  /// generated trigger that writes hubsync.changelog in the application's
  /// transaction; or `logical`, logical decoding: a publication and a
  /// replication slot that hubsync relays into the changelog itself, so
  /// the application's transactions do no capture work (needs wal_level =
  /// logical, a role with REPLICATION, and a replica identity holding each
  /// mapping's key; the slot keeps WAL until hubsync relays it).
  bool logical = false;
  /// The replication slot of `logical` capture: 1-63 of [a-z0-9_], unique
  /// in the cluster (one per database hubsync syncs).
  std::string slot = "hubsync";
  /// How `serve` relays the slot of `logical` capture (`run --once` always
  /// uses the SQL functions): `stream` (the default), one replication
  /// connection for the service's life, which decodes each WAL record once
  /// and keeps up at any write rate but wakes the server's walsender at
  /// every commit; or `sql`, the SQL functions every serve.change_poll_ms,
  /// which cost the writers less at moderate rates and decode again from
  /// the slot's restart point on every call (they fall behind at tens of
  /// thousands of writes per second).
  bool relay_stream = true;
};

struct HubSpotConfig {
  std::string base_url = "https://api.hubapi.com";
  /// Plain http:// to a host that is not loopback sends the token in clear:
  /// refused unless this is set (then warned about).
  bool allow_insecure_http = false;
  std::int64_t portal_id = 0;
  AuthMode auth = AuthMode::private_app;
  Secret token;  ///< private-app access token
  std::string client_id;
  Secret client_secret;  ///< OAuth app secret (also signs webhooks)
  Secret refresh_token;
  std::string redirect_uri = "http://127.0.0.1:8976/oauth/callback";
  /// The OAuth consent page; empty: derived from base_url (urls.h).
  std::string authorize_url;
  std::string scopes = "crm.objects.contacts.read crm.objects.contacts.write";
  int timeout_ms = 30000;
  /// How long one call keeps retrying (5xx, 429, refused connections)
  /// before its rows wait for a later run; `run` stops at the first batch
  /// that gives up.
  int retry_for_s = 180;
};

struct RateLimitConfig {
  int tier = 100;               ///< requests per rolling 10 s: 100, 110, 190 or 250
  std::int64_t daily_limit = 0; ///< 0: derived from the tier
  double headroom = 0.05;       ///< fraction of the burst left for other apps
  int search_per_second = 5;
  int max_in_flight = 8;
};

struct WebhookConfig {
  std::string listen = "127.0.0.1:8080";  ///< loopback: expose it through a reverse proxy
  std::string path = "/webhooks/hubspot";  ///< where `serve` receives HubSpot's POSTs
  /// The URL HubSpot posts to (signed by v3 with the request's query
  /// appended); must hold no query itself.
  std::string public_url;
  Secret client_secret;    ///< the app's client secret that signs events
  int max_skew_ms = 300000;
  /// Also accept v1/v2 signatures (no timestamp, so replayable) from
  /// requests without a v3 one.
  bool accept_v1_v2 = false;
  std::int64_t max_body_bytes = 1024 * 1024;
  int max_events = 100;  ///< events per request at most (HubSpot sends <= 100)
  int max_connections = 64;
  int header_timeout_ms = 5000;  ///< a request's header block must arrive within this
  int body_timeout_ms = 5000;    ///< and its body within this after the header
};

struct StateConfig {
  std::string path = "hubsync-state.db";
};

/// The pull (HubSpot -> Postgres).
struct PullConfig {
  /// A sweep restarts this far before its checkpoint (search lags writes).
  int overlap_s = 60;
  /// How often associations of every linked object are read again.
  int association_pass_every_s = 6 * 3600;
};

/// `hubsync serve`'s loops (webhook.* configures its HTTP endpoint).
struct ServeConfig {
  int debounce_ms = 250;          ///< captured changes wait this long (from their capture) for more before the push
  int poll_s = 30;                ///< every mapping is pushed this often, changes seen or not
  /// How often serve looks for claimable changes in the changelog (one
  /// indexed query); unused with postgres.notify, whose NOTIFY wakes it.
  int change_poll_ms = 200;
  int inbox_every_ms = 500;       ///< how often the webhook inbox is drained
  int sweep_every_s = 300;        ///< safety-net sweep from the checkpoint
  int reconcile_every_s = 900;    ///< delayed reconciliation pass
  int reconcile_window_s = 3600;  ///< how far behind that pass re-reads
  /// "user:password" for HTTP basic auth on the health page (GET /); it is
  /// served without only on a loopback webhook.listen.
  Secret health_auth;
};

/// HubSpot workflow custom actions (a mapping's `actions:` block):
/// registered by `hubsync actions apply`, answered by `serve`.
struct ActionsConfig {
  std::int64_t app_id = 0;  ///< the HubSpot app the action definitions belong to
  /// The app's developer API key (`hapikey`): action definitions are
  /// developer APIs. Needed by `actions plan|apply` only.
  Secret developer_api_key;
  std::string path = "/hubspot/actions";  ///< serve answers {path}/{action name}
  /// The URL HubSpot calls, without the action name; empty: webhook.public_url's
  /// origin + path.
  std::string public_url;
  /// An execution not finished within this is answered BLOCK and completed
  /// later through HubSpot's callback API.
  int answer_within_ms = 3000;
};

struct MappingsConfig {
  std::string dir = "mappings";
};

struct LogConfig {
  std::string level = "info";
  std::string format = "text";
};

struct Config {
  std::string file;  ///< the config file it came from ("" for defaults only)
  PostgresConfig postgres;
  HubSpotConfig hubspot;
  RateLimitConfig rate_limit;
  WebhookConfig webhook;
  StateConfig state;
  PullConfig pull;
  ServeConfig serve;
  ActionsConfig actions;
  MappingsConfig mappings;
  LogConfig log;
};

enum class Severity { error, warning };

/// One problem found in a configuration, located as precisely as possible.
struct ConfigIssue {
  Severity severity = Severity::error;
  std::string file;
  int line = 0;    ///< 1-based; 0 when the problem has no single place
  int column = 0;  ///< 1-based
  std::string key; ///< section.key
  std::string message;

  /// "file:line:col: error: key: message"
  std::string format() const;
};

struct LoadResult {
  Config config;
  std::vector<ConfigIssue> issues;
  bool ok() const;
};

/// Looks up an environment variable; injected so tests control it.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

/// Reads `path` (YAML), applies HUBSYNC_<SECTION>_<KEY> overrides, resolves
/// `*_env` / `*_file` secrets (relative paths against the file's folder) and
/// validates everything, collecting every issue rather than stopping at the
/// first. A missing file is an issue too. Never throws.
LoadResult load_config(const std::string& path, const EnvLookup& env);
/// The same, also warning of each of `env_names` (the environment's
/// variable names) that looks like an override and is none: HUBSYNC_
/// followed by a section's name and a key it does not have, which would be
/// ignored (`HUBSYNC_RATE_LIMIT_TEIR`). A name the file gives a secret's
/// `*_env` is the user's own and never warned of.
LoadResult load_config(const std::string& path, const EnvLookup& env, const std::vector<std::string>& env_names);

/// The names of the process's environment variables.
std::vector<std::string> process_env_names();

/// The resolved configuration as `section.key = value` lines, secrets masked
/// (a DSN keeps everything but its password). Safe to print and log.
std::string render_masked(const Config& config);

/// `text` with every secret of `config` (tokens, client secrets, the DSN's
/// and PGPASSWORD's password, as written and decoded) replaced by ****: for
/// messages that might quote one, such as libpq's errors. Secrets shorter
/// than 4 characters are left alone (replacing them would garble the text
/// and hide nothing).
std::string redact(const Config& config, std::string text);

/// The URL HubSpot calls for actions (no trailing '/', no action name):
/// actions.public_url, else webhook.public_url's scheme://host[:port] +
/// actions.path; "" when neither is set.
std::string actions_base_url(const Config& config);

/// The daily request budget of a tier when none is configured.
std::int64_t default_daily_limit(int tier);

}  // namespace hubsync::config
