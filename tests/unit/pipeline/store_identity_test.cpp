// pipeline::check_store_identity over a real SQLite state store: a store's
// links were made with one database (and portal); another one is refused
// while links exist, and nothing is recorded then.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/pipeline/fingerprint.h"
#include "tests/unit/state/state_test_util.h"

namespace hubsync::pipeline {
namespace {

using ::testing::HasSubstr;

class StoreIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = state::SqliteStateStore::open(state::testing::options_for(dir_.file("state.db"), nullptr));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  model::Status check(const std::string& database, const std::string& portal = "") {
    return check_store_identity({database, portal, dir_.file("state.db")}, *store_);
  }
  std::string recorded(const char* cursor) {
    auto c = store_->get_checkpoint("", cursor);
    EXPECT_TRUE(c.ok());
    return c.ok() && *c ? (*c)->value : "(none)";
  }
  void link(const std::string& mapping, const std::string& key) {
    ASSERT_TRUE(store_->upsert_link(mapping, key, "hs-" + mapping + key).ok());
  }

  state::testing::TempDir dir_;
  std::unique_ptr<state::SqliteStateStore> store_;
};

TEST_F(StoreIdentityTest, AFirstRunRecordsTheDatabaseAndTheSameOnePasses) {
  EXPECT_TRUE(check("db-a").ok());
  EXPECT_EQ(recorded("fingerprint database"), "db-a");
  EXPECT_EQ(recorded("fingerprint portal"), "(none)");  // not configured: not recorded
  link("people", "1");
  EXPECT_TRUE(check("db-a").ok());
}

TEST_F(StoreIdentityTest, AnotherDatabaseWithLinksIsFatalNamingBothAndRecordsNothing) {
  ASSERT_TRUE(check("db-a").ok());
  link("people", "1");
  link("people", "2");
  link("accounts", "9");
  auto st = check("db-b", "62515");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, model::ErrorKind::fatal);
  EXPECT_THAT(st.error().message, HasSubstr("the state store " + dir_.file("state.db") + " holds 3 links "
                                            "(accounts: 1, people: 2) made with database db-a, and this "
                                            "database is db-b"));
  EXPECT_THAT(st.error().message, HasSubstr("Use the state file made with this database (state.path), or a new "
                                            "state file to link its records again by match value"));
  EXPECT_EQ(recorded("fingerprint database"), "db-a");
  EXPECT_EQ(recorded("fingerprint portal"), "(none)");
}

TEST_F(StoreIdentityTest, WithoutLinksAnotherDatabaseIsRecorded) {
  ASSERT_TRUE(check("db-a").ok());
  EXPECT_TRUE(check("db-b").ok());
  EXPECT_EQ(recorded("fingerprint database"), "db-b");
}

TEST_F(StoreIdentityTest, AStoreFromBeforeIdentitiesRecordsWhatItMeets) {
  link("people", "1");
  EXPECT_TRUE(check("db-a", "62515").ok());
  EXPECT_EQ(recorded("fingerprint database"), "db-a");
  EXPECT_EQ(recorded("fingerprint portal"), "62515");
}

TEST_F(StoreIdentityTest, AnotherPortalWithLinksIsFatalAndAnUnsetOneIsNotChecked) {
  ASSERT_TRUE(check("db-a", "62515").ok());
  link("people", "1");
  auto st = check("db-a", "70001");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, model::ErrorKind::fatal);
  EXPECT_THAT(st.error().message,
              HasSubstr("made with HubSpot portal 62515, and hubspot.portal_id is 70001: the links name objects by id"));
  EXPECT_TRUE(check("db-a").ok());  // portal_id unset: nothing to compare
  EXPECT_EQ(recorded("fingerprint portal"), "62515");
  EXPECT_TRUE(check("db-a", "62515").ok());
}

// The mark run and serve record after their writes (mark_database): a
// database holding a lower one went back, whatever its counter says.
TEST_F(StoreIdentityTest, AMarkBelowTheRecordedOneWithLinksIsFatalWhateverTheCounterSays) {
  StoreIdentity now{"db-a", "", dir_.file("state.db")};
  now.change_position = 100;
  now.mark = 40;
  ASSERT_TRUE(check_store_identity(now, *store_).ok());
  ASSERT_TRUE(store_->set_checkpoint("", "fingerprint mark", "41").ok());
  EXPECT_TRUE(check_store_identity(now, *store_).ok()) << "no links: nothing to protect";
  link("people", "1");
  now.change_position = 500;  // the application's writes since the restore
  auto st = check_store_identity(now, *store_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, model::ErrorKind::fatal);
  EXPECT_EQ(st.error().category, kIdentityCategory);
  EXPECT_THAT(st.error().message, HasSubstr("this database went back: the last mark it holds is 40, and the state "
                                            "store " + dir_.file("state.db") + " (1 links (people: 1)) marked it "
                                            "at 41. It was restored from an older backup"));
  EXPECT_EQ(recorded("fingerprint change position"), "100") << "a refused check records nothing";
  now.mark = 41;
  EXPECT_TRUE(check_store_identity(now, *store_).ok());
  now.mark = -1;  // unknown: not checked
  now.change_position = 600;
  EXPECT_TRUE(check_store_identity(now, *store_).ok());
}

TEST_F(StoreIdentityTest, TheRecordsAreFingerprintCheckpoints) {
  EXPECT_TRUE(is_fingerprint_checkpoint("fingerprint database"));
  EXPECT_TRUE(is_fingerprint_checkpoint("fingerprint portal"));
}

}  // namespace
}  // namespace hubsync::pipeline
