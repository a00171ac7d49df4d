// The operator's path through the real binary against PostgreSQL and the
// simulator: schema plan/apply (idempotent), validate, migrate, run --once
// with associations and a link table, exit code 3 and dead-letters
// list/retry/discard.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/push/push_harness.h"
#include "tests/support/process.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class CliPushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HUBSYNC_REQUIRE_PG(server);
    std::ifstream sql(source_dir() + "/mappings/demo.sql");
    std::stringstream text;
    text << sql.rdbuf();
    h_ = std::make_unique<PushHarness>(server, text.str(), std::vector<std::string>{});
    fs::create_directories(h_->dir / "mappings");
    for (const char* f : {"customers.yaml", "accounts.yaml", "events.yaml", "registrations.yaml"})
      fs::copy_file(source_dir() + "/mappings/" + f, h_->dir / "mappings" / f);
    std::ofstream(h_->dir / "hubsync.yaml") << h_->config_yaml();
  }

  CommandOutput run(const std::string& args) {
    return run_command("'" HUBSYNC_BIN "' --config '" + (h_->dir / "hubsync.yaml").string() + "' " + args);
  }

  std::unique_ptr<PushHarness> h_;
};

TEST_F(CliPushTest, DemoMappingsSyncEndToEnd) {
  auto invalid = run("validate");
  EXPECT_EQ(invalid.code, 1) << invalid.out;
  EXPECT_THAT(invalid.out, HasSubstr("run `hubsync schema apply`"));

  auto plan = run("schema plan");
  EXPECT_EQ(plan.code, 0) << plan.out;
  EXPECT_THAT(plan.out, HasSubstr("create object event"));
  auto apply = run("schema apply");
  EXPECT_EQ(apply.code, 0) << apply.out;
  auto again = run("schema apply");
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_THAT(again.out, HasSubstr("0 change(s) applied"));

  auto valid = run("validate");
  EXPECT_EQ(valid.code, 0) << valid.out;
  ASSERT_EQ(run("migrate").code, 0);

  auto first = run("run --once");
  EXPECT_EQ(first.code, 0) << first.out;
  EXPECT_THAT(first.out, HasSubstr("customers (to_hubspot): created 4"));
  EXPECT_THAT(first.out, HasSubstr("events (to_hubspot): created 2"));
  auto contacts = h_->live_by("contacts", "email");
  EXPECT_EQ(contacts.size(), 4u);  // the 'test' row is filtered out
  EXPECT_EQ(contacts.at("ada@acme.example").props.at("lifecyclestage"), "customer");
  EXPECT_EQ(contacts.at("ada@acme.example").props.at("hubsync_mrr"), "1299");
  EXPECT_EQ(h_->live_by("companies", "hubsync_account_code").size(), 3u);

  // Associations: Ada's company, and her event registrations.
  auto assoc = h_->hubspot->crm.associations("contacts", "companies",
                                             {contacts.at("ada@acme.example").id});
  ASSERT_TRUE(assoc.ok()) << assoc.error().message;
  ASSERT_EQ(assoc->size(), 1u);
  EXPECT_EQ(assoc->front().to.size(), 1u);
  auto regs = h_->hubspot->crm.associations("contacts", "p_event", {contacts.at("ada@acme.example").id});
  ASSERT_TRUE(regs.ok()) << regs.error().message;
  ASSERT_EQ(regs->size(), 1u);
  EXPECT_EQ(regs->front().to.size(), 2u);  // Ada registered for both events

  // A second run with nothing new makes no write.
  h_->sim.reset_counters();
  auto idle = run("run --once");
  EXPECT_EQ(h_->calls("batch/upsert") + h_->calls("batch/update") + h_->calls("batch/archive"), 0)
      << idle.out;

  // A row HubSpot refuses: exit 3, listed, retried, discarded.
  h_->db.exec("UPDATE customers SET email = 'broken-email' WHERE id = 3");
  auto partial = run("run --once");
  EXPECT_EQ(partial.code, 3) << partial.out;
  EXPECT_THAT(partial.out, HasSubstr("dead-lettered"));
  auto listed = run("dead-letters list");
  EXPECT_EQ(listed.code, 0);
  EXPECT_THAT(listed.out, HasSubstr("customers  to_hubspot  key=3"));
  EXPECT_THAT(listed.out, HasSubstr("broken-email"));
  const auto hash = listed.out.find('#');
  ASSERT_NE(hash, std::string::npos);
  const std::string id = listed.out.substr(hash + 1, listed.out.find(' ', hash) - hash - 1);
  auto retried = run("dead-letters retry " + id);
  EXPECT_EQ(retried.code, 0) << retried.out;
  EXPECT_EQ(run("run --once").code, 3);  // still broken: dead-lettered again
  auto relisted = run("dead-letters list");
  const auto hash2 = relisted.out.find('#');
  ASSERT_NE(hash2, std::string::npos);
  const std::string id2 = relisted.out.substr(hash2 + 1, relisted.out.find(' ', hash2) - hash2 - 1);
  EXPECT_EQ(run("dead-letters discard " + id2 + " --reason 'bad data'").code, 0);
  EXPECT_THAT(run("dead-letters list").out, HasSubstr("no dead letters"));
  EXPECT_THAT(run("dead-letters list --all").out, HasSubstr("status=discarded"));
}

