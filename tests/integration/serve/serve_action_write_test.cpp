// A workflow's write action against what HubSpot accepts and against another
// writer of its row: a value HubSpot would refuse at the push is refused
// before anything is written, and a row changed between the write's read
// and its write is decided again from what it then holds. A linked row the
// sync has left (soft-deleted, outside filter.postgres) is not written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "tests/integration/serve/serve_actions_support.h"

namespace hubsync::test {
namespace {

const std::string kPeopleWithTags = kPeopleWithStage + R"(  - {column: tags, property: hubsync_tags, type: multi_select}
  - {column: score, property: hubsync_score, type: decimal}
schema:
  properties:
    - {name: hubsync_tags, label: Tags, type: enumeration, field_type: checkbox, options: [vip, beta, partner]}
    - {name: hubsync_score, label: Score, type: number, field_type: number}
actions:
  - {name: people_set_tags, kind: write, columns: [tags]}
  - {name: people_set_profile, kind: write, columns: [name, stage]}
  - {name: people_set_score, kind: write, columns: [score]}
)";

class ServeActionWrites : public ServeActions {
 protected:
  std::string table_sql() const override {
    return "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text, stage text, "
           "tags text[], score numeric)";
  }
  std::string mapping_yaml() const override { return kPeopleWithTags; }

  /// The tags and score properties made in HubSpot, then the three actions registered; their ids.
  std::map<std::string, std::string> set_up_actions() {
    const auto schema = hubsync("schema apply");
    EXPECT_EQ(schema.code, 0) << schema.out;
    return apply_actions(3);
  }
  /// Changes of people captured and not yet pushed.
  std::string queued() { return pg("SELECT count(*) FROM hubsync.changelog WHERE mapping = 'people'"); }
  std::string row(const std::string& email) {
    return pg("SELECT concat_ws('|', name, stage, array_to_string(tags, ';')) FROM people WHERE email = '" + email +
              "'");
  }
  std::map<std::string, std::string> in_hubspot(const std::string& email) {
    return h_->live_by("contacts", "email").at(email).props;
  }
};

TEST_F(ServeActionWrites, AValueHubSpotWouldRefuseIsRefusedAndNothingIsWritten) {
  auto ids = set_up_actions();
  const auto contact = linked_person("ann@example.com", "Ann", "lead");
  h_->db.exec("UPDATE people SET tags = '{vip}' WHERE email = 'ann@example.com'");
  ASSERT_TRUE(eventually([&] { return in_hubspot("ann@example.com")["hubsync_tags"] == "vip" && queued() == "0"; }))
      << log_tail(log_);
  const auto updates = pg("SELECT count(*) FROM people_updates");

  // `gold` is no option of the multi-select: HubSpot would refuse the push.
  auto tags = run_action(ids["people_set_tags"], contact, R"({"hubsync_tags":"vip;gold"})");
  EXPECT_EQ(tags.state, "FAIL_CONTINUE") << log_tail(log_);
  EXPECT_EQ(tags.output_fields["hubsync_outcome"], "rejected");
  EXPECT_EQ(tags.output_fields["hubsync_reason"],
            "field tags (property hubsync_tags): 'gold' is not one of its options (vip, beta, partner); HubSpot "
            "would refuse it");
  // Nor is `gold` an option of the select: the valid name beside it is not written either.
  auto stage = run_action(ids["people_set_profile"], contact, R"({"firstname":"Annie","lifecyclestage":"gold"})");
  EXPECT_EQ(stage.state, "FAIL_CONTINUE");
  EXPECT_EQ(stage.output_fields["hubsync_outcome"], "rejected");
  EXPECT_NE(stage.output_fields["hubsync_reason"].find(
                "field stage (property lifecyclestage): 'gold' is not one of its options (subscriber, lead"),
            std::string::npos)
      << stage.output_fields["hubsync_reason"];
  // A value that is no number for a decimal column, named by its property.
  auto score = run_action(ids["people_set_score"], contact, R"({"hubsync_score":"lots"})");
  EXPECT_EQ(score.state, "FAIL_CONTINUE");
  EXPECT_EQ(score.output_fields["hubsync_outcome"], "rejected");
  EXPECT_THAT(score.output_fields["hubsync_reason"], ::testing::StartsWith("field score (property hubsync_score): "));
  EXPECT_THAT(score.output_fields["hubsync_reason"], ::testing::HasSubstr("lots"));
  // Nothing was written, nothing queued for the push, nothing dead-lettered.
  EXPECT_EQ(row("ann@example.com"), "Ann|lead|vip");
  EXPECT_EQ(pg("SELECT count(*) FROM people_updates"), updates);
  EXPECT_EQ(queued(), "0");

  // Valid values in the same deployment are written and reach HubSpot.
  auto good = run_action(ids["people_set_tags"], contact, R"({"hubsync_tags":"vip;beta"})");
  EXPECT_EQ(good.state, "SUCCESS") << log_tail(log_);
  EXPECT_EQ(good.output_fields["hubsync_outcome"], "written");
  EXPECT_EQ(row("ann@example.com"), "Ann|lead|vip;beta");
  EXPECT_TRUE(eventually([&] {
    const auto t = in_hubspot("ann@example.com")["hubsync_tags"];
    return (t == "vip;beta" || t == "beta;vip") && queued() == "0";
  })) << log_tail(log_);
  const auto status = hubsync("status --offline --json").out;
  EXPECT_NE(status.find(R"("dead_letters":0)"), std::string::npos) << status;
  EXPECT_EQ(status.find(R"("dead_letters":1)"), std::string::npos) << status;
}

// The write is decided on the row as read (which columns differ, written or
// unchanged): an application transaction that renames the row while the
// write waits for it must not leave the action's name unwritten.
TEST_F(ServeActionWrites, ARowChangedWhileTheWriteWaitsIsDecidedAgainFromWhatItHolds) {
  auto ids = set_up_actions();
  const auto contact = linked_person("bo@example.com", "Bo", "lead");
  pqxx::connection app{h_->db.dsn()};
  pqxx::work tx{app};
  tx.exec("UPDATE people SET name = 'Robert' WHERE email = 'bo@example.com'");
  sim::WorkflowEnrollment e;
  e.definition_id = ids["people_set_profile"];
  e.object_id = contact;
  e.input_fields_json = R"({"firstname":"Bo","lifecyclestage":"customer"})";
  const auto cb = h_->sim.enroll_in_workflow(e);
  // serve read the row as committed (its name already Bo), and waits to write the stage.
  EXPECT_TRUE(eventually([&] {
    return pg("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE%people%'") ==
           "1";
  })) << log_tail(log_);
  tx.commit();
  auto x = h_->sim.wait_execution(cb, std::chrono::seconds(30), [](const sim::ActionExecution& a) {
    return a.state != "pending" && a.state != "running" && a.state != "blocked";
  });
  EXPECT_EQ(x.state, "SUCCESS") << log_tail(log_);
  EXPECT_EQ(x.output_fields["hubsync_outcome"], "written");
  EXPECT_EQ(row("bo@example.com"), "Bo|customer") << "decided again on the renamed row: both values written";
  EXPECT_NE(log_tail(log_, 400).find("the row changed after it was read; deciding again"), std::string::npos);
  EXPECT_TRUE(eventually([&] {
    const auto c = in_hubspot("bo@example.com");
    return c.at("firstname") == "Bo" && c.at("lifecyclestage") == "customer" && queued() == "0";
  })) << log_tail(log_);
}

// Soft deletes, a filter whose leavers keep their objects, and at most one
// deletion an hour: rows can stay linked after the sync has left them.
const std::string kPeopleLeaving = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: both
filter: {postgres: "status <> 'test'", leaving: keep}
deletes: {soft: {column: deleted}}
max_deletes: 1
fields:
  - {column: email, property: email}
  - {column: name, property: firstname}
  - {column: stage, property: lifecyclestage, type: enumeration}
actions:
  - {name: people_lookup, kind: lookup, columns: [name, stage]}
  - {name: people_set_stage, kind: write, columns: [stage]}
  - {name: people_sync, kind: sync_now}
)";

