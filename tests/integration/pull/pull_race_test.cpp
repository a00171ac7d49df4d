// A Postgres writer racing the pull: a row changed after the pull read it
// and before its write landed (an application transaction holding the row
// while the pull waits on its lock) is neither overwritten nor lost. The
// pull leaves it, and merges it again at its letter's retry.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <pqxx/pqxx>
#include <thread>

#include "engine/ops/logging.h"
#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kPeopleSql =
    "CREATE TABLE people (id serial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text, company text);"
    "INSERT INTO people (email, first_name, company) VALUES ('ann@x.io', 'Ann', 'Acme')";

std::string people(const std::string& conflict) {
  return "name: people\npostgres: {table: public.people, key: id}\n"
         "hubspot: {object: contacts, match: email}\nconflict: " + conflict + "\n"
         "fields:\n  - {column: email, property: email}\n  - {column: first_name, property: firstname}\n"
         "  - {column: company, property: company}\n";
}

std::unique_ptr<PushHarness> synced(const std::string& server, const std::string& conflict) {
  auto h = quick_harness(server, kPeopleSql, {people(conflict)});
  h->migrate();
  push_ok(*h, "people");
  pull_ok(*h, "people");
  return h;
}

// Pulls the objects of every pending to_postgres letter again; how many.
std::int64_t retry_letters(PushHarness& h) {
  pipeline::Puller puller(h.mapping("people"), h.by_name, *h.pg, h.hubspot->crm, *h.store, h.clock,
                          ops::logger("pull"), {});
  auto retried = puller.retry_dead_letters(true);
  EXPECT_TRUE(retried.ok()) << retried.error().message;
  return retried.ok() ? *retried : -1;
}

// HubSpot edits `props` while an application transaction changes
// `set_sql` on the row and commits only after the pull is blocked on it.
pipeline::PullStats pull_racing(PushHarness& h, const std::map<std::string, std::string>& props,
                                const std::string& set_sql) {
  h.sim.ui_edit("contacts", h.live_by("contacts", "email").at("ann@x.io").id, props);
  pqxx::connection app{h.db.dsn()};
  pqxx::work tx{app};
  tx.exec("UPDATE people SET " + set_sql + " WHERE email = 'ann@x.io'");
  auto pulled = std::async(std::launch::async, [&] { return pull_ok(h, "people"); });
  // The pull reads the row as committed (unchanged), decides, then waits on the lock.
  EXPECT_EQ(pulled.wait_for(std::chrono::milliseconds(700)), std::future_status::timeout);
  tx.commit();
  return pulled.get();
}

TEST(PullRace, ARowChangedWhileThePullWaitsToWriteItIsNotOverwritten) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "postgres");

  auto pulled = pull_racing(*h, {{"firstname", "Ann-HS"}}, "first_name = 'Ann-PG'");
  EXPECT_EQ(pulled.updated, 0);
  EXPECT_EQ(pulled.changed_meanwhile, 1);
  EXPECT_EQ(pulled.dead_lettered, 0);
  EXPECT_EQ(pulled.conflicts, 0);  // decided on what it read: not a conflict that happened
  EXPECT_EQ(h->db.scalar("SELECT first_name FROM people"), "Ann-PG");

  // The push sends the application's change (its rule lets Postgres win),
  // and the retried pull finds both sides agreeing: the letter goes.
  EXPECT_EQ(push_ok(*h, "people").updated, 1);
  EXPECT_EQ(h->live_by("contacts", "email").at("ann@x.io").props.at("firstname"), "Ann-PG");
  EXPECT_EQ(retry_letters(*h), 1);
  EXPECT_TRUE(h->store->list_dead_letters({})->empty());
  EXPECT_EQ(h->db.scalar("SELECT first_name FROM people"), "Ann-PG");
}

// The guard is on the row, not on the written columns: a change to another
// column leaves HubSpot's edit for the retry too, which then applies it
// beside the application's change (nothing lost on either side).
TEST(PullRace, ARowWhoseOtherColumnChangedMeanwhileGetsHubSpotsEditAtTheRetry) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = synced(server, "newest");

  auto pulled = pull_racing(*h, {{"firstname", "Ann-HS"}}, "company = 'Beta'");
  EXPECT_EQ(pulled.changed_meanwhile, 1);
  EXPECT_EQ(h->db.scalar("SELECT first_name || '|' || company FROM people"), "Ann|Beta");
  EXPECT_EQ(retry_letters(*h), 1);
  EXPECT_EQ(h->db.scalar("SELECT first_name || '|' || company FROM people"), "Ann-HS|Beta");
  push_ok(*h, "people");
  auto c = h->live_by("contacts", "email").at("ann@x.io");
  EXPECT_EQ(c.props.at("firstname") + "|" + c.props.at("company"), "Ann-HS|Beta");
}

}  // namespace
}  // namespace hubsync::test
