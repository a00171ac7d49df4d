// The HubSpot simulator delivers its signed webhooks (v1 and v3 headers, as
// HubSpot sends them) to the real server: the events land in the inbox.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "tests/hubspot-sim/simulator.h"
#include "tests/integration/webhook/webhook_harness.h"

namespace hubsync::webhook::test {
namespace {

TEST_F(ServerTest, SimulatorDeliveriesLandInTheInbox) {
  sim::SimulatorOptions so;
  so.index_lag_ms = 0;
  so.webhook_secret = kSecret;
  so.webhook_time_compression = 1000;
  sim::Simulator hs(so);
  hs.start();

  // Nothing rewrites the request here, so no public_url: the server signs
  // http://<Host header><target>, which is the URL the simulator called.
  auto o = options();
  o.public_url.clear();
  ASSERT_NE(start(std::move(o)), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + kPath;
  hs.set_webhook_target(url);
  sim::WebhookSubscription sub;
  sub.event_type = "contact.*";
  hs.add_webhook_subscription(sub);
  sim::WebhookSubscription company;
  company.event_type = "company.creation";
  hs.add_webhook_subscription(company);

  const std::string id = hs.ui_create("contacts", {{"email", "sim@example.com"}, {"city", "Oslo"}});
  hs.ui_edit("contacts", id, {{"city", "Bergen"}});
  hs.ui_create("companies", {{"name", "Acme"}});
  hs.ui_delete("contacts", id);

  std::size_t n = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto c = hs.counters();
    n = inbox();
    if (c.webhook_events > 0 && c.webhook_deliveries > 0 && n >= static_cast<std::size_t>(c.webhook_events))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto c = hs.counters();
  EXPECT_EQ(c.webhook_failures, 0);
  EXPECT_EQ(n, static_cast<std::size_t>(c.webhook_events));
  auto claimed = store_->claim_inbox(100, now_ms(), 60000);
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  std::set<std::string> types;
  for (const auto& e : *claimed) types.insert(e.subscription_type);
  EXPECT_TRUE(types.count("contact.creation")) << c.webhook_events;
  EXPECT_TRUE(types.count("contact.propertyChange"));
  EXPECT_TRUE(types.count("contact.deletion"));
  EXPECT_TRUE(types.count("company.creation"));
  hs.stop();
}

}  // namespace
}  // namespace hubsync::webhook::test
