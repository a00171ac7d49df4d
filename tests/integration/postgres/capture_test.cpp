// The change capture `hubsync migrate` installs: what it records for each
// kind of write, and how migrate installs, replaces and removes it.
#include <thread>

#include <pqxx/pqxx>

#include "connectors/postgres/migrations.h"
#include "tests/integration/postgres/capture_fixture.h"

namespace hubsync::postgres {
namespace {

using ::testing::HasSubstr;

class CaptureTest : public CaptureFixture {
 protected:
  void SetUp() override {
    CaptureFixture::SetUp();
    if (!db_) return;
    db_->exec(
        "CREATE TABLE public.customers (id bigint PRIMARY KEY, email text, name text, notes text,"
        " status text);"
        "CREATE SCHEMA \"Sales\";"
        "CREATE TABLE \"Sales\".\"Order Items\" (\"Order Id\" int, line int, qty int,"
        " PRIMARY KEY (\"Order Id\", line));");
  }

  CaptureSpec customers{"customers", "public", "customers", {"id"}, {"email", "name"}};
};

TEST_F(CaptureTest, InsertUpdateDeleteAreCapturedWithKeysAndChangedColumns) {
  auto report = migrate({customers});
  EXPECT_THAT(report.applied_migrations,
              ::testing::ElementsAre("0001_changelog", "0002_capture_per_mapping", "0003_leases",
                                     "0004_capture_notify", "0005_capture_logical", "0006_database_id",
                                     "0007_changelog_moved_to"));
  EXPECT_EQ(report.installed_triggers.size(), 1u);

  db_->exec("INSERT INTO customers VALUES (1, 'a@x.com', 'Ann', 'n')");
  db_->exec("UPDATE customers SET name = 'Anna', email = 'anna@x.com' WHERE id = 1");
  db_->exec("UPDATE customers SET notes = 'not watched' WHERE id = 1");
  db_->exec("UPDATE customers SET name = name WHERE id = 1");
  db_->exec("DELETE FROM customers WHERE id = 1");
  EXPECT_EQ(changes(),
            "customers insert {\"id\": \"1\"} -\n"
            "customers update {\"id\": \"1\"} email,name\n"
            "customers delete {\"id\": \"1\"} -");
  EXPECT_NE(db_->scalar("SELECT min(txid) FROM hubsync.changelog"), "NULL");
}

TEST_F(CaptureTest, HubsyncOriginWritesAreNotCaptured) {
  migrate({customers});
  db_->exec(
      "BEGIN; SET LOCAL hubsync.origin = 'hubsync';"
      "INSERT INTO customers VALUES (2, 'b@x.com', 'Bo', NULL);"
      "UPDATE customers SET name = 'Bob' WHERE id = 2;"
      "DELETE FROM customers WHERE id = 2; COMMIT;");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM hubsync.changelog"), "0");
  // SET LOCAL ends with its transaction: the next write is captured again.
  db_->exec("INSERT INTO customers VALUES (3, 'c@x.com', 'Cy', NULL)");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM hubsync.changelog"), "1");
}

TEST_F(CaptureTest, KeyChangeIsDeleteOfOldKeyPlusInsertOfNew) {
  migrate({customers});
  db_->exec("INSERT INTO customers VALUES (5, 'e@x.com', 'E', NULL)");
  db_->exec("UPDATE customers SET id = 6 WHERE id = 5");
  EXPECT_EQ(changes(),
            "customers insert {\"id\": \"5\"} -\n"
            "customers delete {\"id\": \"5\"} -\n"
            "customers insert {\"id\": \"6\"} -");
  // The delete names the new key (the push moves the row's link to it); a
  // plain delete names none.
  db_->exec("DELETE FROM customers WHERE id = 6");
  EXPECT_EQ(db_->scalar("SELECT string_agg(coalesce(moved_to::text, '-'), ' ' ORDER BY id) FROM hubsync.changelog"),
            "- {\"id\": \"6\"} - -");
}

TEST_F(CaptureTest, SecondMigrateChangesNothing) {
  auto first = migrate({customers});
  EXPECT_TRUE(first.changed());
  const std::string oids = "SELECT string_agg(oid::text, ',' ORDER BY tgname) FROM pg_trigger "
                           "WHERE tgname LIKE 'hubsync_capture_customers%'";
  auto before = db_->scalar(oids);
  const std::string id_sql = "SELECT value FROM hubsync.settings WHERE key = 'database_id'";
  const std::string id = db_->scalar(id_sql);
  EXPECT_THAT(id, ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"));
  auto second = migrate({customers});
  EXPECT_FALSE(second.changed());
  EXPECT_TRUE(second.statements.empty());
  EXPECT_EQ(db_->scalar(oids), before);
  EXPECT_EQ(db_->scalar(id_sql), id);  // the database's id is made once
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM hubsync.schema_migrations"),
            std::to_string(migrations::embedded_migrations().size()));
}

TEST_F(CaptureTest, ConcurrentMigratesDoNotCollide) {
  std::vector<model::Result<MigrateReport>> results;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      Migrator m(db_->dsn(), ops::logger("postgres"));
      auto r = m.run({customers}, false);
      std::lock_guard lock(mu);
      results.push_back(std::move(r));
    });
  }
  for (auto& t : threads) t.join();
  int applied = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    applied += static_cast<int>(r->applied_migrations.size());
  }
  EXPECT_EQ(applied, static_cast<int>(migrations::embedded_migrations().size()))
      << "each migration applied exactly once";
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'hubsync_capture_customers%'"), "3");
}

