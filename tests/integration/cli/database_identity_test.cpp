// A state file belongs to one database and one HubSpot portal: its links
// name rows by key value and objects by id. Pointed at another database
// with the same schema (staging for production, another tenant's), a run
// would overwrite the first database's contacts with the second's people;
// at another portal, it would write to objects of the old one's ids. run,
// plan and serve refuse both before anything syncs. A database restored
// from a dump keeps its id (same rows), and so does one migrated again; a
// state file from before the id was recorded is taken and records it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>
#include <utility>
#include <vector>

#include "engine/pipeline/fingerprint.h"
#include "tests/integration/push/push_harness.h"
#include "tests/hubspot-sim/simulator.h"
#include "tests/support/process.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr const char* kTable = "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text);";

constexpr const char* kPeople = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
conflict: newest
fields:
  - {column: email, property: email}
  - {column: name, property: firstname}
)";

CommandOutput hubsync(const fs::path& config, const std::string& args) {
  return run_command("'" HUBSYNC_BIN "' --config '" + config.string() + "' " + args + " 2>&1");
}

std::string database_id(const TempDatabase& db) {
  return db.scalar("SELECT value FROM hubsync.settings WHERE key = 'database_id'");
}

// HubSpot's contacts as a user would read them: "id email firstname" each.
std::string contacts(PushHarness& h) {
  std::string out;
  for (const auto& [email, o] : h.live_by("contacts", "email"))
    out += o.id + " " + email + " " + o.props.at("firstname") + "\n";
  return out;
}

std::string people(const TempDatabase& db) {
  return db.scalar("SELECT string_agg(id || ' ' || email || ' ' || name, ', ' ORDER BY id) FROM people");
}

// Database A (the harness's, synced with state file S) and database B: the
// same table, migrated, then people of its own written (and captured).
struct TwoDatabases {
  std::unique_ptr<PushHarness> h;
  std::unique_ptr<TempDatabase> b;
  fs::path config_a, config_b;  // the same state file S
  fs::path state;

  // A config like A's with each `from` replaced by its `to`.
  fs::path config_like_a(const std::string& name,
                         const std::vector<std::pair<std::string, std::string>>& replaced) const {
    std::ifstream in(config_a);
    std::string yaml((std::istreambuf_iterator<char>(in)), {});
    for (const auto& [from, to] : replaced) yaml.replace(yaml.find(from), from.size(), to);
    const fs::path out = h->dir / name;
    std::ofstream(out) << yaml;
    return out;
  }
};

TwoDatabases synced_a(const std::string& server) {
  TwoDatabases t;
  t.h = quick_harness(server, std::string(kTable) + "INSERT INTO people (email, name) VALUES "
                                                     "('ann@a.io', 'Ann'), ('bob@a.io', 'Bob')",
                      {kPeople});
  t.b = std::make_unique<TempDatabase>(server);
  fs::create_directories(t.h->dir / "mappings");
  std::ofstream(t.h->dir / "mappings" / "people.yaml") << kPeople;
  t.config_a = t.h->dir / "a.yaml";
  std::ofstream(t.config_a) << t.h->config_yaml();
  t.config_b = t.config_like_a("b.yaml", {{t.h->db.dsn(), t.b->dsn()}});
  t.state = t.h->dir / "cli-state.db";
  EXPECT_EQ(hubsync(t.config_a, "migrate").code, 0);
  auto first = hubsync(t.config_a, "run --once");
  EXPECT_EQ(first.code, 0) << first.out;
  t.b->exec(kTable);
  EXPECT_EQ(hubsync(t.config_b, "migrate").code, 0);
  t.b->exec("INSERT INTO people (email, name) VALUES ('cat@b.io', 'Cat'), ('dan@b.io', 'Dan')");
  return t;
}

// `serve` on A's database under `timeout`, on a thread joined on every way
// out (an ASSERT returning early would otherwise abort the whole binary and
// lose its report); its exit code and output are printed when the test fails.
class ServeOnA {
 public:
  ServeOnA(const TwoDatabases& t, int timeout_s) : config_(t.config_like_a("serve-a.yaml", {})) {
    std::ofstream(config_, std::ios::app) << "webhook: {listen: '127.0.0.1:" << free_port() << "'}\n"
                                          << "serve: {change_poll_ms: 100}\n";
    thread_ = std::thread([this, timeout_s] {
      out_ = run_command("timeout " + std::to_string(timeout_s) + " '" HUBSYNC_BIN "' --config '" +
                         config_.string() + "' serve 2>&1");
    });
  }
  ~ServeOnA() {
    wait();
    if (::testing::Test::HasFailure()) std::cerr << "serve exited " << out_.code << ":\n" << out_.out << '\n';
  }
  const CommandOutput& wait() {
    if (thread_.joinable()) thread_.join();
    return out_;
  }

