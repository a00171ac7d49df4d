#include "engine/ops/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/prom_text.h"

namespace hubsync::ops {
namespace {

using ::testing::HasSubstr;

TEST(Metrics, RendersCountersGaugesAndHistogramsInTextFormat) {
  Registry reg;
  auto& req = reg.counter("hubsync_test_requests_total", "Requests by outcome.", {"outcome"});
  req.with({"accepted"}).inc(3);
  req.with({"bad_signature"}).inc();
  reg.gauge("hubsync_test_connections_open", "Open connections.").get().set(2);
  auto& h = reg.histogram("hubsync_test_latency_seconds", "Latency.", {0.01, 0.1, 1});
  h.get().observe(0.0078125);  // binary fractions: the sum prints exactly
  h.get().observe(0.0625);
  h.get().observe(0.0625);
  h.get().observe(7);

  const std::string text = reg.render();
  EXPECT_EQ(text,
            "# HELP hubsync_test_connections_open Open connections.\n"
            "# TYPE hubsync_test_connections_open gauge\n"
            "hubsync_test_connections_open 2\n"
            "# HELP hubsync_test_latency_seconds Latency.\n"
            "# TYPE hubsync_test_latency_seconds histogram\n"
            "hubsync_test_latency_seconds_bucket{le=\"0.01\"} 1\n"
            "hubsync_test_latency_seconds_bucket{le=\"0.1\"} 3\n"
            "hubsync_test_latency_seconds_bucket{le=\"1\"} 3\n"
            "hubsync_test_latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "hubsync_test_latency_seconds_sum 7.1328125\n"
            "hubsync_test_latency_seconds_count 4\n"
            "# HELP hubsync_test_requests_total Requests by outcome.\n"
            "# TYPE hubsync_test_requests_total counter\n"
            "hubsync_test_requests_total{outcome=\"accepted\"} 3\n"
            "hubsync_test_requests_total{outcome=\"bad_signature\"} 1\n");
  auto parsed = test::parse_prometheus_text(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.value("hubsync_test_requests_total", {{"outcome", "accepted"}}), 3);
  EXPECT_EQ(parsed.value("hubsync_test_latency_seconds_bucket", {{"le", "+Inf"}}), 4);
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  Registry reg;
  reg.counter("hubsync_test_odd_total", "Help with \\ and\nnewline.", {"v"})
      .with({"a\"quote\\back\nline"})
      .inc();
  const std::string text = reg.render();
  EXPECT_THAT(text, HasSubstr("# HELP hubsync_test_odd_total Help with \\\\ and\\nnewline.\n"));
  EXPECT_THAT(text, HasSubstr("hubsync_test_odd_total{v=\"a\\\"quote\\\\back\\nline\"} 1\n"));
  auto parsed = test::parse_prometheus_text(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.value("hubsync_test_odd_total", {{"v", "a\"quote\\back\nline"}}), 1);
}

TEST(Metrics, RegistrationIsIdempotentAndRejectsBadShapes) {
  Registry reg;
  auto& a = reg.counter("hubsync_x_total", "x", {"l"});
  auto& b = reg.counter("hubsync_x_total", "x", {"l"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.with({"1"}), &b.with({"1"}));
  EXPECT_THROW(reg.counter("hubsync_x_total", "x", {"other"}), std::invalid_argument);
  EXPECT_THROW(reg.gauge("hubsync_x_total", "x", {"l"}), std::invalid_argument);
  EXPECT_THROW(reg.counter("hubsync_no_suffix", "x"), std::invalid_argument);
  EXPECT_THROW(reg.counter("1bad_total", "x"), std::invalid_argument);
  EXPECT_THROW(reg.gauge("hubsync-dash", "x"), std::invalid_argument);
  EXPECT_THROW(reg.gauge("hubsync_g", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("hubsync_h", "x", {1, 0.5}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("hubsync_h2", "x", {1}, {"le"}), std::invalid_argument);
  EXPECT_THROW(a.with({"1", "2"}), std::invalid_argument);
}

TEST(Metrics, FamiliesWithoutChildrenRenderOnlyTheirHeader) {
  Registry reg;
  reg.counter("hubsync_empty_total", "Nothing yet.", {"k"});
  auto parsed = test::parse_prometheus_text(reg.render());
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_TRUE(parsed.families.at("hubsync_empty_total").samples.empty());
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  Registry reg;
  auto& c = reg.counter("hubsync_c_total", "c").get();
  auto& g = reg.gauge("hubsync_g", "g").get();
  auto& h = reg.histogram("hubsync_h_seconds", "h", {0.5}).get();
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        c.inc();
        g.inc();
        h.observe(i % 2 == 0 ? 0.25 : 1.0);
      }
    });
  }
  // Scrapes while writers run must always parse.
  for (int i = 0; i < 50; ++i) {
    auto parsed = test::parse_prometheus_text(reg.render());
    ASSERT_TRUE(parsed.ok()) << parsed.error;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_EQ(g.value(), kThreads * kEach);
  auto s = h.snapshot();
  EXPECT_EQ(s.count, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_EQ(s.cumulative[0], static_cast<std::uint64_t>(kThreads * kEach / 2));
}

TEST(PromTextParser, RejectsWhatPrometheusWouldReject) {
  const char* bad[] = {
      "x 1\n",                                                  // no TYPE
      "# TYPE x counter\nx{a=\"b} 1\n",                         // unterminated
      "# TYPE x counter\nx{a=\"\\t\"} 1\n",                     // bad escape
      "# TYPE x counter\nx{1a=\"b\"} 1\n",                      // bad label name
      "# TYPE x counter\nx one\n",                              // bad value
      "# TYPE x counter\nx 1\n# TYPE y gauge\ny 1\nx 2\n",      // not one group
      "# TYPE x counter\nx 1\nx 2\n",                           // repeated
      "# TYPE x counter\n\nx 1\n",                              // empty line
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
      "# TYPE x counter\nx 1",                                  // no final newline
  };
  for (const char* t : bad) EXPECT_FALSE(test::parse_prometheus_text(t).ok()) << t;
  EXPECT_TRUE(test::parse_prometheus_text("# a comment\n# TYPE x counter\nx{a=\"b\",} 1 123\n").ok());
}

}  // namespace
}  // namespace hubsync::ops
