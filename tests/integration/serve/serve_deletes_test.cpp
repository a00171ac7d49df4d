// The mass-deletion guard in a running `serve`: a bulk DELETE is held (the
// objects stay in HubSpot while serve runs on), and `hubsync deletes allow`,
// run beside it, lets serve archive them at its next poll. Soft deletes
// under serve, through webhooks: an archive marks the row, a restore of
// the same contact clears the mark, and a contact made in HubSpot with the
// email of a row deleted in Postgres leaves that row deleted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "tests/integration/serve/serve_support.h"

namespace hubsync::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class ServeDeletes : public ServeFixture {
 protected:
  std::string mapping_yaml() const override { return std::string(kServePeople) + "max_deletes: 2\n"; }
  CommandOutput cli(const std::string& args) {
    return run_command("'" HUBSYNC_BIN "' --config '" + config_.string() + "' " + args + " 2>&1");
  }
};

TEST_F(ServeDeletes, ABulkDeleteIsHeldWhileServeRunsOnAndDeletesAllowLetsItThrough) {
  // Held changes are decided again at the poll: one a second here.
  std::string yaml = file_text(config_);
  yaml.replace(yaml.find("poll_s: 3600"), 12, "poll_s: 1");
  std::ofstream(config_) << yaml;
  restart();
  h_->db.exec("INSERT INTO people (email, name) SELECT 'd' || g || '@x.io', 'D' FROM generate_series(1, 5) g");
  ASSERT_TRUE(eventually([&] { return h_->live_by("contacts", "email").size() == 5; }, 20s)) << log_tail(log_);

  h_->db.exec("DELETE FROM people WHERE id > 1");
  ASSERT_TRUE(eventually([&] { return cli("deletes list").out.find("held 4 HubSpot objects") != std::string::npos; },
                         20s))
      << cli("deletes list").out << log_tail(log_);
  // Serve goes on: an edit still reaches HubSpot, the four objects stay.
  h_->db.exec("UPDATE people SET name = 'Still' WHERE id = 1");
  ASSERT_TRUE(eventually([&] { return h_->live_by("contacts", "email").at("d1@x.io").props["firstname"] == "Still"; },
                         20s))
      << log_tail(log_);
  EXPECT_EQ(h_->live_by("contacts", "email").size(), 5u);
  EXPECT_THAT(log_tail(log_, 200), HasSubstr("deletions held mapping=people direction=to_hubspot pending=4"));

  auto allow = cli("deletes allow");
  EXPECT_EQ(allow.code, 0) << allow.out;
  EXPECT_THAT(allow.out, HasSubstr("allowed 4 HubSpot objects to archive"));
  EXPECT_THAT(allow.out, HasSubstr("the running serve makes them"));
  ASSERT_TRUE(eventually([&] { return h_->live_by("contacts", "email").size() == 1; }, 20s)) << log_tail(log_);
  ASSERT_TRUE(eventually([&] { return cli("deletes list").out.find("no deletions held") != std::string::npos; }, 20s))
      << cli("deletes list").out;
}

// The default max_deletes under serve: every contact of a small mapping
// deleted in HubSpot's UI reaches serve as webhooks, and at most half the
// rows go (the limit for 6 linked records is 3). The deletions serve learns
// in one inbox drain are decided together; a drain that takes only some of
// them may make those within the limit, so half or more of the rows stay.
class ServeDeletesByDefault : public ServeFixture {};

TEST_F(ServeDeletesByDefault, EveryContactDeletedInHubSpotLeavesHalfTheRowsOrMore) {
  h_->db.exec("INSERT INTO people (email, name) SELECT 'd' || g || '@x.io', 'D' FROM generate_series(1, 6) g");
  ASSERT_TRUE(eventually([&] { return h_->live_by("contacts", "email").size() == 6; }, 20s)) << log_tail(log_);
  // Linked once the push's batch is committed, which its log line follows.
  ASSERT_TRUE(eventually([&] { return log_tail(log_, 200).find("created=6") != std::string::npos; }, 20s))
      << log_tail(log_);
  for (const auto& [email, c] : h_->live_by("contacts", "email")) h_->sim.ui_delete("contacts", c.id);
  ASSERT_TRUE(eventually([&] { return log_tail(log_, 200).find("deletions held mapping=people direction=to_postgres") !=
                                      std::string::npos; },
                         20s))
      << log_tail(log_);
  std::this_thread::sleep_for(2s);  // more webhook drains and polls: still held
  EXPECT_GE(std::stoi(h_->db.scalar("SELECT count(*) FROM people")), 3) << log_tail(log_);
}

// `deletes: soft` on a boolean NOT NULL DEFAULT false column, emails unique
// among live rows only.
class ServeSoftDeletes : public ServeFixture {
 protected:
  std::string table_sql() const override {
    return "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL, name text,"
           " deleted boolean NOT NULL DEFAULT false);"
           "CREATE UNIQUE INDEX people_live_email ON people (email) WHERE NOT deleted";
  }
  std::string mapping_yaml() const override {
    return std::string(kServePeople) + "deletes: {soft: deleted}\nmax_deletes: off\n";
  }
  std::string rows() {
    return pg("SELECT string_agg(email || ':' || name || ':' || deleted::text, ',' ORDER BY id) FROM people");
  }
};

TEST_F(ServeSoftDeletes, AnArchiveMarksTheRowItsRestoreClearsItAndANamesakeLeavesADeletedRowDeleted) {
  h_->db.exec("INSERT INTO people (email, name, deleted) VALUES ('gone@x.io', 'Gone', true)");
  h_->db.exec("INSERT INTO people (email, name) VALUES ('ann@x.io', 'Ann')");
  ASSERT_TRUE(eventually([&] { return h_->live_by("contacts", "email").count("ann@x.io") == 1; }, 20s))
      << log_tail(log_);
  const auto ann = h_->live_by("contacts", "email").at("ann@x.io").id;

  h_->sim.ui_delete("contacts", ann);
  ASSERT_TRUE(eventually([&] { return rows() == "gone@x.io:Gone:true,ann@x.io:Ann:true"; }, 20s))
      << rows() << log_tail(log_);
  h_->sim.ui_restore("contacts", ann);
  ASSERT_TRUE(eventually([&] { return rows() == "gone@x.io:Gone:true,ann@x.io:Ann:false"; }, 20s))
      << rows() << log_tail(log_);

  // A contact made in HubSpot with the email of a row deleted in Postgres
  // before: left alone, the row stays deleted, and no second row is made.
  const auto named = h_->sim.ui_create("contacts", {{"email", "gone@x.io"}, {"firstname", "Someone"}});
  ASSERT_TRUE(eventually([&] { return log_tail(log_, 400).find("pull left an object alone mapping=people object=" +
                                                              named) != std::string::npos; },
                         20s))
      << log_tail(log_);
  EXPECT_EQ(rows(), "gone@x.io:Gone:true,ann@x.io:Ann:false");
  EXPECT_EQ(h_->live_by("contacts", "email").at("gone@x.io").props["firstname"], "Someone");
  // Ann still syncs both ways with her row.
  h_->db.exec("UPDATE people SET name = 'Anna' WHERE email = 'ann@x.io'");
  EXPECT_TRUE(eventually([&] { return h_->live_by("contacts", "email").at("ann@x.io").props["firstname"] == "Anna"; },
                         20s))
      << log_tail(log_);
}

}  // namespace
}  // namespace hubsync::test
