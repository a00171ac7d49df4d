// apply_rows with RowWrite::push against a real PostgreSQL: a written row
// and its changelog row commit together or not at all (what keeps a
// workflow action's write from landing without ever being pushed).
#include "connectors/postgres/pg_database.h"
#include "tests/integration/postgres/capture_fixture.h"

namespace hubsync::postgres {
namespace {

class ApplyPush : public CaptureFixture {
 protected:
  void SetUp() override {
    CaptureFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    people_ = create_people();
    migrate({spec_of(people_)});
    db_->exec("INSERT INTO people VALUES (1, 'a@x.io'), (2, 'b@x.io')");
    db_->exec("DELETE FROM hubsync.changelog");
  }
  static pipeline::RowWrite write(const char* id, const char* email, bool push) {
    pipeline::RowWrite w;
    w.key = model::RecordKey{{id}};
    w.values["email"] = model::Value::text(email);
    w.push = push;
    return w;
  }
  mapping::Mapping people_;
};

TEST_F(ApplyPush, OnlyTheWritesAskedToPushAreQueued) {
  PgDatabase pg(db_->dsn(), ops::logger("postgres"));
  auto r = pg.apply_rows(people_, {write("1", "a2@x.io", true), write("2", "b2@x.io", false)});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(db_->scalar("SELECT string_agg(email, ',' ORDER BY id) FROM people"), "a2@x.io,b2@x.io");
  EXPECT_EQ(changes(), R"(people update {"id": "1"} -)") << "row 2 is hubsync's own write: nothing captured, nothing queued";
}

TEST_F(ApplyPush, ARowWhoseQueueingFailsIsNotWrittenEither) {
  db_->exec("CREATE FUNCTION refuse_changelog() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'changelog refused'; END $$");
  db_->exec("CREATE TRIGGER refuse BEFORE INSERT ON hubsync.changelog FOR EACH ROW "
            "EXECUTE FUNCTION refuse_changelog()");
  PgDatabase pg(db_->dsn(), ops::logger("postgres"));
  auto failed = pg.apply_rows(people_, {write("1", "a2@x.io", true)});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(db_->scalar("SELECT email FROM people WHERE id = 1"), "a@x.io");
  // Without push nothing touches the changelog: the write lands.
  auto plain = pg.apply_rows(people_, {write("2", "b2@x.io", false)});
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(db_->scalar("SELECT email FROM people WHERE id = 2"), "b2@x.io");
  db_->exec("DROP TRIGGER refuse ON hubsync.changelog");
  ASSERT_TRUE(pg.apply_rows(people_, {write("1", "a2@x.io", true)}).ok());
  EXPECT_EQ(db_->scalar("SELECT email FROM people WHERE id = 1"), "a2@x.io");
  EXPECT_EQ(changes(), R"(people update {"id": "1"} -)");
}

}  // namespace
}  // namespace hubsync::postgres
