// Schema upgrades, failed migrations, busy errors and concurrent callers.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fmt/format.h>
#include <thread>
#include <vector>

#include "engine/state/migrations.h"
#include "engine/state/sqlite_state_store.h"
#include "tests/unit/state/state_test_util.h"

namespace hubsync::state {
namespace {

using testing::TempDir;

std::vector<model::Migration> embedded_plus(std::vector<model::Migration> extra) {
  std::vector<model::Migration> all = migrations::embedded_migrations();
  all.insert(all.end(), extra.begin(), extra.end());
  return all;
}

int next_version() { return migrations::embedded_migrations().back().version + 1; }

TEST(SqliteMigrationTest, ReopeningWithANewerBinaryAppliesOnlyTheNewMigration) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  {
    auto s = SqliteStateStore::open(testing::options_for(path, nullptr));
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->set_checkpoint("m", "c", "before").ok());
  }
  const auto upgraded = embedded_plus(
      {{next_version(), "add_notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"}});
  SqliteOptions o = testing::options_for(path, nullptr);
  o.migrations = &upgraded;
  auto s = SqliteStateStore::open(o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*(*s)->schema_version(), next_version());
  EXPECT_EQ((*(*s)->get_checkpoint("m", "c"))->value, "before");
  s->reset();
  // The old binary now refuses the file it no longer understands.
  auto old = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.error().message.find("newer"), std::string::npos);
}

TEST(SqliteMigrationTest, AFailedMigrationRollsBackAndNamesItself) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  const auto broken = embedded_plus(
      {{next_version(), "half_done",
        "CREATE TABLE half (id INTEGER); INSERT INTO no_such_table VALUES (1);"}});
  SqliteOptions o = testing::options_for(path, nullptr);
  o.migrations = &broken;
  auto s = SqliteStateStore::open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, model::ErrorKind::fatal);
  EXPECT_NE(s.error().message.find(fmt::format("{:04}_half_done", next_version())),
            std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find(path), std::string::npos);

  // The earlier migrations stay applied; the broken one left nothing behind.
  auto good = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(*(*good)->schema_version(), next_version() - 1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "SELECT * FROM half", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST(SqliteMigrationTest, ARenamedMigrationIsRefused) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  { ASSERT_TRUE(SqliteStateStore::open(testing::options_for(path, nullptr)).ok()); }
  std::vector<model::Migration> renamed = migrations::embedded_migrations();
  renamed.front().name = "something_else";
  SqliteOptions o = testing::options_for(path, nullptr);
  o.migrations = &renamed;
  auto s = SqliteStateStore::open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("something_else"), std::string::npos);
}

TEST(SqliteMigrationTest, ReadOnlyOpenRefusesAnOutdatedSchemaAndWorksWithoutWriter) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  {
    auto w = SqliteStateStore::open(testing::options_for(path, nullptr));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->set_checkpoint("m", "c", "v").ok());
  }
  SqliteOptions ro = testing::options_for(path, nullptr);
  ro.read_only = true;
  auto r = SqliteStateStore::open(ro);  // no writer, WAL already checkpointed away
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*(*r)->get_checkpoint("m", "c"))->value, "v");
  r->reset();

  const auto newer = embedded_plus({{next_version(), "later", "SELECT 1;"}});
  ro.migrations = &newer;
  auto outdated = SqliteStateStore::open(ro);
  ASSERT_FALSE(outdated.ok());
  EXPECT_NE(outdated.error().message.find("older"), std::string::npos);
}

TEST(SqliteMigrationTest, BusyDatabaseIsATransientErrorNamingTheFile) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  SqliteOptions o = testing::options_for(path, nullptr);
  o.busy_timeout = std::chrono::milliseconds(0);  // fail at once instead of waiting
  auto s = SqliteStateStore::open(o);
  ASSERT_TRUE(s.ok());
  // Some other tool (not hubsync, so not stopped by the pid lock) writes.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto busy = (*s)->set_checkpoint("m", "c", "v");
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().kind, model::ErrorKind::transient);
  EXPECT_NE(busy.error().message.find(path), std::string::npos) << busy.error().message;
  auto busy_txn = (*s)->commit_batch({"m", {{"k", "h", {}}}, {}});
  ASSERT_FALSE(busy_txn.ok());
  EXPECT_EQ(busy_txn.error().kind, model::ErrorKind::transient);
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  // Retrying after the other writer is gone works.
  EXPECT_TRUE((*s)->set_checkpoint("m", "c", "v").ok());
  EXPECT_TRUE((*s)->commit_batch({"m", {{"k", "h", {}}}, {}}).ok());
}

TEST(SqliteMigrationTest, ConcurrentCallersAreSerialised) {
  TempDir dir;
  auto s = SqliteStateStore::open(testing::options_for(dir.file("state.db"), nullptr));
  ASSERT_TRUE(s.ok());
  SqliteStateStore& store = **s;
  constexpr int kThreads = 4;
  constexpr int kEach = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string key = fmt::format("{}-{}", t, i);
        InboxEvent e;
        e.event_id = key;
        EXPECT_TRUE(store.append_inbox({e}).ok());
        EXPECT_TRUE(store
                        .transaction([&]() -> Status {
                          if (auto r = store.upsert_link("m", key, "h" + key); !r) return r;
                          return store.set_checkpoint("m", std::to_string(t), key);
                        })
                        .ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(*store.count_inbox_pending(), static_cast<std::size_t>(kThreads * kEach));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ((*store.get_checkpoint("m", std::to_string(t)))->value,
              fmt::format("{}-{}", t, kEach - 1));
  }
  EXPECT_EQ((*store.find_link_by_hubspot_id("m", "h3-7"))->pg_key, "3-7");
}

}  // namespace
}  // namespace hubsync::state
