// Upgrading a database captured by hubsync's first, generic trigger, and
// Migrator::check, which `hubsync run` uses to refuse to push while the
// installed capture is not what the mappings need; the database's id, made
// by the upgrade's migrate.
#include <pqxx/pqxx>

#include "connectors/postgres/migrations.h"
#include "connectors/postgres/pg_database.h"
#include "tests/integration/postgres/capture_fixture.h"

namespace hubsync::postgres {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class CaptureUpgradeTest : public CaptureFixture {
 protected:
  void SetUp() override {
    CaptureFixture::SetUp();
    if (!db_) return;
    db_->exec("CREATE TABLE public.customers (id bigint PRIMARY KEY, email text, name text, status text)");
  }

  // What hubsync installed before capture v2: migration 0001 and its generic
  // trigger, as the migrator of that version wrote them.
  void install_version_one() {
    const auto& first = migrations::embedded_migrations().at(0);
    ASSERT_EQ(first.version, 1);
    db_->exec(
        "CREATE SCHEMA hubsync;"
        "CREATE TABLE hubsync.schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
        "  applied_at timestamptz NOT NULL DEFAULT now());");
    db_->exec(first.sql);
    db_->exec(
        "INSERT INTO hubsync.schema_migrations (version, name) VALUES (1, 'changelog');"
        "CREATE TRIGGER hubsync_capture_customers AFTER INSERT OR UPDATE OR DELETE ON public.customers"
        "  FOR EACH ROW EXECUTE FUNCTION hubsync.capture('customers', '{\"id\"}', '{\"email\",\"name\"}');"
        "INSERT INTO hubsync.captures (mapping, table_schema, table_name, key_columns, watched_columns,"
        "  trigger_name) VALUES ('customers', 'public', 'customers', '{id}', '{email,name}',"
        "  'hubsync_capture_customers')");
  }

