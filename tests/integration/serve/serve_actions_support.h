#pragma once

// The workflow action tests' fixture: `hubsync serve` with the people
// mapping's actions, registered by `hubsync actions apply` in the simulator,
// whose workflow knob then calls serve with signed requests and retries as
// HubSpot does.
#include <regex>

#include "tests/integration/serve/serve_support.h"
#include "tests/support/process.h"

namespace hubsync::test {

/// The two-way people mapping with a stage column; the actions follow.
inline const std::string kPeopleWithStage =
    std::string(kServePeople) + "  - {column: stage, property: lifecyclestage, type: enumeration}\n";

inline const std::string kPeopleWithActions = kPeopleWithStage + R"(actions:
  - {name: people_lookup, kind: lookup, columns: [name, stage]}
  - {name: people_set_stage, kind: write, columns: [stage], label: "Set stage in Postgres"}
  - {name: people_sync, kind: sync_now}
)";

class ServeActions : public ServeFixture {
 protected:
  void SetUp() override {
    listen_port_ = free_port();
    ServeFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    h_->db.exec("CREATE TABLE people_updates (n int)");
    h_->db.exec(
        "CREATE FUNCTION count_update() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO people_updates VALUES (1); RETURN NEW; END $$");
    h_->db.exec("CREATE TRIGGER counted AFTER UPDATE ON people FOR EACH ROW EXECUTE FUNCTION count_update()");
  }
  std::string table_sql() const override {
    return "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text, stage text)";
  }
  std::string mapping_yaml() const override { return kPeopleWithActions; }
  std::string webhook_yaml() const override {
    const std::string base = "http://127.0.0.1:" + std::to_string(listen_port_);
    return "webhook: {listen: '127.0.0.1:" + std::to_string(listen_port_) + "', client_secret: '" +
           sim::kOAuthClientSecret + "', public_url: '" + base + "/webhooks/hubspot'}\n" +
           "actions: {app_id: " + std::to_string(sim::kHubsyncAppId) + ", developer_api_key: '" +
           sim::kDeveloperApiKey + "', answer_within_ms: " + std::to_string(answer_within_ms()) + "}\n";
  }
  virtual int answer_within_ms() const { return 5000; }

  CommandOutput hubsync(const std::string& args) {
    return run_command("'" HUBSYNC_BIN "' --config '" + config_.string() + "' " + args);
  }

  /// `actions apply`, then the definition id of each of the `declared`
  /// actions from `actions plan`.
  std::map<std::string, std::string> apply_actions(std::size_t declared = 3) {
    auto applied = hubsync("actions apply");
    EXPECT_EQ(applied.code, 0) << applied.out;
    auto plan = hubsync("actions plan");
    std::map<std::string, std::string> ids;
    const std::regex line("unchanged ([a-z_]+) \\(definition ([0-9A-Za-z-]+)\\)");
    for (auto it = std::sregex_iterator(plan.out.begin(), plan.out.end(), line); it != std::sregex_iterator(); ++it)
      ids[(*it)[1]] = (*it)[2];
    EXPECT_EQ(ids.size(), declared) << plan.out;
    return ids;
  }

  /// A row inserted in Postgres, pushed by serve; its contact id.
  std::string linked_person(const std::string& email, const std::string& name, const std::string& stage) {
    h_->db.exec("INSERT INTO people (email, name, stage) VALUES ('" + email + "', '" + name + "', '" + stage + "')");
    std::string id;
    EXPECT_TRUE(eventually([&] {
      auto live = h_->live_by("contacts", "email");
      auto it = live.find(email);
      if (it == live.end()) return false;
      id = it->second.id;
      return true;
    })) << log_tail(log_);
    return id;
  }

  sim::ActionExecution run_action(const std::string& definition, const std::string& object_id,
                                  const std::string& inputs = "{}", int lose = 0) {
    sim::WorkflowEnrollment e;
    e.definition_id = definition;
    e.object_id = object_id;
    e.input_fields_json = inputs;
    e.lose_responses = lose;
    const auto cb = h_->sim.enroll_in_workflow(e);
    return h_->sim.wait_execution(cb, std::chrono::seconds(30), [](const sim::ActionExecution& x) {
      return x.state != "pending" && x.state != "running" && x.state != "blocked";
    });
  }

  /// The simulator's batch reads answer after `ms`: a sync_now outlasts a short answer time.
  static sim::FaultRule slow_reads(int ms) {
    sim::FaultRule slow;
    slow.route = "/crm/v3/objects/*/batch/read";
    slow.latency_min_ms = slow.latency_max_ms = ms;
    return slow;
  }
  /// HubSpot answers every callback completion 500, until the test lifts it.
  static sim::FaultRule failing_callbacks() {
    sim::FaultRule failing;
    failing.route = "/automation/v4/actions/callbacks/*";
    failing.pct_500 = 100;
    return failing;
  }
  /// Enrolls the object in a workflow that calls `definition`; the callback id.
  std::string enroll(const std::string& definition, const std::string& object_id) {
    sim::WorkflowEnrollment e;
    e.definition_id = definition;
    e.object_id = object_id;
    return h_->sim.enroll_in_workflow(e);
  }

  int listen_port_ = 0;
};

}  // namespace hubsync::test