TEST_F(CaptureTest, QuotedIdentifiersAndCompositeKeysWork) {
  CaptureSpec items{"order_items", "Sales", "Order Items", {"Order Id", "line"}, {}};
  migrate({items});
  db_->exec("INSERT INTO \"Sales\".\"Order Items\" VALUES (7, 1, 3)");
  db_->exec("UPDATE \"Sales\".\"Order Items\" SET qty = 4");
  EXPECT_EQ(changes(),
            "order_items insert {\"line\": \"1\", \"Order Id\": \"7\"} -\n"
            "order_items update {\"line\": \"1\", \"Order Id\": \"7\"} qty");
  EXPECT_EQ(db_->scalar("SELECT table_schema || '.' || table_name FROM hubsync.changelog LIMIT 1"),
            "Sales.Order Items");
}

TEST_F(CaptureTest, TriggersFollowTheMappings) {
  migrate({customers});
  auto changed = customers;
  changed.watched_columns = {"notes"};
  auto report = migrate({changed});
  EXPECT_EQ(report.installed_triggers.size(), 1u);
  db_->exec("INSERT INTO customers VALUES (9, 'i@x.com', 'I', NULL)");
  db_->exec("UPDATE customers SET name = 'Ivy' WHERE id = 9");
  db_->exec("UPDATE customers SET notes = 'x' WHERE id = 9");
  EXPECT_EQ(changes(),
            "customers insert {\"id\": \"9\"} -\n"
            "customers update {\"id\": \"9\"} notes");
  auto removed = migrate({});
  EXPECT_EQ(removed.removed_triggers.size(), 1u);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'hubsync_capture%'"), "0");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM pg_proc WHERE proname LIKE 'capture%'"), "0");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM hubsync.captures"), "0");
}

// A mapping renamed: the new name captures the same table by the same key,
// so it takes the old name's pending changes over (their captured times
// kept); a mapping of another table, or the same table by another key,
// takes nothing, and a removal with no new mapping leaves its changes be.
TEST_F(CaptureTest, ARenamedMappingTakesOverThePendingChangesOfItsOldName) {
  migrate({customers});
  db_->exec("INSERT INTO customers VALUES (1, 'a@x.com', 'Ann', NULL)");
  db_->exec("UPDATE customers SET email = 'ann@x.com' WHERE id = 1");
  const std::string captured = db_->scalar("SELECT string_agg(changed_at::text, ',' ORDER BY id) FROM hubsync.changelog");
  auto renamed = customers;
  renamed.mapping = "people";
  CaptureSpec by_email{"by_email", "public", "customers", {"email"}, {"name"}};
  auto report = migrate({renamed, by_email});
  EXPECT_THAT(report.carried_changes, ::testing::ElementsAre("customers -> people"));
  EXPECT_EQ(changes(),
            "people insert {\"id\": \"1\"} -\n"
            "people update {\"id\": \"1\"} email");
  EXPECT_EQ(db_->scalar("SELECT string_agg(changed_at::text, ',' ORDER BY id) FROM hubsync.changelog"), captured);

  db_->exec("UPDATE customers SET name = 'Anna' WHERE id = 1");
  auto removed = migrate({by_email});
  EXPECT_TRUE(removed.carried_changes.empty());
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM hubsync.changelog WHERE mapping = 'people'"), "3");
}

