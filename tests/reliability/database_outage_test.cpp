// The database goes away in the middle of a push: the pass stops with a
// clear, retryable error naming what failed, and a later pass after the
// database is back converges with nothing lost and nothing duplicated.
// Uses a cluster of its own (tests/pg/throwaway-pg.sh), since it kills it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSql =
    "CREATE TABLE public.people (id bigint PRIMARY KEY, email text NOT NULL, city text)";
constexpr const char* kMapping = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: to_hubspot
fields:
  - {column: email, property: email}
  - {column: city, property: city}
)";

class OwnCluster {
 public:
  OwnCluster() {
    std::random_device rd;
    state_ = fs::temp_directory_path() / ("hubsync-outage-" + std::to_string(rd()));
    ok_ = script("start") == 0;
  }
  ~OwnCluster() { script("stop"); }
  bool ok() const { return ok_; }
  int script(const std::string& cmd) const {
    return std::system(("bash '" + source_dir() + "/tests/pg/throwaway-pg.sh' " + cmd + " '" +
                        state_.string() + "' >/dev/null 2>&1")
                           .c_str());
  }
  std::string dsn() const {
    std::ifstream in(state_ / "dsn");
    std::string d;
    std::getline(in, d);
    return d;
  }

 private:
  fs::path state_;
  bool ok_ = false;
};

TEST(DatabaseOutage, PushStopsWithATransientErrorAndConvergesAfterRecovery) {
  HUBSYNC_REQUIRE_PG(unused);  // the same fail-not-skip rule for CI
  OwnCluster cluster;
  ASSERT_TRUE(cluster.ok()) << "could not start a cluster of its own";
  sim::SimulatorOptions so;
  so.rate_limits = false;
  so.latency_min_ms = 20;  // slow enough that the kill lands mid-load
  so.latency_max_ms = 40;
  PushHarness h(cluster.dsn(), kSql, {kMapping}, so);
  h.db.exec("INSERT INTO people SELECT g, 'q' || g || '@example.com', 'C' || g "
            "FROM generate_series(1, 30000) g");
  h.migrate();

  pipeline::PushOptions options;
  options.wave = 500;
  auto pass = std::async(std::launch::async, [&] { return h.push("people", options); });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_EQ(cluster.script("crash"), 0);
  auto failed = pass.get();
  ASSERT_FALSE(failed.ok()) << "the pass finished before the database went away";
  EXPECT_EQ(failed.error().kind, model::ErrorKind::transient) << failed.error().message;
  EXPECT_THAT(failed.error().message, ::testing::HasSubstr("mapping people"));
  const std::size_t landed_before = h.live_by("contacts", "email").size();
  EXPECT_GT(landed_before, 0u);
  EXPECT_LT(landed_before, 30000u);

  // While it is down, a pass fails fast the same way.
  auto down = h.push("people", options);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().kind, model::ErrorKind::transient);

  ASSERT_EQ(cluster.script("resume"), 0);
  auto recovered = h.push("people", options);
  ASSERT_TRUE(recovered.ok()) << recovered.error().message;
  auto live = h.live_by("contacts", "email");  // throws on a duplicate
  EXPECT_EQ(live.size(), 30000u);
  EXPECT_EQ(h.dump("contacts").size(), 30000u);
  EXPECT_EQ(live.at("q29999@example.com").props.at("city"), "C29999");
}

}  // namespace
}  // namespace hubsync::test
