#pragma once

// hubsync::sim::Simulator — a local HubSpot: a real HTTP server on 127.0.0.1
// speaking HubSpot's paths, bodies, errors and headers, plus test knobs (the
// same operations the `/_sim/` admin HTTP API offers). Beast stays out of this
// header. Thread-safe: every method may be called while the server runs.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace hubsync::sim {

/// Default private-app tokens: hubsync itself and "another integration".
inline constexpr const char* kHubsyncToken = "pat-sim-hubsync";
inline constexpr std::int64_t kHubsyncAppId = 1001;
inline constexpr const char* kOtherToken = "pat-sim-other";
inline constexpr std::int64_t kOtherAppId = 2002;
inline constexpr const char* kOAuthClientId = "sim-client-id";
inline constexpr const char* kOAuthClientSecret = "sim-client-secret";
/// The developer account's API key (`hapikey`) for the automation actions
/// definitions API of the OAuth app.
inline constexpr const char* kDeveloperApiKey = "sim-developer-key";

/// Thrown by the test knobs when HubSpot would refuse the same operation
/// (unknown type or id, invalid value, unique conflict…): the HTTP status and
/// HubSpot error category it would answer with.
class SimulatorError : public std::runtime_error {
 public:
  SimulatorError(int status, std::string category, const std::string& message)
      : std::runtime_error(message), status_(status), category_(std::move(category)) {}
  int status() const { return status_; }
  const std::string& category() const { return category_; }

 private:
  int status_;
  std::string category_;
};

struct PrivateAppToken {
  std::string token;
  std::int64_t app_id = 0;
};

struct SimulatorOptions {
  std::int64_t portal_id = 62515;
  std::uint16_t port = 0;               ///< 0: any free port
  int threads = 2;                      ///< request handlers; one more thread reads and writes the connections
  int tier = 190;                       ///< requests per rolling 10 s: 100/110/190/250
  std::int64_t daily_limit = 1000000;
  int search_per_second = 5;
  bool rate_limits = true;              ///< false: no 429s from limits (benchmarks)
  bool retry_after = false;             ///< add Retry-After (s) to limit 429s; HubSpot does not document one
  std::int64_t index_lag_ms = 300;      ///< fresh writes invisible to search this long
  std::int64_t oauth_expires_in_s = 1800;
  std::vector<PrivateAppToken> tokens = {{kHubsyncToken, kHubsyncAppId}, {kOtherToken, kOtherAppId}};
  std::string oauth_client_id = kOAuthClientId;
  std::string oauth_client_secret = kOAuthClientSecret;
  std::int64_t oauth_app_id = kHubsyncAppId;  ///< the OAuth app is hubsync
  /// `hapikey` of the developer account owning the OAuth app: the only key
  /// the automation actions definitions API accepts.
  std::string developer_api_key = kDeveloperApiKey;
  std::string webhook_target;           ///< URL receiving signed event batches
  std::string webhook_secret;           ///< empty: the OAuth client secret
  double webhook_time_compression = 1;  ///< divides retry backoff and the 5 s timeout
  int webhook_max_attempts = 10;
  /// Custom workflow action calls: an answer slower than this counts as lost
  /// and the call is retried (HubSpot does not publish its timeout). Not
  /// divided by webhook_time_compression.
  int action_timeout_ms = 20000;
  /// Attempts per action execution before it is "failed"; the retry backoff
  /// (1 s * 2^n, capped at 8 h) and Retry-After are divided by
  /// webhook_time_compression.
  int action_max_attempts = 5;
  int latency_min_ms = 0;               ///< latency added to every API response
  int latency_max_ms = 0;
  std::string snapshot_file;            ///< loaded at start, saved at stop when set
  bool merge_new_id = true;             ///< merge gives the survivor a new id (stricter)
  int association_page_size = 500;      ///< v4 batch/read page size per input
  std::uint64_t random_seed = 42;       ///< faults and latency draws
  std::function<std::int64_t()> clock;  ///< wall ms; empty: the system clock
  /// Where the simulator logs (requests at debug, webhook failures at warn);
  /// null: nowhere.
  std::shared_ptr<spdlog::logger> logger;
};