 private:
  fs::path config_;
  CommandOutput out_;
  std::thread thread_;
};

// A's database dumped to a file, and later restored from it in place.
fs::path dump_a(const TwoDatabases& t) {
  const fs::path dump = t.h->dir / "backup.sql";
  auto backup = run_command("pg_dump --no-owner -f " + shell_quote(dump.string()) + " " + shell_quote(t.h->db.dsn()) +
                            " 2>&1");
  EXPECT_EQ(backup.code, 0) << backup.out;
  return dump;
}
bool restore_a(const TwoDatabases& t, const fs::path& dump) {
  // A serve running beside may hold a lock the drop needs while it waits
  // for one the drop took: PostgreSQL then cancels one side (SQLSTATE
  // 40P01), and an operator would run the drop again.
  for (int attempt = 1;; ++attempt) {
    try {
      t.h->db.exec("DROP SCHEMA hubsync CASCADE; DROP TABLE public.people CASCADE");
      break;
    } catch (const std::exception& e) {
      if (attempt == 5 || std::string(e.what()).find("deadlock detected") == std::string::npos) throw;
    }
  }
  auto restore = run_command("psql -q -v ON_ERROR_STOP=1 -f " + shell_quote(dump.string()) + " " +
                             shell_quote(t.h->db.dsn()) + " 2>&1");
  EXPECT_EQ(restore.code, 0) << restore.out;
  return restore.code == 0;
}

bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 200 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return done();
}

TEST(DatabaseIdentity, AStateFileOfAnotherDatabaseStopsRunPlanAndServeBeforeTheyTouchAnything) {
  HUBSYNC_REQUIRE_PG(server);
  auto t = synced_a(server);
  const std::string before = contacts(*t.h);
  ASSERT_THAT(before, HasSubstr("ann@a.io Ann"));
  const std::string a = database_id(t.h->db), b = database_id(*t.b);
  ASSERT_THAT(a, MatchesRegex("[0-9a-f-]{36}"));
  ASSERT_NE(a, b);

  auto run = hubsync(t.config_b, "run --once");
  EXPECT_EQ(run.code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("the state store " + t.state.string() + " holds 2 links (people: 2) made with "
                                 "database " + a + ", and this database is " + b));
  EXPECT_THAT(run.out, HasSubstr("or a new state file to link its records again by match value"));
  EXPECT_THAT(run.out, HasSubstr("nothing was synced"));
  // status, which a health check runs, says what run and serve would do.
  auto status = hubsync(t.config_b, "status --offline");
  EXPECT_EQ(status.code, 1) << status.out;
  EXPECT_THAT(status.out, HasSubstr("state store: reachable, NOT MADE WITH THIS DATABASE OR PORTAL"));
  EXPECT_EQ(hubsync(t.config_a, "status --offline").code, 0);
  auto plan = hubsync(t.config_b, "plan");
  EXPECT_EQ(plan.code, 1) << plan.out;
  EXPECT_THAT(plan.out, HasSubstr("made with database " + a + ", and this database is " + b));
  // serve stops at start (with the check gone it would serve until killed).
  const fs::path serving = t.config_like_a("serve-b.yaml", {{t.h->db.dsn(), t.b->dsn()}});
  std::ofstream(serving, std::ios::app) << "webhook: {listen: '127.0.0.1:" << free_port() << "'}\n";
  auto serve = run_command("timeout 20 '" HUBSYNC_BIN "' --config '" + serving.string() + "' serve 2>&1");
  EXPECT_EQ(serve.code, 1) << serve.out;
  EXPECT_THAT(serve.out, HasSubstr("made with database " + a));

  // Nothing was written anywhere: HubSpot's contacts, B's rows.
  EXPECT_EQ(contacts(*t.h), before);
  EXPECT_EQ(people(*t.b), "1 cat@b.io Cat, 2 dan@b.io Dan");
  // A with its own state file goes on; B with a new one links by match value.
  t.h->db.exec("UPDATE people SET name = 'Ann2' WHERE email = 'ann@a.io'");
  auto again = hubsync(t.config_a, "run --once");
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(t.h->live_by("contacts", "email").at("ann@a.io").props.at("firstname"), "Ann2");
  const fs::path fresh = t.config_like_a(
      "b-own.yaml", {{t.h->db.dsn(), t.b->dsn()}, {t.state.string(), (t.h->dir / "b-state.db").string()}});
  auto own = hubsync(fresh, "run --once");
  EXPECT_EQ(own.code, 0) << own.out;
  const auto live = t.h->live_by("contacts", "email");
  EXPECT_EQ(live.size(), 4u);
  EXPECT_EQ(live.at("bob@a.io").props.at("firstname"), "Bob");
  EXPECT_EQ(live.at("cat@b.io").props.at("firstname"), "Cat");
}