// The name renamed away from, then reused for another table in the same
// edit: its old table's changes go to the mapping that now captures that
// table, and none stays under the name (whose push would read the new
// table's rows by their keys).
TEST_F(CaptureTest, ANameReusedForAnotherTableHandsItsOldTablesChangesToTheRenamedMapping) {
  migrate({customers});
  db_->exec("INSERT INTO customers VALUES (1, 'a@x.com', 'Ann', NULL)");
  auto renamed = customers;
  renamed.mapping = "folks";
  CaptureSpec reused{"customers", "Sales", "Order Items", {"Order Id", "line"}, {"qty"}};
  auto report = migrate({renamed, reused});
  EXPECT_THAT(report.carried_changes, ::testing::ElementsAre("customers -> folks"));
  EXPECT_EQ(changes(), "folks insert {\"id\": \"1\"} -");
  // Renamed again (as the run's refusal advises): nothing of customers' table is left to carry.
  db_->exec("INSERT INTO \"Sales\".\"Order Items\" VALUES (7, 1, 2)");
  reused.mapping = "order_items";
  auto again = migrate({renamed, reused});
  EXPECT_THAT(again.carried_changes, ::testing::ElementsAre("customers -> order_items"));
  EXPECT_EQ(db_->scalar("SELECT string_agg(mapping || ' ' || table_name, ',' ORDER BY id) FROM hubsync.changelog"),
            "folks customers,order_items Order Items");
}

TEST_F(CaptureTest, ADroppedTriggerIsReinstalled) {
  migrate({customers});
  db_->exec("DROP TRIGGER hubsync_capture_customers_iud ON customers");
  auto report = migrate({customers});
  EXPECT_EQ(report.installed_triggers.size(), 1u);
  db_->exec("INSERT INTO customers VALUES (11, 'k@x.com', 'K', NULL)");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM hubsync.changelog"), "1");
}

TEST_F(CaptureTest, DryRunWritesNothingAndShowsTheSql) {
  auto report = migrate({customers}, true);
  EXPECT_TRUE(report.changed());
  std::string all;
  for (const auto& s : report.statements) all += s + ";\n";
  EXPECT_THAT(all, HasSubstr("CREATE TABLE hubsync.changelog"));
  EXPECT_THAT(all, HasSubstr("CREATE TRIGGER \"hubsync_capture_customers_iud\" AFTER INSERT OR DELETE"));
  EXPECT_THAT(all, HasSubstr("CREATE TRIGGER \"hubsync_capture_customers_upd\" AFTER UPDATE"));
  EXPECT_THAT(all, HasSubstr("CREATE TRIGGER \"hubsync_capture_customers_trunc\" AFTER TRUNCATE"));
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'hubsync'"), "0");
}

TEST_F(CaptureTest, MissingTableOrColumnIsAClearError) {
  Migrator m(db_->dsn(), ops::logger("postgres"));
  auto r = m.run({{"ghosts", "public", "ghosts", {"id"}, {}}}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("mapping ghosts: table \"public\".\"ghosts\" does not exist"));
  auto r2 = m.run({{"customers", "public", "customers", {"uuid"}, {}}}, false);
  ASSERT_FALSE(r2.ok());
  EXPECT_THAT(r2.error().message, HasSubstr("column \"uuid\" does not exist"));
  auto r3 = m.run({{"customers", "public", "customers", {"id"}, {"email", "nope"}, true}}, false);
  ASSERT_FALSE(r3.ok());
  EXPECT_THAT(r3.error().message, HasSubstr("mapping customers: column \"nope\" does not exist"));
}

