#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "connectors/postgres/migrator.h"
#include "engine/ops/logging.h"
#include "tests/support/pg.h"

namespace hubsync::postgres {
namespace {

using ::testing::HasSubstr;

class CaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HUBSYNC_REQUIRE_PG(server);
    db_ = std::make_unique<test::TempDatabase>(server);
    db_->exec(
        "CREATE TABLE public.customers (id bigint PRIMARY KEY, email text, name text, notes text);"
        "CREATE SCHEMA \"Sales\";"
        "CREATE TABLE \"Sales\".\"Order Items\" (\"Order Id\" int, line int, qty int,"
        " PRIMARY KEY (\"Order Id\", line));");
  }

  MigrateReport migrate(const std::vector<CaptureSpec>& specs, bool dry_run = false) {
    Migrator m(db_->dsn(), ops::logger("postgres"));
    auto r = m.run(specs, dry_run);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : MigrateReport{};
  }

  std::string changes() {
    return db_->scalar(
        "SELECT coalesce(string_agg(mapping || ' ' || op || ' ' || pk::text || ' ' || "
        "coalesce(array_to_string(changed_columns, ','), '-'), E'\\n' ORDER BY id), '') "
        "FROM hubsync.changelog");
  }

  CaptureSpec customers{"customers", "public", "customers", {"id"}, {"email", "name"}};
  std::unique_ptr<test::TempDatabase> db_;
};

TEST_F(CaptureTest, InsertUpdateDeleteAreCapturedWithKeysAndChangedColumns) {
  auto report = migrate({customers});
  EXPECT_THAT(report.applied_migrations, ::testing::ElementsAre("0001_changelog"));
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
}

TEST_F(CaptureTest, SecondMigrateChangesNothing) {
  auto first = migrate({customers});
  EXPECT_TRUE(first.changed());
  auto oid = db_->scalar("SELECT oid FROM pg_trigger WHERE tgname = 'hubsync_capture_customers'");
  auto second = migrate({customers});
  EXPECT_FALSE(second.changed());
  EXPECT_TRUE(second.statements.empty());
  EXPECT_EQ(db_->scalar("SELECT oid FROM pg_trigger WHERE tgname = 'hubsync_capture_customers'"), oid);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM hubsync.schema_migrations"), "1");
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
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM pg_trigger WHERE tgname = 'hubsync_capture_customers'"), "1");
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
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM hubsync.captures"), "0");
}

TEST_F(CaptureTest, ADroppedTriggerIsReinstalled) {
  migrate({customers});
  db_->exec("DROP TRIGGER hubsync_capture_customers ON customers");
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
  EXPECT_THAT(all, HasSubstr("CREATE TRIGGER \"hubsync_capture_customers\""));
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
}

TEST_F(CaptureTest, UnreachableDatabaseIsTransientWithoutPassword) {
  Migrator m("postgresql://postgres:topsecret@127.0.0.1:1/nope", ops::logger("postgres"));
  auto r = m.run({customers}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, model::ErrorKind::transient);
  EXPECT_THAT(r.error().message, Not(HasSubstr("topsecret")));
}

}  // namespace
}  // namespace hubsync::postgres
