#include <gtest/gtest.h>

#include <chrono>

#include "tests/integration/hubspot/sim_env.h"

namespace hubsync::hubspot::testing {
namespace {

using model::ErrorKind;
using Clock = std::chrono::steady_clock;

const char* kUpsertPath = "/crm/v3/objects/contacts/batch/upsert";
const char* kUpsertRoute = "POST /crm/v3/objects/{type}/batch/upsert";

std::vector<pipeline::UpsertInput> contacts(int n, const std::string& prefix = "f") {
  std::vector<pipeline::UpsertInput> in;
  for (int i = 0; i < n; ++i) in.push_back(contact(prefix + std::to_string(i) + "@example.com"));
  return in;
}

class Faults : public SimTest {
 protected:
  StackOptions stack_options() override {
    StackOptions o;
    // A one-second "burst window" keeps policy waits after injected
    // TEN_SECONDLY_ROLLING 429s short; the sim's real limit is not reached.
    o.limiter.burst_interval = 1'000ms;
    o.limiter.learn_from_headers = false;
    o.curl.total_timeout = 1'500ms;
    return o;
  }
  sim::FaultRule rule() {
    sim::FaultRule f;
    f.route = kUpsertPath;
    f.method = "POST";
    return f;
  }
};

TEST_F(Faults, A429StormEndsInSuccessWithEveryAttemptCounted) {
  auto f = rule();
  f.pct_429 = 100;
  f.remaining = 3;
  sim_->set_faults({f});
  const auto t0 = Clock::now();
  auto r = crm().upsert("contacts", "email", contacts(10));
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& o : *r) EXPECT_TRUE(o.ok());
  const auto c = client().counters();
  EXPECT_EQ(c.requests, 1);
  EXPECT_EQ(c.attempts, 4);
  EXPECT_EQ(c.responses_429, 3);
  EXPECT_EQ(c.retries_rate_limited, 3);
  EXPECT_EQ(sim_requests(kUpsertRoute, 429), 3);
  EXPECT_EQ(sim_requests(kUpsertRoute, 200), 1);
  // Each TEN_SECONDLY_ROLLING 429 without Retry-After waits one window.
  EXPECT_GE(Clock::now() - t0, 3'000ms);
  EXPECT_EQ(stack_->limiter.stats().rate_limited, 3);
}

TEST_F(Faults, ServerErrorsAreRetriedWithBackoff) {
  auto f = rule();
  f.pct_500 = 100;
  f.remaining = 3;
  sim_->set_faults({f});
  auto r = crm().upsert("contacts", "email", contacts(5));
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& o : *r) EXPECT_TRUE(o.ok());
  const auto c = client().counters();
  EXPECT_EQ(c.attempts, 4);
  EXPECT_EQ(c.retries_server_error, 3);
  EXPECT_EQ(sim_requests(kUpsertRoute, 500), 3);
}

TEST_F(Faults, ResetsDropsAndTimeoutsAreRetried) {
  auto reset = rule();
  reset.pct_reset = 100;
  reset.remaining = 2;
  auto drop = rule();
  drop.pct_drop = 100;
  drop.remaining = 1;
  auto slow = rule();
  slow.pct_slow = 100;
  slow.slow_ms = 4'000;  // past the 1.5 s total timeout
  slow.remaining = 1;
  sim_->set_faults({reset, drop, slow});
  auto r = crm().upsert("contacts", "email", contacts(5));
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& o : *r) EXPECT_TRUE(o.ok()) << o.error->message;
  const auto c = client().counters();
  EXPECT_EQ(c.retries_transport, 4);
  EXPECT_EQ(c.attempts, 5);
}

TEST_F(Faults, LockedWaitsAtLeastTwoSeconds) {
  auto f = rule();
  f.pct_423 = 100;
  f.remaining = 1;
  sim_->set_faults({f});
  const auto t0 = Clock::now();
  auto r = crm().upsert("contacts", "email", contacts(3));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GE(Clock::now() - t0, 2'000ms);
  EXPECT_EQ(client().counters().retries_locked, 1);
  EXPECT_EQ(client().counters().attempts, 2);
}

TEST_F(Faults, ExhaustedRetriesLandOnTheChunksInputsAsTransient) {
  auto f = rule();
  f.pct_500 = 100;
  sim_->set_faults({f});
  auto r = crm().upsert("contacts", "email", contacts(3));
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& o : *r) {
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.error->kind, ErrorKind::transient);
    EXPECT_EQ(o.error->http_status, 500);
  }
  EXPECT_EQ(client().counters().attempts, client().config().max_attempts);
  EXPECT_EQ(sim_requests(kUpsertRoute, 500), client().config().max_attempts);
}