TEST_F(CaptureTest, UnreachableDatabaseIsTransientWithoutPassword) {
  Migrator m("postgresql://postgres:topsecret@127.0.0.1:1/nope", ops::logger("postgres"));
  auto r = m.run({customers}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, model::ErrorKind::transient);
  EXPECT_THAT(r.error().message, Not(HasSubstr("topsecret")));
}

TEST_F(CaptureTest, TruncateIsOneChangeWithAnEmptyKey) {
  migrate({customers});
  db_->exec("INSERT INTO customers VALUES (1, 'a@x.com', 'A'), (2, 'b@x.com', 'B')");
  db_->exec("TRUNCATE customers");
  db_->exec("BEGIN; SET LOCAL hubsync.origin = 'hubsync'; TRUNCATE customers; COMMIT");
  EXPECT_EQ(changes(),
            "customers insert {\"id\": \"1\"} -\n"
            "customers insert {\"id\": \"2\"} -\n"
            "customers truncate {} -");
}

TEST_F(CaptureTest, ChangelogOpsAreChecked) {
  migrate({customers});
  const std::string insert = "INSERT INTO hubsync.changelog (mapping, table_schema, table_name, pk, op) "
                             "VALUES ('m', 'public', 't', '{}', ";
  db_->exec(insert + "'truncate')");
  EXPECT_THROW(db_->exec(insert + "'upsert')"), std::exception);
  EXPECT_EQ(db_->scalar("SELECT pg_typeof(op)::text || ' ' || (op = 'truncate')::text FROM hubsync.changelog"),
            "hubsync.change_op true");
}

TEST_F(CaptureTest, AFilterMakesEveryColumnWatched) {
  auto filtered = customers;  // filter.postgres: "status <> 'test'", status unmapped
  filtered.watch_all = true;
  migrate({filtered});
  db_->exec("INSERT INTO customers VALUES (1, 'a@x.com', 'A', NULL, 'test')");
  db_->exec("UPDATE customers SET status = 'active' WHERE id = 1");  // enters the filter
  db_->exec("UPDATE customers SET notes = 'n' WHERE id = 1");
  db_->exec("UPDATE customers SET status = status WHERE id = 1");
  EXPECT_EQ(changes(),
            "customers insert {\"id\": \"1\"} -\n"
            "customers update {\"id\": \"1\"} status\n"
            "customers update {\"id\": \"1\"} notes");
  // Without a filter only the mapped columns are watched.
  migrate({customers});
  db_->exec("DELETE FROM hubsync.changelog");
  db_->exec("UPDATE customers SET status = 'test', notes = 'm' WHERE id = 1");
  EXPECT_EQ(changes(), "");
}

TEST_F(CaptureTest, ColumnsWithoutAnEqualityOperatorDoNotBreakWrites) {
  // json has no `=`: comparing it as such would fail every UPDATE of the table.
  db_->exec("CREATE TABLE docs (id int PRIMARY KEY, body json, tags text[], at point)");
  migrate({{"docs", "public", "docs", {"id"}, {"body", "tags", "at"}, true}});
  db_->exec("INSERT INTO docs VALUES (1, '{\"a\": 1}', '{x}', '(1,2)')");
  db_->exec("UPDATE docs SET body = '{\"a\":1}'");
  db_->exec("UPDATE docs SET tags = '{x,y}', at = '(1,2)'");
  db_->exec("UPDATE docs SET at = '(2,2)'");
  EXPECT_EQ(changes(),
            "docs insert {\"id\": \"1\"} -\n"
            "docs update {\"id\": \"1\"} body\n"
            "docs update {\"id\": \"1\"} tags\n"
            "docs update {\"id\": \"1\"} at");
}

