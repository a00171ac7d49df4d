// What the pull pipeline relies on, checked at the HTTP level: write answers
// carry what the write stored; search takes dates as epoch ms; merges and
// restores move the last-modified time, association changes do not.
#include <gtest/gtest.h>

#include "tests/hubspot-sim/test/sim_fixture.h"

namespace hubsync::sim::test {
namespace {

class SimPullFidelity : public SimTest {
 protected:
  void customize(SimulatorOptions& o) override { o.index_lag_ms = 0; }
  std::string create(const std::string& email) {
    auto r = client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":")" + email + "\"}}");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["id"].GetString();
  }
  std::string last_modified(const std::string& id) {
    auto r = client_->get("/crm/v3/objects/contacts/" + id + "?properties=lastmodifieddate");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["properties"]["lastmodifieddate"].GetString();
  }
};

TEST_F(SimPullFidelity, WriteAnswersCarryTheWrittenPropertiesAsStoredPlusTheSystemOnes) {
  auto c = client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"Ann@X.IO","city":"Oslo"}})");
  ASSERT_EQ(c.status, 201) << c.body;
  auto cj = c.json();
  const auto& cp = cj["properties"];
  EXPECT_STREQ(cp["email"].GetString(), "ann@x.io");
  EXPECT_STREQ(cp["city"].GetString(), "Oslo");
  EXPECT_TRUE(cp.HasMember("hs_object_id") && cp.HasMember("createdate") && cp.HasMember("lastmodifieddate"));
  EXPECT_FALSE(cp.HasMember("firstname")) << "not written, not answered";
  const std::string id = cj["id"].GetString();

  advance(1000);
  auto u = client_->post("/crm/v3/objects/contacts/batch/update",
                         R"({"inputs":[{"id":")" + id + R"(","properties":{"city":"","jobtitle":"CTO"}}]})");
  ASSERT_EQ(u.status, 200) << u.body;
  auto uj = u.json();
  const auto& up = uj["results"][0]["properties"];
  EXPECT_STREQ(up["jobtitle"].GetString(), "CTO");
  EXPECT_TRUE(up["city"].IsNull()) << "a cleared value is answered null";
  EXPECT_STREQ(up["lastmodifieddate"].GetString(), "2023-11-14T22:13:21.000Z");
  EXPECT_FALSE(up.HasMember("email"));

  auto s = client_->post("/crm/v3/objects/contacts/batch/upsert",
                         R"({"inputs":[{"id":"ANN@x.io","idProperty":"email","properties":{"firstname":"Ann"}}]})");
  ASSERT_EQ(s.status, 200) << s.body;
  auto sj = s.json();
  const auto& sp = sj["results"][0]["properties"];
  EXPECT_STREQ(sp["firstname"].GetString(), "Ann");
  EXPECT_STREQ(sp["email"].GetString(), "ann@x.io") << "the idProperty it matched on";
  EXPECT_FALSE(sp.HasMember("jobtitle"));
}

TEST_F(SimPullFidelity, SearchTakesDateValuesAsEpochMillisOnly) {
  create("a@x.io");
  auto body = [](const std::string& value) {
    return R"({"filterGroups":[{"filters":[{"propertyName":"createdate","operator":"GTE","value":")" + value +
           R"("}]}],"limit":10})";
  };
  auto ms = client_->post("/crm/v3/objects/contacts/search", body("1700000000000"));
  ASSERT_EQ(ms.status, 200) << ms.body;
  EXPECT_EQ(ms.json()["total"].GetInt(), 1);
  auto iso = client_->post("/crm/v3/objects/contacts/search", body("2023-11-14"));
  EXPECT_EQ(iso.status, 400) << iso.body;
  EXPECT_STREQ(iso.json()["category"].GetString(), "VALIDATION_ERROR");
  auto text = client_->post(
      "/crm/v3/objects/contacts/search",
      R"({"filterGroups":[{"filters":[{"propertyName":"city","operator":"EQ","value":"2023-11-14"}]}]})");
  EXPECT_EQ(text.status, 200) << "a string property takes any text";
}

TEST_F(SimPullFidelity, MergeAndRestoreMoveTheLastModifiedTimeAssociationsDoNot) {
  const std::string a = create("a@x.io"), b = create("b@x.io");
  const std::string before = last_modified(a);
  auto co = client_->post("/crm/v3/objects/companies", R"({"properties":{"name":"Acme"}})");
  ASSERT_EQ(co.status, 201);
  const std::string company = co.json()["id"].GetString();

  advance(1000);
  auto link = client_->put("/crm/v4/objects/contacts/" + a + "/associations/default/companies/" + company, "");
  ASSERT_EQ(link.status, 200) << link.body;
  EXPECT_EQ(last_modified(a), before) << "an association is no property change";
  auto company_now = client_->get("/crm/v3/objects/companies/" + company + "?properties=hs_lastmodifieddate");
  EXPECT_STREQ(company_now.json()["updatedAt"].GetString(), "2023-11-14T22:13:20.000Z");

  advance(1000);
  auto m = client_->post("/crm/v3/objects/contacts/merge",
                         R"({"primaryObjectId":")" + a + R"(","objectIdToMerge":")" + b + "\"}");
  ASSERT_EQ(m.status, 200) << m.body;
  auto mj = m.json();
  const std::string survivor = mj["id"].GetString();
  auto got = client_->get("/crm/v3/objects/contacts/" + survivor + "?properties=hs_merged_object_ids,lastmodifieddate");
  auto gj = got.json();
  EXPECT_STREQ(gj["properties"]["lastmodifieddate"].GetString(), "2023-11-14T22:13:22.000Z");
  const std::string merged = gj["properties"]["hs_merged_object_ids"].GetString();
  EXPECT_NE(merged.find(b), std::string::npos) << merged;

  advance(1000);
  sim_->ui_delete("contacts", survivor);
  auto archived = client_->get("/crm/v3/objects/contacts?archived=true&properties=email").json();
  ASSERT_EQ(archived["results"].Size(), 1u);
  EXPECT_STREQ(archived["results"][0]["archivedAt"].GetString(), "2023-11-14T22:13:23.000Z");
  advance(1000);
  sim_->ui_restore("contacts", survivor);
  EXPECT_EQ(last_modified(survivor), "2023-11-14T22:13:24.000Z");
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts?archived=true").json()["results"].Size(), 0u);
}

}  // namespace
}  // namespace hubsync::sim::test
