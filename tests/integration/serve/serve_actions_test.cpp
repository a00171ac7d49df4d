// Workflow custom actions end to end: `hubsync actions apply` registers the
// people mapping's actions in the simulator, whose workflow knob then calls
// a running `hubsync serve` with signed requests and retries as HubSpot does.
#include <gtest/gtest.h>

#include <regex>

#include "engine/webhook/signature.h"
#include "tests/integration/serve/serve_actions_support.h"
#include "tests/support/process.h"

namespace hubsync::test {
namespace {

TEST_F(ServeActions, ApplyRegistersTheActionsAndASecondApplyChangesNothing) {
  auto first = hubsync("actions plan");
  EXPECT_EQ(first.code, 0) << first.out;
  EXPECT_NE(first.out.find("create people_lookup"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("3 change(s) planned"), std::string::npos) << first.out;
  auto ids = apply_actions();
  auto second = hubsync("--log-level trace actions apply");
  EXPECT_EQ(second.code, 0) << second.out;
  EXPECT_NE(second.out.find("0 change(s) applied"), std::string::npos) << second.out;
  // The developer key rides on the query string: never in a log line, at
  // any level, nor in what config check shows.
  EXPECT_EQ(second.out.find(sim::kDeveloperApiKey), std::string::npos) << second.out;
  const auto shown = hubsync("config check");
  EXPECT_NE(shown.out.find("actions.developer_api_key"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find(sim::kDeveloperApiKey), std::string::npos) << shown.out;
  // Another app's definition under another URL is never touched; a changed
  // label is an update (a new revision), not a second definition.
  std::string yaml = kPeopleWithActions;
  yaml.replace(yaml.find("Set stage in Postgres"), 21, "Set the stage");
  std::ofstream(h_->dir / "mappings" / "people.yaml") << yaml;
  auto relabel = hubsync("actions apply");
  EXPECT_NE(relabel.out.find("updated people_set_stage (definition " + ids["people_set_stage"] + ", revision 2)"),
            std::string::npos)
      << relabel.out;
  EXPECT_NE(relabel.out.find("1 change(s) applied"), std::string::npos) << relabel.out;
  // Without the developer key nothing is listed, and the key never shows.
  auto bad = run_command("HUBSYNC_ACTIONS_DEVELOPER_API_KEY=wrong-key-123 '" HUBSYNC_BIN "' --config '" +
                         config_.string() + "' actions plan");
  EXPECT_NE(bad.code, 0) << bad.out;
  EXPECT_EQ(bad.out.find("wrong-key-123"), std::string::npos) << bad.out;
}

TEST_F(ServeActions, ALookupAnswersWithTheRowsLiveValues) {
  auto ids = apply_actions();
  const auto contact = linked_person("ann@example.com", "Ann", "lead");
  // Changed in Postgres without capture: only a live read can know it.
  h_->db.exec("BEGIN; SET LOCAL hubsync.origin = 'hubsync'; UPDATE people SET name = 'Annie' WHERE email = 'ann@example.com'; COMMIT");
  const auto x = run_action(ids["people_lookup"], contact);
  EXPECT_EQ(x.state, "SUCCESS") << log_tail(log_);
  EXPECT_EQ(x.completed_by, "response");
  EXPECT_EQ(x.output_fields.at("firstname"), "Annie");
  EXPECT_EQ(x.output_fields.at("lifecyclestage"), "lead");
  EXPECT_EQ(x.output_fields.at("hubsync_outcome"), "found");
  // A contact serve has not pulled: no webhook brings it before the action
  // (one could, and then it is linked and found).
  h_->sim.clear_webhook_subscriptions();
  const auto stranger = h_->sim.ui_create("contacts", {{"email", "zed@example.com"}});
  const auto y = run_action(ids["people_lookup"], stranger);
  EXPECT_EQ(y.output_fields.at("hubsync_outcome"), "not_linked");
}

// HubSpot signs an action call's timestamp on its clock, ten minutes ahead
// of this host's here (twice webhook.max_skew_ms): on time on HubSpot's
// clock as serve measured it, where this host's refused every call.
class ServeActionsClockAhead : public ServeActions {
 protected:
  sim::SimulatorOptions sim_options() const override { return clock_ahead(ServeActions::sim_options(), 600'000); }
};

TEST_F(ServeActionsClockAhead, ACallSignedOnHubSpotsClockTenMinutesAheadIsAnswered) {
  auto ids = apply_actions();
  const auto contact = linked_person("ann@example.com", "Ann", "lead");
  const auto x = run_action(ids["people_lookup"], contact);
  EXPECT_EQ(x.state, "SUCCESS") << log_tail(log_);
  EXPECT_EQ(x.output_fields.at("hubsync_outcome"), "found");
  EXPECT_EQ(x.output_fields.at("firstname"), "Ann");
}

TEST_F(ServeActions, AWriteRetriedByHubSpotChangesTheRowOnceAndReachesHubSpot) {
  auto ids = apply_actions();
  const auto contact = linked_person("bo@example.com", "Bo", "lead");
  const auto before = std::stoi(pg("SELECT count(*) FROM people_updates"));
  const auto x = run_action(ids["people_set_stage"], contact, R"({"lifecyclestage":"customer"})", /*lose=*/3);
  EXPECT_EQ(x.attempts, 4);
  EXPECT_EQ(x.state, "SUCCESS") << log_tail(log_);
  EXPECT_EQ(x.output_fields.at("hubsync_outcome"), "written");  // the recorded answer, every time
  EXPECT_EQ(pg("SELECT stage FROM people WHERE email = 'bo@example.com'"), "customer");
  EXPECT_EQ(std::stoi(pg("SELECT count(*) FROM people_updates")), before + 1);
  // Two-way: queued for the push, so HubSpot agrees.
  EXPECT_TRUE(eventually([&] {
    return h_->live_by("contacts", "email").at("bo@example.com").props["lifecyclestage"] == "customer";
  })) << log_tail(log_);
  // A value the column cannot take is rejected, with the reason, and nothing written.
  const auto bad = run_action(ids["people_set_stage"], contact, R"({})");
  EXPECT_EQ(bad.state, "FAIL_CONTINUE");
  EXPECT_EQ(bad.output_fields.at("hubsync_outcome"), "rejected");
  EXPECT_NE(bad.output_fields.at("hubsync_reason").find("lifecyclestage"), std::string::npos);
}

TEST_F(ServeActions, AWriteWhosePushQueueFailsChangesNothingAndItsRetryReachesHubSpot) {
  auto ids = apply_actions();
  const auto contact = linked_person("ivy@example.com", "Ivy", "lead");
  // The next row appended to the changelog fails once (as a dropped
  // connection would fail it), then the trigger lets everything through. A
  // sequence counts the attempts: unlike a table, a rollback keeps its count.
  h_->db.exec("CREATE SEQUENCE changelog_inserts");
  h_->db.exec(
      "CREATE FUNCTION fail_changelog_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "IF nextval('public.changelog_inserts') = 1 THEN RAISE EXCEPTION 'injected changelog failure'; END IF; "
      "RETURN NEW; END $$");
  h_->db.exec("CREATE TRIGGER fail_once BEFORE INSERT ON hubsync.changelog FOR EACH ROW "
              "EXECUTE FUNCTION fail_changelog_once()");
  const auto x = run_action(ids["people_set_stage"], contact, R"({"lifecyclestage":"customer"})");
  EXPECT_GE(std::stoi(pg("SELECT last_value FROM changelog_inserts")), 2) << "the failure was injected, then passed";
  ASSERT_GE(x.statuses.size(), 2u) << log_tail(log_);
  EXPECT_EQ(x.statuses.front(), 503);
  EXPECT_EQ(x.state, "SUCCESS") << log_tail(log_);
  // The failed attempt wrote nothing, so the retry wrote the row and queued it.
  EXPECT_EQ(x.output_fields.at("hubsync_outcome"), "written");
  EXPECT_EQ(pg("SELECT stage FROM people WHERE email = 'ivy@example.com'"), "customer");
  EXPECT_TRUE(eventually([&] {
    return h_->live_by("contacts", "email").at("ivy@example.com").props["lifecyclestage"] == "customer";
  })) << log_tail(log_);
}

// An execution that fails (answered 503: HubSpot retries it, up to its own
// limit, then gives up without telling hubsync) is shown as failed, with
// its error, by status and the health page, until a retry finishes it.
// Before, it counted as "running" for good.
TEST_F(ServeActions, AFailingExecutionIsShownAsFailedUntilARetryFinishesIt) {
  auto ids = apply_actions();
  const auto contact = linked_person("uma@example.com", "Uma", "lead");
  h_->db.exec("CREATE FUNCTION fail_changelog() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
              "RAISE EXCEPTION 'injected changelog failure'; END $$");
  h_->db.exec("CREATE TRIGGER fail_all BEFORE INSERT ON hubsync.changelog FOR EACH ROW "
              "EXECUTE FUNCTION fail_changelog()");
  sim::WorkflowEnrollment e;
  e.definition_id = ids["people_set_stage"];
  e.object_id = contact;
  e.input_fields_json = R"({"lifecyclestage":"customer"})";
  const auto cb = h_->sim.enroll_in_workflow(e);
  const auto actions = [&] {  // the "actions" object of status --json
    const auto s = run_command("'" HUBSYNC_BIN "' --config '" + config_.string() + "' status --offline --json").out;
    const auto at = s.find(R"("actions":{)");
    return at == std::string::npos ? s : s.substr(at, s.find('}', at) - at + 1);
  };
  EXPECT_TRUE(eventually([&] { return actions().find(R"("running":0,"failing":1,"last_failure":")") != std::string::npos; },
                         std::chrono::seconds(20), std::chrono::milliseconds(50)))
      << actions() << log_tail(log_);
  EXPECT_NE(actions().find("injected changelog failure"), std::string::npos) << actions();
  const auto text = run_command("'" HUBSYNC_BIN "' --config '" + config_.string() + "' status --offline").out;
  EXPECT_NE(text.find("1 FAILED at their last run, retried (last error: "), std::string::npos) << text;
  EXPECT_NE(http_get(listen_port_, "/").second.find(R"(<span data-field="failing" class="bad">1</span>)"),
            std::string::npos)
      << http_get(listen_port_, "/").second;

  h_->db.exec("DROP TRIGGER fail_all ON hubsync.changelog");
  const auto x = h_->sim.wait_execution(cb, std::chrono::seconds(60), [](const sim::ActionExecution& a) {
    return a.state != "pending" && a.state != "running";
  });
  EXPECT_EQ(x.state, "SUCCESS") << log_tail(log_);
  EXPECT_TRUE(eventually([&] { return actions().find(R"("running":0,"failing":0,"last_failure":null)") != std::string::npos; }))
      << actions();
}

TEST_F(ServeActions, SyncNowBringsAUiEditToPostgresBeforeItAnswers) {
  auto ids = apply_actions();
  const auto contact = linked_person("cy@example.com", "Cy", "lead");
  h_->sim.clear_webhook_subscriptions();  // only the action can bring it
  h_->sim.ui_edit("contacts", contact, {{"firstname", "Cyrus"}});
  const auto x = run_action(ids["people_sync"], contact);
  // Read once, at once: the pull happened before the answer.
  EXPECT_EQ(pg("SELECT name FROM people WHERE email = 'cy@example.com'"), "Cyrus") << log_tail(log_);
  EXPECT_EQ(x.state, "SUCCESS");
  EXPECT_EQ(x.output_fields.at("hubsync_outcome"), "synced");
  const auto again = run_action(ids["people_sync"], contact);
  EXPECT_EQ(again.output_fields.at("hubsync_outcome"), "unchanged");
}

TEST_F(ServeActions, AForgedOrStaleRequestRunsNothing) {
  auto ids = apply_actions();
  const auto contact = linked_person("di@example.com", "Di", "lead");
  const std::string path = "/hubspot/actions/people_set_stage";
  const std::string uri = "http://127.0.0.1:" + std::to_string(listen_port_) + path;
  const std::string body = R"({"callbackId":"ap-forged-1","origin":{"portalId":62515},"object":{"objectId":)" +
                           contact + R"(,"objectType":"CONTACT"},"inputFields":{"lifecyclestage":"customer"}})";
  const auto v2 = [&](const std::string& secret) {
    return "X-HubSpot-Signature: " + webhook::sign_v2(secret, "POST", uri, body) +
           "\r\nX-HubSpot-Signature-Version: v2\r\n";
  };
  EXPECT_EQ(http_post(listen_port_, path, body, "").first, 401);
  EXPECT_EQ(http_post(listen_port_, path, body, v2("not-the-secret")).first, 401);
  const std::string v1 = "X-HubSpot-Signature: " + webhook::sign_v1(sim::kOAuthClientSecret, body) + "\r\n";
  EXPECT_EQ(http_post(listen_port_, path, body, v1).first, 401);  // v1 does not sign the URL
  const std::string old_ts = std::to_string(ratelimit::SystemClock().wall_ms() - 3'600'000);
  const std::string stale = "X-HubSpot-Signature-v3: " +
                            webhook::sign_v3(sim::kOAuthClientSecret, "POST", uri, body, old_ts) +
                            "\r\nX-HubSpot-Request-Timestamp: " + old_ts + "\r\n";
  EXPECT_EQ(http_post(listen_port_, path, body, stale).first, 401);
  EXPECT_EQ(pg("SELECT stage FROM people WHERE email = 'di@example.com'"), "lead");
  // Correctly signed, but for an action nobody declared, or another object type.
  const auto unknown = http_post(listen_port_, "/hubspot/actions/nope", body,
                                 "X-HubSpot-Signature: " +
                                     webhook::sign_v2(sim::kOAuthClientSecret, "POST",
                                                      "http://127.0.0.1:" + std::to_string(listen_port_) +
                                                          "/hubspot/actions/nope",
                                                      body) +
                                     "\r\nX-HubSpot-Signature-Version: v2\r\n");
  EXPECT_EQ(unknown.first, 400) << unknown.second;
  std::string company = body;
  company.replace(company.find("CONTACT"), 7, "COMPANY");
  const std::string company_sig = "X-HubSpot-Signature: " +
                                  webhook::sign_v2(sim::kOAuthClientSecret, "POST", uri, company) +
                                  "\r\nX-HubSpot-Signature-Version: v2\r\n";
  EXPECT_EQ(http_post(listen_port_, path, company, company_sig).first, 400);
  EXPECT_EQ(pg("SELECT stage FROM people WHERE email = 'di@example.com'"), "lead");
  // The genuine request runs, once.
  const auto ok = http_post(listen_port_, path, body, v2(sim::kOAuthClientSecret));
  EXPECT_EQ(ok.first, 200) << ok.second;
  EXPECT_NE(ok.second.find(R"("hubsync_outcome":"written")"), std::string::npos) << ok.second;
  EXPECT_EQ(pg("SELECT stage FROM people WHERE email = 'di@example.com'"), "customer");
  const auto metrics = http_get(listen_port_, "/metrics").second;
  EXPECT_NE(metrics.find(R"(hubsync_action_requests_total{action="people_set_stage",outcome="forged"} 4)"),
            std::string::npos)
      << metrics;
  (void)ids;
}

TEST_F(ServeActions, ACallOrWebhookFromAnotherPortalIsRefusedAndTouchesNothing) {
  apply_actions();
  const auto contact = linked_person("hal@example.com", "Hal", "lead");
  const auto updates = pg("SELECT count(*) FROM people_updates");
  const std::string base = "http://127.0.0.1:" + std::to_string(listen_port_);
  // Signed with the app's secret, as HubSpot signs every portal's calls.
  const auto call = [&](const std::string& action, const std::string& inputs) {
    const std::string path = "/hubspot/actions/" + action;
    const std::string body = R"({"callbackId":"ap-77777-)" + action + R"(","origin":{"portalId":77777},)"
                             R"("object":{"objectId":)" + contact + R"(,"objectType":"CONTACT"},"inputFields":)" +
                             inputs + "}";
    return http_post(listen_port_, path, body,
                     "X-HubSpot-Signature: " + webhook::sign_v2(sim::kOAuthClientSecret, "POST", base + path, body) +
                         "\r\nX-HubSpot-Signature-Version: v2\r\n");
  };
  const auto write = call("people_set_stage", R"({"lifecyclestage":"customer"})");
  EXPECT_EQ(write.first, 403) << write.second;
  EXPECT_NE(write.second.find("portal 77777, not portal 62515 that hubsync syncs"), std::string::npos) << write.second;
  const auto lookup = call("people_lookup", "{}");
  EXPECT_EQ(lookup.first, 403) << lookup.second;
  EXPECT_EQ(lookup.second.find("Hal"), std::string::npos) << lookup.second;
  EXPECT_EQ(pg("SELECT stage FROM people WHERE email = 'hal@example.com'"), "lead");
  EXPECT_EQ(pg("SELECT count(*) FROM people_updates"), updates);
  const auto status = hubsync("status --offline --json").out;
  EXPECT_NE(status.find(R"("executions_24h":0)"), std::string::npos) << status;
  // A webhook event of another portal is acknowledged, never stored.
  const std::string event = R"([{"eventId":424242,"subscriptionId":5,"portalId":99999,"appId":1001,)"
                            R"("occurredAt":1700000000000,"subscriptionType":"contact.propertyChange",)"
                            R"("attemptNumber":0,"objectId":)" + contact +
                            R"(,"propertyName":"firstname","propertyValue":"Mallory","changeSource":"CRM_UI"}])";
  const std::string ts = std::to_string(ratelimit::SystemClock().wall_ms());
  const auto hook = http_post(listen_port_, "/webhooks/hubspot", event,
                              "X-HubSpot-Signature-v3: " +
                                  webhook::sign_v3(sim::kOAuthClientSecret, "POST", base + "/webhooks/hubspot", event,
                                                   ts) +
                                  "\r\nX-HubSpot-Request-Timestamp: " + ts + "\r\n");
  EXPECT_EQ(hook.first, 200) << hook.second;
  EXPECT_EQ(hook.second, R"({"events":1,"new":0})");
  const auto metrics = http_get(listen_port_, "/metrics").second;
  EXPECT_NE(metrics.find(R"(hubsync_action_requests_total{action="people_set_stage",outcome="other_portal"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(hubsync_action_requests_total{action="people_lookup",outcome="other_portal"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("hubsync_webhook_events_other_portal_total 1"), std::string::npos) << metrics;
  const auto log = log_tail(log_, 200);
  EXPECT_NE(log.find("the call is from portal 77777, not portal 62515 that hubsync syncs"), std::string::npos) << log;
  EXPECT_NE(log.find("portal=99999 expected_portal=62515"), std::string::npos) << log;
  EXPECT_EQ(pg("SELECT name FROM people WHERE email = 'hal@example.com'"), "Hal");
}

/// HubSpot calls give up after 1 s (hubspot.retry_for_s): a failing HubSpot
/// fails an action within its answer time.
class ServeActionsShortRetry : public ServeActions {
 protected:
  std::string hubspot_options() const override { return "retry_for_s: 1"; }
};

// HubSpot's error text can quote field values: README promises it is never
// logged, and the caller of an action is told no more than the log.
TEST_F(ServeActionsShortRetry, HubSpotsErrorMessageIsNeitherLoggedNorAnswered) {
  apply_actions();
  const auto contact = linked_person("kim@example.com", "Kim", "lead");
  sim::FaultRule failing;
  failing.route = "/crm/*";
  failing.pct_500 = 100;  // answered "Internal error (injected by hubspot-sim)"
  h_->sim.set_faults({failing});
  const std::string path = "/hubspot/actions/people_sync";
  const std::string body = R"({"callbackId":"ap-msg-1","origin":{"portalId":62515},"object":{"objectId":)" + contact +
                           R"(,"objectType":"CONTACT"},"inputFields":{}})";
  const std::string uri = "http://127.0.0.1:" + std::to_string(listen_port_) + path;
  const auto r = http_post(listen_port_, path, body,
                           "X-HubSpot-Signature: " + webhook::sign_v2(sim::kOAuthClientSecret, "POST", uri, body) +
                               "\r\nX-HubSpot-Signature-Version: v2\r\n");
  h_->sim.set_faults({});
  EXPECT_EQ(r.first, 503) << r.second;
  EXPECT_NE(r.second.find("HTTP 500"), std::string::npos) << r.second;
  EXPECT_EQ(r.second.find("injected by hubspot-sim"), std::string::npos) << r.second;
  const auto log = log_tail(log_, 400);
  EXPECT_NE(log.find("callback=ap-msg-1 failed: HTTP 500"), std::string::npos) << log;
  EXPECT_EQ(log.find("injected by hubspot-sim"), std::string::npos) << log;
}

/// Every run takes longer than serve may wait: answered BLOCK, completed
/// through the callback API.
class ServeActionsBlocked : public ServeActions {
 protected:
  int answer_within_ms() const override { return 10; }
};

TEST_F(ServeActionsBlocked, ASlowRunIsAnsweredBlockAndCompletedThroughTheCallbackApi) {
  auto ids = apply_actions();
  const auto contact = linked_person("ed@example.com", "Ed", "lead");
  h_->sim.set_faults({slow_reads(300)});
  h_->sim.clear_webhook_subscriptions();  // only the action's sync may bring the edit (no race with a webhook)
  h_->sim.ui_edit("contacts", contact, {{"firstname", "Edward"}});
  const auto x = run_action(ids["people_sync"], contact);
  EXPECT_EQ(x.state, "completed") << log_tail(log_);
  EXPECT_EQ(x.completed_by, "callback");
  EXPECT_EQ(x.statuses, std::vector<int>{200});
  EXPECT_EQ(x.output_fields.at("hubsync_outcome"), "synced");
  EXPECT_EQ(pg("SELECT name FROM people WHERE email = 'ed@example.com'"), "Edward");
}

TEST_F(ServeActionsBlocked, ACompletionHubSpotFailsIsRetriedUntilItIsAccepted) {
  auto ids = apply_actions();
  const auto contact = linked_person("flo@example.com", "Flo", "lead");
  h_->sim.set_faults({slow_reads(100), failing_callbacks()});
  const auto cb = enroll(ids["people_sync"], contact);
  const auto refused = [&] {
    std::int64_t n = 0;
    for (const auto& [route, by_status] : h_->sim.counters().requests)
      if (route.find("callbacks") != std::string::npos && by_status.count(500)) n += by_status.at(500);
    return n;
  };
  // While HubSpot refuses the completion, `status` says a workflow waits
  // (the client retries the 500s itself: the error is recorded only once its
  // retries are spent; the state store's test covers last_error).
  const auto status = [&] {  // the "actions" object of status --json
    const auto s = run_command("'" HUBSYNC_BIN "' --config '" + config_.string() + "' status --offline --json").out;
    const auto at = s.find(R"("actions":{)");
    return at == std::string::npos ? s : s.substr(at, s.find('}', at) - at + 1);
  };
  EXPECT_TRUE(eventually([&] {
    return refused() >= 2 && status().find(R"("awaiting_callback":1,"oldest_awaiting":"20)") != std::string::npos;
  }, std::chrono::seconds(30), std::chrono::milliseconds(100))) << status();
  // The health page says so too.
  EXPECT_NE(http_get(listen_port_, "/").second.find(R"(<span data-field="awaiting" class="bad">1</span>)"),
            std::string::npos)
      << http_get(listen_port_, "/").second;
  h_->sim.set_faults({slow_reads(100)});
  const auto x = h_->sim.wait_execution(cb, std::chrono::seconds(90),
                                        [](const sim::ActionExecution& a) { return a.state == "completed"; });
  EXPECT_EQ(x.state, "completed") << log_tail(log_);
  EXPECT_EQ(x.output_fields.at("hubsync_outcome"), "unchanged");
  EXPECT_TRUE(eventually([&] { return status().find(R"("awaiting_callback":0)") != std::string::npos; })) << status();
  EXPECT_NE(status().find(R"("executions_24h":1)"), std::string::npos) << status();
  EXPECT_GE(refused(), 2);
}

TEST_F(ServeActionsBlocked, ABlockedRunCutShortByACrashIsRunAgainAndCompleted) {
  auto ids = apply_actions();
  const auto contact = linked_person("gus@example.com", "Gus", "lead");
  h_->sim.clear_webhook_subscriptions();
  h_->sim.ui_edit("contacts", contact, {{"firstname", "Gustav"}});
  h_->sim.set_faults({slow_reads(3000)});
  const auto cb = enroll(ids["people_sync"], contact);
  ASSERT_EQ(h_->sim.wait_execution(cb, std::chrono::seconds(20), [](const sim::ActionExecution& a) {
                  return a.state == "blocked";
                }).state,
            "blocked");
  kill(pid_, SIGKILL);  // mid-run: the pull's read is still on its way
  ASSERT_EQ(wait_for_exit(pid_, 10000), 128);
  EXPECT_EQ(pg("SELECT name FROM people WHERE email = 'gus@example.com'"), "Gus");
  h_->sim.set_faults({});
  pid_ = spawn_hubsync(HUBSYNC_BIN, {"--config", config_.string(), "serve"}, log_);
  const auto x = h_->sim.wait_execution(cb, std::chrono::seconds(30),
                                        [](const sim::ActionExecution& a) { return a.state == "completed"; });
  EXPECT_EQ(x.state, "completed") << log_tail(log_);
  EXPECT_EQ(x.output_fields.at("hubsync_outcome"), "synced");
  EXPECT_EQ(pg("SELECT name FROM people WHERE email = 'gus@example.com'"), "Gustav");
}

/// Blocked, and HubSpot calls give up after 1 s: a failed completion is
/// logged within the test's patience.
class ServeActionsBlockedShortRetry : public ServeActionsBlocked {
 protected:
  std::string hubspot_options() const override { return "retry_for_s: 1"; }
};

TEST_F(ServeActionsBlockedShortRetry, ACompletionHubSpotFailsIsLoggedWithoutHubSpotsMessage) {
  auto ids = apply_actions();
  const auto contact = linked_person("lou@example.com", "Lou", "lead");
  h_->sim.set_faults({slow_reads(100), failing_callbacks()});  // answered "Internal error (injected by hubspot-sim)"
  const auto cb = enroll(ids["people_sync"], contact);
  EXPECT_TRUE(eventually([&] { return log_tail(log_, 400).find("completion failed (attempt 1): HTTP 500") !=
                                      std::string::npos; }, std::chrono::seconds(30)))
      << log_tail(log_);
  h_->sim.set_faults({});
  EXPECT_EQ(log_tail(log_, 400).find("injected by hubspot-sim"), std::string::npos) << log_tail(log_, 400);
  const auto x = h_->sim.wait_execution(cb, std::chrono::seconds(60),
                                        [](const sim::ActionExecution& a) { return a.state == "completed"; });
  EXPECT_EQ(x.state, "completed") << log_tail(log_);
}

}  // namespace
}  // namespace hubsync::test
