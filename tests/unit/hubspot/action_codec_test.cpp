// The JSON of workflow custom actions: execution requests as HubSpot's
// custom-action guide shows them, answers, and definitions read back the
// way they are written.
#include <gtest/gtest.h>

#include "connectors/hubspot/action_codec.h"

namespace hubsync::hubspot {
namespace {

TEST(ActionCodec, DecodesAnExecutionRequest) {
  const std::string body = R"({"callbackId":"ap-62515-56776413549-7-0",
    "origin":{"portalId":62515,"actionDefinitionId":10646377,"actionDefinitionVersion":3},
    "context":{"source":"WORKFLOWS","workflowId":192814114},
    "object":{"objectId":904,"objectType":"CONTACT"},
    "inputFields":{"lifecyclestage":"customer","hubsync_mrr":12.5,"flag":true,"empty":null}})";
  auto r = decode_action_request(body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->callback_id, "ap-62515-56776413549-7-0");
  EXPECT_EQ(r->portal_id, 62515);
  EXPECT_EQ(r->definition_id, "10646377");
  EXPECT_EQ(r->definition_version, 3);
  EXPECT_EQ(r->object_id, "904");
  EXPECT_EQ(r->object_type, "CONTACT");
  EXPECT_EQ(r->inputs.at("lifecyclestage"), "customer");
  EXPECT_EQ(r->inputs.at("hubsync_mrr"), "12.5");
  EXPECT_EQ(r->inputs.at("flag"), "true");
  EXPECT_EQ(r->inputs.count("empty"), 0u);
}

TEST(ActionCodec, RefusesWhatIsNotAnExecutionRequestNamingWhatIsMissing) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "action request"},
      {"[1,2]", "not a JSON object"},
      {R"({"object":{"objectId":1}})", "callbackId"},
      {R"({"callbackId":"x"})", "object"},
      {R"({"callbackId":"x","object":{"objectType":"CONTACT"}})", "objectId"},
      {R"({"callbackId":"x","object":{"objectId":1},"inputFields":[1]})", "inputFields"},
  };
  for (const auto& [body, says] : cases) {
    auto r = decode_action_request(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().kind, model::ErrorKind::invalid_record);
    EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
  }
}

TEST(ActionCodec, AnswersCarryOutputFields) {
  EXPECT_EQ(encode_action_answer({{"hs_execution_state", "SUCCESS"}, {"phone", "+47 \"1\""}}),
            R"({"outputFields":{"hs_execution_state":"SUCCESS","phone":"+47 \"1\""}})");
  EXPECT_EQ(encode_callback_completion({{"hubsync_outcome", "synced"}}),
            R"({"outputFields":{"hubsync_outcome":"synced"},"typedOutputs":{}})");
}

actions::Definition sample() {
  actions::Definition d;
  d.name = "customer_set_stage";
  d.action_url = "https://sync.example.com/hubspot/actions/customer_set_stage";
  d.object_types = {"CONTACT"};
  d.label = "Set customer stage in Postgres";
  d.description = "Writes the linked row";
  d.inputs = {{"lifecyclestage", "Lifecycle stage", "enumeration", "select", {{"lead", "Lead"}, {"customer", "Customer"}}, true}};
  d.outputs = {{"hubsync_outcome", "hubsync outcome", "enumeration", "select", {{"written", "written"}}, false},
               {"hubsync_reason", "hubsync reason", "string", "text", {}, false}};
  return d;
}

TEST(ActionCodec, ADefinitionReadsBackAsWritten) {
  const auto d = sample();
  const std::string egg = encode_definition(d, /*create=*/true);
  EXPECT_NE(egg.find(R"("functions":[])"), std::string::npos);
  EXPECT_NE(egg.find(R"("supportedValueTypes":["STATIC_VALUE","OBJECT_PROPERTY"])"), std::string::npos);
  EXPECT_EQ(encode_definition(d, false).find("functions"), std::string::npos);
  // What HubSpot answers: the egg plus id and revisionId.
  const std::string answer = R"({"id":"77","revisionId":"2",)" + egg.substr(1);
  auto r = decode_definition(answer);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id, "77");
  EXPECT_EQ(r->revision_id, "2");
  EXPECT_EQ(r->definition, d);
  auto page = decode_definition_page(R"({"results":[)" + answer + R"(],"paging":{"next":{"after":"abc"}}})");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->first.size(), 1u);
  EXPECT_EQ(page->first[0].definition, d);
  EXPECT_EQ(page->second, "abc");
  EXPECT_FALSE(decode_definition(R"({"actionUrl":"x"})").ok());
}

}  // namespace
}  // namespace hubsync::hubspot