TEST(DatabaseIdentity, MigrateKeepsTheIdAndARestoredDumpKeepsSyncingWithTheSameStateFile) {
  HUBSYNC_REQUIRE_PG(server);
  auto t = synced_a(server);
  const std::string id = database_id(t.h->db);
  ASSERT_EQ(hubsync(t.config_a, "migrate").code, 0);
  EXPECT_EQ(database_id(t.h->db), id);

  TempDatabase restored(server);
  auto copy = run_command("pg_dump --no-owner " + shell_quote(t.h->db.dsn()) + " | psql -q -v ON_ERROR_STOP=1 " +
                          shell_quote(restored.dsn()) + " 2>&1");
  ASSERT_EQ(copy.code, 0) << copy.out;
  EXPECT_EQ(database_id(restored), id);
  const fs::path config = t.config_like_a("restored.yaml", {{t.h->db.dsn(), restored.dsn()}});
  restored.exec("UPDATE people SET name = 'Bob2' WHERE email = 'bob@a.io'");
  auto run = hubsync(config, "run --once");
  EXPECT_EQ(run.code, 0) << run.out;
  const auto live = t.h->live_by("contacts", "email");
  EXPECT_EQ(live.size(), 2u);
  EXPECT_EQ(live.at("bob@a.io").props.at("firstname"), "Bob2");
}

// A backup restored after the database moved on (changes captured and
// synced since) has the same id but an older change counter: its rows are
// older than the store's links and last agreed values. The run refuses
// before an old value overwrites HubSpot or a new row takes another's
// contact by a reused key.
TEST(DatabaseIdentity, ADatabaseRestoredFromAnOlderBackupIsRefused) {
  HUBSYNC_REQUIRE_PG(server);
  auto t = synced_a(server);
  TempDatabase older(server);
  auto copy = run_command("pg_dump --no-owner " + shell_quote(t.h->db.dsn()) + " | psql -q -v ON_ERROR_STOP=1 " +
                          shell_quote(older.dsn()) + " 2>&1");
  ASSERT_EQ(copy.code, 0) << copy.out;
  t.h->db.exec("UPDATE people SET name = 'Ann-new' WHERE email = 'ann@a.io'");
  t.h->db.exec("INSERT INTO people (email, name) VALUES ('eve@a.io', 'Eve')");
  ASSERT_EQ(hubsync(t.config_a, "run --once").code, 0);
  const std::string before = contacts(*t.h);

  const fs::path config = t.config_like_a("older.yaml", {{t.h->db.dsn(), older.dsn()}});
  older.exec("INSERT INTO people (email, name) VALUES ('fay@a.io', 'Fay')");  // id 3, Eve's in the store
  auto run = hubsync(config, "run --once");
  EXPECT_EQ(run.code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("this database went back: its change counter is at"));
  EXPECT_THAT(run.out, HasSubstr("restored from an older backup"));
  EXPECT_EQ(contacts(*t.h), before);
  // The database it was taken from goes on.
  EXPECT_EQ(hubsync(t.config_a, "run --once").code, 0);
}

