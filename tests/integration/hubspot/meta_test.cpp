#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "connectors/hubspot/hubspot_catalog.h"
#include "tests/integration/hubspot/sim_env.h"

namespace hubsync::hubspot::testing {
namespace {

using model::ErrorKind;
using model::Value;

class Meta : public SimTest {
 protected:
  sim::SimulatorOptions sim_options() override {
    auto o = SimTest::sim_options();
    o.association_page_size = 5;  // forces paging in batch/read
    return o;
  }
  std::string make(const std::string& type, const model::Fields& f) {
    auto r = crm().objects().create(type, f);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->hubspot_id : "";
  }
};

TEST_F(Meta, AssociationsCreateReadWithPagingAndArchive) {
  auto type = crm().association_type("contacts", "companies", "");
  ASSERT_TRUE(type.ok()) << type.error().message;
  ASSERT_TRUE(type->has_value());
  EXPECT_EQ((*type)->category, "HUBSPOT_DEFINED");
  EXPECT_EQ((*type)->type_id, 279);
  auto none = crm().association_type("contacts", "companies", "No Such Label");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  const std::string c1 = make("contacts", {{"email", Value::text("a1@example.com")}});
  const std::string c2 = make("contacts", {{"email", Value::text("a2@example.com")}});
  std::vector<std::string> companies;
  for (int i = 0; i < 12; ++i) companies.push_back(make("companies", {{"name", Value::text("Co" + std::to_string(i))}}));

  std::vector<pipeline::AssociationInput> in;
  for (const auto& co : companies) in.push_back({c1, co, **type});
  in.push_back({c2, companies[0], **type});
  auto created = crm().associate("contacts", "companies", in);
  ASSERT_TRUE(created.ok()) << created.error().message;
  for (const auto& o : *created) EXPECT_TRUE(o.ok()) << o.error->message;
  // Idempotent.
  ASSERT_TRUE(crm().associate("contacts", "companies", in).ok());

  const std::string lonely = make("contacts", {{"email", Value::text("a3@example.com")}});
  auto read = crm().associations("contacts", "companies", {c1, c2, lonely});
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), 3u);
  std::set<std::string> got;
  for (const auto& t : (*read)[0].to) got.insert(t.to_id);
  EXPECT_EQ(got, std::set<std::string>(companies.begin(), companies.end()));  // 12 over 3 pages
  ASSERT_EQ((*read)[1].to.size(), 1u);
  EXPECT_EQ((*read)[1].to[0].to_id, companies[0]);
  ASSERT_FALSE((*read)[1].to[0].types.empty());
  EXPECT_TRUE((*read)[2].to.empty());

  ASSERT_TRUE(crm().unassociate("contacts", "companies", {{c1, companies[3]}, {c2, companies[0]}}).ok());
  read = crm().associations("contacts", "companies", {c1, c2});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ((*read)[0].to.size(), 11u);
  EXPECT_TRUE((*read)[1].to.empty());
  EXPECT_TRUE(crm().unassociate("contacts", "companies", {{c2, companies[0]}}).ok());  // idempotent
}

