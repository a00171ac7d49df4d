// HubSpot's webhook bodies (HUBSPOT-API.md "Webhooks") -> inbox events.
#include "connectors/hubspot/webhook_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace hubsync::hubspot {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const state::InboxEvent& only(const model::Result<webhook::DecodedBatch>& r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  EXPECT_EQ(r->events.size(), 1u);
  return r->events.front();
}

TEST(WebhookCodec, ClassicSubscriptionsMapToObjectTypes) {
  const std::pair<const char*, const char*> cases[] = {{"contact", "contacts"},
                                                       {"company", "companies"},
                                                       {"deal", "deals"},
                                                       {"ticket", "tickets"}};
  for (const auto& [prefix, type] : cases) {
    for (const char* kind : {"creation", "deletion", "restore", "privacyDeletion"}) {
      const std::string body = std::string(R"([{"eventId":100,"subscriptionId":7,"portalId":62515,)") +
                               R"("appId":1001,"occurredAt":1700000000123,"subscriptionType":")" + prefix +
                               "." + kind + R"(","attemptNumber":0,"objectId":1000001,)" +
                               R"("changeSource":"CRM_UI","sourceId":"userId:9000"}])";
      auto r = decode_webhook_events(body);
      const auto& e = only(r);
      EXPECT_EQ(e.object_type, type);
      EXPECT_EQ(e.subscription_type, std::string(prefix) + "." + kind);
      EXPECT_EQ(e.event_id, "100");
      EXPECT_EQ(e.subscription_id, "7");
      EXPECT_EQ(e.object_id, "1000001");
      EXPECT_EQ(e.occurred_at_ms, 1700000000123);
      EXPECT_EQ(e.property_name, "");
      EXPECT_FALSE(e.property_value.has_value());
      EXPECT_EQ(e.received_at_ms, 0);
      EXPECT_THAT(e.raw_json, HasSubstr(R"("changeSource":"CRM_UI","sourceId":"userId:9000")"));
    }
  }
}

TEST(WebhookCodec, PropertyChangeKeepsNameAndValue) {
  auto r = decode_webhook_events(
      R"([{"eventId":1,"subscriptionId":2,"occurredAt":5,"subscriptionType":"contact.propertyChange",)"
      R"("objectId":9,"propertyName":"city","propertyValue":"Oslo"},)"
      R"({"eventId":2,"subscriptionId":2,"occurredAt":6,"subscriptionType":"deal.propertyChange",)"
      R"("objectId":9,"propertyName":"amount","propertyValue":""},)"
      R"({"eventId":3,"subscriptionId":2,"occurredAt":7,"subscriptionType":"deal.propertyChange",)"
      R"("objectId":9,"propertyName":"amount","propertyValue":null}])");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->events.size(), 3u);
  EXPECT_EQ(r->events[0].property_name, "city");
  EXPECT_EQ(r->events[0].property_value, "Oslo");
  EXPECT_EQ(r->events[1].property_value, "");
  EXPECT_FALSE(r->events[2].property_value.has_value());
}

TEST(WebhookCodec, MergeAndAssociationFieldsStayInRawJson) {
  auto merge = decode_webhook_events(
      R"([{"eventId":11,"subscriptionId":3,"occurredAt":5,"subscriptionType":"contact.merge",)"
      R"("objectId":1000009,"primaryObjectId":1000001,"mergedObjectIds":[1000002],)"
      R"("newObjectId":1000009,"numberOfPropertiesMoved":0,"changeSource":"CRM_UI","sourceId":"userId:9000"}])");
  const auto& m = only(merge);
  EXPECT_EQ(m.object_id, "1000009");
  for (const char* f : {R"("primaryObjectId":1000001)", R"("mergedObjectIds":[1000002])",
                        R"("newObjectId":1000009)", R"("changeSource":"CRM_UI")"})
    EXPECT_THAT(m.raw_json, HasSubstr(f));

  // HubSpot's associationChange events carry no objectId: the "from" side is it.
  auto assoc = decode_webhook_events(
      R"([{"eventId":12,"subscriptionId":4,"occurredAt":5,"subscriptionType":"company.associationChange",)"
      R"("associationType":"COMPANY_TO_CONTACT","fromObjectId":2000001,"toObjectId":1000001,)"
      R"("associationRemoved":true,"isPrimaryAssociation":false,"changeSource":"INTEGRATION","sourceId":"1001"}])");
  const auto& a = only(assoc);
  EXPECT_EQ(a.object_type, "companies");
  EXPECT_EQ(a.object_id, "2000001");
  for (const char* f : {R"("associationType":"COMPANY_TO_CONTACT")", R"("fromObjectId":2000001)",
                        R"("toObjectId":1000001)", R"("associationRemoved":true)", R"("sourceId":"1001")"})
    EXPECT_THAT(a.raw_json, HasSubstr(f));
}

TEST(WebhookCodec, GenericObjectEventsUseTheirObjectTypeId) {
  auto r = decode_webhook_events(
      R"([{"eventId":"e-1","subscriptionId":9,"occurredAt":5,"subscriptionType":"object.creation",)"
      R"("objectTypeId":"2-1","objectId":"3000001"},)"
      R"({"eventId":2,"subscriptionId":9,"occurredAt":5,"subscriptionType":"object.propertyChange",)"
      R"("objectTypeId":"0-1","objectId":1,"propertyName":"email","propertyValue":"a@x.com"}])");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(r->events[0].object_type, "2-1");
  EXPECT_EQ(r->events[0].event_id, "e-1");
  EXPECT_EQ(r->events[0].object_id, "3000001");
  EXPECT_EQ(r->events[1].object_type, "0-1");

  auto missing = decode_webhook_events(
      R"([{"eventId":1,"occurredAt":5,"subscriptionType":"object.deletion","objectId":1}])");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("[0]: object.* event without objectTypeId"));
}

