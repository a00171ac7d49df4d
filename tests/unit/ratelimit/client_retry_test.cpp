// The HubSpot client's retry policy, driven by a scripted transport and the
// fake clock: no network, no sleeping.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <mutex>

#include "connectors/hubspot/client.h"
#include "engine/ratelimit/fake_clock.h"

namespace hubsync::hubspot {
namespace {

using namespace std::chrono_literals;
using model::ErrorKind;
using ratelimit::FakeClock;

struct Scripted {
  int status = 200;
  std::string body = "{}";
  Headers headers;
  std::optional<model::Error> error;  // a transport failure instead
  std::chrono::milliseconds latency{0};  // the exchange takes this long
};

Scripted taking(std::chrono::milliseconds latency, Scripted s) {
  s.latency = latency;
  return s;
}

Scripted resp(int status, std::string body = "{}", Headers headers = {}) {
  Scripted s;
  s.status = status;
  s.body = std::move(body);
  s.headers = std::move(headers);
  return s;
}

Scripted fail(const char* code) {
  Scripted s;
  s.error = model::make_error(ErrorKind::transient, "transport: simulated");
  s.error->code = code;
  return s;
}

class FakeTransport final : public HttpTransport {
 public:
  explicit FakeTransport(FakeClock& clock) : clock_(clock) {}
  void push(Scripted s) { script_.push_back(std::move(s)); }
  model::Result<HttpResponse> send(const HttpRequest& req) override {
    std::lock_guard lock(mu_);
    sent_at.push_back(clock_.monotonic());
    auth.push_back(std::string(find_header(req.headers, "Authorization")));
    Scripted s = script_.empty() ? resp(200) : script_.front();
    if (!script_.empty()) script_.pop_front();
    clock_.advance(s.latency);
    if (s.error) return *s.error;
    return HttpResponse{s.status, s.headers, s.body, 0ms};
  }
  std::vector<std::chrono::milliseconds> sent_at;
  std::vector<std::string> auth;

 private:
  FakeClock& clock_;
  std::mutex mu_;
  std::deque<Scripted> script_;
};

class RefreshingTokens final : public TokenProvider {
 public:
  model::Result<std::string> access_token() override { return "tok-" + std::to_string(generation); }
  model::Status on_expired(const std::string&) override {
    ++generation;
    return {};
  }
  bool refreshable() const override { return true; }
  int generation = 1;
};


const std::string k429 =
    R"({"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"TEN_SECONDLY_ROLLING"})";

class ClientRetry : public ::testing::Test {
 protected:
  ClientRetry()
      : http(clock),
        limiter(clock, {.burst_limit = 100}),
        client(http, tokens, limiter, clock, config(), std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>())) {}
  static ClientConfig config() {
    ClientConfig c;
    c.base_url = "http://hubspot.test";
    c.seed = 1;
    c.max_attempts = 5;
    return c;
  }
  model::Result<HttpResponse> post(bool idempotent = true) {
    return client.call(HttpMethod::post, "/crm/v3/objects/contacts/batch/upsert", "{}",
                       {.op = "test", .idempotent = idempotent});
  }

  FakeClock clock;
  FakeTransport http;
  RefreshingTokens tokens;
  ratelimit::RateLimiter limiter;
  HubSpotClient client;
};

