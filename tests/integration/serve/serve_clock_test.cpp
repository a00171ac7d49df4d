// `serve` where HubSpot's clock is ten minutes ahead of this host's and the
// database's: /metrics shows how far each clock is from this host's (what
// `conflict: newest` takes off their times), and the log names the one that
// differs, once; and webhooks HubSpot signs on its clock are on time.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

#include "tests/integration/serve/serve_support.h"
#include "tests/support/prom_text.h"

namespace hubsync::test {
namespace {

constexpr std::int64_t kTenMinutes = 600'000;

class ServeClocks : public ServeFixture {
 protected:
  sim::SimulatorOptions sim_options() const override { return clock_ahead(quick_sim_options(), kTenMinutes); }
  double metric(const std::string& name, const std::string& system) {
    return parse_prometheus_text(http_get(port_, "/metrics").second).value(name, {{"system", system}}).value_or(-1);
  }
};

TEST_F(ServeClocks, MetricsShowHowFarEachClockIsFromThisHostsAndTheLogNamesTheOneThatDiffers) {
  h_->db.exec("INSERT INTO people (email, name) VALUES ('c@x.io', 'C')");  // serve answers HubSpot's Date headers
  EXPECT_TRUE(eventually([&] {
    const double hs = metric("hubsync_clock_offset_seconds", "hubspot");
    return hs > 598.5 && hs < 601.5 && metric("hubsync_clock_offset_seconds", "postgres") != -1;
  })) << log_tail(log_);
  EXPECT_LE(metric("hubsync_clock_offset_bound_seconds", "hubspot"), 1.0);
  EXPECT_NEAR(metric("hubsync_clock_offset_seconds", "postgres"), 0, 0.05) << "the same host's clock";
  EXPECT_LE(metric("hubsync_clock_offset_bound_seconds", "postgres"), 0.05);
  const std::string log = log_tail(log_, 2000);
  const std::string told = "hubspot clock differs from this host's: hubspot_minus_local_ms=";
  const auto at = log.find(told);
  ASSERT_NE(at, std::string::npos) << log;
  const long long said = std::stoll(log.substr(at + told.size()));
  EXPECT_GT(said, kTenMinutes - 1000);
  EXPECT_LT(said, kTenMinutes + 1000);
  EXPECT_EQ(log.find(told, at + 1), std::string::npos) << "said once:\n" << log;
  EXPECT_EQ(log.find("postgres clock differs"), std::string::npos);
}

// HubSpot signs each webhook's timestamp on its own clock, ten minutes
// ahead here, twice webhook.max_skew_ms. Compared with this host's clock
// every delivery was refused as stale (the sweep, an hour away here, the
// only way left); on HubSpot's clock as serve measured it, it is on time.
TEST_F(ServeClocks, AWebhookSignedOnHubSpotsClockTenMinutesAheadIsAcceptedAsOnTime) {
  h_->db.exec("INSERT INTO people (email, name) VALUES ('d@x.io', 'D')");
  ASSERT_TRUE(eventually([&] {
    return h_->live_by("contacts", "email").count("d@x.io") == 1 &&
           metric("hubsync_clock_offset_seconds", "hubspot") > 598.5;
  })) << log_tail(log_);
  h_->sim.ui_edit("contacts", h_->live_by("contacts", "email").at("d@x.io").id, {{"firstname", "Dora"}});
  EXPECT_TRUE(eventually([&] { return h_->db.scalar("SELECT name FROM people WHERE email = 'd@x.io'") == "Dora"; }))
      << log_tail(log_);
  const auto requests = [&](const std::string& outcome) {
    return parse_prometheus_text(http_get(port_, "/metrics").second)
        .value("hubsync_webhook_requests_total", {{"outcome", outcome}})
        .value_or(-1);
  };
  EXPECT_GE(requests("accepted"), 1);
  EXPECT_EQ(requests("stale"), 0) << log_tail(log_);
}

}  // namespace
}  // namespace hubsync::test
