// Writes made under session_replication_role = replica are captured: a table
// this database fills by logical replication from another one (the apply
// worker runs as replica) and loaders that set the role (to skip foreign-key
// checks; AWS DMS). A trigger enabled the default way fires for neither.
#include <pqxx/pqxx>

#include "connectors/postgres/pg_catalog.h"
#include "tests/integration/postgres/capture_fixture.h"

namespace hubsync::postgres {
namespace {

using ::testing::ElementsAre;

using CaptureReplicaTest = CaptureFixture;

TEST_F(CaptureReplicaTest, WritesUnderTheReplicaRoleAreCapturedAndHubsyncsOwnStillAreNot) {
  const auto people = create_people();
  migrate({spec_of(people)});
  db_->exec("SET session_replication_role = replica;"
            "INSERT INTO people VALUES (1, 'a@x.com'), (2, 'b@x.com');"
            "UPDATE people SET email = 'ann@x.com' WHERE id = 1;"
            "UPDATE people SET id = 3 WHERE id = 2;"
            "DELETE FROM people WHERE id = 1;"
            "TRUNCATE people;"
            // hubsync's own write under the same role: the loop guard holds.
            "SET hubsync.origin = 'hubsync'; INSERT INTO people VALUES (9, 'own@x.com');");
  EXPECT_EQ(changes(),
            "people insert {\"id\": \"1\"} -\n"
            "people insert {\"id\": \"2\"} -\n"
            "people update {\"id\": \"1\"} email\n"
            "people delete {\"id\": \"2\"} -\n"
            "people insert {\"id\": \"3\"} -\n"
            "people delete {\"id\": \"1\"} -\n"
            "people truncate {} -");
}

TEST_F(CaptureReplicaTest, ATableFilledByLogicalReplicationFromAnotherDatabaseIsCaptured) {
  const auto people = create_people();
  migrate({spec_of(people)});
  test::TempDatabase source(server_);
  source.exec("CREATE TABLE people (id bigint PRIMARY KEY, email text);"
              "INSERT INTO people VALUES (1, 'a@x.com');"
              "CREATE PUBLICATION pub FOR TABLE people");
  TestSubscription subscription(source, *db_, "pub");

  // The initial copy, then the apply worker's changes.
  EXPECT_EQ(changes_within("people insert {\"id\": \"1\"} -"), "people insert {\"id\": \"1\"} -");
  source.exec("INSERT INTO people VALUES (2, 'b@x.com');"
              "UPDATE people SET email = 'ann@x.com' WHERE id = 1;"
              "DELETE FROM people WHERE id = 2");
  const std::string want =
      "people insert {\"id\": \"1\"} -\n"
      "people insert {\"id\": \"2\"} -\n"
      "people update {\"id\": \"1\"} email\n"
      "people delete {\"id\": \"2\"} -";
  EXPECT_EQ(changes_within(want), want);
  EXPECT_EQ(db_->scalar("SELECT email FROM people WHERE id = 1"), "ann@x.com");
  // What `validate` reads to warn a mapping that pulls into the table.
  auto info = PgCatalogReader(db_->dsn()).describe_table({"public", "people"});
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->subscriptions, std::vector<std::string>{"sub_" + db_->name()});
  EXPECT_EQ(PgCatalogReader(source.dsn()).describe_table({"public", "people"})->subscriptions.size(), 0u);
}

TEST_F(CaptureReplicaTest, ATriggerThatNoLongerFiresForReplicatedWritesIsReported) {
  const auto people = create_people();
  migrate({spec_of(people)});
  EXPECT_EQ(db_->scalar("SELECT string_agg(tgenabled::text, '' ORDER BY tgname) FROM pg_trigger "
                        "WHERE tgrelid = 'people'::regclass"),
            "AAA");
  EXPECT_THAT(check({spec_of(people)}), ElementsAre());
  db_->exec("ALTER TABLE people ENABLE TRIGGER hubsync_capture_people_upd;"
            "ALTER TABLE people ENABLE REPLICA TRIGGER hubsync_capture_people_iud");
  EXPECT_THAT(check({spec_of(people)}),
              ElementsAre("mapping people: trigger hubsync_capture_people_iud on public.people fires only when "
                          "session_replication_role is replica: the application's writes would not be captured: "
                          "run `hubsync migrate`",
                          "mapping people: trigger hubsync_capture_people_upd on public.people fires only when "
                          "session_replication_role is origin: writes made by logical replication would not be "
                          "captured: run `hubsync migrate`"));
  migrate({spec_of(people)});
  EXPECT_THAT(check({spec_of(people)}), ElementsAre());
}

}  // namespace
}  // namespace hubsync::postgres