/// Fault injection for requests whose path matches `route` (glob, `*` any).
struct FaultRule {
  std::string route = "*";
  std::string method;         ///< empty: any
  double pct_500 = 0;         ///< percent answered 500
  double pct_429 = 0;         ///< percent answered 429 TEN_SECONDLY_ROLLING
  double pct_423 = 0;         ///< percent answered 423 Locked
  double pct_slow = 0;        ///< percent delayed by slow_ms
  int slow_ms = 6000;
  double pct_drop = 0;        ///< percent closed without an answer
  double pct_reset = 0;       ///< percent reset (RST)
  double pct_malformed = 0;   ///< percent with a truncated JSON body
  int latency_min_ms = 0;
  int latency_max_ms = 0;
  int remaining = -1;         ///< faults left to inject; -1: unlimited
};

struct WebhookSubscription {
  std::int64_t id = 0;           ///< assigned
  std::string event_type;        ///< "contact.propertyChange", "contact.*", "object.creation"…
  std::string property_name;     ///< propertyChange filter; empty: every property
  std::string object_type_id;    ///< object.* filter; empty: every custom type
  bool active = true;
};

struct CountersSnapshot {
  /// "POST /crm/v3/objects/{type}/batch/upsert" -> status -> count
  std::map<std::string, std::map<int, std::int64_t>> requests;
  std::map<std::string, std::int64_t> inputs_written;  ///< object type id -> inputs
  std::int64_t rate_limited = 0;                       ///< 429s answered
  std::int64_t webhook_events = 0;
  std::int64_t webhook_deliveries = 0;                 ///< POSTs answered 2xx
  std::int64_t webhook_failures = 0;                   ///< attempts that failed
  std::int64_t webhook_retries = 0;
  std::int64_t webhook_dropped = 0;                    ///< batches given up
  std::int64_t webhook_lost = 0;                       ///< events never sent (set_webhook_loss)
  std::int64_t action_executions = 0;                  ///< workflow enrollments into custom actions
  std::int64_t action_calls = 0;                       ///< POSTs to an actionUrl (every attempt)
  std::int64_t action_deliveries = 0;                  ///< calls answered 2xx (and not lost)
  std::int64_t action_failures = 0;                    ///< calls failed: non-2xx, timeout, connection, lost
  std::int64_t action_retries = 0;
  std::int64_t action_failed = 0;                      ///< executions that ended "failed"
};

/// A workflow reaching a custom action for one record (the
/// `/_sim/workflows/enroll` knob).
struct WorkflowEnrollment {
  std::string definition_id;
  std::string object_id;                 ///< digits
  std::string object_type = "CONTACT";   ///< one of the definition's objectTypes
  std::string input_fields_json = "{}";  ///< a JSON object, sent as `inputFields` as is
  std::int64_t workflow_id = 1;
  /// The first N answers of the action are treated as lost (as if they
  /// timed out): HubSpot sends the same request again, same callbackId.
  int lose_responses = 0;
};

/// One execution of a custom action as the simulator saw it.
struct ActionExecution {
  std::string callback_id;
  std::string definition_id;
  std::string object_id;
  std::string object_type;
  int attempts = 0;
  std::vector<int> statuses;  ///< HTTP status per attempt; 0: timeout, connection failure or lost answer
  /// pending (an attempt is due), running (a call is in flight), SUCCESS,
  /// FAIL_CONTINUE, blocked (waiting for a callback completion), completed,
  /// failed.
  std::string state = "pending";
  /// From the final answer, or from the callback completion.
  std::map<std::string, std::string> output_fields;
  std::string completed_by;         ///< "response", "callback" or ""
  std::string expiration_duration;  ///< hs_expiration_duration of a BLOCK answer, as sent
};

