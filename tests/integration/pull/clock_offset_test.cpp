// Clocks that differ (TESTING.md, time): `conflict: newest` compares the
// time Postgres captured a change with HubSpot's property time. Each comes
// from its own system's clock, so hubsync measures how far each clock is
// from its own and compares the times on one clock. Here HubSpot's clock
// (the simulator's) is ten minutes ahead of, or behind, this host's and
// Postgres's, or this host's is ahead of both: the edit made later still
// wins, in the pull and in the push's check. (pull_windows_test has the
// sweep's windows under a HubSpot clock ten days behind.)
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "engine/ops/logging.h"
#include "engine/pipeline/clock_frames.h"
#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr std::int64_t kTenMinutes = 10 * 60 * 1000;

constexpr const char* kSql =
    "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text, last_name text)";
std::string people(const std::string& conflict = "newest") {
  return "name: people\npostgres: {table: public.people, key: id}\nhubspot: {object: contacts, match: email}\n"
         "conflict: " + conflict + "\n"
         "fields:\n  - {column: email, property: email}\n  - {column: first_name, property: firstname}\n"
         "  - {column: last_name, property: lastname}\n";
}

std::int64_t system_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Between the two sides' edits: more than a Date header's second, the
// most a correction learnt from a few of HubSpot's answers can be off by.
void pause() { std::this_thread::sleep_for(std::chrono::milliseconds(1100)); }

// Ann Lee synced both ways, on a simulator whose clock is `offset_ms` from this host's.
SyncedAnn synced_ann(const std::string& server, std::int64_t offset_ms, const std::string& conflict = "newest") {
  auto so = quick_sim_options();
  so.clock = [offset_ms] { return system_ms() + offset_ms; };
  return test::synced_ann(server, kSql, people(conflict), so);
}

// first_name in Postgres and in HubSpot, and the conflict recorded.
void expect_both(PushHarness& h, const std::string& first, const std::string& rule) {
  EXPECT_EQ(h.db.scalar("SELECT first_name FROM people"), first);
  EXPECT_EQ(h.live_by("contacts", "email").at("a@x.io").props["firstname"], first);
  EXPECT_EQ(conflict_rules(h, "people"), (std::map<std::string, std::string>{{"first_name", rule}}));
}

// HubSpot's user edits first_name, then (later) Postgres does.
void hubspot_then_postgres(PushHarness& h, const std::string& id) {
  h.sim.ui_edit("contacts", id, {{"firstname", "HS-older"}});
  pause();
  h.db.exec("UPDATE people SET first_name = 'PG-newer'");
}

// Postgres edits first_name, then (later) HubSpot's user does.
void postgres_then_hubspot(PushHarness& h, const std::string& id) {
  h.db.exec("UPDATE people SET first_name = 'PG-older'");
  pause();
  h.sim.ui_edit("contacts", id, {{"firstname", "HS-newer"}});
}

TEST(ClockOffset, ANewerPostgresEditWinsThoughHubSpotsClockIsTenMinutesAhead) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, id] = synced_ann(server, kTenMinutes);
  hubspot_then_postgres(*h, id);
  EXPECT_EQ(pull_ok(*h, "people").conflicts, 1);
  push_ok(*h, "people");
  expect_both(*h, "PG-newer", "newest:postgres");
}

TEST(ClockOffset, ANewerHubSpotEditWinsThoughHubSpotsClockIsTenMinutesBehind) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, id] = synced_ann(server, -kTenMinutes);
  postgres_then_hubspot(*h, id);
  EXPECT_EQ(pull_ok(*h, "people").conflicts, 1);
  push_ok(*h, "people");
  expect_both(*h, "HS-newer", "newest:hubspot");
}

// The push runs first: its check reads HubSpot's time, ten minutes ahead,
// and still sends the newer Postgres edit.
TEST(ClockOffset, ThePushsCheckSendsANewerPostgresEditThoughHubSpotsClockIsTenMinutesAhead) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, id] = synced_ann(server, kTenMinutes);
  hubspot_then_postgres(*h, id);
  auto pushed = push_ok(*h, "people");
  EXPECT_EQ(pushed.left_to_pull, 0);
  EXPECT_EQ(h->live_by("contacts", "email").at("a@x.io").props["firstname"], "PG-newer");
  pull_ok(*h, "people");
  expect_both(*h, "PG-newer", "newest:postgres");
}