  CaptureSpec customers{"customers", "public", "customers", {"id"}, {"email", "id", "name"}};
};

TEST_F(CaptureUpgradeTest, MigrateReplacesTheGenericTriggerAndKeepsTheChangelog) {
  install_version_one();
  db_->exec("INSERT INTO customers VALUES (1, 'a@x.com', 'A', 'new')");
  db_->exec("UPDATE customers SET name = 'Ann'");
  const std::string before = changes();
  ASSERT_EQ(before, "customers insert {\"id\": \"1\"} -\ncustomers update {\"id\": \"1\"} name");
  EXPECT_THAT(check({customers}),
              ElementsAre(HasSubstr("lacks migration(s) 0002_capture_per_mapping, 0003_leases, 0004_capture_notify, 0005_capture_logical, 0006_database_id, 0007_changelog_moved_to (needed by mapping(s) "
                                    "customers): run `hubsync migrate`")));

  auto report = migrate({customers});
  EXPECT_THAT(report.applied_migrations, ElementsAre("0002_capture_per_mapping", "0003_leases", "0004_capture_notify",
                                                     "0005_capture_logical", "0006_database_id",
                                     "0007_changelog_moved_to"));
  // An upgraded database gets its id, beside the settings it had.
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM hubsync.settings WHERE key = 'database_id'"), "1");
  EXPECT_THAT(report.installed_triggers, ElementsAre("customers on public.customers"));
  EXPECT_EQ(changes(), before);
  EXPECT_EQ(db_->scalar("SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger "
                        "WHERE tgrelid = 'customers'::regclass"),
            "hubsync_capture_customers_iud,hubsync_capture_customers_trunc,hubsync_capture_customers_upd");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM pg_proc WHERE proname = 'capture'"), "0");
  EXPECT_THAT(check({customers}), ElementsAre());

  db_->exec("UPDATE customers SET email = 'ann@x.com'");
  db_->exec("TRUNCATE customers");
  EXPECT_EQ(changes(), before + "\ncustomers update {\"id\": \"1\"} email\ncustomers truncate {} -");
  EXPECT_FALSE(migrate({customers}).changed());
}

TEST_F(CaptureUpgradeTest, TheGenericFunctionStaysWhileATriggerStillUsesIt) {
  install_version_one();
  db_->exec("CREATE TABLE other (id int PRIMARY KEY);"
            "CREATE TRIGGER by_hand AFTER INSERT ON other FOR EACH ROW "
            "EXECUTE FUNCTION hubsync.capture('other', '{id}')");
  migrate({customers});
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM pg_proc WHERE proname = 'capture'"), "1");
}

TEST_F(CaptureUpgradeTest, CheckNamesEachProblemAndTheFix) {
  EXPECT_THAT(check({customers}),
              ElementsAre("hubsync is not installed in this database (needed by mapping(s) customers): "
                          "run `hubsync migrate`"));
  migrate({});
  EXPECT_THAT(check({customers}),
              ElementsAre("mapping customers: no change capture is installed on public.customers: "
                          "run `hubsync migrate`"));
  migrate({customers});
  EXPECT_THAT(check({customers}), ElementsAre());

  auto gained = customers;  // the mapping gained a field
  gained.watched_columns.push_back("status");
  EXPECT_THAT(check({gained}),
              ElementsAre("mapping customers: the capture watches other columns than the mapping reads "
                          "(newly watched: status; no longer watched: none): run `hubsync migrate`"));
  auto filtered = customers;
  filtered.watch_all = true;
  EXPECT_THAT(check({filtered}),
              ElementsAre("mapping customers: its filter.postgres was added: the capture must watch every "
                          "column: run `hubsync migrate`"));

  db_->exec("ALTER TABLE customers DISABLE TRIGGER hubsync_capture_customers_iud;"
            "DROP TRIGGER hubsync_capture_customers_upd ON customers");
  EXPECT_THAT(check({customers}),
              ElementsAre("mapping customers: trigger hubsync_capture_customers_iud on public.customers is "
                          "disabled: run `hubsync migrate`",
                          "mapping customers: trigger hubsync_capture_customers_upd on public.customers is "
                          "missing: run `hubsync migrate`"));
  db_->exec("ALTER TABLE customers ALTER id TYPE numeric");  // the key's type, now the trigger is gone
  EXPECT_THAT(check({customers}),
              ::testing::Contains("mapping customers: the type of its key changed: the capture was made for "
                                  "(int8), the table now has (numeric): run `hubsync migrate`"));
  migrate({customers});
  EXPECT_THAT(check({customers}), ElementsAre());
  EXPECT_THAT(check({gained}), ::testing::SizeIs(1));
}

TEST_F(CaptureUpgradeTest, CheckOfAFilteredMappingSeesNewColumns) {
  auto filtered = customers;
  filtered.watch_all = true;
  migrate({filtered});
  EXPECT_THAT(check({filtered}), ElementsAre());
  db_->exec("ALTER TABLE customers ADD COLUMN region text");
  EXPECT_THAT(check({filtered}),
              ElementsAre("mapping customers: the table's columns changed since the capture was installed "
                          "(newly watched: region; no longer watched: none): run `hubsync migrate`"));
  migrate({filtered});
  db_->exec("INSERT INTO customers (id, region) VALUES (1, 'eu')");
  db_->exec("UPDATE customers SET region = 'us'");
  EXPECT_EQ(changes(), "customers insert {\"id\": \"1\"} -\ncustomers update {\"id\": \"1\"} region");
}

TEST_F(CaptureUpgradeTest, TheDatabaseIdIsThereOnceMigrateHasRun) {
  PgDatabase pg(db_->dsn(), ops::logger("postgres"));
  auto none = pg.identity();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, model::ErrorKind::fatal);
  EXPECT_EQ(none.error().message,
            "this database has no hubsync database id (hubsync is not installed in it): run `hubsync migrate`");
  install_version_one();
  auto old = pg.identity();
  ASSERT_FALSE(old.ok());
  EXPECT_THAT(old.error().message, HasSubstr("(its hubsync schema predates it): run `hubsync migrate`"));
  migrate({customers});
  auto id = pg.identity();
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(id->id, db_->scalar("SELECT value FROM hubsync.settings WHERE key = 'database_id'"));
  EXPECT_EQ(id->id.size(), 36u);
  EXPECT_EQ(id->mark, 0);  // never marked
  // A mark moves the counter and is the mark; a captured change moves only the counter.
  auto marked = pg.advance_position();
  ASSERT_TRUE(marked.ok()) << marked.error().message;
  EXPECT_GT(*marked, id->position);
  db_->exec("INSERT INTO customers (id, email) VALUES (7, 'g@x.com')");
  auto after = pg.identity();
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->mark, *marked);
  EXPECT_GT(after->position, *marked);
}

TEST_F(CaptureUpgradeTest, CheckWithoutCapturesNeedsNoDatabase) {
  Migrator m("postgresql://nobody@127.0.0.1:1/nothing", ops::logger("postgres"));
  auto r = m.check({});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  auto down = m.check({customers});
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().kind, model::ErrorKind::transient);
}

}  // namespace
}  // namespace hubsync::postgres