class ServeActionsOnRowsLeft : public ServeActions {
 protected:
  std::string table_sql() const override {
    return "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text, stage text, "
           "status text NOT NULL DEFAULT 'active', deleted boolean NOT NULL DEFAULT false)";
  }
  std::string mapping_yaml() const override { return kPeopleLeaving; }
  std::string stage(const std::string& email) {
    return pg("SELECT stage FROM people WHERE email = '" + email + "'");
  }
};

// The pull writes neither row, and the push no longer sends them: a write
// action on either would land in Postgres only, and answer "written".
TEST_F(ServeActionsOnRowsLeft, ARowOutsideTheFilterOrSoftDeletedIsNotWrittenAndReadsAsNotLinked) {
  auto ids = apply_actions(3);
  const auto ann = linked_person("ann@example.com", "Ann", "lead");
  const auto bo = linked_person("bo@example.com", "Bo", "lead");
  linked_person("cy@example.com", "Cy", "lead");
  const auto dee = linked_person("dee@example.com", "Dee", "lead");
  h_->db.exec("UPDATE people SET status = 'test' WHERE email = 'ann@example.com'");
  // Two deletions against a limit of one: held, so both rows keep their links.
  h_->db.exec("UPDATE people SET deleted = true WHERE email IN ('bo@example.com', 'cy@example.com')");

  auto left = run_action(ids["people_set_stage"], ann, R"({"lifecyclestage":"customer"})");
  EXPECT_EQ(left.state, "SUCCESS") << log_tail(log_);
  EXPECT_EQ(left.output_fields["hubsync_outcome"], "not_linked");
  EXPECT_EQ(left.output_fields["hubsync_reason"],
            "the linked row of public.people is outside the mapping's filter.postgres");
  auto deleted = run_action(ids["people_set_stage"], bo, R"({"lifecyclestage":"customer"})");
  EXPECT_EQ(deleted.state, "SUCCESS");
  EXPECT_EQ(deleted.output_fields["hubsync_outcome"], "not_linked");
  EXPECT_EQ(deleted.output_fields["hubsync_reason"], "the linked row of public.people is soft-deleted (deleted)");
  EXPECT_EQ(stage("ann@example.com"), "lead");
  EXPECT_EQ(stage("bo@example.com"), "lead");
  for (const auto& id : {ann, bo}) {
    auto read = run_action(ids["people_lookup"], id);
    EXPECT_EQ(read.output_fields["hubsync_outcome"], "not_linked") << id;
    EXPECT_EQ(read.output_fields.count("firstname"), 0u) << id;
  }

  // A row still in the sync is written, and its value reaches HubSpot.
  auto kept = run_action(ids["people_set_stage"], dee, R"({"lifecyclestage":"customer"})");
  EXPECT_EQ(kept.output_fields["hubsync_outcome"], "written") << log_tail(log_);
  EXPECT_EQ(stage("dee@example.com"), "customer");
  EXPECT_TRUE(eventually([&] { return h_->live_by("contacts", "email").at("dee@example.com").props["lifecyclestage"] ==
                                      "customer"; }))
      << log_tail(log_);
}

}  // namespace
}  // namespace hubsync::test