// The push's check the other way: HubSpot's edit is the newer one though
// its time reads ten minutes before Postgres's.
TEST(ClockOffset, ThePushsCheckLeavesANewerHubSpotEditToThePullThoughHubSpotsClockIsTenMinutesBehind) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, id] = synced_ann(server, -kTenMinutes);
  postgres_then_hubspot(*h, id);
  EXPECT_EQ(push_ok(*h, "people").left_to_pull, 1);
  pull_ok(*h, "people");
  expect_both(*h, "HS-newer", "newest:hubspot");
}

// A push stopped between HubSpot's write and its commit left a write
// intent; HubSpot's user then edited the field. HubSpot's clock is ten
// minutes behind: the recovery still sees the edit came after the intent
// started, takes the intent's value as the base, and the edit reaches
// Postgres, though `conflict: postgres` would let the Postgres value win a conflict.
TEST(ClockOffset, AWriteIntentIsSettledOnHubSpotsClockAndTheEditAfterItLands) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, id] = synced_ann(server, -kTenMinutes, "postgres");
  h->db.exec("UPDATE people SET first_name = 'PG-new'");
  auto link = h->store->find_link_by_hubspot_id("people", id);
  ASSERT_TRUE(link.ok() && *link);
  state::WriteIntent in{(*link)->pg_key, id, "a@x.io", {}, h->clock.wall_ms()};
  in.fields["first_name"] = state::SyncedField{"PG-new", in.started_at_ms, 0};
  ASSERT_TRUE(h->store->record_intents("people", {in}).ok());
  h->sim.ui_edit("contacts", id, {{"firstname", "PG-new"}});  // the write arrived; its commit did not
  pause();
  h->sim.ui_edit("contacts", id, {{"firstname", "HS-after"}});
  push_ok(*h, "people");
  pull_ok(*h, "people");
  EXPECT_EQ(h->db.scalar("SELECT first_name FROM people"), "HS-after");
  EXPECT_EQ(h->live_by("contacts", "email").at("a@x.io").props["firstname"], "HS-after");
  EXPECT_TRUE(conflict_rules(*h, "people").empty());
}

// This host's clock is ten minutes ahead of Postgres's and HubSpot's, which
// agree: both systems' times are put on this host's clock, Postgres's by a
// reading of its clock, so they compare as they did.
TEST(ClockOffset, ANewerPostgresEditWinsThoughThisHostsClockIsTenMinutesAheadOfBoth) {
  HUBSYNC_REQUIRE_PG(server);
  auto [h, id] = synced_ann(server, 0);
  h->clock.shift_ms = kTenMinutes;
  hubspot_then_postgres(*h, id);
  EXPECT_EQ(pull_ok(*h, "people").conflicts, 1);
  push_ok(*h, "people");
  expect_both(*h, "PG-newer", "newest:postgres");
}

// The reading itself: a time Postgres stamped, put on a host clock ten
// minutes ahead, is ten minutes later (to within the round trips); a
// field with one side's time unknown is left as it is, and Postgres is not asked.
TEST(ClockOffset, APostgresTimeIsPutOnThisHostsClockByAReadingOfPostgressClock) {
  HUBSYNC_REQUIRE_PG(server);
  auto h = quick_harness(server, kSql, {people()});
  h->migrate();
  h->clock.shift_ms = kTenMinutes;
  pipeline::ClockFrames frames(*h->pg, h->hubspot->crm, h->clock, *ops::logger("pull"));
  reconcile::FieldState one_known;
  one_known.pg_changed_at_ms = 1'000'000;
  frames.align(one_known);
  EXPECT_EQ(one_known.pg_changed_at_ms, 1'000'000);
  const std::int64_t at = std::stoll(h->db.scalar(
      "SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint"));
  const std::int64_t on_ours = frames.from_postgres(at);
  EXPECT_GE(on_ours, at + kTenMinutes - 50);
  EXPECT_LE(on_ours, at + kTenMinutes + 50);
  EXPECT_EQ(frames.from_postgres(0), 0) << "unknown stays unknown";
  h->clock.shift_ms = 0;
  pipeline::ClockFrames same(*h->pg, h->hubspot->crm, h->clock, *ops::logger("pull"));
  EXPECT_EQ(same.from_postgres(at), at) << "clocks that may agree are not corrected";
}

}  // namespace
}  // namespace hubsync::test
