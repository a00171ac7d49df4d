// PgChangelogWatcher, what wakes `serve` when the capture does not NOTIFY:
// it reports a mapping only while the changelog holds a change a push could
// claim now, looks no more often than asked, and after a lost connection
// reconnects and reports `all`.
#include <chrono>
#include <thread>

#include "connectors/postgres/pg_changelog_watch.h"
#include "tests/integration/postgres/capture_fixture.h"

namespace hubsync::postgres {
namespace {

using namespace std::chrono_literals;

class ChangelogWatch : public CaptureFixture {
 protected:
  void SetUp() override {
    CaptureFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    db_->exec("CREATE TABLE people (id bigint PRIMARY KEY, email text);"
              "CREATE TABLE firms (id bigint PRIMARY KEY, name text)");
    migrate({{"people", "public", "people", {"id"}, {"email"}}, {"firms", "public", "firms", {"id"}, {"name"}}});
  }
  // Waits up to `timeout`; the mappings reported, "ALL" for a catch-up.
  std::set<std::string> wait(PgChangelogWatcher& w, std::chrono::milliseconds timeout) {
    auto r = w.wait(timeout);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok()) return {"ERROR"};
    if (r->all) return {"ALL"};
    return r->mappings;
  }
};

TEST_F(ChangelogWatch, ReportsOnlyMappingsWithChangesAPushCouldClaimNow) {
  PgChangelogWatcher w(db_->dsn(), 50ms, ops::logger("postgres"));
  EXPECT_EQ(wait(w, 1000ms), std::set<std::string>{"ALL"});  // first call: catch up
  EXPECT_TRUE(wait(w, 200ms).empty());
  db_->exec("INSERT INTO people VALUES (1, 'a@x.io')");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(wait(w, 2000ms), std::set<std::string>{"people"});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  // Claimed by a push (or deferred): not reported; due again: reported.
  db_->exec("UPDATE hubsync.changelog SET claimed_until = now() + interval '1 hour'");
  EXPECT_TRUE(wait(w, 300ms).empty());
  db_->exec("UPDATE hubsync.changelog SET claimed_until = now() - interval '1 second'");
  db_->exec("INSERT INTO firms VALUES (1, 'F')");
  EXPECT_EQ(wait(w, 2000ms), (std::set<std::string>{"firms", "people"}));
  // Pushed (moved out of the changelog): nothing more to report.
  db_->exec("DELETE FROM hubsync.changelog");
  EXPECT_TRUE(wait(w, 300ms).empty());
}

TEST_F(ChangelogWatch, LooksNoMoreOftenThanAskedWhileChangesWait) {
  PgChangelogWatcher w(db_->dsn(), 200ms, ops::logger("postgres"));
  wait(w, 100ms);
  db_->exec("INSERT INTO people VALUES (1, 'a@x.io')");
  // The change stays unclaimed (serve debounces): each report is a new look,
  // at most one per 200 ms, never a busy loop.
  const auto t0 = std::chrono::steady_clock::now();
  int reports = 0;
  while (std::chrono::steady_clock::now() - t0 < 1000ms)
    if (!wait(w, 100ms).empty()) ++reports;
  EXPECT_GE(reports, 2);
  EXPECT_LE(reports, 6);
}

// serve's debounce counts from a change's capture: the watcher says how
// long the oldest change it reports has waited, by the server's clock;
// rows a push holds do not count.
TEST_F(ChangelogWatch, SaysHowLongTheOldestClaimableChangeHasWaited) {
  PgChangelogWatcher w(db_->dsn(), 50ms, ops::logger("postgres"));
  wait(w, 1000ms);  // the catch-up
  db_->exec("INSERT INTO people VALUES (1, 'a@x.io'), (2, 'b@x.io')");
  auto fresh = w.wait(2000ms);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->mappings, std::set<std::string>{"people"});
  EXPECT_LT(fresh->waited, 1000ms);
  // The first change is 5 s old but held by a push; the second 3 s old.
  db_->exec("UPDATE hubsync.changelog SET changed_at = pg_catalog.clock_timestamp() - interval '5 seconds', "
            "claimed_until = pg_catalog.clock_timestamp() + interval '1 hour' WHERE pk ->> 'id' = '1'");
  db_->exec("UPDATE hubsync.changelog SET changed_at = pg_catalog.clock_timestamp() - interval '3 seconds' "
            "WHERE pk ->> 'id' = '2'");
  auto old = w.wait(2000ms);
  ASSERT_TRUE(old.ok());
  EXPECT_GE(old->waited, 3000ms);
  EXPECT_LT(old->waited, 4500ms);
}

TEST_F(ChangelogWatch, ALostConnectionIsTransientAndTheReconnectReportsAll) {
  PgChangelogWatcher w(db_->dsn(), 50ms, ops::logger("postgres"));
  wait(w, 100ms);
  db_->exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()");
  auto lost = w.wait(500ms);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind, model::ErrorKind::transient);
  EXPECT_EQ(wait(w, 1000ms), std::set<std::string>{"ALL"});
}

}  // namespace
}  // namespace hubsync::postgres
