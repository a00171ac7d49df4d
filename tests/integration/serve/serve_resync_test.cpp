// `hubsync resync` beside a running serve: rows written where the capture
// did not see them (as hubsync's own writes are, here) reach HubSpot at
// serve's next push after the operator asks, and a row deleted so is
// archived; until then serve's polls pass them by.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "tests/integration/serve/serve_support.h"

namespace hubsync::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class ServeResync : public ServeFixture {
 protected:
  CommandOutput cli(const std::string& args) {
    return run_command("'" HUBSYNC_BIN "' --config '" + config_.string() + "' " + args + " 2>&1");
  }
};

TEST_F(ServeResync, RowsTheCaptureNeverSawReachHubSpotAtTheNextPushAfterAResync) {
  std::string yaml = file_text(config_);
  yaml.replace(yaml.find("poll_s: 3600"), 12, "poll_s: 1");  // a push every second, changes or not
  std::ofstream(config_) << yaml;
  restart();
  h_->db.exec("INSERT INTO people (email, name) VALUES ('a@x.io', 'Ann'), ('b@x.io', 'Bob')");
  ASSERT_TRUE(eventually([&] { return h_->live_by("contacts", "email").size() == 2; }, 20s)) << log_tail(log_);

  h_->db.exec("BEGIN; SET LOCAL hubsync.origin = 'hubsync';"
              "INSERT INTO people (email, name) VALUES ('c@x.io', 'Cy'); DELETE FROM people WHERE email = 'b@x.io';"
              "COMMIT");
  std::this_thread::sleep_for(3s);  // three polls
  EXPECT_EQ(h_->live_by("contacts", "email").count("c@x.io"), 0u);
  EXPECT_EQ(h_->live_by("contacts", "email").count("b@x.io"), 1u);

  auto asked = cli("resync --mapping people --direction to_hubspot");
  ASSERT_EQ(asked.code, 0) << asked.out;
  EXPECT_THAT(asked.out, HasSubstr("the running serve starts it at its next push"));
  ASSERT_TRUE(eventually(
      [&] {
        auto live = h_->live_by("contacts", "email");
        return live.count("c@x.io") == 1 && live.count("b@x.io") == 0;
      },
      20s))
      << log_tail(log_);
  EXPECT_EQ(h_->live_by("contacts", "email").at("c@x.io").props["firstname"], "Cy");
  EXPECT_THAT(log_tail(log_, 400),
              HasSubstr("resync mapping=people direction=to_hubspot overwrite=false: the initial load starts "
                        "again; linked rows gone=1"));
}

}  // namespace
}  // namespace hubsync::test
