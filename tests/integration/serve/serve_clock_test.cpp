// `serve` where HubSpot's clock is ten minutes ahead of this host's and the
// database's: /metrics shows how far each clock is from this host's (what
// `conflict: newest` takes off their times), and the log names the one that
// differs, once; and webhooks HubSpot signs on its clock are on time.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <map>
#include <regex>
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

// The health page shows both clocks, as `status` does, and marks the one
// that is off: an operator who looks only at the page sees why `conflict:
// newest` needs the hosts on NTP.
TEST_F(ServeClocks, TheHealthPageShowsBothClocksAndMarksTheOneThatIsOff) {
  h_->db.exec("INSERT INTO people (email, name) VALUES ('e@x.io', 'E')");  // serve reads HubSpot's Date
  const auto span = [](const std::string& page, const std::string& field) {
    std::smatch m;
    const std::regex re("data-field=\"" + field + "\" class=\"([a-z]+)\">([^<]*)<");
    return std::regex_search(page, m, re) ? std::pair<std::string, std::string>{m[1], m[2]}
                                          : std::pair<std::string, std::string>{"(none)", page};
  };
  std::string page;
  ASSERT_TRUE(eventually([&] {
    page = http_get(port_, "/").second;
    return span(page, "hubspot_clock").first == "bad" && span(page, "postgres_clock").first == "ok";
  })) << page;
  const auto [hs_class, hs] = span(page, "hubspot_clock");
  const double seconds = std::stod(hs);
  EXPECT_GT(seconds, 598.5) << hs;
  EXPECT_LT(seconds, 601.5) << hs;
  EXPECT_NE(hs.find("from this host&#39;s (± "), std::string::npos) << hs;  // the page's HTML
  EXPECT_NE(hs.find(": off"), std::string::npos) << hs;
  const auto [pg_class, pg_text] = span(page, "postgres_clock");
  EXPECT_LT(std::abs(std::stod(pg_text)), 0.05) << pg_text;
  EXPECT_EQ(pg_text.find("off"), std::string::npos) << pg_text;
  EXPECT_NE(page.find("put the hosts on NTP"), std::string::npos);
}

}  // namespace
}  // namespace hubsync::test
