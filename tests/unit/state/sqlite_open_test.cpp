// Opening the SQLite store: migrations, file modes, read-only, single writer.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fstream>

#include "engine/state/migrations.h"
#include "engine/state/sqlite_state_store.h"
#include "tests/unit/state/state_test_util.h"

namespace hubsync::state {
namespace {

using testing::FakeClock;
using testing::TempDir;

constexpr std::int64_t kT0 = 1'700'000'000'000;

int embedded_max() {
  int v = 0;
  for (const auto& m : migrations::embedded_migrations()) v = std::max(v, m.version);
  return v;
}

// Runs SQL on the file behind the store's back (simulating another binary).
void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

std::int64_t raw_count(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
  std::int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(SqliteOpenTest, CreatesSchemaAndMigrationsAreIdempotentOnReopen) {
  TempDir dir;
  FakeClock clock(kT0);
  const std::string path = dir.file("state.db");
  {
    auto s = SqliteStateStore::open(testing::options_for(path, &clock));
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(*(*s)->schema_version(), embedded_max());
    ASSERT_TRUE((*s)->set_checkpoint("m", "c", "kept").ok());
  }
  EXPECT_EQ(raw_count(path, "SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(migrations::embedded_migrations().size()));
  for (const char* table : {"checkpoints", "links", "merged_ids", "synced", "inbox",
                            "dead_letters", "conflicts", "runs", "oauth_tokens"}) {
    EXPECT_EQ(raw_count(path, fmt::format("SELECT count(*) FROM sqlite_master WHERE "
                                          "type = 'table' AND name = '{}'",
                                          table)),
              1)
        << table;
  }
  clock.advance(1000);
  for (int i = 0; i < 2; ++i) {
    auto s = SqliteStateStore::open(testing::options_for(path, &clock));
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ((*(*s)->get_checkpoint("m", "c"))->value, "kept");
    ASSERT_TRUE((*s)->check_integrity().ok());
  }
  // Reopening applied nothing again: every applied_at is the first open's.
  EXPECT_EQ(raw_count(path, fmt::format("SELECT count(*) FROM schema_migrations WHERE "
                                        "applied_at <> {}",
                                        kT0)),
            0);
}

TEST(SqliteOpenTest, UsesWalJournal) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  auto s = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_TRUE(s.ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(SqliteOpenTest, RefusesSchemaNewerThanBinary) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  { ASSERT_TRUE(SqliteStateStore::open(testing::options_for(path, nullptr)).ok()); }
  raw_exec(path, "INSERT INTO schema_migrations VALUES (9999, 'from_the_future', 0)");
  auto s = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, model::ErrorKind::fatal);
  EXPECT_NE(s.error().message.find("9999"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("newer"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(path), std::string::npos) << s.error().message;

  SqliteOptions ro = testing::options_for(path, nullptr);
  ro.read_only = true;
  EXPECT_FALSE(SqliteStateStore::open(ro).ok());
}

TEST(SqliteOpenTest, RefusesAFileThatIsNotADatabase) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  std::ofstream(path) << "this is not an SQLite database, just some text that is long enough "
                         "to fill the header of one and then some more text to be sure.";
  auto s = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, model::ErrorKind::fatal);
  EXPECT_NE(s.error().message.find(path), std::string::npos) << s.error().message;
}

// state.path in a directory that does not exist: said so, not only that a
// lock file (a name the operator never wrote) could not be opened.
TEST(SqliteOpenTest, AMissingDirectoryIsNamedAsSuch) {
  TempDir dir;
  const std::string path = dir.file("nodir/state.db");
  auto s = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("its directory (state.path's) does not exist"), std::string::npos)
      << s.error().message;
}

TEST(SqliteOpenTest, StateFileWalAndLockArePrivate) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  const mode_t old_mask = ::umask(022);
  auto s = SqliteStateStore::open(testing::options_for(path, nullptr));
  ::umask(old_mask);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->save_oauth_tokens({"1", "a", "r", 0, {}, 0}).ok());
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(mode_of(path + "-wal"), 0600u);
  EXPECT_EQ(mode_of(path + "-shm"), 0600u);
  EXPECT_EQ(mode_of(path + ".lock"), 0600u);
}

TEST(SqliteOpenTest, NarrowsAnExistingWorldReadableFile) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  { ASSERT_TRUE(SqliteStateStore::open(testing::options_for(path, nullptr)).ok()); }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_TRUE(SqliteStateStore::open(testing::options_for(path, nullptr)).ok());
  EXPECT_EQ(mode_of(path), 0600u);
}

