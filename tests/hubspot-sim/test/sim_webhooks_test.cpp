// Webhooks: signed batches delivered to a local receiver, retried on 500.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "tests/hubspot-sim/http_server.h"
#include "tests/hubspot-sim/signatures.h"
#include "tests/hubspot-sim/test/sim_fixture.h"

namespace hubsync::sim::test {
namespace {

struct Receiver {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<HttpRequest> requests;
  int fail_first = 0;
  std::unique_ptr<HttpServer> server;
  std::uint16_t port = 0;

  Receiver() {
    server = std::make_unique<HttpServer>(
        [this](HttpRequest& req) {
          HttpResponse r;
          std::lock_guard lock(mu);
          requests.push_back(req);
          r.status = static_cast<int>(requests.size()) <= fail_first ? 500 : 204;
          cv.notify_all();
          return r;
        },
        1);
    port = server->listen(0);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/webhooks/hubspot"; }
  bool wait_for(size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return requests.size() >= n; });
  }
};

class SimWebhooks : public SimTest {
 protected:
  void customize(SimulatorOptions& o) override {
    o.webhook_target = receiver_.url();
    o.webhook_time_compression = 1000;
  }
  rapidjson::Document events(size_t i) {
    rapidjson::Document d;
    std::lock_guard lock(receiver_.mu);
    d.Parse(receiver_.requests.at(i).body.c_str());
    return d;
  }
  Receiver receiver_;
};

TEST_F(SimWebhooks, DeliversSignedEventsWithChangeSource) {
  WebhookSubscription s;
  s.event_type = "contact.*";
  sim_->add_webhook_subscription(s);
  auto r = client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"w@x.com"}})");
  ASSERT_EQ(r.status, 201);
  std::string id = r.json()["id"].GetString();
  ASSERT_TRUE(receiver_.wait_for(1));
  HttpRequest req;
  {
    std::lock_guard lock(receiver_.mu);
    req = receiver_.requests[0];
  }
  EXPECT_EQ(req.header("x-hubspot-signature"), signature_v1(kOAuthClientSecret, req.body));
  std::int64_t ts = std::stoll(req.header("x-hubspot-request-timestamp"));
  EXPECT_EQ(ts, now_.load()) << "signed on the portal's clock, as HubSpot signs on its own";
  EXPECT_EQ(req.header("x-hubspot-signature-v3"), signature_v3(kOAuthClientSecret, "POST", receiver_.url(), req.body, ts));
  auto ev = events(0);
  ASSERT_TRUE(ev.IsArray());
  ASSERT_EQ(ev.Size(), 2u) << req.body;  // creation + propertyChange(email)
  std::set<std::string> types;
  for (const auto& e : ev.GetArray()) {
    types.insert(e["subscriptionType"].GetString());
    EXPECT_EQ(std::to_string(e["objectId"].GetUint64()), id);
    EXPECT_STREQ(e["changeSource"].GetString(), "INTEGRATION");
    EXPECT_STREQ(e["sourceId"].GetString(), "1001");
    EXPECT_EQ(e["portalId"].GetInt64(), 62515);
    EXPECT_EQ(e["attemptNumber"].GetInt(), 0);
  }
  EXPECT_EQ(types, (std::set<std::string>{"contact.creation", "contact.propertyChange"}));

  sim_->ui_edit("contacts", id, {{"city", "Oslo"}});
  ASSERT_TRUE(receiver_.wait_for(2));
  auto ui = events(1);
  EXPECT_STREQ(ui[0]["changeSource"].GetString(), "CRM_UI");
  EXPECT_STREQ(ui[0]["propertyName"].GetString(), "city");
  EXPECT_STREQ(ui[0]["propertyValue"].GetString(), "Oslo");

  Client other(sim_->base_url(), kOtherToken);
  other.del("/crm/v3/objects/contacts/" + id);
  ASSERT_TRUE(receiver_.wait_for(3));
  auto del = events(2);
  EXPECT_STREQ(del[0]["subscriptionType"].GetString(), "contact.deletion");
  EXPECT_STREQ(del[0]["sourceId"].GetString(), "2002");
  sim_->ui_restore("contacts", id);
  ASSERT_TRUE(receiver_.wait_for(4));
  EXPECT_STREQ(events(3)[0]["subscriptionType"].GetString(), "contact.restore");
}

