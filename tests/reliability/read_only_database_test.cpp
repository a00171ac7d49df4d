// The database made read-only (a failover to a replica, a maintenance
// switch): `run --once` stops with an error that names the cause, keeps
// every change it could not apply, and converges once writes are back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/integration/push/push_harness.h"
#include "tests/support/people.h"
#include "tests/support/process.h"

namespace hubsync::test {
namespace {

using ::testing::HasSubstr;

TEST(ReadOnlyDatabase, RunStopsNamingItAndConvergesWhenWritesAreBack) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, people_table_sql("bigserial"), {kPeopleMapping});
  h->db.exec("INSERT INTO people (email, first_name, city) VALUES ('a@example.com', 'A', 'Oslo')");
  h->migrate();
  std::filesystem::create_directories(h->dir / "mappings");
  std::ofstream(h->dir / "mappings" / "people.yaml") << kPeopleMapping;
  const std::string config = (h->dir / "hubsync.yaml").string();
  std::ofstream(config) << h->config_yaml();
  const std::string run = "'" HUBSYNC_BIN "' --config '" + config + "' run --once";
  ASSERT_EQ(run_command(run).code, 0);

  // HubSpot changes while the database only reads.
  const auto id = h->live_by("contacts", "email").at("a@example.com").id;
  h->sim.ui_edit("contacts", id, {{"city", "Bergen"}});
  const std::string created = h->sim.ui_create("contacts", {{"email", "b@example.com"}, {"firstname", "B"}});
  h->db.exec("ALTER DATABASE \"" + h->db.name() + "\" SET default_transaction_read_only = on");
  const auto refused = run_command(run);
  EXPECT_NE(refused.code, 0) << refused.out;
  EXPECT_THAT(refused.out, HasSubstr("read-only")) << refused.out;
  EXPECT_EQ(h->db.scalar("SELECT city FROM people WHERE email = 'a@example.com'"), "Oslo");

  h->db.exec("SET TRANSACTION READ WRITE; ALTER DATABASE \"" + h->db.name() +
             "\" SET default_transaction_read_only = off");
  const auto resumed = run_command(run);
  EXPECT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_EQ(h->db.scalar("SELECT city FROM people WHERE email = 'a@example.com'"), "Bergen");
  EXPECT_EQ(h->db.scalar("SELECT first_name FROM people WHERE email = 'b@example.com'"), "B");
  EXPECT_EQ(h->db.scalar("SELECT count(*) FROM people"), "2");
  EXPECT_EQ(h->live_by("contacts", "email").size(), 2u);
  (void)created;
}

}  // namespace
}  // namespace hubsync::test
