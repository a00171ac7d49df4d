// Mapping leases (hubsync.leases) and change notifications, against a real
// PostgreSQL: what keeps two syncers of one mapping apart and wakes serve.
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "connectors/postgres/pg_database.h"
#include "connectors/postgres/pg_listener.h"
#include "tests/integration/postgres/capture_fixture.h"

namespace hubsync::postgres {
namespace {

using namespace std::chrono_literals;

class Lease : public CaptureFixture {
 protected:
  void SetUp() override {
    CaptureFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    people_ = create_people();
    auto spec = spec_of(people_);
    spec.notify = true;  // the listener below is woken by the capture's NOTIFY
    migrate({spec});
  }
  std::unique_ptr<PgDatabase> open() { return std::make_unique<PgDatabase>(db_->dsn(), ops::logger("postgres")); }
  mapping::Mapping people_;
};

TEST_F(Lease, OneHolderAtATimeAndACleanStopGivesItBack) {
  auto a = open(), b = open();
  ASSERT_TRUE(a->lock_mapping("people").ok());
  ASSERT_TRUE(a->lock_mapping("people").ok()) << "renewing one's own lease";
  auto refused = b->lock_mapping("people");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, model::ErrorKind::conflict);
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("another hubsync process is syncing it"));
  a.reset();  // destroyed: the lease is given back
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM hubsync.leases"), "0");
  EXPECT_TRUE(b->lock_mapping("people").ok());
}

TEST_F(Lease, AnExpiredLeaseIsTakenAndItsFormerHolderCanNoLongerClaimOrWrite) {
  auto a = open(), b = open();
  ASSERT_TRUE(a->lock_mapping("people").ok());
  db_->exec("INSERT INTO people VALUES (1, 'a@x.io')");
  // a stalls past its lease (a long HubSpot outage); b takes over.
  db_->exec("UPDATE hubsync.leases SET expires_at = now() - interval '1 second'");
  ASSERT_TRUE(b->lock_mapping("people").ok());
  auto claim = a->claim_changes(people_, 10, 60'000, "a");
  ASSERT_FALSE(claim.ok());
  EXPECT_EQ(claim.error().kind, model::ErrorKind::conflict);
  EXPECT_THAT(claim.error().message, ::testing::HasSubstr("lease was lost"));
  pipeline::RowWrite w;
  w.key = model::RecordKey{{"1"}};
  w.values["email"] = model::Value::text("late@x.io");
  EXPECT_FALSE(a->apply_rows(people_, {w}).ok());
  EXPECT_EQ(db_->scalar("SELECT email FROM people WHERE id = 1"), "a@x.io");
  // b claims what a had not.
  auto mine = b->claim_changes(people_, 10, 60'000, "b");
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  EXPECT_EQ(mine->size(), 1u);
}

TEST_F(Lease, AHolderWhoseProcessIsGoneOnThisHostIsReplacedAtOnce) {
  auto b = open();
  // A lease left by a process of this host that no longer runs: a child
  // that exited and was reaped.
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  db_->exec("INSERT INTO hubsync.leases (mapping, holder, host, pid, expires_at) VALUES ('people', 'dead', '" +
            std::string(host) + "', " + std::to_string(child) + ", now() + interval '1 hour')");
  db_->exec("INSERT INTO people VALUES (2, 'b@x.io')");
  db_->exec("UPDATE hubsync.changelog SET claimed_by = 'dead', claimed_until = now() + interval '1 hour'");
  ASSERT_TRUE(b->lock_mapping("people").ok());
  // The changes the dead pusher had claimed are free again.
  auto mine = b->claim_changes(people_, 10, 60'000, "b");
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  EXPECT_EQ(mine->size(), 1u);
}

TEST_F(Lease, ACommitNotifiesOnceWithTheMappingAndAReconnectAsksForEverything) {
  PgListener listener(db_->dsn(), ops::logger("postgres"));
  auto first = listener.wait(10ms);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->all) << "the first wait asks to catch up";
  db_->exec("INSERT INTO people SELECT g, 'n' || g FROM generate_series(10, 20) g");
  auto got = listener.wait(2000ms);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->all);
  EXPECT_EQ(got->mappings, std::set<std::string>{"people"});
  // hubsync's own writes are not captured, so they wake nobody.
  db_->exec("BEGIN; SET LOCAL hubsync.origin = 'hubsync'; UPDATE people SET email = 'x' WHERE id = 10; COMMIT");
  auto quiet = listener.wait(300ms);
  ASSERT_TRUE(quiet.ok());
  EXPECT_TRUE(quiet->mappings.empty());
  db_->exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  // The server's goodbye and the closed socket may come in two reads, so the
  // loss is seen on the first wait or the next: within seconds, not never.
  bool lost = false;
  for (int n = 0; n < 20 && !lost; ++n) lost = !listener.wait(300ms).ok();
  EXPECT_TRUE(lost) << "a terminated listening connection is reported";
  auto back = listener.wait(10ms);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->all);
}

}  // namespace
}  // namespace hubsync::postgres