TEST_F(SimWebhooks, PropertyFilterBatchingAndMergeFields) {
  auto ids = sim_->seed("contacts", 2, 3);  // before subscribing: no events
  WebhookSubscription s;
  s.event_type = "contact.propertyChange";
  s.property_name = "firstname";
  sim_->add_webhook_subscription(s);
  WebhookSubscription m;
  m.event_type = "contact.merge";
  sim_->add_webhook_subscription(m);
  auto body = inputs(100, [](int i) {
    return R"({"properties":{"email":"b)" + std::to_string(i) + R"(@x.com","firstname":"F","lastname":"L"}})";
  });
  ASSERT_EQ(client_->post("/crm/v3/objects/contacts/batch/create", body).status, 201);
  ASSERT_TRUE(receiver_.wait_for(1));
  auto first = events(0);
  EXPECT_EQ(first.Size(), 100u) << "batched up to 100 per POST";
  for (const auto& e : first.GetArray()) EXPECT_STREQ(e["propertyName"].GetString(), "firstname");
  std::string survivor = sim_->ui_merge("contacts", ids[0], ids[1]);
  ASSERT_TRUE(receiver_.wait_for(2));
  auto merge = events(1);
  ASSERT_EQ(merge.Size(), 1u);
  EXPECT_STREQ(merge[0]["subscriptionType"].GetString(), "contact.merge");
  EXPECT_EQ(std::to_string(merge[0]["primaryObjectId"].GetUint64()), ids[0]);
  EXPECT_EQ(std::to_string(merge[0]["mergedObjectIds"][0].GetUint64()), ids[1]);
  EXPECT_EQ(std::to_string(merge[0]["newObjectId"].GetUint64()), survivor);
}

TEST_F(SimWebhooks, RetriesOnServerErrorWithAttemptNumbers) {
  receiver_.fail_first = 2;
  WebhookSubscription s;
  s.event_type = "company.creation";
  sim_->add_webhook_subscription(s);
  ASSERT_EQ(client_->post("/crm/v3/objects/companies", R"({"properties":{"name":"Acme"}})").status, 201);
  ASSERT_TRUE(receiver_.wait_for(3));
  EXPECT_EQ(events(0)[0]["attemptNumber"].GetInt(), 0);
  EXPECT_EQ(events(1)[0]["attemptNumber"].GetInt(), 1);
  EXPECT_EQ(events(2)[0]["attemptNumber"].GetInt(), 2);
  EXPECT_EQ(events(0)[0]["eventId"].GetInt64(), events(2)[0]["eventId"].GetInt64());
  // counters settle once the delivery succeeded
  for (int i = 0; i < 100 && sim_->counters().webhook_deliveries < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto c = sim_->counters();
  EXPECT_EQ(c.webhook_deliveries, 1);
  EXPECT_EQ(c.webhook_failures, 2);
  EXPECT_EQ(c.webhook_retries, 2);
}

TEST_F(SimWebhooks, AssociationChangeAndCustomObjectEvents) {
  WebhookSubscription a;
  a.event_type = "contact.associationChange";
  sim_->add_webhook_subscription(a);
  WebhookSubscription o;
  o.event_type = "object.creation";
  sim_->add_webhook_subscription(o);
  auto contact = sim_->seed("contacts", 1, 1)[0];
  auto company = sim_->seed("companies", 1, 1)[0];
  ASSERT_EQ(client_->put("/crm/v4/objects/contacts/" + contact + "/associations/default/companies/" + company, "").status, 200);
  ASSERT_TRUE(receiver_.wait_for(1));
  auto ev = events(0);
  EXPECT_STREQ(ev[0]["subscriptionType"].GetString(), "contact.associationChange");
  EXPECT_STREQ(ev[0]["associationType"].GetString(), "CONTACT_TO_COMPANY");
  EXPECT_FALSE(ev[0]["associationRemoved"].GetBool());
  EXPECT_EQ(std::to_string(ev[0]["toObjectId"].GetUint64()), company);
  ASSERT_EQ(client_->post("/crm/v3/schemas", R"({"name":"pets","labels":{"singular":"Pet","plural":"Pets"},"properties":[{"name":"nick","label":"Nick","type":"string","fieldType":"text"}]})").status, 201);
  ASSERT_EQ(client_->post("/crm/v3/objects/pets", R"({"properties":{"nick":"Rex"}})").status, 201);
  ASSERT_TRUE(receiver_.wait_for(2));
  auto obj = events(1);
  EXPECT_STREQ(obj[0]["subscriptionType"].GetString(), "object.creation");
  EXPECT_STREQ(obj[0]["objectTypeId"].GetString(), "2-1");
}

}  // namespace
}  // namespace hubsync::sim::test
