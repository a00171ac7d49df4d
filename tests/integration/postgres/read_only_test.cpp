// A mapping's filter.postgres is SQL from a file: hubsync evaluates it, and
// plans it in `validate`, read-only, so it can never write.
#include "connectors/postgres/pg_catalog.h"
#include "connectors/postgres/pg_database.h"
#include "tests/integration/postgres/capture_fixture.h"

namespace hubsync::postgres {
namespace {

using ::testing::HasSubstr;

class ReadOnlyFilterTest : public CaptureFixture {
 protected:
  void SetUp() override {
    CaptureFixture::SetUp();
    if (!db_) return;
    db_->exec(
        "CREATE TABLE customers (id bigint PRIMARY KEY, email text, status text);"
        "INSERT INTO customers VALUES (1, 'a@x.com', 'active');"
        "CREATE TABLE written (what text);"
        "CREATE SEQUENCE s;"
        // Volatile: runs when the query runs.
        "CREATE FUNCTION hubsync_evil() RETURNS boolean LANGUAGE plpgsql AS "
        "  $$ BEGIN INSERT INTO written VALUES ('evil'); RETURN true; END $$;"
        // Declared immutable (a lie): the planner folds it, so even EXPLAIN runs it,
        // and a sequence advanced survives a rollback.
        "CREATE FUNCTION hubsync_sneaky() RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS "
        "  $$ BEGIN PERFORM nextval('s'); RETURN true; END $$;");
  }

  static mapping::Mapping filtered(const std::string& filter) {
    return compile("name: customers\npostgres: {table: public.customers, key: id}\n"
                   "hubspot: {object: contacts, match: email}\nfilter:\n  postgres: \"" + filter +
                   "\"\nfields:\n  - {column: email, property: email}\n");
  }
};

TEST_F(ReadOnlyFilterTest, AFilterThatWritesFailsClearlyAndWritesNothing) {
  auto m = filtered("(SELECT hubsync_evil()) OR status <> 'test'");
  PgDatabase pg(db_->dsn(), ops::logger("postgres"));
  auto rows = pg.read_rows(m, {model::RecordKey{{"1"}}});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind, model::ErrorKind::fatal);
  EXPECT_THAT(rows.error().message,
              HasSubstr("mapping customers: reading rows: the mapping's filter.postgres tried to write, "
                        "and hubsync runs it read-only"));
  EXPECT_THAT(rows.error().message, HasSubstr("SQLSTATE 25006"));
  auto scanned = pg.scan_rows(m, {}, 10, [](std::vector<pipeline::Row>&) { return model::Status{}; });
  ASSERT_FALSE(scanned.ok());
  EXPECT_THAT(scanned.error().message, HasSubstr("filter.postgres tried to write"));
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM written"), "0");

  // A filter that only reads works as before.
  auto fine = pg.read_rows(filtered("status <> 'test'"), {model::RecordKey{{"1"}}});
  ASSERT_TRUE(fine.ok()) << fine.error().message;
  EXPECT_TRUE(fine->at("1").in_filter);
}

TEST_F(ReadOnlyFilterTest, CheckingAFilterRunsNothingThatWrites) {
  PgCatalogReader catalog(db_->dsn());
  mapping::TableName table{"public", "customers"};
  auto st = catalog.check_filter(table, "status <> 'test' AND hubsync_sneaky()");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, model::ErrorKind::invalid_record);
  EXPECT_THAT(st.error().message, HasSubstr("it must not write (hubsync runs it read-only)"));
  EXPECT_EQ(db_->scalar("SELECT last_value::text || ' ' || is_called::text FROM s"), "1 false");
  EXPECT_TRUE(catalog.check_filter(table, "status <> 'test'").ok());
}

}  // namespace
}  // namespace hubsync::postgres
