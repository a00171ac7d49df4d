// What `hubsync actions plan|apply` registers: definitions typed like the
// HubSpot properties they carry, and a plan that creates, updates, leaves
// unchanged, and never touches a definition hubsync did not make.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/actions/definitions.h"
#include "engine/mapping/parser.h"
#include "tests/unit/mapping/fakes.h"

namespace hubsync::actions {
namespace {

constexpr const char* kBase = "https://sync.example.com/hubspot/actions";

mapping::Mapping customers() {
  auto r = mapping::parse_mapping(R"(name: customers
postgres: { table: public.customers, key: id }
hubspot: { object: contacts, match: email }
fields:
  - { column: email, property: email }
  - { column: phone, property: phone }
  - column: stage
    property: lifecyclestage
    type: enumeration
    transform: [ { value_map: { prospect: lead, customer: customer } } ]
actions:
  - { name: customer_lookup, kind: lookup, columns: [phone, stage] }
  - { name: customer_set_stage, kind: write, columns: [stage], label: "Set stage" }
  - { name: customer_sync, kind: sync_now }
)",
                                  "customers.yaml");
  EXPECT_TRUE(r.ok()) << (r.findings.empty() ? "" : r.findings.front().to_string());
  return *r.mapping;
}

TEST(ActionDefinitions, AreTypedLikeTheirPropertiesAndAnswerAnOutcome) {
  mapping::test::FakeCrm crm;
  auto defs = build_definitions({customers()}, crm, kBase);
  ASSERT_TRUE(defs.ok()) << defs.error().message;
  ASSERT_EQ(defs->size(), 3u);
  const auto& lookup = (*defs)[0];
  EXPECT_EQ(lookup.action_url, std::string(kBase) + "/customer_lookup");
  EXPECT_EQ(lookup.object_types, std::vector<std::string>{"CONTACT"});
  EXPECT_TRUE(lookup.inputs.empty());
  ASSERT_EQ(lookup.outputs.size(), 3u);
  EXPECT_EQ(lookup.outputs[0].name, "phone");
  EXPECT_EQ(lookup.outputs[0].field_type, "phonenumber");
  EXPECT_EQ(lookup.outputs[1].name, "lifecyclestage");
  EXPECT_EQ(lookup.outputs[1].type, "enumeration");
  EXPECT_EQ(lookup.outputs[1].options.size(), 6u);
  EXPECT_EQ(lookup.outputs[2].name, kOutcome);

  const auto& write = (*defs)[1];
  EXPECT_EQ(write.label, "Set stage");
  ASSERT_EQ(write.inputs.size(), 1u);
  EXPECT_EQ(write.inputs[0].name, "lifecyclestage");
  EXPECT_TRUE(write.inputs[0].required);
  EXPECT_EQ((*defs)[2].outputs.size(), 2u);  // outcome and reason
}

TEST(ActionDefinitions, APropertyHubSpotLacksIsNamedWithTheAction) {
  mapping::test::FakeCrm crm;
  auto& contacts = crm.objects["contacts"];
  contacts.erase(std::remove_if(contacts.begin(), contacts.end(), [](auto& p) { return p.name == "phone"; }),
                 contacts.end());
  auto defs = build_definitions({customers()}, crm, kBase);
  ASSERT_FALSE(defs.ok());
  EXPECT_NE(defs.error().message.find("customer_lookup"), std::string::npos) << defs.error().message;
  EXPECT_NE(defs.error().message.find("phone"), std::string::npos);
  crm.down = true;
  EXPECT_EQ(build_definitions({customers()}, crm, kBase).error().kind, model::ErrorKind::transient);
}

// What serve checks a write's values against: read once, kept, read again
// when asked (before a refusal), and kept as it was when HubSpot is down.
TEST(PropertyBook, KeepsWhatItReadUntilAskedToReadAgain) {
  mapping::test::FakeCrm crm;
  PropertyBook book(crm);
  const auto m = customers();
  auto first = book.of(m);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ((*first)->at("lifecyclestage").options.size(), 6u);
  crm.objects["contacts"].push_back(mapping::test::FakeCrm::enumeration("lifecyclestage", {"lead", "gold"}));
  crm.objects["contacts"].erase(crm.objects["contacts"].begin() + 4);  // the old lifecyclestage
  EXPECT_EQ((*book.of(m))->at("lifecyclestage").options.size(), 6u) << "kept";
  auto fresh = book.of(m, true);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->at("lifecyclestage").options.size(), 2u);
  crm.down = true;
  EXPECT_EQ(book.of(m, true).error().kind, model::ErrorKind::transient);
  EXPECT_EQ((*book.of(m))->at("lifecyclestage").options.size(), 2u) << "a failed read keeps the last one";
  crm.objects.erase("contacts");
  crm.down = false;
  auto gone = book.of(m, true);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, model::ErrorKind::invalid_record);
  EXPECT_NE(gone.error().message.find("mapping customers"), std::string::npos) << gone.error().message;
}

TEST(ActionDefinitions, OwnershipIsTheActionUrlUnderTheBase) {
  EXPECT_EQ(owned_name(std::string(kBase) + "/customer_sync", kBase), "customer_sync");
  EXPECT_EQ(owned_name(std::string(kBase) + "/a/b", kBase), "");
  EXPECT_EQ(owned_name(std::string(kBase) + "x/customer_sync", kBase), "");
  EXPECT_EQ(owned_name("https://other.example.com/hubspot/actions/customer_sync", kBase), "");
  EXPECT_EQ(owned_name(kBase, kBase), "");
}

TEST(ActionDefinitions, ThePlanCreatesUpdatesAndLeavesOthersAlone) {
  mapping::test::FakeCrm crm;
  auto want = build_definitions({customers()}, crm, kBase).value();
  // In HubSpot: the lookup as declared, the write with an old label, an
  // action of hubsync's no mapping declares, and another app's definition.
  std::vector<Registered> have;
  have.push_back({"1", "1", want[0]});
  auto old = want[1];
  old.label = "Old label";
  have.push_back({"2", "4", old});
  auto gone = want[2];
  gone.action_url = std::string(kBase) + "/retired_action";
  have.push_back({"3", "1", gone});
  auto foreign = want[2];
  foreign.action_url = "https://zapier.example.com/hooks/customer_sync";
  have.push_back({"4", "1", foreign});

  auto plan = plan_definitions(want, have, kBase);
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan[0].op, PlanItem::Op::unchanged);
  EXPECT_EQ(plan[0].id, "1");
  EXPECT_EQ(plan[1].op, PlanItem::Op::update);
  EXPECT_EQ(plan[1].id, "2");
  EXPECT_EQ(plan[1].changes, std::vector<std::string>{"labels"});
  EXPECT_EQ(plan[2].op, PlanItem::Op::create);
  EXPECT_EQ(plan[2].name, "customer_sync");
  EXPECT_EQ(plan[3].op, PlanItem::Op::not_declared);
  EXPECT_EQ(plan[3].name, "retired_action");
  for (const auto& p : plan) EXPECT_NE(p.id, "4");  // never another app's

  // Once applied, a second plan changes nothing.
  have[1].definition = want[1];
  have.push_back({"5", "1", want[2]});
  for (const auto& p : plan_definitions(want, have, kBase))
    EXPECT_TRUE(p.op == PlanItem::Op::unchanged || p.op == PlanItem::Op::not_declared) << p.name;
}

}  // namespace
}  // namespace hubsync::actions
