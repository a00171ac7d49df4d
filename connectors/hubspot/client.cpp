#include "connectors/hubspot/client.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "connectors/hubspot/errors.h"
#include "connectors/hubspot/http_date.h"
#include "connectors/hubspot/routes.h"

namespace hubsync::hubspot {

namespace {

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view v) {
  if (v.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const double secs = std::stod(std::string(v), &used);
    // Seconds, at most a day: an infinite, NaN or absurd value is no advice.
    if (used == 0 || !(secs >= 0) || secs > 86'400) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(secs * 1000)));
  } catch (const std::exception&) {
    return std::nullopt;  // an HTTP-date: fall back to the policy
  }
}

enum class Verdict { done, retry_rate_limited, retry_server, retry_locked, retry_auth };

}  // namespace

HubSpotClient::HubSpotClient(HttpTransport& transport, TokenProvider& tokens,
                             ratelimit::RateLimiter& limiter, ratelimit::Clock& clock,
                             ClientConfig config, std::shared_ptr<spdlog::logger> log)
    : transport_(transport),
      tokens_(tokens),
      limiter_(limiter),
      clock_(clock),
      config_(std::move(config)),
      log_(log ? std::move(log) : spdlog::default_logger()),
      backoff_(config_.backoff, config_.seed ? config_.seed : std::random_device{}()) {}

model::Result<HttpResponse> HubSpotClient::call(HttpMethod method, const std::string& path,
                                                std::string body, const CallOptions& opt) {
  ++c_.requests;
  const std::string route = api_route(path);
  HttpRequest req;
  req.method = method;
  req.url = config_.base_url + path;
  req.body = std::move(body);
  req.headers = {{"Accept", "application/json"}};
  if (!req.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  const std::size_t auth_slot = req.headers.size();
  req.headers.emplace_back("Authorization", "");

  bool refreshed = false;
  int backoff_retries = 0;
  std::chrono::milliseconds waited{0};
  model::Error last = model::make_error(model::ErrorKind::transient, std::string(opt.op) + ": not attempted");

  for (int attempt = 1;; ++attempt) {
    auto token = tokens_.access_token();
    if (!token.ok()) {
      ++c_.failures;
      return std::move(token).error();
    }
    req.headers[auth_slot].second = "Bearer " + *token;

    auto permit = limiter_.acquire(opt.lane, config_.max_limiter_wait);
    if (!permit.ok()) {
      ++c_.failures;
      auto e = std::move(permit).error();
      e.message = std::string(opt.op) + ": " + e.message;
      return e;
    }
    ++c_.attempts;
    const std::int64_t sent_ms = clock_.wall_ms();
    auto sent = transport_.send(req);
    if (sent.ok()) read_clock(sent_ms, *sent);
    // Over, answered or not: the portal may have counted it as late as now.
    limiter_.settle(*permit);
    {
      std::lock_guard lock(exchanges_mu_);
      ++exchanges_[{to_string(method), route, sent.ok() ? std::to_string(sent->status) : "transport"}];
    }

    std::chrono::milliseconds wait{0};
    Verdict verdict = Verdict::done;
    if (!sent.ok()) {
      last = std::move(sent).error();
      last.message = std::string(opt.op) + ": " + last.message;
      const bool safe_to_repeat = opt.idempotent || last.code == "connect";
      if (last.kind != model::ErrorKind::transient || !safe_to_repeat) {
        ++c_.failures;
        return last;
      }
      wait = backoff_.delay(backoff_retries++);
      ++c_.retries_transport;
      verdict = Verdict::retry_server;
    } else {
      HttpResponse& resp = *sent;
      const auto rl = ratelimit::parse_rate_limit_headers(resp.headers);
      if (!rl.empty()) limiter_.observe(rl, *permit);
      const int st = resp.status;
      if (st >= 200 && st < 300) return std::move(resp);
      if (st == 429) {
        ++c_.responses_429;
        auto api = parse_api_error(st, resp.body);
        const auto ra = parse_retry_after(find_header(resp.headers, "Retry-After"));
        wait = limiter_.on_rate_limited(api.policy_name, ra, opt.lane);
        last = to_error(api, opt.op);
        last.retry_after = wait;
        if (api.policy_name == "DAILY" && wait > config_.max_limiter_wait) {
          ++c_.failures;
          return last;
        }
        // The limiter now holds every worker until `wait` has passed; this
        // caller sleeps through acquire() on the next attempt.
        waited += wait;
        wait = std::chrono::milliseconds(0);
        verdict = Verdict::retry_rate_limited;
        ++c_.retries_rate_limited;
      } else if (st == 401 && !refreshed && tokens_.refreshable() &&
                 parse_api_error(st, resp.body).category == "EXPIRED_AUTHENTICATION") {
        refreshed = true;
        if (auto s = tokens_.on_expired(*token); !s.ok()) {
          ++c_.failures;
          return std::move(s).error();
        }
        ++c_.retries_auth;
        verdict = Verdict::retry_auth;
      } else if (st == 423 || st >= 500) {
        last = response_error(resp, opt.op);
        if (!opt.idempotent && st != 423 && st != 503) {
          ++c_.failures;
          log_refusal(resp, opt);
          return std::move(resp);
        }
        wait = backoff_.delay(backoff_retries++);
        if (st == 423) {
          wait = std::max(wait, config_.locked_min_wait);
          ++c_.retries_locked;
          verdict = Verdict::retry_locked;
        } else {
          ++c_.retries_server_error;
          verdict = Verdict::retry_server;
        }
      } else {
        ++c_.failures;
        log_refusal(resp, opt);
        return std::move(resp);
      }
    }

    if (attempt >= config_.max_attempts || waited + wait > config_.max_retry_wait) {
      if (verdict == Verdict::retry_auth) last = response_error(*sent, opt.op);
      ++c_.failures;
      // loggable(): HubSpot's message can quote field values.
      log_->warn("hubspot giving up op={} attempts={} error={}", opt.op, attempt, loggable(last));
      return last;
    }
    log_->warn("hubspot retry op={} attempt={} reason={} wait_ms={}", opt.op, attempt,
               verdict == Verdict::retry_rate_limited ? "429"
               : verdict == Verdict::retry_locked    ? "423"
               : verdict == Verdict::retry_auth      ? "expired_token"
                                                     : (last.http_status ? "5xx" : "transport"),
               wait.count());
    if (wait.count() > 0) {
      clock_.sleep_for(wait);
      waited += wait;
    }
  }
}

void HubSpotClient::read_clock(std::int64_t sent_ms, const HttpResponse& resp) {
  const auto date = parse_http_date(find_header(resp.headers, "Date"));
  if (!date) return;
  clock_offset_.add(model::ClockReading{sent_ms, clock_.wall_ms(), *date, 1000});
  const std::int64_t correction = clock_offset_.current()->correction_ms();
  // Once per process and change of a second or more (serve makes more than
  // one client): a clock set right again is told too.
  static std::atomic<std::int64_t> told{0};
  if (!model::newly_told(told, correction)) return;
  log_->warn("hubspot clock differs from this host's: hubspot_minus_local_ms={} (conflict: newest compares "
             "HubSpot's times less this; keep both clocks on NTP)",
             correction);
}

void HubSpotClient::log_refusal(const HttpResponse& resp, const CallOptions& opt) {
  if (!log_->should_log(spdlog::level::debug)) return;
  log_->debug("hubspot refused {}", log_fields(parse_api_error(resp.status, resp.body), opt.op));
}

void HubSpotClient::run_parallel(std::size_t n, const std::function<void(std::size_t)>& task) {
  if (n == 0) return;
  const std::size_t workers = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, config_.in_flight)));
  if (workers == 1) {
    for (std::size_t i = 0; i < n; ++i) task(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  auto loop = [&] {
    for (std::size_t i = next++; i < n; i = next++) task(i);
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (std::size_t w = 1; w < workers; ++w) threads.emplace_back(loop);
  loop();
  for (auto& t : threads) t.join();
}

ClientCounters HubSpotClient::counters() const {
  ClientCounters c;
  c.requests = c_.requests;
  c.attempts = c_.attempts;
  c.responses_429 = c_.responses_429;
  c.retries_rate_limited = c_.retries_rate_limited;
  c.retries_server_error = c_.retries_server_error;
  c.retries_locked = c_.retries_locked;
  c.retries_transport = c_.retries_transport;
  c.retries_auth = c_.retries_auth;
  c.failures = c_.failures;
  {
    std::lock_guard lock(exchanges_mu_);
    c.exchanges = exchanges_;
  }
  return c;
}

}  // namespace hubsync::hubspot
