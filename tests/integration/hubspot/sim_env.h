#pragma once

// One simulator + one connector stack per test, over real HTTP on loopback.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "connectors/hubspot/auth.h"
#include "connectors/hubspot/client.h"
#include "connectors/hubspot/curl_transport.h"
#include "connectors/hubspot/hubspot_crm.h"
#include "engine/ratelimit/clock.h"
#include "engine/ratelimit/rate_limiter.h"
#include "tests/hubspot-sim/simulator.h"

namespace hubsync::hubspot::testing {

using namespace std::chrono_literals;

inline std::shared_ptr<spdlog::logger> quiet_logger() {
  static auto log = std::make_shared<spdlog::logger>("hubspot-test", std::make_shared<spdlog::sinks::null_sink_mt>());
  return log;
}

struct StackOptions {
  ratelimit::LimiterConfig limiter{};
  ClientConfig client{};
  CurlOptions curl{};
};

/// The connector stack against a base URL with a given token provider.
struct Stack {
  Stack(const std::string& base_url, TokenProvider& tokens, StackOptions o = {})
      : transport(o.curl),
        limiter(clock, o.limiter), client(transport, tokens, limiter, clock, with_base(o.client, base_url), quiet_logger()),
        crm(client) {}

  static ClientConfig with_base(ClientConfig c, const std::string& base) {
    c.base_url = base;
    if (c.seed == 0) c.seed = 7;
    c.backoff = {100ms, 2'000ms};
    return c;
  }

  ratelimit::SystemClock clock;
  CurlTransport transport;
  ratelimit::RateLimiter limiter;
  HubSpotClient client;
  HubSpotCrm crm;
};

class SimTest : public ::testing::Test {
 protected:
  virtual sim::SimulatorOptions sim_options() {
    sim::SimulatorOptions o;
    o.index_lag_ms = 0;
    o.threads = 4;
    return o;
  }
  virtual StackOptions stack_options() { return {}; }

  void SetUp() override {
    sim_ = std::make_unique<sim::Simulator>(sim_options());
    sim_->start();
    stack_ = std::make_unique<Stack>(sim_->base_url(), token_, stack_options());
  }
  void TearDown() override {
    stack_.reset();
    sim_->stop();
  }

  HubSpotCrm& crm() { return stack_->crm; }
  HubSpotClient& client() { return stack_->client; }
  std::int64_t sim_requests(const std::string& route, int status = -1) const {
    const auto c = sim_->counters();
    auto it = c.requests.find(route);
    if (it == c.requests.end()) return 0;
    std::int64_t n = 0;
    for (const auto& [st, k] : it->second)
      if (status < 0 || st == status) n += k;
    return n;
  }

  PrivateAppToken token_{sim::kHubsyncToken};
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<Stack> stack_;
};

inline pipeline::UpsertInput contact(const std::string& email, const std::string& first = "Ada") {
  return {email, {{"email", model::Value::text(email)}, {"firstname", model::Value::text(first)}}};
}

/// Upserts one contact per email (firstname "Ada"); their ids in input order.
inline std::vector<std::string> upsert_contacts(HubSpotCrm& crm, const std::vector<std::string>& emails) {
  std::vector<pipeline::UpsertInput> in;
  for (const auto& e : emails) in.push_back(contact(e));
  auto r = crm.upsert("contacts", "email", in);
  EXPECT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> ids;
  if (r.ok())
    for (const auto& o : *r) ids.push_back(o.hubspot_id);
  return ids;
}

/// Creates a contact property in the contactinformation group.
inline void create_contact_property(HubSpotCrm& crm, const std::string& name, const std::string& type,
                                    const std::string& field, std::vector<PropertyOption> options = {}) {
  PropertyDef d;
  d.name = name;
  d.label = name;
  d.type = type;
  d.field_type = field;
  d.group_name = "contactinformation";
  d.options = std::move(options);
  auto r = crm.properties().create("contacts", d);
  ASSERT_TRUE(r.ok()) << r.error().message;
}

/// A record's property as text; "" when absent or null.
inline std::string text(const model::Record& r, const std::string& p) {
  auto it = r.fields.find(p);
  return it == r.fields.end() || it->second.is_null() ? "" : it->second.as_text();
}

}  // namespace hubsync::hubspot::testing