// A backup restored between two runs, then written to by the application
// (50 rows) before the next run: the counter is past what the store saw,
// but the mark the database holds is the backup's, older than the one the
// last run made after its writes, so the next run still refuses. Without
// the mark it pushed the restored rows: a reused key took Eve's contact.
TEST(DatabaseIdentity, ABackupRestoredBetweenRunsIsRefusedHoweverFarTheApplicationsWritesCarryTheCounter) {
  HUBSYNC_REQUIRE_PG(server);
  auto t = synced_a(server);
  const fs::path dump = dump_a(t);
  t.h->db.exec("INSERT INTO people (email, name) VALUES ('eve@a.io', 'Eve')");  // key 3
  auto second = hubsync(t.config_a, "run --once");
  ASSERT_EQ(second.code, 0) << second.out;
  const std::string before = contacts(*t.h);
  ASSERT_THAT(before, HasSubstr("eve@a.io Eve"));
  const std::string marked = t.h->db.scalar("SELECT value FROM hubsync.settings WHERE key = 'sync_mark'");

  ASSERT_TRUE(restore_a(t, dump));
  EXPECT_LT(std::stoll("0" + t.h->db.scalar("SELECT coalesce(max(value), '') FROM hubsync.settings "
                                            "WHERE key = 'sync_mark'")),
            std::stoll(marked));
  t.h->db.exec("INSERT INTO people (email, name) SELECT 'x' || g || '@a.io', 'X' FROM generate_series(1, 50) g");
  ASSERT_EQ(t.h->db.scalar("SELECT email FROM people WHERE id = 3"), "x1@a.io");  // Eve's key in the store
  auto run = hubsync(t.config_a, "run --once");
  EXPECT_EQ(run.code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("this database went back: the last mark it holds is"));
  EXPECT_THAT(run.out, HasSubstr("marked it at " + marked));
  EXPECT_THAT(run.out, HasSubstr("nothing was synced"));
  EXPECT_EQ(contacts(*t.h), before);  // Eve's contact is Eve's
  auto status = hubsync(t.config_a, "status --offline");
  EXPECT_EQ(status.code, 1) << status.out;
  EXPECT_THAT(status.out, HasSubstr("state store: reachable, NEWER THAN THIS DATABASE (restored from an older backup)"));
  EXPECT_THAT(status.out, HasSubstr("this database went back: the last mark it holds is"));
}

// The same restore under a running serve: it checks the database before
// every step's work, so the first step after the restore stops it (exit 1)
// before the backup's rows reach HubSpot or a reused key takes another
// person's contact. Before, only a start or a SIGHUP checked.
TEST(DatabaseIdentity, ADatabaseRestoredUnderARunningServeStopsIt) {
  HUBSYNC_REQUIRE_PG(server);
  auto t = synced_a(server);
  const fs::path dump = dump_a(t);
  ServeOnA serve(t, 60);
  // serve syncs what happened after the backup: Eve takes key 3.
  t.h->db.exec("INSERT INTO people (email, name) VALUES ('eve@a.io', 'Eve')");
  ASSERT_TRUE(eventually([&] { return t.h->live_by("contacts", "email").count("eve@a.io") == 1; }))
      << "serve did not sync the new row";
  const std::string before = contacts(*t.h);

  // The backup is restored into the same database while serve runs, and the
  // application goes on: a new person takes key 3, Eve's in the store.
  ASSERT_TRUE(restore_a(t, dump));
  t.h->db.exec("INSERT INTO people (email, name) VALUES ('fay@a.io', 'Fay')");
  ASSERT_EQ(t.h->db.scalar("SELECT id FROM people WHERE email = 'fay@a.io'"), "3");
  const auto& out = serve.wait();
  EXPECT_EQ(out.code, 1) << out.out;
  EXPECT_THAT(out.out, HasSubstr("this database went back"));
  EXPECT_EQ(contacts(*t.h), before);  // Eve's contact is Eve's
}

// The race behind a restore under a running serve: serve checked the
// database, then it was restored, then serve marked it. The mark the
// restored database gives is below the one the store holds; recorded, it
// would let the restored database pass every later check.
TEST(DatabaseIdentity, AMarkMadeOnADatabaseRestoredSinceItsLastCheckIsRefusedNotRecorded) {
  HUBSYNC_REQUIRE_PG(server);
  auto t = synced_a(server);
  ASSERT_TRUE(t.h->store->upsert_link("people", model::RecordKey{{"1"}}.encoded(), "1000001").ok());
  const fs::path dump = dump_a(t);
  t.h->db.exec("INSERT INTO people (email, name) VALUES ('eve@a.io', 'Eve')");
  auto first = pipeline::mark_database(*t.h->pg, *t.h->store);
  ASSERT_TRUE(first.ok()) << first.error().message;
  const auto recorded_mark = [&] {
    auto c = t.h->store->get_checkpoint("", "fingerprint mark");
    return c.ok() && *c ? (*c)->value : std::string("(none)");
  };
  ASSERT_EQ(recorded_mark(), std::to_string(*first));

  ASSERT_TRUE(restore_a(t, dump));
  auto again = pipeline::mark_database(*t.h->pg, *t.h->store);
  ASSERT_FALSE(again.ok()) << "marked the restored database at " << *again;
  EXPECT_EQ(again.error().category, pipeline::kIdentityCategory);
  EXPECT_THAT(again.error().message, HasSubstr("this database went back: the last mark it holds is"));
  EXPECT_EQ(recorded_mark(), std::to_string(*first)) << "the store keeps the higher mark";
}

