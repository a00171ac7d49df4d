#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "connectors/hubspot/auth.h"
#include "connectors/hubspot/http_transport.h"
#include "engine/model/clock_offset.h"
#include "engine/model/result.h"
#include "engine/ratelimit/backoff.h"
#include "engine/ratelimit/clock.h"
#include "engine/ratelimit/rate_limiter.h"

namespace spdlog {
class logger;
}

namespace hubsync::hubspot {

using namespace std::chrono_literals;

struct ClientConfig {
  std::string base_url = "https://api.hubapi.com";
  int max_attempts = 10;                               ///< per call, every reason counted
  std::chrono::milliseconds max_retry_wait = 180'000ms;  ///< per call, summed waits before giving up
  std::chrono::milliseconds max_limiter_wait = 120'000ms;  ///< longer waits (daily budget) fail the call
  ratelimit::BackoffConfig backoff{250ms, 30'000ms};
  std::chrono::milliseconds locked_min_wait = 2'000ms;  ///< 423 Locked: wait at least this
  std::uint64_t seed = 0;                              ///< 0: random
  int in_flight = 8;                                   ///< concurrent requests for batch fan-out
};

/// HTTP exchanges by (method, route, status): the route from api_route()
/// (no record id in it), the status "200", "429"... or "transport" when no
/// answer came.
using RouteCounts = std::map<std::tuple<std::string, std::string, std::string>, std::int64_t>;

/// Counters of every call and attempt, for metrics and tests.
struct ClientCounters {
  std::int64_t requests = 0;           ///< logical calls
  std::int64_t attempts = 0;           ///< HTTP exchanges tried
  std::int64_t responses_429 = 0;
  std::int64_t retries_rate_limited = 0;
  std::int64_t retries_server_error = 0;  ///< 5xx
  std::int64_t retries_locked = 0;        ///< 423
  std::int64_t retries_transport = 0;     ///< timeouts, resets, refused connections
  std::int64_t retries_auth = 0;          ///< refresh-and-retry after EXPIRED_AUTHENTICATION
  std::int64_t failures = 0;              ///< calls that ended in an error or non-2xx
  RouteCounts exchanges;                  ///< every attempt by route and status
  std::int64_t retries() const {
    return retries_rate_limited + retries_server_error + retries_locked + retries_transport + retries_auth;
  }
};

struct CallOptions {
  const char* op = "hubspot";  ///< names the call in logs and errors (no values)
  ratelimit::Lane lane = ratelimit::Lane::standard;
  /// False for calls that would duplicate work if repeated after the server
  /// may have acted (batch/create): those retry only when the request surely
  /// did not run (429, 423, refused connection, 401 expired).
  bool idempotent = true;
};

/// The HubSpot HTTP client: bearer auth, the portal's rate limiter, retries
/// and counters around an HttpTransport. Thread-safe: any number of threads
/// may call at once; run_parallel() fans work out over `in_flight` threads.
class HubSpotClient {
 public:
  HubSpotClient(HttpTransport& transport, TokenProvider& tokens, ratelimit::RateLimiter& limiter,
                ratelimit::Clock& clock, ClientConfig config, std::shared_ptr<spdlog::logger> log);

  /// Sends `method base_url+path` with a JSON body (empty: none) and returns
  /// the final response: 2xx, or a 4xx that is not retried (the typed layers
  /// turn it into errors; see errors.h). Retries 429 (Retry-After, else by
  /// policyName through the limiter), 5xx and 423 and transport failures
  /// (capped exponential backoff, full jitter), and one 401
  /// EXPIRED_AUTHENTICATION after a token refresh. Each attempt spends a
  /// limiter permit and settles it when the exchange ends (answer or
  /// transport failure), so its slot is held until one window after that
  /// (see RateLimiter). Errors: the last failure
  /// when attempts or retry time run out (rate_limited / transient), auth
  /// when no token can be had, fatal for transport misconfiguration.
  model::Result<HttpResponse> call(HttpMethod method, const std::string& path, std::string body,
                                   const CallOptions& options);

  /// Runs task(0..n-1) on up to in_flight threads and returns when all are
  /// done. Tasks must not throw.
  void run_parallel(std::size_t n, const std::function<void(std::size_t)>& task);

  ClientCounters counters() const;
  /// HubSpot's clock against `clock` (HubSpot's − ours), as the Date headers
  /// of its recent answers bound it; nullopt before the first answer
  /// carrying one. A correction of a second or more is logged at warn, once
  /// per process and change of a second or more. Thread-safe.
  std::optional<model::ClockOffset> clock_offset() const { return clock_offset_.current(); }
  const ClientConfig& config() const { return config_; }
  ratelimit::RateLimiter& limiter() { return limiter_; }
  spdlog::logger& log() { return *log_; }

 private:
  HttpTransport& transport_;
  TokenProvider& tokens_;
  ratelimit::RateLimiter& limiter_;
  ratelimit::Clock& clock_;
  ClientConfig config_;
  std::shared_ptr<spdlog::logger> log_;
  ratelimit::Backoff backoff_;

  // Adds the Date header of an answer to clock_offset_.
  void read_clock(std::int64_t sent_ms, const HttpResponse& resp);
  // A final non-2xx answer, at debug, by status and codes: never its text.
  void log_refusal(const HttpResponse& resp, const CallOptions& opt);

  struct AtomicCounters {
    std::atomic<std::int64_t> requests{0}, attempts{0}, responses_429{0}, retries_rate_limited{0},
        retries_server_error{0}, retries_locked{0}, retries_transport{0}, retries_auth{0}, failures{0};
  };
  AtomicCounters c_;
  model::ClockOffsetEstimate clock_offset_;
  mutable std::mutex exchanges_mu_;
  RouteCounts exchanges_;  // guarded by exchanges_mu_
};

}  // namespace hubsync::hubspot