TEST_F(ClientRetry, RetryAfterIsHonouredOverThePolicy) {
  http.push(resp(429, k429, {{"Retry-After", "3"}}));
  http.push(resp(200));
  auto r = post();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(http.sent_at.size(), 2u);
  EXPECT_EQ(http.sent_at[1] - http.sent_at[0], 3'000ms);
  EXPECT_EQ(client.counters().responses_429, 1);
}

TEST_F(ClientRetry, TenSecondly429WithoutRetryAfterWaitsAWindow) {
  http.push(resp(429, k429));
  http.push(resp(200));
  ASSERT_TRUE(post().ok());
  EXPECT_EQ(http.sent_at[1] - http.sent_at[0], 10'000ms);
}

TEST_F(ClientRetry, Daily429FailsFastWithTheWaitUntilMidnight) {
  http.push(resp(429, R"({"status":"error","errorType":"RATE_LIMIT","policyName":"DAILY","message":"daily"})"));
  auto r = post();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::rate_limited);
  EXPECT_GT(r.error().retry_after, 60'000ms);
  EXPECT_EQ(http.sent_at.size(), 1u);
}

TEST_F(ClientRetry, ServerErrorsBackOffWithinTheCappedCeilings) {
  for (int i = 0; i < 3; ++i) http.push(resp(502, "<html>bad gateway</html>"));
  http.push(resp(200));
  ASSERT_TRUE(post().ok());
  ASSERT_EQ(http.sent_at.size(), 4u);
  const ratelimit::Backoff ceilings(config().backoff, 1);
  for (int i = 1; i < 4; ++i) EXPECT_LE(http.sent_at[i] - http.sent_at[i - 1], ceilings.ceiling(i - 1)) << i;
  EXPECT_EQ(client.counters().retries_server_error, 3);
}

TEST_F(ClientRetry, GivesUpAfterMaxAttemptsWithTheLastError) {
  for (int i = 0; i < 10; ++i) http.push(resp(503, R"({"status":"error","message":"down","category":"INTERNAL_ERROR"})"));
  auto r = post();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::transient);
  EXPECT_EQ(r.error().http_status, 503);
  EXPECT_EQ(http.sent_at.size(), 5u);
  EXPECT_EQ(client.counters().failures, 1);
}

TEST_F(ClientRetry, LockedWaitsAtLeastTwoSeconds) {
  http.push(resp(423, R"({"status":"error","message":"locked","category":"LOCKED"})"));
  http.push(resp(200));
  ASSERT_TRUE(post().ok());
  EXPECT_GE(http.sent_at[1] - http.sent_at[0], 2'000ms);
}

TEST_F(ClientRetry, OtherClientErrorsAreNeverRetried) {
  http.push(resp(400, R"({"status":"error","message":"bad","category":"VALIDATION_ERROR"})"));
  auto r = post();
  ASSERT_TRUE(r.ok());  // the 4xx response is data for the typed layer
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(http.sent_at.size(), 1u);
  EXPECT_EQ(client.counters().retries(), 0);
}

TEST_F(ClientRetry, TimeoutsRetryOnlyIdempotentCalls) {
  http.push(fail("timeout"));
  http.push(resp(200));
  ASSERT_TRUE(post(true).ok());
  EXPECT_EQ(client.counters().retries_transport, 1);

  http.push(fail("timeout"));
  auto r = post(false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::transient);

  http.push(fail("connect"));  // surely not sent: safe to repeat
  http.push(resp(200));
  ASSERT_TRUE(post(false).ok());
}

TEST_F(ClientRetry, ExpiredTokenIsRefreshedOnlyOnce) {
  const std::string expired = R"({"status":"error","message":"expired","category":"EXPIRED_AUTHENTICATION"})";
  http.push(resp(401, expired));
  http.push(resp(401, expired));
  auto r = post();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);  // a second expiry is not refreshed again
  EXPECT_EQ(tokens.generation, 2);
  ASSERT_EQ(http.auth.size(), 2u);
  EXPECT_EQ(http.auth[0], "Bearer tok-1");
  EXPECT_EQ(http.auth[1], "Bearer tok-2");
  EXPECT_EQ(client.counters().retries_auth, 1);
}

TEST_F(ClientRetry, HeadersCorrectTheLimiter) {
  http.push(resp(200, "{}", {{"X-HubSpot-RateLimit-Max", "50"}, {"X-HubSpot-RateLimit-Remaining", "49"},
                             {"X-HubSpot-RateLimit-Interval-Milliseconds", "10000"}}));
  ASSERT_TRUE(post().ok());
  EXPECT_EQ(limiter.stats().burst_limit, 48);  // 50 less 5% headroom, rounded
}

// Each attempt's slot is held until one window after its exchange ends —
// the answer, or the transport giving up — since the portal may have counted
// it as late as that; not one window after the send.
TEST(ClientLimiter, EachAttemptHoldsItsSlotUntilAWindowAfterItsExchangeEnds) {
  FakeClock clock;
  FakeTransport http(clock);
  RefreshingTokens tokens;
  ratelimit::RateLimiter limiter(clock, {.burst_limit = 2, .headroom = 0.0});
  ClientConfig config;
  config.base_url = "http://hubspot.test";
  config.seed = 1;
  HubSpotClient client(http, tokens, limiter, clock, config,
                       std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>()));
  auto post = [&] { return client.call(HttpMethod::post, "/crm/v3/objects/contacts/batch/upsert", "{}", {.op = "test"}); };
  http.push(taking(400ms, resp(200)));           // 0 -> 0.4 s
  http.push(taking(5'000ms, fail("timeout")));   // 0.4 -> 5.4 s, then retried
  http.push(taking(300ms, resp(200)));           // when the first frees: 10.4 s
  http.push(taking(300ms, resp(200)));           // when the timed-out one frees: 15.4 s
  ASSERT_TRUE(post().ok());
  ASSERT_TRUE(post().ok());
  ASSERT_TRUE(post().ok());
  ASSERT_EQ(http.sent_at.size(), 4u);
  EXPECT_EQ(http.sent_at[0], 0ms);
  EXPECT_EQ(http.sent_at[1], 400ms);
  EXPECT_EQ(http.sent_at[2], 10'400ms);
  EXPECT_EQ(http.sent_at[3], 15'400ms);
  EXPECT_EQ(limiter.stats().in_flight, 0);
  EXPECT_EQ(client.counters().retries_transport, 1);
}

}  // namespace
}  // namespace hubsync::hubspot