TEST_F(Meta, PropertiesListGetCreateAndConflict) {
  auto& api = crm().properties();
  auto list = api.list("contacts");
  ASSERT_TRUE(list.ok()) << list.error().message;
  auto email = std::find_if(list->begin(), list->end(), [](const PropertyDef& d) { return d.name == "email"; });
  ASSERT_NE(email, list->end());
  EXPECT_EQ(email->type, "string");

  PropertyDef def;
  def.name = "hubsync_tier";
  def.label = "Tier";
  def.type = "enumeration";
  def.field_type = "select";
  def.group_name = "contactinformation";
  def.options = {{"Gold", "gold"}, {"Silver", "silver"}};
  auto created = api.create("contacts", def);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->name, "hubsync_tier");
  auto got = api.get("contacts", "hubsync_tier");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->options.size(), 2u);
  auto again = api.create("contacts", def);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::conflict);
  auto missing = api.get("contacts", "no_such_property");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(Meta, SchemasCreateGetListAndAddAssociation) {
  auto& api = crm().properties();
  SchemaSpec spec;
  spec.name = "registration";
  spec.label_singular = "Registration";
  spec.label_plural = "Registrations";
  spec.primary_display_property = "reg_code";
  spec.required_properties = {"reg_code"};
  spec.searchable_properties = {"reg_code"};
  spec.associated_objects = {"CONTACT"};
  PropertyDef code;
  code.name = "reg_code";
  code.label = "Code";
  code.type = "string";
  code.field_type = "text";
  code.has_unique_value = true;
  spec.properties = {code};
  auto created = api.create_schema(spec);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->object_type_id.rfind("2-", 0), 0u) << created->object_type_id;
  EXPECT_FALSE(created->fully_qualified_name.empty());

  auto got = api.get_schema(created->object_type_id);
  ASSERT_TRUE(got.ok() && got->has_value()) << (got.ok() ? "absent" : got.error().message);
  EXPECT_EQ((*got)->name, "registration");
  auto by_name = api.get_schema("registration");
  ASSERT_TRUE(by_name.ok() && by_name->has_value());
  auto all = api.list_schemas();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);

  auto assoc = api.add_schema_association(created->object_type_id, created->object_type_id, "0-2", "registration_to_company");
  ASSERT_TRUE(assoc.ok()) << assoc.error().message;
  EXPECT_FALSE(assoc->id.empty());

  // The custom object takes upserts on its unique property.
  auto up = crm().upsert(created->object_type_id, "reg_code",
                         {{"R-1", {{"reg_code", Value::text("R-1")}}}, {"R-2", {{"reg_code", Value::text("R-2")}}}});
  ASSERT_TRUE(up.ok()) << up.error().message;
  for (const auto& o : *up) EXPECT_TRUE(o.ok() && o.created) << (o.error ? o.error->message : "");

  auto dup = api.create_schema(spec);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().kind, ErrorKind::conflict);
}

TEST_F(Meta, CatalogPortsForTheMappingEngine) {
  HubSpotCatalog catalog(client());
  auto props = catalog.properties("contacts");
  ASSERT_TRUE(props.ok()) << props.error().message;
  ASSERT_TRUE(props->has_value());
  EXPECT_TRUE(std::any_of((*props)->begin(), (*props)->end(), [](const auto& p) { return p.name == "email" && p.has_unique_value; }));
  auto nope = catalog.properties("p_no_such_object");
  ASSERT_TRUE(nope.ok()) << nope.error().message << " status=" << nope.error().http_status;
  EXPECT_FALSE(nope->has_value());
  auto no_schema = catalog.schema("event");
  ASSERT_TRUE(no_schema.ok()) << no_schema.error().message;
  EXPECT_FALSE(no_schema->has_value());

  mapping::SchemaSpec spec;
  spec.name = "event";
  spec.label_singular = "Event";
  spec.label_plural = "Events";
  spec.primary_display = "event_code";
  spec.required = {"event_code"};
  mapping::PropertySpec code;
  code.name = "event_code";
  code.label = "Event code";
  code.type = "string";
  code.field_type = "text";
  code.has_unique_value = true;
  spec.properties = {code};
  auto id = catalog.create_schema(spec, {"0-1"});
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto s = catalog.schema("event");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->object_type_id, *id);
  EXPECT_EQ((*s)->primary_display, "event_code");

  mapping::PropertySpec extra;
  extra.name = "capacity";
  extra.label = "Capacity";
  extra.type = "number";
  extra.field_type = "number";
  auto made = catalog.create_property(*id, extra);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(catalog.create_property(*id, extra).error().kind, ErrorKind::conflict);
  ASSERT_TRUE(catalog.create_association(*id, "0-2", "event_to_company").ok());
  auto types = catalog.association_types("0-1", "0-2");
  ASSERT_TRUE(types.ok()) << types.error().message;
  EXPECT_TRUE(std::any_of(types->begin(), types->end(), [](const auto& t) { return t.type_id == 279; }));
}

}  // namespace
}  // namespace hubsync::hubspot::testing
