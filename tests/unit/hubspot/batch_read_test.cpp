// ObjectsApi::batch_read against answers HubSpot documents but the simulator
// does not give: a survivor returned for an absorbed id (HubSpot's 2024
// merge changelog), history out of order or with epoch-ms timestamps.
#include <gtest/gtest.h>

#include "connectors/hubspot/objects.h"
#include "tests/unit/hubspot/canned_transport.h"

namespace hubsync::hubspot {
namespace {

class BatchRead : public ::testing::Test, protected CannedHubSpot {
 protected:
  ObjectsApi api{client};
};

TEST_F(BatchRead, ASurvivorReturnedForAnAbsorbedIdAnswersItWithMergedInto) {
  http.body = R"({"status":"COMPLETE","results":[
      {"id":"900","properties":{"hs_object_id":"900","hs_merged_object_ids":"100;200"},
       "createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-01-02T00:00:00.000Z","archived":false}],
      "startedAt":"2024-01-02T00:00:00.000Z","completedAt":"2024-01-02T00:00:00.000Z"})";
  auto r = api.batch_read("contacts", {"200", "900", "300"}, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE((*r)[0].record);
  EXPECT_EQ((*r)[0].record->hubspot_id, "900");
  EXPECT_EQ((*r)[0].merged_into, "900");
  ASSERT_TRUE((*r)[1].record);
  EXPECT_TRUE((*r)[1].merged_into.empty()) << "asked by its own id";
  EXPECT_FALSE((*r)[2].record);
  EXPECT_FALSE((*r)[2].error);
}

TEST_F(BatchRead, HistoryIsParsedToMillisecondsNewestFirstAndOnlyForAskedProperties) {
  http.body = R"({"status":"COMPLETE","results":[
      {"id":"7","properties":{"email":"ada@example.com"},
       "propertiesWithHistory":{
         "firstname":[{"value":"Ada","timestamp":"2024-01-01T00:00:00.000Z","sourceType":"INTEGRATION","sourceId":"1001"},
                      {"value":"Augusta","timestamp":"1704067200500","sourceType":"CRM_UI","sourceId":"userId:9"}],
         "city":[{"value":"Oslo","timestamp":"2024-01-01T00:00:00.000Z","sourceType":"IMPORT"}]},
       "createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-01-01T00:00:00.500Z","archived":false}],
      "startedAt":"2024-01-02T00:00:00.000Z","completedAt":"2024-01-02T00:00:00.000Z"})";
  pipeline::ReadRequest req{{"email"}, {"firstname", "lastname"}, "email", false};
  auto r = api.batch_read("contacts", {"ADA@example.com"}, req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& o = (*r)[0];
  ASSERT_TRUE(o.record) << "emails match in any case";
  ASSERT_EQ(o.history.size(), 2u);
  const auto& v = o.history.at("firstname");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].value, "Augusta");
  EXPECT_EQ(v[0].timestamp_ms, 1704067200500);
  EXPECT_EQ(v[0].source_id, "userId:9");
  EXPECT_EQ(v[1].timestamp_ms, 1704067200000);
  EXPECT_EQ(v[1].source_type, "INTEGRATION");
  EXPECT_TRUE(o.history.at("lastname").empty());
  ASSERT_EQ(http.sent.size(), 1u);
  EXPECT_NE(http.sent[0].url.find("/batch/read?archived=false"), std::string::npos);
  EXPECT_NE(http.sent[0].body.find(R"("propertiesWithHistory":["firstname","lastname"])"), std::string::npos);
  EXPECT_NE(http.sent[0].body.find(R"("idProperty":"email")"), std::string::npos);
}

TEST_F(BatchRead, ExactCaseOnlyForUniquePropertiesOtherThanEmail) {
  http.body = R"({"status":"COMPLETE","results":[
      {"id":"5","properties":{"serial":"abc"},"createdAt":"2024-01-01T00:00:00.000Z",
       "updatedAt":"2024-01-01T00:00:00.000Z","archived":false}],
      "startedAt":"2024-01-02T00:00:00.000Z","completedAt":"2024-01-02T00:00:00.000Z"})";
  auto r = api.batch_read("p_machines", {"ABC", "abc"}, {{}, {}, "serial", false});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE((*r)[0].record);
  ASSERT_TRUE((*r)[1].record);
  EXPECT_EQ((*r)[1].record->hubspot_id, "5");
}

TEST_F(BatchRead, ArchivedObjectsChangeWhenArchivedAndBatchLimitsHold) {
  http.body = R"({"status":"COMPLETE","results":[
      {"id":"8","properties":{},"createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-01-01T00:00:00.000Z",
       "archived":true,"archivedAt":"2024-03-01T00:00:00.000Z"}],
      "startedAt":"2024-01-02T00:00:00.000Z","completedAt":"2024-01-02T00:00:00.000Z"})";
  auto r = api.batch_read("contacts", {"8"}, {{}, {}, "", true});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE((*r)[0].record);
  EXPECT_EQ((*r)[0].record->changed_at_ms, 1709251200000) << "archivedAt, not updatedAt";
  EXPECT_NE(http.sent.back().url.find("archived=true"), std::string::npos);

  std::vector<std::string> fifty_one(51, "1");
  auto refused = api.batch_read("contacts", fifty_one, {{}, {"email"}, "", false});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, model::ErrorKind::fatal);
  EXPECT_TRUE(api.batch_read("contacts", fifty_one, {}).ok()) << "100 without history";
}

}  // namespace
}  // namespace hubsync::hubspot