// A backup taken while serve ran, restored after serve marked the database
// again, then written to by the application faster than serve looks: the
// change counter is soon past serve's last mark, but the mark the database
// holds is the backup's, older than serve's, so serve still stops.
TEST(DatabaseIdentity, ARestoreThatTheApplicationsWritesCarryPastServesMarkStillStopsIt) {
  HUBSYNC_REQUIRE_PG(server);
  auto t = synced_a(server);
  ServeOnA serve(t, 30);
  const auto mark = [&] {
    return std::stoll("0" + t.h->db.scalar("SELECT coalesce(max(value), '') FROM hubsync.settings "
                                           "WHERE key = 'sync_mark'"));
  };
  t.h->db.exec("INSERT INTO people (email, name) VALUES ('eve@a.io', 'Eve')");
  ASSERT_TRUE(eventually([&] { return t.h->live_by("contacts", "email").count("eve@a.io") == 1 && mark() > 0; }));
  const fs::path dump = dump_a(t);
  // serve syncs a change after the backup, and marks the database again.
  const auto backed_up = mark();
  t.h->db.exec("INSERT INTO people (email, name) VALUES ('gus@a.io', 'Gus')");
  ASSERT_TRUE(eventually([&] { return t.h->live_by("contacts", "email").count("gus@a.io") == 1 && mark() > backed_up; }));
  const std::string before = contacts(*t.h);

  // Restored, then 50 writes of the application at once: the counter is
  // past serve's mark before serve's next look.
  ASSERT_TRUE(restore_a(t, dump));
  t.h->db.exec("INSERT INTO people (email, name) SELECT 'x' || g || '@a.io', 'X' FROM generate_series(1, 50) g");
  const auto& out = serve.wait();
  EXPECT_EQ(out.code, 1) << out.out;
  EXPECT_THAT(out.out, HasSubstr("this database went back: the last mark it holds is"));
  EXPECT_EQ(contacts(*t.h), before);  // Gus's contact is Gus's
}

