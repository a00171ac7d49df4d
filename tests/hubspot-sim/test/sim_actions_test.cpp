// Automation actions v4: custom action definitions (developer API key),
// workflow executions against a loopback action server, callbacks.
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "tests/hubspot-sim/http_server.h"
#include "tests/hubspot-sim/signatures.h"
#include "tests/hubspot-sim/test/sim_fixture.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim::test {
namespace {

const std::string kDefs = "/automation/v4/actions/1001";
const std::string kKey = "hapikey=sim-developer-key";

/// A custom action's server: records every request, answers from a script
/// (then `fallback`).
struct ActionServer {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<HttpRequest> requests;
  std::deque<HttpResponse> script;
  HttpResponse fallback = answer(200, R"({"outputFields":{"hs_execution_state":"SUCCESS","result":"ok"}})");
  std::unique_ptr<HttpServer> server;
  std::uint16_t port = 0;

  static HttpResponse answer(int status, std::string body = "{}") {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  ActionServer() {
    server = std::make_unique<HttpServer>(
        [this](HttpRequest& req) {
          std::lock_guard lock(mu);
          requests.push_back(req);
          cv.notify_all();
          if (script.empty()) return fallback;
          HttpResponse r = script.front();
          script.pop_front();
          return r;
        },
        1);
    port = server->listen(0);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/hubspot/action?tenant=a%20b"; }
  std::vector<HttpRequest> seen() {
    std::lock_guard lock(mu);
    return requests;
  }
};

std::string egg(const std::string& url, const std::string& name = "Sync to ERP") {
  return R"js({"actionUrl":")js" + url + R"js(","published":false,"objectTypes":["CONTACT","DEAL"],
    "functions":[{"functionType":"POST_ACTION_EXECUTION","functionSource":"exports.main = (e, cb) => cb({})"}],
    "inputFields":[{"typeDefinition":{"name":"plan","type":"string","fieldType":"text"},
                    "supportedValueTypes":["STATIC_VALUE"],"isRequired":true}],
    "outputFields":[{"typeDefinition":{"name":"erpId","type":"string","fieldType":"text"}}],
    "labels":{"en":{"actionName":")js" + name + R"js(","inputFieldLabels":{"plan":"Plan"}}}})js";
}

class SimActions : public SimTest {
 protected:
  void customize(SimulatorOptions& o) override {
    o.webhook_time_compression = 1000;  // retry backoff 1 s -> 1 ms
    o.action_timeout_ms = timeout_ms_;
  }
  Response dev(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_->request(method, path + (path.find('?') == std::string::npos ? "?" : "&") + kKey, body);
  }
  std::string create(const std::string& url, const std::string& name = "Sync to ERP") {
    auto r = dev("POST", kDefs, egg(url, name));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["id"].GetString();
  }
  std::string enroll(const std::string& def, int lose = 0) {
    WorkflowEnrollment e;
    e.definition_id = def;
    e.object_id = "123";
    e.input_fields_json = R"({"plan":"gold","seats":3})";
    e.workflow_id = 55;
    e.lose_responses = lose;
    return sim_->enroll_in_workflow(e);
  }
  ActionExecution settle(const std::string& callback_id) {
    return sim_->wait_execution(callback_id, std::chrono::seconds(10));
  }
  int timeout_ms_ = 2000;
  ActionServer action_;
};

TEST_F(SimActions, CreateGetPatchRevisionsArchive) {
  auto created = dev("POST", kDefs, egg(action_.url()));
  ASSERT_EQ(created.status, 201) << created.body;
  auto c = created.json();
  std::string id = c["id"].GetString();
  EXPECT_STREQ(c["revisionId"].GetString(), "1");
  EXPECT_STREQ(c["functions"][0]["functionType"].GetString(), "POST_ACTION_EXECUTION");
  EXPECT_TRUE(c["functions"][0]["id"].IsString());
  EXPECT_FALSE(c["functions"][0].HasMember("functionSource"));
  EXPECT_TRUE(c["inputFields"][0]["typeDefinition"]["options"].IsArray()) << "HubSpot's defaults filled in";
  EXPECT_STREQ(c["labels"]["en"]["actionName"].GetString(), "Sync to ERP");
  EXPECT_FALSE(c.HasMember("archivedAt"));

  auto got = dev("GET", kDefs + "/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, created.body);
  EXPECT_FALSE(got.has_header("x-hubspot-ratelimit-remaining")) << "developer API: not the portal's limit";

  auto patched = dev("PATCH", kDefs + "/" + id, R"({"actionUrl":"https://erp.example.com/v2","published":true})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  auto p = patched.json();
  EXPECT_STREQ(p["revisionId"].GetString(), "2");
  EXPECT_STREQ(p["actionUrl"].GetString(), "https://erp.example.com/v2");
  EXPECT_TRUE(p["published"].GetBool());
  EXPECT_STREQ(p["labels"]["en"]["actionName"].GetString(), "Sync to ERP") << "untouched keys stay";

  auto revs = dev("GET", kDefs + "/" + id + "/revisions");
  ASSERT_EQ(revs.status, 200);
  auto rv = revs.json();
  ASSERT_EQ(rv["results"].Size(), 2u);
  EXPECT_STREQ(rv["results"][0]["revisionId"].GetString(), "1");
  EXPECT_STREQ(rv["results"][0]["id"].GetString(), id.c_str());
  EXPECT_TRUE(parse_time_ms(rv["results"][0]["createdAt"].GetString()).has_value());
  auto first = dev("GET", kDefs + "/" + id + "/revisions/1").json();
  EXPECT_EQ(first["definition"]["actionUrl"].GetString(), action_.url());
  EXPECT_STREQ(first["definition"]["revisionId"].GetString(), "1");
  EXPECT_EQ(dev("GET", kDefs + "/" + id + "/revisions/3").status, 404);

  ASSERT_EQ(dev("DELETE", kDefs + "/" + id).status, 204);
  EXPECT_EQ(dev("GET", kDefs + "/" + id).status, 404);
  auto archived = dev("GET", kDefs + "/" + id + "?archived=true");
  ASSERT_EQ(archived.status, 200);
  EXPECT_TRUE(archived.json()["archivedAt"].IsInt64());
  EXPECT_EQ(dev("GET", kDefs).json()["results"].Size(), 0u);
  EXPECT_EQ(dev("GET", kDefs + "?archived=true").json()["results"].Size(), 1u);
  EXPECT_EQ(dev("PATCH", kDefs + "/" + id, R"({"published":false})").status, 404);
  EXPECT_EQ(dev("DELETE", kDefs + "/" + id).status, 404);
}

TEST_F(SimActions, ListPagesWithForwardPaging) {
  for (int i = 0; i < 3; ++i) create(action_.url(), "Action " + std::to_string(i));
  auto page1 = dev("GET", kDefs + "?limit=2").json();
  ASSERT_EQ(page1["results"].Size(), 2u);
  std::string after = page1["paging"]["next"]["after"].GetString();
  auto page2 = dev("GET", kDefs + "?limit=2&after=" + after).json();
  ASSERT_EQ(page2["results"].Size(), 1u);
  EXPECT_FALSE(page2.HasMember("paging"));
  EXPECT_STREQ(page2["results"][0]["labels"]["en"]["actionName"].GetString(), "Action 2");
  EXPECT_EQ(dev("GET", kDefs + "?limit=0").status, 400);
  EXPECT_EQ(dev("GET", kDefs + "?limit=101").status, 400);
}

TEST_F(SimActions, ValidationNamesTheField) {
  struct Case {
    std::string body;
    std::string field;
  };
  std::string good = egg(action_.url());
  auto without = [&](const std::string& member) {
    rapidjson::Document d;
    d.Parse(good.c_str());
    d.RemoveMember(member.c_str());
    return to_json(d);
  };
  std::vector<Case> cases = {
      {without("actionUrl"), "actionUrl"},
      {without("functions"), "functions"},
      {without("labels"), "labels"},
      {without("published"), "published"},
      {R"({"actionUrl":"x","published":false,"objectTypes":["CONTACT"],"functions":[],"inputFields":[],"labels":{"en":{"actionName":"A"}}})", "actionUrl"},
      {R"({"actionUrl":"http://a","published":"yes","objectTypes":["CONTACT"],"functions":[],"inputFields":[],"labels":{"en":{"actionName":"A"}}})", "published"},
      {R"({"actionUrl":"http://a","published":false,"objectTypes":["CONTACT"],"functions":[],"inputFields":[],"labels":{}})", "labels"},
      {R"({"actionUrl":"http://a","published":false,"objectTypes":["CONTACT"],"functions":[],"inputFields":[],"labels":{"en":{"actionDescription":"x"}}})", "labels.en.actionName"},
      {R"({"actionUrl":"http://a","published":false,"objectTypes":"CONTACT","functions":[],"inputFields":[],"labels":{"en":{"actionName":"A"}}})", "objectTypes"},
      {R"({"actionUrl":"http://a","published":false,"objectTypes":["CONTACT"],"functions":[],"inputFields":[{"isRequired":true,"typeDefinition":{"name":"a","type":"text"}}],"labels":{"en":{"actionName":"A"}}})", "inputFields[0].typeDefinition.type"},
      {R"({"actionUrl":"http://a","published":false,"objectTypes":["CONTACT"],"functions":[{"functionType":"NOPE","functionSource":""}],"inputFields":[],"labels":{"en":{"actionName":"A"}}})", "functions[0].functionType"},
      {R"({"actionUrl":"http://a","published":false,"objectTypes":["CONTACT"],"functions":[],"inputFields":[],"labels":{"en":{"actionName":"A"}},"objectType":"CONTACT"})", "objectType"},
  };
  for (const auto& c : cases) {
    auto r = dev("POST", kDefs, c.body);
    ASSERT_EQ(r.status, 400) << c.body;
    auto j = r.json();
    EXPECT_STREQ(j["category"].GetString(), "VALIDATION_ERROR");
    EXPECT_EQ(j["errors"][0]["in"].GetString(), c.field) << j["message"].GetString();
    EXPECT_NE(std::string(j["message"].GetString()).find(c.field), std::string::npos);
  }
  std::string id = create(action_.url());
  auto patch = dev("PATCH", kDefs + "/" + id, R"({"functions":[]})");
  EXPECT_EQ(patch.status, 400) << "functions are not part of PublicActionDefinitionPatch";
  EXPECT_STREQ(dev("GET", kDefs + "/" + id).json()["revisionId"].GetString(), "1") << "a refused PATCH makes no revision";
}

TEST_F(SimActions, DeveloperKeyAndApp) {
  auto none = client_->post(kDefs, egg(action_.url()));  // a bearer token is not the developer key
  EXPECT_EQ(none.status, 401);
  EXPECT_STREQ(none.json()["category"].GetString(), "INVALID_AUTHENTICATION");
  EXPECT_EQ(client_->get(kDefs + "?hapikey=wrong").status, 401);
  EXPECT_EQ(dev("GET", "/automation/v4/actions/2002").status, 404);
  EXPECT_EQ(dev("GET", "/automation/v4/actions/app").status, 400);
  EXPECT_EQ(dev("GET", kDefs + "/424242").status, 404);
  auto c = sim_->counters();
  EXPECT_EQ(c.requests["GET /automation/v4/actions/{appId}/{definitionId}"][404], 1);
  EXPECT_EQ(c.requests["POST /automation/v4/actions/{appId}"][401], 1);
}

TEST_F(SimActions, SuccessIsRecordedAndTheRequestIsSigned) {
  std::string def = create(action_.url());
  std::string cb = enroll(def);
  EXPECT_EQ(cb.rfind("ap-62515-", 0), 0u) << cb;
  EXPECT_EQ(cb.substr(cb.size() - 2), "-0");
  auto x = settle(cb);
  EXPECT_EQ(x.state, "SUCCESS");
  EXPECT_EQ(x.completed_by, "response");
  EXPECT_EQ(x.attempts, 1);
  EXPECT_EQ(x.statuses, std::vector<int>{200});
  EXPECT_EQ(x.output_fields["result"], "ok");
  EXPECT_EQ(x.definition_id, def);

  auto reqs = action_.seen();
  ASSERT_EQ(reqs.size(), 1u);
  const HttpRequest& req = reqs[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/hubspot/action?tenant=a%20b");
  EXPECT_EQ(req.header("content-type"), "application/json");
  EXPECT_EQ(req.header("x-hubspot-signature-version"), "v2");
  EXPECT_EQ(req.header("x-hubspot-signature"), signature_v2(kOAuthClientSecret, "POST", action_.url(), req.body));
  std::int64_t ts = std::stoll(req.header("x-hubspot-request-timestamp"));
  EXPECT_EQ(ts, now_.load()) << "signed on the portal's clock, as HubSpot signs on its own";
  EXPECT_EQ(req.header("x-hubspot-signature-v3"), signature_v3(kOAuthClientSecret, "POST", action_.url(), req.body, ts));
  rapidjson::Document b;
  b.Parse(req.body.c_str());
  EXPECT_EQ(b["callbackId"].GetString(), cb);
  EXPECT_EQ(b["origin"]["portalId"].GetInt64(), 62515);
  EXPECT_EQ(std::to_string(b["origin"]["actionDefinitionId"].GetInt64()), def);
  EXPECT_EQ(b["origin"]["actionDefinitionVersion"].GetInt64(), 1);
  EXPECT_STREQ(b["context"]["source"].GetString(), "WORKFLOWS");
  EXPECT_EQ(b["context"]["workflowId"].GetInt64(), 55);
  EXPECT_EQ(b["object"]["objectId"].GetInt64(), 123);
  EXPECT_STREQ(b["object"]["objectType"].GetString(), "CONTACT");
  EXPECT_FALSE(b["object"].HasMember("properties")) << "only with objectRequestOptions";
  EXPECT_STREQ(b["inputFields"]["plan"].GetString(), "gold");
  EXPECT_EQ(b["inputFields"]["seats"].GetInt(), 3) << "input values keep their JSON type";

  auto c = sim_->counters();
  EXPECT_EQ(c.action_executions, 1);
  EXPECT_EQ(c.action_calls, 1);
  EXPECT_EQ(c.action_deliveries, 1);
}

TEST_F(SimActions, ObjectRequestOptionsSendTheRecordsProperties) {
  std::string body = egg(action_.url());
  body.insert(body.rfind('}'), R"(,"objectRequestOptions":{"properties":["email","firstname"]})");
  auto r = dev("POST", kDefs, body);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string def = r.json()["id"].GetString();
  std::string contact = sim_->ui_create("contacts", {{"email", "wf@example.com"}});
  WorkflowEnrollment e;
  e.definition_id = def;
  e.object_id = contact;
  settle(sim_->enroll_in_workflow(e));
  auto reqs = action_.seen();
  ASSERT_EQ(reqs.size(), 1u);
  rapidjson::Document b;
  b.Parse(reqs[0].body.c_str());
  EXPECT_STREQ(b["object"]["properties"]["email"].GetString(), "wf@example.com");
  EXPECT_TRUE(b["object"]["properties"]["firstname"].IsNull());
  e.object_id = "999999";
  try {
    sim_->enroll_in_workflow(e);
    FAIL() << "a record that does not exist cannot be read for objectRequestOptions";
  } catch (const SimulatorError& err) {
    EXPECT_EQ(err.status(), 404);
  }
}

TEST_F(SimActions, ServerErrorsAreRetriedUntilSuccess) {
  action_.script = {ActionServer::answer(503), ActionServer::answer(503)};
  auto x = settle(enroll(create(action_.url())));
  EXPECT_EQ(x.state, "SUCCESS");
  EXPECT_EQ(x.attempts, 3);
  EXPECT_EQ(x.statuses, (std::vector<int>{503, 503, 200}));
  auto reqs = action_.seen();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].body, reqs[2].body) << "the same request, same callbackId";
  auto c = sim_->counters();
  EXPECT_EQ(c.action_failures, 2);
  EXPECT_EQ(c.action_retries, 2);
}

TEST_F(SimActions, RateLimitHonoursRetryAfterAndGivesUpAfterMaxAttempts) {
  HttpResponse limited = ActionServer::answer(429);
  limited.headers.emplace_back("Retry-After", "1");  // 1 s, compressed to 1 ms
  action_.script = {limited};
  auto ok = settle(enroll(create(action_.url())));
  EXPECT_EQ(ok.statuses, (std::vector<int>{429, 200}));
  EXPECT_EQ(ok.state, "SUCCESS");
  action_.fallback = ActionServer::answer(500);
  auto gave_up = settle(enroll(create(action_.url())));
  EXPECT_EQ(gave_up.state, "failed");
  EXPECT_EQ(gave_up.attempts, 5);
  EXPECT_EQ(sim_->counters().action_failed, 1);
}

TEST_F(SimActions, SlowAnswerCountsAsTimeoutAndIsRetried) {
  timeout_ms_ = 200;
  start({});
  HttpResponse slow = ActionServer::answer(200, R"({"outputFields":{"hs_execution_state":"SUCCESS"}})");
  slow.delay_ms = 1000;
  action_.script = {slow};
  auto x = settle(enroll(create(action_.url())));
  EXPECT_EQ(x.statuses, (std::vector<int>{0, 200}));
  EXPECT_EQ(x.state, "SUCCESS");
}

TEST_F(SimActions, BlockThenCallbackCompletion) {
  action_.fallback = ActionServer::answer(
      200, R"({"outputFields":{"hs_execution_state":"BLOCK","hs_expiration_duration":"PT1H"}})");
  std::string def = create(action_.url());
  std::string cb = enroll(def);
  auto x = settle(cb);
  EXPECT_EQ(x.state, "blocked");
  EXPECT_EQ(x.expiration_duration, "PT1H");
  EXPECT_EQ(x.completed_by, "");

  auto done = client_->post("/automation/v4/actions/callbacks/" + cb + "/complete",
                            R"({"outputFields":{"hs_execution_state":"SUCCESS","erpId":"E-7"}})");
  ASSERT_EQ(done.status, 204) << done.body;
  EXPECT_TRUE(done.has_header("x-hubspot-ratelimit-remaining")) << "a portal API call";
  x = sim_->action_execution(cb);
  EXPECT_EQ(x.state, "completed");
  EXPECT_EQ(x.completed_by, "callback");
  EXPECT_EQ(x.output_fields["erpId"], "E-7");

  auto again = client_->post("/automation/v4/actions/callbacks/" + cb + "/complete", R"({"outputFields":{}})");
  EXPECT_EQ(again.status, 400) << "already completed";
  EXPECT_EQ(client_->post("/automation/v4/actions/callbacks/ap-62515-999-1-0/complete", R"({"outputFields":{}})").status,
            404);
  EXPECT_EQ(client_->post("/automation/v4/actions/callbacks/" + cb + "/complete", "{}").status, 400);
  Client anonymous(sim_->base_url(), "");
  EXPECT_EQ(anonymous.post("/automation/v4/actions/callbacks/" + cb + "/complete", R"({"outputFields":{}})").status,
            401);

  // Batch: all or nothing.
  std::string b1 = enroll(def), b2 = enroll(def);
  settle(b1);
  settle(b2);
  auto bad = client_->post("/automation/v4/actions/callbacks/complete",
                           R"({"inputs":[{"callbackId":")" + b1 + R"(","outputFields":{}},{"callbackId":")" + cb +
                               R"(","outputFields":{}}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(sim_->action_execution(b1).state, "blocked");
  auto batch = client_->post("/automation/v4/actions/callbacks/complete",
                             R"({"inputs":[{"callbackId":")" + b1 + R"(","outputFields":{"n":"1"}},{"callbackId":")" +
                                 b2 + R"(","outputFields":{"n":"2"}}]})");
  ASSERT_EQ(batch.status, 204) << batch.body;
  EXPECT_EQ(sim_->action_execution(b2).output_fields["n"], "2");
  EXPECT_EQ(sim_->action_execution(b1).state, "completed");
}

TEST_F(SimActions, LostAnswersAreResentWithTheSameCallbackId) {
  std::string cb = enroll(create(action_.url()), 3);
  auto x = settle(cb);
  EXPECT_EQ(x.state, "SUCCESS");
  EXPECT_EQ(x.attempts, 4);
  EXPECT_EQ(x.statuses, (std::vector<int>{0, 0, 0, 200}));
  auto reqs = action_.seen();
  ASSERT_EQ(reqs.size(), 4u);
  for (const auto& r : reqs) {
    rapidjson::Document b;
    b.Parse(r.body.c_str());
    EXPECT_EQ(b["callbackId"].GetString(), cb);
    std::int64_t ts = std::stoll(r.header("x-hubspot-request-timestamp"));
    EXPECT_EQ(r.header("x-hubspot-signature-v3"), signature_v3(kOAuthClientSecret, "POST", action_.url(), r.body, ts));
  }
}

TEST_F(SimActions, ClientErrorFailsWithoutRetry) {
  action_.fallback = ActionServer::answer(400, R"({"message":"bad plan"})");
  auto x = settle(enroll(create(action_.url())));
  EXPECT_EQ(x.state, "failed");
  EXPECT_EQ(x.attempts, 1);
  EXPECT_EQ(x.statuses, std::vector<int>{400});
}

TEST_F(SimActions, FailContinueAndAdminKnobs) {
  action_.fallback = ActionServer::answer(200, R"({"outputFields":{"hs_execution_state":"FAIL_CONTINUE"}})");
  std::string def = create(action_.url());
  auto r = client_->post("/_sim/workflows/enroll", R"({"definitionId":")" + def +
                                                       R"(","objectId":"77","objectType":"DEAL","inputFields":{"k":"v"},"workflowId":9,"lose_responses":1})");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string cb = r.json()["callbackId"].GetString();
  settle(cb);
  auto one = client_->get("/_sim/workflows/executions/" + cb).json();
  EXPECT_STREQ(one["state"].GetString(), "FAIL_CONTINUE");
  EXPECT_STREQ(one["objectId"].GetString(), "77");
  EXPECT_STREQ(one["objectType"].GetString(), "DEAL");
  EXPECT_EQ(one["attempts"].GetInt(), 2);
  EXPECT_EQ(one["statuses"][0].GetInt(), 0);
  EXPECT_STREQ(one["completedBy"].GetString(), "response");
  EXPECT_EQ(client_->get("/_sim/workflows/executions").json()["results"].Size(), 1u);
  EXPECT_EQ(client_->get("/_sim/workflows/executions/nope").status, 404);
  EXPECT_EQ(client_->post("/_sim/workflows/enroll", R"({"definitionId":"999","objectId":"1"})").status, 404);
  EXPECT_EQ(client_->post("/_sim/workflows/enroll", R"({"definitionId":")" + def + R"(","objectId":"1","objectType":"TICKET"})").status,
            400);
  auto counters = client_->get("/_sim/counters").json();
  EXPECT_EQ(counters["actions"]["executions"].GetInt64(), 1);
  EXPECT_EQ(counters["actions"]["calls"].GetInt64(), 2);
  sim_->reset();
  EXPECT_TRUE(sim_->action_executions().empty());
  EXPECT_EQ(dev("GET", kDefs + "/" + def).status, 404);
}

}  // namespace
}  // namespace hubsync::sim::test
