// The pull's crash window: Postgres committed HubSpot's value, the process
// died before the state store's commit, so the base lacks it. Without the
// Postgres intent, the next push takes that value for a Postgres change and
// sends it over a newer HubSpot edit (a person's edit lost). The state of
// the crash is made exactly: the intent recorded, the row written as hubsync
// writes (not captured), the base left behind.
#include <gtest/gtest.h>

#include "tests/integration/push/push_harness.h"
#include "tests/support/people.h"

namespace hubsync::test {
namespace {


class PullIntent : public ::testing::Test {
 protected:
  void SetUp() override {
    HUBSYNC_REQUIRE_PG(server);
    h_ = quick_harness(server, people_table_sql("bigserial"), {kPeopleMapping});
    h_->migrate();
    h_->db.exec("INSERT INTO people (email, first_name, city) VALUES ('ann@x.io', 'Ann', 'Oslo')");
    push_ok(*h_, "people");
    id_ = h_->live_by("contacts", "email").at("ann@x.io").id;
  }

  // A pull of `value` that died after Postgres's commit (written: true) or
  // before it (false): the intent is on disk, the base still says 'Ann'.
  void interrupted_pull(const std::string& value, bool written) {
    auto link = h_->store->find_link_by_hubspot_id("people", id_);
    ASSERT_TRUE(link.ok() && *link);
    state::PostgresIntent in{(*link)->pg_key, {{"first_name", value}}};
    ASSERT_TRUE(h_->store->record_postgres_intents("people", {in}).ok());
    if (written)
      h_->db.exec("BEGIN; SET LOCAL hubsync.origin = 'hubsync'; UPDATE people SET first_name = '" + value +
                  "' WHERE email = 'ann@x.io'; COMMIT");
  }

  std::string firstname() { return h_->live_by("contacts", "email").at("ann@x.io").props["firstname"]; }

  std::unique_ptr<PushHarness> h_;
  std::string id_;
};

TEST_F(PullIntent, AValuePostgresHoldsBecomesTheBaseSoANewerHubSpotEditIsNeverOverwritten) {
  h_->sim.ui_edit("contacts", id_, {{"firstname", "V1"}});
  interrupted_pull("V1", /*written=*/true);
  // A person edits it again in HubSpot; Postgres changes another column.
  h_->sim.ui_edit("contacts", id_, {{"firstname", "V2"}});
  h_->db.exec("UPDATE people SET city = 'Rome' WHERE email = 'ann@x.io'");
  push_ok(*h_, "people");
  EXPECT_EQ(firstname(), "V2") << "the pulled V1 was not taken for a Postgres change";
  EXPECT_EQ(h_->live_by("contacts", "email").at("ann@x.io").props["city"], "Rome");
  EXPECT_TRUE(h_->store->list_postgres_intents("people")->empty()) << "settled";
  // And the pull brings V2 to Postgres.
  pull_ok(*h_, "people");
  EXPECT_EQ(h_->db.scalar("SELECT first_name FROM people WHERE email = 'ann@x.io'"), "V2");
  EXPECT_EQ(firstname(), "V2");
}

TEST_F(PullIntent, AWriteThatNeverCommittedLeavesTheBaseAndTheRowAsTheyWere) {
  h_->sim.ui_edit("contacts", id_, {{"firstname", "V1"}});
  interrupted_pull("V1", /*written=*/false);
  h_->db.exec("UPDATE people SET city = 'Rome' WHERE email = 'ann@x.io'");
  push_ok(*h_, "people");
  EXPECT_TRUE(h_->store->list_postgres_intents("people")->empty());
  EXPECT_EQ(firstname(), "V1") << "Postgres still says Ann, its base: nothing to send";
  pull_ok(*h_, "people");
  EXPECT_EQ(h_->db.scalar("SELECT first_name FROM people WHERE email = 'ann@x.io'"), "V1");
}

TEST_F(PullIntent, APersonsPostgresEditAfterTheInterruptedWriteStillGoesOut) {
  h_->sim.ui_edit("contacts", id_, {{"firstname", "V1"}});
  interrupted_pull("V1", /*written=*/true);
  h_->db.exec("UPDATE people SET first_name = 'Mine' WHERE email = 'ann@x.io'");
  push_ok(*h_, "people");
  EXPECT_EQ(firstname(), "Mine");
}

}  // namespace
}  // namespace hubsync::test