// Deletes what the state file recorded of its database and portal: a
// state file from before they were recorded.
void forget_identity(const fs::path& state) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(state.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, "DELETE FROM checkpoints WHERE mapping = '' AND cursor_name LIKE 'fingerprint %'",
                              nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  EXPECT_EQ(sqlite3_changes(db), 5);  // the database, the portal, the change counter, its mark, the token's portal
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST(DatabaseIdentity, AnOldStateFileIsTakenAndRecordsItsDatabase) {
  HUBSYNC_REQUIRE_PG(server);
  auto t = synced_a(server);
  forget_identity(t.state);
  t.h->db.exec("UPDATE people SET name = 'Ann2' WHERE email = 'ann@a.io'");
  auto run = hubsync(t.config_a, "run --once");
  EXPECT_EQ(run.code, 0) << run.out;
  EXPECT_EQ(t.h->live_by("contacts", "email").at("ann@a.io").props.at("firstname"), "Ann2");
  // Recorded again: B is refused.
  const std::string before = contacts(*t.h);
  auto other = hubsync(t.config_b, "run --once");
  EXPECT_EQ(other.code, 1) << other.out;
  EXPECT_THAT(other.out, HasSubstr("made with database " + database_id(t.h->db)));
  EXPECT_EQ(contacts(*t.h), before);
  // The recorded identity is no mapping's checkpoint: status does not list it.
  EXPECT_THAT(hubsync(t.config_a, "status --offline").out, Not(HasSubstr("fingerprint")));
}

TEST(DatabaseIdentity, AnotherPortalIdThanTheTokensStopsTheRun) {
  HUBSYNC_REQUIRE_PG(server);
  auto t = synced_a(server);
  const std::string before = contacts(*t.h);
  const fs::path other = t.config_like_a("portal.yaml", {{"portal_id: 62515", "portal_id: 70001"}});
  t.h->db.exec("UPDATE people SET name = 'Ann2' WHERE email = 'ann@a.io'");
  auto run = hubsync(other, "run --once");
  EXPECT_EQ(run.code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("the HubSpot token (config file) is for HubSpot portal 62515, but "
                                 "hubspot.portal_id is 70001"));
  EXPECT_THAT(run.out, HasSubstr("nothing was synced"));
  EXPECT_THAT(run.out, Not(HasSubstr(sim::kHubsyncToken)));
  EXPECT_EQ(contacts(*t.h), before);
  // Put back, the edit made meanwhile goes out.
  auto back = hubsync(t.config_a, "run --once");
  EXPECT_EQ(back.code, 0) << back.out;
  EXPECT_EQ(t.h->live_by("contacts", "email").at("ann@a.io").props.at("firstname"), "Ann2");
}

// A private app token is one portal's, whatever the config says. The same
// config and state file given the token of another portal (a sandbox
// seeded with the same people, a second brand) would update the old
// portal's object ids there: each answers 404, reads as deleted, and the
// edited row is deleted in Postgres. run, plan, serve and status ask HubSpot
// which portal the token is for (GET /account-info/v3/details): another than
// hubspot.portal_id is refused, and with hubspot.portal_id unset, another
// than the one the links were made with.
constexpr const char* kSandboxToken = "pat-sim-sandbox";

TEST(DatabaseIdentity, ATokenOfAnotherPortalStopsRunPlanServeAndStatus) {
  HUBSYNC_REQUIRE_PG(server);
  auto t = synced_a(server);
  sim::SimulatorOptions so;
  so.portal_id = 70001;
  so.tokens = {{kSandboxToken, sim::kHubsyncAppId}};  // a token is one portal's
  so.rate_limits = false;
  so.index_lag_ms = 0;
  sim::Simulator sandbox(so);
  sandbox.start();
  sandbox.ui_create("contacts", {{"email", "ann@a.io"}, {"firstname", "Ann"}});
  const auto sandbox_before = sandbox.dump_json("contacts");
  t.h->db.exec("UPDATE people SET name = 'Ann2' WHERE email = 'ann@a.io'");
  const std::string rows = people(t.h->db);

  // hubspot.portal_id still says the old portal: the token contradicts it.
  const fs::path swapped = t.config_like_a("sandbox.yaml", {{t.h->sim.base_url(), sandbox.base_url()}, {sim::kHubsyncToken, kSandboxToken}});
  auto run = hubsync(swapped, "run --once");
  EXPECT_EQ(run.code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("is for HubSpot portal 70001, but hubspot.portal_id is 62515"));
  auto plan = hubsync(swapped, "plan");
  EXPECT_EQ(plan.code, 1) << plan.out;
  EXPECT_THAT(plan.out, HasSubstr("is for HubSpot portal 70001, but hubspot.portal_id is 62515"));
  auto status = hubsync(swapped, "status");
  EXPECT_EQ(status.code, 1) << status.out;
  EXPECT_THAT(status.out, HasSubstr("hubspot: reachable, TOKEN OF ANOTHER PORTAL"));

  // hubspot.portal_id unset: the links' portal is the one checked.
  const fs::path unset = t.config_like_a(
      "sandbox-unset.yaml",
      {{t.h->sim.base_url(), sandbox.base_url()}, {sim::kHubsyncToken, kSandboxToken}, {"portal_id: 62515, ", ""}});
  auto unset_run = hubsync(unset, "run --once");
  EXPECT_EQ(unset_run.code, 1) << unset_run.out;
  EXPECT_THAT(unset_run.out, HasSubstr("holds 2 links (people: 2) made with HubSpot portal 62515, and the "
                                       "HubSpot token is for portal 70001"));
  auto unset_status = hubsync(unset, "status --json");
  EXPECT_EQ(unset_status.code, 1) << unset_status.out;
  EXPECT_THAT(unset_status.out, HasSubstr("\"hubspot_portal\":70001"));
  std::ofstream(unset, std::ios::app) << "webhook: {listen: '127.0.0.1:" << free_port() << "'}\n";
  auto serve = run_command("timeout 20 '" HUBSYNC_BIN "' --config '" + unset.string() + "' serve 2>&1");
  EXPECT_EQ(serve.code, 1) << serve.out;
  EXPECT_THAT(serve.out, HasSubstr("made with HubSpot portal 62515, and the HubSpot token is for portal 70001"));

  // Nothing was written on either side.
  EXPECT_EQ(sandbox.dump_json("contacts"), sandbox_before);
  EXPECT_EQ(people(t.h->db), rows);
  // The right portal's token, with portal_id unset, syncs and is recorded.
  const fs::path home = t.config_like_a("home-unset.yaml", {{"portal_id: 62515, ", ""}});
  auto back = hubsync(home, "run --once");
  EXPECT_EQ(back.code, 0) << back.out;
  EXPECT_EQ(t.h->live_by("contacts", "email").at("ann@a.io").props.at("firstname"), "Ann2");
  auto home_status = hubsync(home, "status");
  EXPECT_EQ(home_status.code, 0) << home_status.out;
  EXPECT_THAT(home_status.out, HasSubstr("hubspot: reachable (the token is for portal 62515)"));
}

// HubSpot is asked once per token: the answer is kept in the state store
// under a one-way fingerprint of the token. A token new to a store with
// links, while HubSpot cannot say whose it is, syncs nothing (exit 2, as
// for any unreachable dependency); the same token as before goes on.
TEST(DatabaseIdentity, ANewTokenIsAskedOnceAndNothingSyncsWhileHubSpotCannotSayWhoseItIs) {
  HUBSYNC_REQUIRE_PG(server);
  auto t = synced_a(server);
  const auto asked = [&t] {
    std::int64_t n = 0;
    for (const auto& [route, statuses] : t.h->sim.counters().requests)
      if (route.find("/account-info/") != std::string::npos)
        for (const auto& [status, count] : statuses) n += count;
    return n;
  };
  sim::FaultRule down;
  down.route = "/account-info/*";
  down.pct_500 = 100;
  t.h->sim.set_faults({down});
  t.h->sim.reset_counters();
  // The token of the first run: known, HubSpot is not asked.
  t.h->db.exec("UPDATE people SET name = 'Ann2' WHERE email = 'ann@a.io'");
  auto same = hubsync(t.config_a, "run --once");
  EXPECT_EQ(same.code, 0) << same.out;
  EXPECT_EQ(asked(), 0);
  EXPECT_EQ(t.h->live_by("contacts", "email").at("ann@a.io").props.at("firstname"), "Ann2");

  // Another token (another app of the same portal), HubSpot will not answer.
  const fs::path other = t.config_like_a(
      "other-token.yaml", {{sim::kHubsyncToken, sim::kOtherToken}, {"portal_id: 62515,", "portal_id: 62515, retry_for_s: 1,"}});
  t.h->db.exec("UPDATE people SET name = 'Ann3' WHERE email = 'ann@a.io'");
  auto run = hubsync(other, "run --once");
  EXPECT_EQ(run.code, 2) << run.out;
  EXPECT_THAT(run.out, HasSubstr("HubSpot unreachable while asking which portal the HubSpot token (config file) is "
                                 "for (HTTP 500"));
  EXPECT_THAT(run.out, HasSubstr("it is new to this state store"));
  EXPECT_THAT(run.out, HasSubstr("nothing was synced"));
  EXPECT_EQ(t.h->live_by("contacts", "email").at("ann@a.io").props.at("firstname"), "Ann2");
  std::ofstream(other, std::ios::app) << "webhook: {listen: '127.0.0.1:" << free_port() << "'}\n";
  auto serve = run_command("timeout 20 '" HUBSYNC_BIN "' --config '" + other.string() + "' serve 2>&1");
  EXPECT_EQ(serve.code, 2) << serve.out;
  EXPECT_THAT(serve.out, HasSubstr("serve: HubSpot unreachable while asking which portal"));

  // HubSpot answers: the same portal, so the run goes on and the answer is kept.
  t.h->sim.set_faults({});
  const auto before = asked();
  auto answered = hubsync(other, "run --once");
  EXPECT_EQ(answered.code, 0) << answered.out;
  EXPECT_EQ(asked(), before + 1);
  EXPECT_EQ(t.h->live_by("contacts", "email").at("ann@a.io").props.at("firstname"), "Ann3");
  EXPECT_EQ(hubsync(other, "run --once").code, 0);
  EXPECT_EQ(asked(), before + 1);
}

}  // namespace
}  // namespace hubsync::test
