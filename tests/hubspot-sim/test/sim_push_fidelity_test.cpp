// What the push and pull pipelines rely on, checked against HubSpot's
// documented behaviour: case-insensitive email upserts, updates of ids a
// merge absorbed, batch/read with propertiesWithHistory, archived listings.
#include <gtest/gtest.h>

#include "tests/hubspot-sim/test/sim_fixture.h"

namespace hubsync::sim::test {
namespace {

class SimPushFidelity : public SimTest {};

std::string id_of(const Response& r) { return r.json()["id"].GetString(); }

TEST_F(SimPushFidelity, UpsertByEmailInAnotherCaseUpdatesTheExistingContact) {
  auto created = client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"ada@example.com"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto r = client_->post("/crm/v3/objects/contacts/batch/upsert",
                         R"({"inputs":[{"id":"ADA@Example.COM","idProperty":"email","properties":{"firstname":"Ada"}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  ASSERT_EQ(j["results"].Size(), 1u);
  EXPECT_EQ(std::string(j["results"][0]["id"].GetString()), id_of(created));
  EXPECT_FALSE(j["results"][0]["new"].GetBool());
  EXPECT_STREQ(j["results"][0]["properties"]["email"].GetString(), "ada@example.com");
  auto all = client_->get("/crm/v3/objects/contacts?limit=100").json();
  EXPECT_EQ(all["results"].Size(), 1u) << "no second contact";
}

// HubSpot documents that reads of an absorbed id return the survivor (the
// 2024 merge changelog); what batch/update does with one is not documented:
// the simulator keeps refusing it with 404 OBJECT_NOT_FOUND, the answer the
// push pipeline handles by re-linking.
TEST_F(SimPushFidelity, BatchUpdateOfAnIdAbsorbedByAMergeIs404) {
  auto a = id_of(client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"a@x.com"}})"));
  auto b = id_of(client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"b@x.com"}})"));
  ASSERT_EQ(client_->post("/crm/v3/objects/contacts/merge",
                          R"({"primaryObjectId":")" + a + R"(","objectIdToMerge":")" + b + "\"}").status, 200);
  auto whole = client_->post("/crm/v3/objects/contacts/batch/update",
                             R"({"inputs":[{"id":")" + b + R"(","properties":{"city":"Oslo"}}]})");
  EXPECT_EQ(whole.status, 404) << whole.body;
  EXPECT_STREQ(whole.json()["category"].GetString(), "OBJECT_NOT_FOUND");
  auto traced = client_->post("/crm/v3/objects/contacts/batch/update",
                              R"({"inputs":[{"id":")" + b + R"(","objectWriteTraceId":"0","properties":{"city":"Oslo"}}]})");
  ASSERT_EQ(traced.status, 207) << traced.body;
  auto j = traced.json();
  EXPECT_STREQ(j["errors"][0]["category"].GetString(), "OBJECT_NOT_FOUND");
  EXPECT_STREQ(j["errors"][0]["context"]["objectWriteTraceId"][0].GetString(), "0");
}

TEST_F(SimPushFidelity, BatchReadWithHistoryReportsIntegrationSourceAndTakesAtMostFifty) {
  auto id = id_of(client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"h@x.com","city":"Paris"}})"));
  advance(1500);
  sim_->ui_edit("contacts", id, {{"city", "Oslo"}});
  auto r = client_->post("/crm/v3/objects/contacts/batch/read",
                         R"({"properties":["city"],"propertiesWithHistory":["city"],"inputs":[{"id":")" + id + "\"}]}");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  const auto& h = j["results"][0]["propertiesWithHistory"]["city"];
  ASSERT_EQ(h.Size(), 2u);
  EXPECT_STREQ(h[0]["sourceType"].GetString(), "CRM_UI");
  EXPECT_STREQ(h[0]["timestamp"].GetString(), "2023-11-14T22:13:21.500Z") << "ISO-8601 with ms";
  EXPECT_STREQ(h[1]["value"].GetString(), "Paris");
  EXPECT_STREQ(h[1]["sourceType"].GetString(), "INTEGRATION");
  EXPECT_STREQ(h[1]["sourceId"].GetString(), "1001") << "the app id of the token";
  EXPECT_STREQ(h[1]["timestamp"].GetString(), "2023-11-14T22:13:20.000Z");

  std::string fifty_one = "{\"properties\":[],\"propertiesWithHistory\":[\"city\"],\"inputs\":[";
  for (int i = 0; i < 51; ++i) fifty_one += (i ? "," : "") + std::string(R"({"id":")") + id + "\"}";
  fifty_one += "]}";
  auto refused = client_->post("/crm/v3/objects/contacts/batch/read", fifty_one);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("property histories is 50"), std::string::npos) << refused.body;
  std::string without_history = fifty_one;
  without_history.replace(without_history.find("[\"city\"]"), 8, "[]");
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts/batch/read", without_history).status, 200);
}

TEST_F(SimPushFidelity, ArchivedObjectsCarryArchivedTrueAndArchivedAt) {
  auto id = id_of(client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"gone@x.com"}})"));
  advance(2000);
  ASSERT_EQ(client_->del("/crm/v3/objects/contacts/" + id).status, 204);
  auto list = client_->get("/crm/v3/objects/contacts?archived=true&properties=email").json();
  ASSERT_EQ(list["results"].Size(), 1u);
  const auto& o = list["results"][0];
  EXPECT_TRUE(o["archived"].GetBool());
  EXPECT_STREQ(o["archivedAt"].GetString(), "2023-11-14T22:13:22.000Z");
  auto read = client_->post("/crm/v3/objects/contacts/batch/read?archived=true",
                            R"({"properties":["email"],"propertiesWithHistory":[],"inputs":[{"id":")" + id + "\"}]}");
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_STREQ(read.json()["results"][0]["archivedAt"].GetString(), "2023-11-14T22:13:22.000Z");
  auto live = client_->get("/crm/v3/objects/contacts?properties=email").json();
  EXPECT_EQ(live["results"].Size(), 0u);
  EXPECT_FALSE(live.HasMember("archivedAt"));
}

TEST_F(SimPushFidelity, BatchReadByEmailFindsCaseVariantsAndReportsMissingValues) {
  auto id = id_of(client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"ada@example.com"}})"));
  auto r = client_->post("/crm/v3/objects/contacts/batch/read",
                         R"({"idProperty":"email","properties":["email"],"propertiesWithHistory":[],
                             "inputs":[{"id":"Ada@Example.com"},{"id":"nobody@example.com"}]})");
  ASSERT_EQ(r.status, 207) << r.body;
  auto j = r.json();
  ASSERT_EQ(j["results"].Size(), 1u);
  EXPECT_EQ(std::string(j["results"][0]["id"].GetString()), id);
  EXPECT_STREQ(j["results"][0]["properties"]["email"].GetString(), "ada@example.com") << "stored lower-cased";
  EXPECT_STREQ(j["errors"][0]["category"].GetString(), "OBJECT_NOT_FOUND");
  EXPECT_STREQ(j["errors"][0]["context"]["ids"][0].GetString(), "nobody@example.com");
}

}  // namespace
}  // namespace hubsync::sim::test
