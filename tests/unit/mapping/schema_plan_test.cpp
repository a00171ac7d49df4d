#include <gtest/gtest.h>

#include "engine/mapping/schema_plan.h"
#include "fakes.h"
#include "test_util.h"

namespace hubsync::mapping {
namespace {

using test::example;
using test::FakeCrm;

TEST(SchemaPlan, CreatesCustomObjectOnceThenNothing) {
  FakeCrm crm;
  Mapping events = example("events");
  auto plan = plan_schema(events, crm);
  ASSERT_TRUE(plan.findings.empty()) << test::text(plan.findings);
  ASSERT_TRUE(plan.create_object.has_value());
  EXPECT_EQ(plan.create_object->associated_object_type_ids, std::vector<std::string>{"0-1"});
  EXPECT_EQ(plan.describe(), std::vector<std::string>{"create object event (5 properties, 1 associations)"});
  auto applied = apply_schema(plan, crm);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(*applied, 1);
  EXPECT_EQ(crm.schemas["event"].object_type_id, "2-100");

  auto again = plan_schema(events, crm);
  EXPECT_TRUE(again.empty()) << again.describe().front();
  EXPECT_TRUE(again.findings.empty()) << test::text(again.findings);
  int writes = crm.writes;
  ASSERT_TRUE(apply_schema(again, crm).ok());
  EXPECT_EQ(crm.writes, writes) << "applying twice changes nothing the second time";
}

TEST(SchemaPlan, AddsMissingPropertiesToStandardObjects) {
  FakeCrm crm;
  Mapping customers = example("customers");
  auto plan = plan_schema(customers, crm);
  EXPECT_EQ(plan.describe(), (std::vector<std::string>{"add property contacts.hubsync_mrr (number/number)",
                                                        "add property contacts.hubsync_tags (enumeration/checkbox)"}));
  ASSERT_TRUE(apply_schema(plan, crm).ok());
  EXPECT_TRUE(plan_schema(customers, crm).empty());
  auto accounts = plan_schema(example("accounts"), crm);
  EXPECT_EQ(accounts.describe(), std::vector<std::string>{"add property companies.hubsync_account_code (string/text, unique)"});
}

// A change that fails stops the apply: what was made, what failed and
// what was not tried are told apart (the plan's lines alone listed a
// property that was never made as if applying it).
TEST(SchemaPlan, AFailedApplySaysWhichChangesWereMadeAndWhichNot) {
  FakeCrm crm;
  crm.fail_property = 1;
  auto plan = plan_schema(example("customers"), crm);
  int made = -1;
  auto applied = apply_schema(plan, crm, &made);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(made, 0);
  EXPECT_EQ(plan.describe_applied(made, &applied.error()),
            (std::vector<std::string>{"add property contacts.hubsync_mrr (number/number) FAILED: HTTP 503 from HubSpot",
                                      "add property contacts.hubsync_tags (enumeration/checkbox) (not tried)"}));
  crm.fail_property = 2;
  auto rest = plan_schema(example("customers"), crm);
  applied = apply_schema(rest, crm, &made);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(made, 1);
  EXPECT_EQ(rest.describe_applied(made, &applied.error()),
            (std::vector<std::string>{"add property contacts.hubsync_mrr (number/number) (done)",
                                      "add property contacts.hubsync_tags (enumeration/checkbox) FAILED: HTTP 503 from HubSpot"}));
  auto last = plan_schema(example("customers"), crm);
  applied = apply_schema(last, crm, &made);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(made, 1);
  EXPECT_EQ(last.describe_applied(made, nullptr),
            std::vector<std::string>{"add property contacts.hubsync_tags (enumeration/checkbox) (done)"});
}

TEST(SchemaPlan, ExistingObjectGetsMissingPropertiesAndAssociations) {
  FakeCrm crm;
  Mapping events = example("events");
  CrmSchema s;
  s.name = "event";
  s.object_type_id = "2-7";
  s.label_singular = "Event";
  s.label_plural = "Events";
  crm.schemas["event"] = s;
  crm.objects["2-7"] = {FakeCrm::prop("event_code", "string", "text"), FakeCrm::prop("name", "string", "text")};
  crm.objects["2-7"][0].has_unique_value = true;
  auto plan = plan_schema(events, crm);
  EXPECT_EQ(plan.describe(), (std::vector<std::string>{"add property 2-7.date (date/date)", "add property 2-7.location (string/text)",
                                                        "add property 2-7.capacity (number/number)",
                                                        "add association 2-7 -> 0-1"}));
  ASSERT_TRUE(apply_schema(plan, crm).ok());
  EXPECT_TRUE(plan_schema(events, crm).empty());
}

TEST(SchemaPlan, NeverChangesATypeAndRefusesToApplyErrors) {
  FakeCrm crm;
  crm.objects["contacts"].push_back(FakeCrm::prop("hubsync_mrr", "string", "text"));
  auto plan = plan_schema(example("customers"), crm);
  ASSERT_TRUE(has_errors(plan.findings));
  EXPECT_NE(test::text(plan.findings).find(
                "customers.yaml:42:7: error: property hubsync_mrr is type string in HubSpot but number here; hubsync never changes a type"),
            std::string::npos)
      << test::text(plan.findings);
  int writes = crm.writes;
  auto applied = apply_schema(plan, crm);
  EXPECT_FALSE(applied.ok());
  EXPECT_EQ(crm.writes, writes);
}

TEST(SchemaPlan, UniquenessCannotChangeAndOptionsAreNotEdited) {
  FakeCrm crm;
  crm.objects["companies"].push_back(FakeCrm::prop("hubsync_account_code", "string", "text"));
  auto plan = plan_schema(example("accounts"), crm);
  EXPECT_NE(test::text(plan.findings).find("is not unique in HubSpot, and hasUniqueValue cannot change"), std::string::npos);
  crm.objects["contacts"].push_back(FakeCrm::enumeration("hubsync_tags", {"vip"}));
  crm.objects["contacts"].back().field_type = "checkbox";
  auto customers = plan_schema(example("customers"), crm);
  EXPECT_FALSE(has_errors(customers.findings));
  EXPECT_NE(test::text(customers.findings).find("warning: option `beta` of hubsync_tags is missing in HubSpot"), std::string::npos)
      << test::text(customers.findings);
}

TEST(SchemaPlan, UnreachablePortalMakesNoPlan) {
  FakeCrm crm;
  crm.down = true;
  auto plan = plan_schema(example("events"), crm);
  EXPECT_TRUE(plan.empty());
  EXPECT_EQ(exit_code(plan.findings), 2);
}

TEST(SchemaPlan, NoSchemaBlockNoPlan) {
  FakeCrm crm;
  auto plan = plan_schema(example("registrations"), crm);
  EXPECT_TRUE(plan.empty());
  EXPECT_TRUE(plan.findings.empty());
}

}  // namespace
}  // namespace hubsync::mapping
