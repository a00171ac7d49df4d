// parse_batch_write on answers shaped like HubSpot's: WriteOutcome::stored
// holds each result's non-null properties, placed on the right input.
#include <gtest/gtest.h>

#include "connectors/hubspot/batch_codec.h"

namespace hubsync::hubspot {
namespace {

HttpResponse answer(int status, std::string body) { return HttpResponse{status, {}, std::move(body), {}}; }

TEST(BatchWrite, StoredHoldsTheAnsweredPropertiesWithoutNulls) {
  auto out = parse_batch_write(answer(200, R"({"status":"COMPLETE","results":[
      {"id":"2","new":false,"properties":{"email":"b@x.io","amount":"1.5","lastname":null,"hs_object_id":"2"},
       "createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-01-02T00:00:00.000Z","archived":false},
      {"id":"1","new":true,"properties":{"email":"a@x.io"},
       "createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-01-02T00:00:00.000Z","archived":false}],
      "startedAt":"2024-01-02T00:00:00.000Z","completedAt":"2024-01-02T00:00:00.000Z"})"),
                               2, {{"A@X.io", "B@x.IO"}, "email"}, "test");
  ASSERT_EQ(out.size(), 2u);
  ASSERT_TRUE(out[0].ok() && out[1].ok());
  EXPECT_EQ(out[0].hubspot_id, "1");
  EXPECT_TRUE(out[0].created);
  EXPECT_EQ(out[0].stored, (std::map<std::string, std::string>{{"email", "a@x.io"}}));
  EXPECT_EQ(out[1].hubspot_id, "2");
  EXPECT_EQ(out[1].stored, (std::map<std::string, std::string>{{"amount", "1.5"}, {"email", "b@x.io"}, {"hs_object_id", "2"}}))
      << "null is absent";
}

TEST(BatchWrite, ResultsWithoutKeysFollowTheInputsThatDidNotFail) {
  // A 207 create without trace ids in the results: unplaced results go to the
  // inputs no error named, in order.
  auto out = parse_batch_write(answer(207, R"({"status":"COMPLETE","results":[
      {"id":"7","properties":{"email":"x@x.io"},"createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-01-01T00:00:00.000Z","archived":false}],
      "numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR","message":"bad",
        "context":{"objectWriteTraceId":["0"]}}],
      "startedAt":"2024-01-02T00:00:00.000Z","completedAt":"2024-01-02T00:00:00.000Z"})"),
                               2, {}, "test");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].ok());
  EXPECT_TRUE(out[0].stored.empty());
  ASSERT_TRUE(out[1].ok());
  EXPECT_EQ(out[1].stored.at("email"), "x@x.io");
}

TEST(BatchWrite, AnAnswerWithoutPropertiesStoresNothing) {
  auto out = parse_batch_write(answer(200, R"({"status":"COMPLETE","results":[{"id":"5","createdAt":"2024-01-01T00:00:00.000Z",
      "updatedAt":"2024-01-01T00:00:00.000Z","archived":false}],"startedAt":"2024-01-02T00:00:00.000Z",
      "completedAt":"2024-01-02T00:00:00.000Z"})"),
                               1, {{"5"}, ""}, "test");
  ASSERT_TRUE(out[0].ok());
  EXPECT_EQ(out[0].hubspot_id, "5");
  EXPECT_TRUE(out[0].stored.empty());
}

}  // namespace
}  // namespace hubsync::hubspot