// No SET on the function (a save and restore of the setting per row): its
// body qualifies every name instead (CaptureRolesTest's hijack checks that).
TEST_F(CaptureTest, TheFunctionIsASecurityDefinerOwnedByTheMigratorWithNoSettingOfItsOwn) {
  migrate({customers});
  EXPECT_EQ(db_->scalar("SELECT prosecdef::text || ' ' || pg_get_userbyid(proowner) || ' ' || "
                        "coalesce(array_to_string(proconfig, ','), '-') || ' ' || "
                        "has_function_privilege('public', oid, 'EXECUTE')::text "
                        "FROM pg_proc WHERE proname = 'capture_customers'"),
            "true postgres - false");
  EXPECT_EQ(db_->scalar("SELECT string_agg(tgname || ':' || pg_get_triggerdef(oid), E'\n' ORDER BY tgname) "
                        "FROM pg_trigger WHERE tgname LIKE 'hubsync_capture_%'"),
            "hubsync_capture_customers_iud:CREATE TRIGGER hubsync_capture_customers_iud AFTER INSERT OR DELETE "
            "ON public.customers FOR EACH ROW EXECUTE FUNCTION hubsync.capture_customers()\n"
            "hubsync_capture_customers_trunc:CREATE TRIGGER hubsync_capture_customers_trunc AFTER TRUNCATE "
            "ON public.customers FOR EACH STATEMENT EXECUTE FUNCTION hubsync.capture_customers()\n"
            "hubsync_capture_customers_upd:CREATE TRIGGER hubsync_capture_customers_upd AFTER UPDATE "
            "ON public.customers FOR EACH ROW WHEN (((old.id IS DISTINCT FROM new.id) OR "
            "(old.email IS DISTINCT FROM new.email) OR (old.name IS DISTINCT FROM new.name))) "
            "EXECUTE FUNCTION hubsync.capture_customers()");
  EXPECT_EQ(db_->scalar("SELECT watch_all::text || ' ' || generator_version || ' ' || key_types::text || ' ' || "
                        "watched_columns::text || ' ' || notify::text FROM hubsync.captures"),
            "false 8 {int8} {email,name} false");
}

// postgres.notify decides whether the function NOTIFYs hubsync_changes;
// `run` sees a capture installed with the other choice as not current and
// `migrate` reinstalls it; a writer's transaction then notifies (or not).
TEST_F(CaptureTest, TheNotifySwitchIsInstalledCheckedAndHonoured) {
  const std::string body = "SELECT (strpos(prosrc, 'pg_notify') > 0)::text FROM pg_proc WHERE proname = 'capture_customers'";
  migrate({customers});
  EXPECT_EQ(db_->scalar(body), "false");
  auto notifying = customers;
  notifying.notify = true;
  EXPECT_THAT(check({notifying}),
              ::testing::ElementsAre(::testing::HasSubstr("postgres.notify is on, but its capture sends no NOTIFY")));
  EXPECT_TRUE(migrate({notifying}).changed());
  EXPECT_EQ(db_->scalar(body), "true");
  EXPECT_EQ(db_->scalar("SELECT notify::text FROM hubsync.captures"), "true");
  EXPECT_TRUE(check({notifying}).empty());
  EXPECT_THAT(check({customers}), ::testing::ElementsAre(::testing::HasSubstr(
                                      "postgres.notify is off, but its capture still sends NOTIFY hubsync_changes")));
  // A listener hears a writer's commit only while the capture notifies.
  pqxx::connection listener{db_->dsn()};
  pqxx::nontransaction(listener).exec("LISTEN hubsync_changes");
  db_->exec("INSERT INTO customers VALUES (7, 'n@x.com', 'N', 'n')");
  int heard = 0;
  for (int i = 0; i < 20 && heard == 0; ++i) heard = listener.await_notification(0, 50'000);
  EXPECT_EQ(heard, 1);
  EXPECT_TRUE(migrate({customers}).changed());
  EXPECT_EQ(db_->scalar(body), "false");
  db_->exec("INSERT INTO customers VALUES (8, 'o@x.com', 'O', 'o')");
  EXPECT_EQ(listener.await_notification(0, 300'000), 0);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM hubsync.changelog"), "2");  // captured either way
}

TEST_F(CaptureTest, MappingNamesMustLeaveRoomForTheTriggerSuffixes) {
  const std::string longest(41, 'm');
  auto ok = customers;
  ok.mapping = longest;
  migrate({ok});
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'hubsync_capture_mmm%'"), "3");
  auto too_long = customers;
  too_long.mapping = longest + "m";
  auto r = Migrator(db_->dsn(), ops::logger("postgres")).run({too_long}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("name too long for its trigger names (max 41 chars)"));
}

}  // namespace
}  // namespace hubsync::postgres