// `run` pushes nothing while the capture is not what the mappings need:
// an initial load would be checkpointed as done and later changes lost.
// mappings/README's "unique index on live rows only", for a mapping with
// soft deletes: a person deleted and signed up again has two rows. validate
// takes it (the pull takes the live row); a partial index on anything else
// is still no unique match column.
TEST_F(CliPushTest, ValidateTakesAMatchColumnUniqueAmongRowsNotSoftDeleted) {
  ASSERT_EQ(run("schema apply").code, 0);
  h_->db.exec("ALTER TABLE accounts DROP CONSTRAINT accounts_code_key;"
              "CREATE UNIQUE INDEX accounts_live_code ON accounts (code) WHERE deleted_at IS NULL");
  auto live = run("validate");
  EXPECT_EQ(live.code, 0) << live.out;
  EXPECT_THAT(live.out, HasSubstr("match column `code` is unique among rows not soft-deleted "
                                  "((deleted_at IS NULL)): the pull takes the live row"));
  h_->db.exec("DROP INDEX accounts_live_code; CREATE UNIQUE INDEX accounts_some_code ON accounts (code) WHERE employees > 0");
  auto other = run("validate");
  EXPECT_EQ(other.code, 1) << other.out;
  EXPECT_THAT(other.out, HasSubstr("match column `code` needs a unique index"));
}

TEST_F(CliPushTest, RunRefusesUntilCaptureIsCurrent) {
  h_->sim.reset_counters();
  auto before = run("run --once");
  EXPECT_EQ(before.code, 1) << before.out;
  EXPECT_THAT(before.out, HasSubstr("hubsync is not installed in this database (needed by mapping(s) "
                                    "accounts, customers, events, registrations): run `hubsync migrate`"));
  EXPECT_THAT(before.out, HasSubstr("run: nothing was synced: the change capture is not current"));

  ASSERT_EQ(run("migrate").code, 0);
  // The customers mapping gains a field and loses its filter, without migrate.
  std::string yaml;
  {
    std::ifstream in(h_->dir / "mappings" / "customers.yaml");
    std::stringstream text;
    text << in.rdbuf();
    yaml = text.str();
  }
  const auto filter = yaml.find("filter:");
  const auto deletes = yaml.find("deletes:");
  ASSERT_NE(filter, std::string::npos);
  yaml.erase(filter, deletes - filter);
  yaml.replace(yaml.find("fields:\n"), 8, "fields:\n  - { column: status, property: hs_lead_status, direction: to_hubspot }\n");
  std::ofstream(h_->dir / "mappings" / "customers.yaml") << yaml;
  auto stale = run("run --once");
  EXPECT_EQ(stale.code, 1) << stale.out;
  EXPECT_THAT(stale.out, HasSubstr("mapping customers: its filter.postgres was removed: the capture must watch "
                                   "the mapped columns: run `hubsync migrate`"));
  EXPECT_THAT(stale.out, Not(HasSubstr("mapping accounts")));
  EXPECT_EQ(h_->calls("batch/upsert") + h_->calls("batch/create") + h_->calls("batch/update"), 0);
  // Only the mapping being run is checked.
  auto other = run("run --once --mapping accounts");
  EXPECT_THAT(other.out, Not(HasSubstr("run `hubsync migrate`"))) << other.out;
}

}  // namespace
}  // namespace hubsync::test