TEST(WebhookCodec, UnhandledTypesAreListedNotDecoded) {
  auto r = decode_webhook_events(
      R"([{"eventId":1,"subscriptionId":1,"occurredAt":5,"subscriptionType":"conversation.newMessage","objectId":1},)"
      R"({"eventId":2,"subscriptionId":1,"occurredAt":5,"subscriptionType":"line_item.creation","objectId":1},)"
      R"({"eventId":3,"subscriptionId":1,"occurredAt":5,"subscriptionType":"contact.somethingNew","objectId":1},)"
      R"({"eventId":4,"subscriptionId":1,"occurredAt":5,"subscriptionType":"contact.creation","objectId":1}])");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->total, 4u);
  EXPECT_EQ(r->events.size(), 1u);
  EXPECT_THAT(r->ignored_types, ::testing::ElementsAre("conversation.newMessage", "line_item.creation",
                                                       "contact.somethingNew"));
}

TEST(WebhookCodec, HubsyncsOwnWritesAreCountedNotDecoded) {
  auto r = decode_webhook_events(R"([
    {"eventId":1,"subscriptionType":"contact.propertyChange","objectId":7,"propertyName":"firstname",
     "propertyValue":"A","changeSource":"INTEGRATION","sourceId":"1001","appId":1001},
    {"eventId":2,"subscriptionType":"contact.propertyChange","objectId":7,"propertyName":"firstname",
     "propertyValue":"B","changeSource":"INTEGRATION","sourceId":"2002","appId":1001},
    {"eventId":3,"subscriptionType":"contact.propertyChange","objectId":7,"propertyName":"firstname",
     "propertyValue":"C","changeSource":"CRM_UI","sourceId":"userId:1001","appId":1001},
    {"eventId":4,"subscriptionType":"contact.creation","objectId":8,"changeSource":"INTEGRATION","sourceId":"1001"},
    {"eventId":5,"subscriptionType":"contact.creation","objectId":9,"changeSource":"INTEGRATION","sourceId":1001,
     "appId":"1001"}])");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->total, 5u);
  EXPECT_EQ(r->own_writes, 2u) << "events 1 and 5: written by the app they are for";
  ASSERT_EQ(r->events.size(), 3u);
  EXPECT_EQ(r->events[0].event_id, "2") << "another app's write is a change like any other";
  EXPECT_EQ(r->events[1].event_id, "3");
  EXPECT_EQ(r->events[2].event_id, "4") << "no appId: not known to be ours";
}

TEST(WebhookCodec, EventsOfAnotherPortalAreListedNotDecoded) {
  const std::string body = R"([
    {"eventId":1,"portalId":62515,"subscriptionType":"contact.creation","objectId":7},
    {"eventId":2,"portalId":77777,"subscriptionType":"contact.propertyChange","objectId":7,
     "propertyName":"firstname","propertyValue":"Mallory"},
    {"eventId":3,"subscriptionType":"contact.creation","objectId":8},
    {"eventId":4,"portalId":77777,"subscriptionType":"conversation.creation","objectId":9}])";
  auto r = decode_webhook_events(body, 62515);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->total, 4u);
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].event_id, "1");
  EXPECT_THAT(r->other_portals, ::testing::ElementsAre(77777, 0)) << "no portalId: not known to be ours";
  EXPECT_THAT(r->ignored_types, ::testing::ElementsAre("conversation.creation"));
  // No portal configured: every portal's events are decoded.
  auto any = decode_webhook_events(body);
  ASSERT_TRUE(any.ok()) << any.error().message;
  EXPECT_EQ(any->events.size(), 3u);
  EXPECT_TRUE(any->other_portals.empty());
}

TEST(WebhookCodec, MalformedBodiesAreInvalidRecordsWithoutValues) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "webhook body"},
      {"not json at all", "webhook body"},
      {R"({"eventId":1})", "not a JSON array"},
      {R"([1])", "[0]: not an object"},
      {R"([{"eventId":1,"objectId":1}])", "[0]: no subscriptionType"},
      {R"([{"subscriptionType":"contact.creation","objectId":1}])", "[0]: no eventId"},
      {R"([{"eventId":1,"subscriptionType":"contact.creation"}])", "[0]: no objectId"},
      {R"([{"eventId":true,"subscriptionType":"contact.creation","objectId":1}])", "[0]: no eventId"},
      {R"([{"eventId":1,"subscriptionType":"contact.propertyChange","objectId":1,"propertyValue":"secret-ish"}])",
       "[0]: propertyChange without propertyName"},
      {R"([{"eventId":1,"subscriptionType":"contact.creation","objectId":1},[)", "webhook body"},
  };
  for (const auto& [body, why] : cases) {
    auto r = decode_webhook_events(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().kind, model::ErrorKind::invalid_record);
    EXPECT_THAT(r.error().message, HasSubstr(why)) << body;
    EXPECT_THAT(r.error().message, Not(HasSubstr("secret-ish")));
  }
  auto empty = decode_webhook_events("[]");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->total, 0u);
}

}  // namespace
}  // namespace hubsync::hubspot