TEST(SqliteOpenTest, RefusesAFileOthersCouldHaveWritten) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  { ASSERT_TRUE(SqliteStateStore::open(testing::options_for(path, nullptr)).ok()); }
  for (mode_t mode : {0660, 0602, 0666}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto s = SqliteStateStore::open(testing::options_for(path, nullptr));
    ASSERT_FALSE(s.ok()) << std::oct << mode;
    EXPECT_EQ(s.error().kind, model::ErrorKind::fatal);
    EXPECT_NE(s.error().message.find("writable by group or others"), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("chmod 600 " + path), std::string::npos) << s.error().message;
    EXPECT_EQ(mode_of(path), mode);  // left for the operator to look at
  }
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_TRUE(SqliteStateStore::open(testing::options_for(path, nullptr)).ok());
}

TEST(SqliteOpenTest, ReadOnlyOpenNeedsNoLockAndCannotWrite) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  SqliteOptions ro = testing::options_for(path, nullptr);
  ro.read_only = true;
  auto missing = SqliteStateStore::open(ro);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);

  auto writer = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->set_checkpoint("m", "c", "v1").ok());
  auto reader = SqliteStateStore::open(ro);  // while the writer holds the lock
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ((*(*reader)->get_checkpoint("m", "c"))->value, "v1");
  ASSERT_TRUE((*writer)->set_checkpoint("m", "c", "v2").ok());
  EXPECT_EQ((*(*reader)->get_checkpoint("m", "c"))->value, "v2");

  auto w = (*reader)->set_checkpoint("m", "c", "nope");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, model::ErrorKind::fatal);
  EXPECT_FALSE((*reader)->upsert_link("m", "k", "h").ok());
  EXPECT_FALSE((*reader)->save_oauth_tokens({"1", "a", "r", 0, {}, 0}).ok());
  EXPECT_EQ((*(*writer)->get_checkpoint("m", "c"))->value, "v2");
}

TEST(SqliteOpenTest, SecondWriterInTheSameProcessIsRefused) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  auto first = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_TRUE(first.ok());
  auto second = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find(fmt::format("pid {}", ::getpid())), std::string::npos)
      << second.error().message;
  first->reset();
  EXPECT_TRUE(SqliteStateStore::open(testing::options_for(path, nullptr)).ok());
}

TEST(SqliteOpenTest, SecondWriterProcessIsRefusedNamingTheHolderPid) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(release[1]);
    auto s = SqliteStateStore::open(testing::options_for(path, nullptr));
    char ok = s.ok() && (*s)->set_checkpoint("m", "c", "child").ok() ? 'R' : 'E';
    if (::write(ready[1], &ok, 1) != 1) ::_exit(3);
    char buf;
    (void)::read(release[0], &buf, 1);  // hold the store until the parent is done
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char status = 0;
  ASSERT_EQ(::read(ready[0], &status, 1), 1);
  ASSERT_EQ(status, 'R');

  auto refused = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, model::ErrorKind::fatal);
  EXPECT_NE(refused.error().message.find(fmt::format("pid {}", child)), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find(path + ".lock"), std::string::npos);

  ASSERT_EQ(::write(release[1], "x", 1), 1);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  ::close(ready[0]);
  ::close(release[1]);

  auto after = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ((*(*after)->get_checkpoint("m", "c"))->value, "child");
  EXPECT_TRUE((*after)->check_integrity().ok());
}

}  // namespace
}  // namespace hubsync::state