class Simulator {
 public:
  explicit Simulator(SimulatorOptions options = {});
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  /// Binds 127.0.0.1 (options.port, 0 = any) and serves; returns the port.
  /// Throws std::runtime_error when the port cannot be bound.
  std::uint16_t start();
  /// Stops serving, joins every thread, saves the snapshot if configured. Idempotent.
  void stop();
  std::uint16_t port() const;
  std::string base_url() const;  ///< "http://127.0.0.1:PORT"
  const SimulatorOptions& options() const;

  // ---- test knobs (also under /_sim/); they throw SimulatorError ---------
  /// Drops all records, custom schemas/properties, associations, OAuth
  /// tokens, faults, subscriptions, custom action definitions and
  /// executions, and counters; rate windows restart.
  void reset();
  /// Creates `n` records with realistic deterministic data; returns ids.
  std::vector<std::string> seed(const std::string& type, int n, std::uint64_t seed = 1);
  void set_faults(std::vector<FaultRule> rules);
  void set_tier(int requests_per_10s);
  void set_rate_limits_enabled(bool on);
  void set_index_lag_ms(std::int64_t ms);
  /// expires_in (seconds) for OAuth access tokens issued from now on.
  void set_token_expiry(std::int64_t expires_in_s);
  /// Makes every OAuth access token issued so far expire now.
  void expire_oauth_tokens();
  CountersSnapshot counters() const;
  void reset_counters();
  /// All records of a type (archived included) as the admin dump JSON.
  std::string dump_json(const std::string& type) const;
  /// A person edits a record in the HubSpot UI (changeSource CRM_UI).
  void ui_edit(const std::string& type, const std::string& id, const std::map<std::string, std::string>& props);
  std::string ui_create(const std::string& type, const std::map<std::string, std::string>& props);
  void ui_delete(const std::string& type, const std::string& id);
  void ui_restore(const std::string& type, const std::string& id);
  /// Returns the survivor's id (possibly new).
  std::string ui_merge(const std::string& type, const std::string& primary, const std::string& merged);
  /// A bulk import: creates/updates records (changeSource IMPORT) all stamped
  /// with the same modified time `modified_ms`; returns their ids.
  std::vector<std::string> ui_bulk_import(const std::string& type,
                                          const std::vector<std::map<std::string, std::string>>& rows,
                                          std::int64_t modified_ms);
  std::int64_t add_webhook_subscription(WebhookSubscription sub);
  void clear_webhook_subscriptions();
  void set_webhook_target(const std::string& url);
  /// Loses `pct` percent of webhook events from now on (never sent, never
  /// retried), to prove a subscriber's safety nets.
  void set_webhook_loss(int pct);
  /// Delivers every webhook batch `copies` times from now on (1: once).
  void set_webhook_copies(int copies);
  /// A workflow runs the custom action `e.definition_id` (current revision)
  /// for one record: returns the callbackId at once; the action's URL is
  /// called on a background thread, retried as HubSpot does. Throws 404 for
  /// an unknown or archived definition, 400 for a bad object id or type or
  /// input fields that are not a JSON object.
  std::string enroll_in_workflow(const WorkflowEnrollment& e);
  /// Every execution since the last reset, in enrollment order.
  std::vector<ActionExecution> action_executions() const;
  /// Throws SimulatorError 404 for an unknown callback id.
  ActionExecution action_execution(const std::string& callback_id) const;
  /// Waits until `done` holds for the execution (default: it has settled,
  /// i.e. is neither pending nor running) or `timeout` passes; returns the
  /// execution as last seen. Throws SimulatorError 404 for an unknown id.
  ActionExecution wait_execution(const std::string& callback_id, std::chrono::milliseconds timeout,
                                 const std::function<bool(const ActionExecution&)>& done = {}) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubsync::sim