TEST_F(Faults, NonIdempotentCreateIsNotRepeatedAfterA500) {
  sim::FaultRule f;
  f.route = "/crm/v3/objects/contacts/batch/create";
  f.pct_500 = 100;
  f.remaining = 1;
  sim_->set_faults({f});
  auto r = crm().objects().batch_create("contacts", {{{"email", model::Value::text("once@example.com")}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::transient);
  EXPECT_EQ(client().counters().attempts, 1);
}

class RealLimits : public SimTest {
 protected:
  sim::SimulatorOptions sim_options() override {
    auto o = SimTest::sim_options();
    o.tier = 10;
    // The simulator's two handlers: fewer than the requests in flight. It
    // counts a request when it arrives, as HubSpot does at its edge, not
    // when a handler takes it up; before it did, the eighth of a burst of
    // upserts waited behind the others' handling (80 ms and more under ASan
    // on a loaded host) and was counted after ours sent later.
    return o;
  }
  StackOptions stack_options() override {
    StackOptions o;
    o.limiter.headroom = 0.2;  // 8 of the portal's 10, once learned
    return o;
  }
};

TEST_F(RealLimits, ThePortalsLimitIsLearnedFromHeadersAndSpentWithoutA429) {
  // Configured for 190/10 s, the portal allows 10: the first answers'
  // X-HubSpot-RateLimit-Max teaches the limiter, which then paces itself.
  // However late the simulator sees a request (a loaded host, a sanitized
  // build), the limiter holds its slot until a window after the answer, so
  // none lands in a portal window next to ten others.
  auto r = crm().upsert("contacts", "email", contacts(1'500, "lim"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& o : *r) ASSERT_TRUE(o.ok()) << o.error->message;
  const auto c = client().counters();
  EXPECT_EQ(sim_requests(kUpsertRoute, 200), 15);
  EXPECT_EQ(c.responses_429, 0);
  EXPECT_EQ(c.attempts, 15);
  EXPECT_EQ(stack_->limiter.stats().burst_limit, 8);  // learned 10, minus 20% headroom
  // The headers' Remaining never shows more than our own requests: nothing
  // is mistaken for another app's traffic.
  EXPECT_EQ(stack_->limiter.stats().others_used, 0);
  EXPECT_EQ(c.attempts, sim_requests(kUpsertRoute));
}

}  // namespace
}  // namespace hubsync::hubspot::testing

namespace hubsync::hubspot::testing {
namespace {

class RetryAfterLimits : public SimTest {
 protected:
  sim::SimulatorOptions sim_options() override {
    auto o = SimTest::sim_options();
    o.tier = 10;
    o.retry_after = true;  // the simulator's knob: Retry-After on limit 429s
    return o;
  }
  StackOptions stack_options() override {
    StackOptions o;
    // Misconfigured on purpose and deaf to the headers: real 429s happen.
    o.limiter.burst_limit = 190;
    o.limiter.learn_from_headers = false;
    return o;
  }
};

TEST_F(RetryAfterLimits, GenuineLimit429sAreRetriedAfterRetryAfterAndAllSucceed) {
  auto r = crm().upsert("contacts", "email", contacts(1'500, "ra"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& o : *r) ASSERT_TRUE(o.ok()) << o.error->message;
  const auto c = client().counters();
  EXPECT_GE(c.responses_429, 1);
  EXPECT_EQ(c.attempts, 15 + c.responses_429);
  EXPECT_EQ(sim_requests(kUpsertRoute, 429), c.responses_429);
  EXPECT_EQ(sim_requests(kUpsertRoute, 200), 15);
}

}  // namespace
}  // namespace hubsync::hubspot::testing
