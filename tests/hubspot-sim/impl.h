#pragma once

// Simulator::Impl — shared by the route handlers (api_*.cpp, admin.cpp).
#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "tests/hubspot-sim/actions.h"
#include "tests/hubspot-sim/http_server.h"
#include "tests/hubspot-sim/http_types.h"
#include "tests/hubspot-sim/json.h"
#include "tests/hubspot-sim/portal.h"
#include "tests/hubspot-sim/rate_limiter.h"
#include "tests/hubspot-sim/simulator.h"
#include "tests/hubspot-sim/webhooks.h"
#include "tests/hubspot-sim/workflows.h"

#include <spdlog/spdlog.h>

namespace hubsync::sim {

/// Who called: resolved from the Authorization header.
struct Caller {
  std::int64_t app_id = 0;
  bool oauth = false;
  std::int64_t hub_id = 0;  ///< the portal the token is for
};

struct OAuthToken {
  std::int64_t app_id = 0;
  std::int64_t expires_at_ms = 0;
  std::string refresh_token;
  std::string scopes;
  std::int64_t hub_id = 0;  ///< the portal the user chose on the consent page
};

/// What an authorization code was issued for.
struct AuthCode {
  std::string redirect_uri;
  std::string scopes;
  std::int64_t hub_id = 0;
};

struct Simulator::Impl {
  explicit Impl(SimulatorOptions o);

  /// On the server's io thread as a request arrives: the portal's rate-limit
  /// decision for it (HubSpot counts a request when it reaches its edge,
  /// however long it then waits for a worker), kept in req.admission for
  /// route(). Requests outside the portal's limit (knobs, OAuth, action
  /// definitions) and those whose token is refused are left undecided.
  void admit(HttpRequest& req);
  /// Spends one request of the portal's limit now: the search lane's for a
  /// search, the rolling window's (and the day's) for any other call.
  RateLimiter::Decision spend_limit(const std::vector<std::string>& seg);
  HttpResponse handle(HttpRequest& req);
  HttpResponse route(HttpRequest& req, const std::string& route_key);
  HttpResponse handle_objects(HttpRequest& req, const std::vector<std::string>& seg, const Caller& c);
  HttpResponse handle_properties(HttpRequest& req, const std::vector<std::string>& seg);
  HttpResponse handle_schemas(HttpRequest& req, const std::vector<std::string>& seg);
  HttpResponse handle_associations(HttpRequest& req, const std::vector<std::string>& seg, const Caller& c);
  HttpResponse handle_v4_object_associations(HttpRequest& req, const std::vector<std::string>& seg,
                                             const Caller& c);
  HttpResponse handle_oauth(HttpRequest& req, const std::vector<std::string>& seg);
  HttpResponse handle_account_details(const HttpRequest& req, const Caller& c);
  HttpResponse handle_admin(HttpRequest& req, const std::vector<std::string>& seg);
  HttpResponse handle_admin_workflows(HttpRequest& req, const std::vector<std::string>& seg,
                                      const rapidjson::Value& body);
  /// /automation/v4/actions/{appId}/...: developer API key, no rate limit.
  HttpResponse handle_action_definitions(HttpRequest& req, const std::vector<std::string>& seg);
  /// /automation/v4/actions/callbacks/...: the portal's token, rate limited.
  HttpResponse handle_action_callbacks(HttpRequest& req, const std::vector<std::string>& seg);
  /// Resolves the bearer token; throws 401 ApiError.
  Caller authenticate(const HttpRequest& req);
  void emit(std::vector<ChangeEvent>& events);
  WriteSource source_for(const Caller& c) const;
  std::int64_t now() const { return opts.clock ? opts.clock() : wall_now(); }
  static std::int64_t wall_now();
  std::string correlation_id();
  void count_request(const std::string& route_key, int status);
  void count_inputs(const std::string& type_id, std::int64_t n);
  void save_snapshot();
  void load_snapshot();

  Simulator* self = nullptr;
  SimulatorOptions opts;
  std::shared_ptr<spdlog::logger> log;
  Portal portal;
  RateLimiter limiter;
  WebhookDispatcher webhooks;
  ActionRegistry actions;
  ActionExecutor executions;
  std::unique_ptr<HttpServer> server;
  std::uint16_t port = 0;
  std::atomic<bool> rate_limits_on{true};
  std::atomic<std::int64_t> oauth_expires_in_s{1800};

  std::mutex auth_mu;
  std::unordered_map<std::string, std::int64_t> private_tokens;
  std::unordered_map<std::string, OAuthToken> access_tokens;
  std::unordered_map<std::string, OAuthToken> refresh_tokens;
  std::unordered_map<std::string, AuthCode> auth_codes;
  std::uint64_t token_counter = 0;

  std::mutex fault_mu;
  std::vector<FaultRule> faults;
  std::mt19937_64 rng;

  mutable std::mutex counter_mu;
  CountersSnapshot counts;
  std::atomic<std::uint64_t> correlation_counter{0};
};

/// Renders an ApiError as HubSpot's error body.
HttpResponse error_response(const ApiError& e, const std::string& correlation_id);
HttpResponse json_response(int status, std::string body);
/// Parses a JSON body or throws 400 like HubSpot.
rapidjson::Document parse_body(const std::string& body);
/// Writes one object in HubSpot's v3 shape; `with_new` adds upsert's `new`.
void write_object(JsonWriter& w, const ObjectView& v, const std::vector<std::string>& props,
                  const std::vector<std::string>& default_props, bool with_new);
std::vector<std::string> split(const std::string& s, char sep);
std::int64_t parse_int_or(const std::string& s, std::int64_t def);

}  // namespace hubsync::sim
