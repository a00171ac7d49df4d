// Properties, schemas and associations v4 over real HTTP.
#include <gtest/gtest.h>

#include <set>

#include "tests/hubspot-sim/portal.h"
#include "tests/hubspot-sim/test/sim_fixture.h"

namespace hubsync::sim::test {
namespace {

class SimMeta : public SimTest {};

TEST_F(SimMeta, DefaultContactPropertiesExist) {
  auto r = client_->get("/crm/v3/properties/contacts");
  ASSERT_EQ(r.status, 200);
  std::set<std::string> names;
  auto doc = r.json();
  for (const auto& p : doc["results"].GetArray()) names.insert(p["name"].GetString());
  for (const char* n : {"email", "firstname", "lastname", "phone", "company", "website", "lifecyclestage", "city",
                        "country", "jobtitle", "createdate", "lastmodifieddate", "hs_object_id", "hs_merged_object_ids"})
    EXPECT_TRUE(names.count(n)) << n;
  auto ls = client_->get("/crm/v3/properties/contacts/lifecyclestage").json();
  EXPECT_STREQ(ls["type"].GetString(), "enumeration");
  EXPECT_GE(ls["options"].Size(), 8u);
  auto email = client_->get("/crm/v3/properties/contacts/email").json();
  EXPECT_TRUE(email["hasUniqueValue"].GetBool());
  auto companies = client_->get("/crm/v3/properties/companies/hs_lastmodifieddate");
  EXPECT_EQ(companies.status, 200);
  EXPECT_EQ(client_->get("/crm/v3/properties/contacts/nope").status, 404);
}

TEST_F(SimMeta, CustomPropertyLifecycleAndRules) {
  auto mrr = client_->post("/crm/v3/properties/contacts",
                           R"({"name":"mrr","label":"MRR","type":"number","fieldType":"number","groupName":"contactinformation"})");
  ASSERT_EQ(mrr.status, 201) << mrr.body;
  EXPECT_FALSE(mrr.json()["hubspotDefined"].GetBool());
  EXPECT_EQ(client_->post("/crm/v3/properties/contacts",
                          R"({"name":"mrr","label":"MRR","type":"number","fieldType":"number","groupName":"contactinformation"})").status, 409);
  EXPECT_EQ(client_->post("/crm/v3/properties/contacts",
                          R"({"name":"bad_pair","label":"B","type":"number","fieldType":"text","groupName":"contactinformation"})").status, 400)
      << "type/fieldType pairs are enforced";
  EXPECT_EQ(client_->post("/crm/v3/properties/contacts",
                          R"({"name":"no_group","label":"B","type":"string","fieldType":"text","groupName":"missing"})").status, 400);
  auto ext = client_->post("/crm/v3/properties/contacts",
                           R"({"name":"external_id","label":"Ext","type":"string","fieldType":"text","groupName":"contactinformation","hasUniqueValue":true})");
  ASSERT_EQ(ext.status, 201);
  EXPECT_EQ(client_->patch("/crm/v3/properties/contacts/external_id", R"({"hasUniqueValue":false})").status, 400)
      << "hasUniqueValue is immutable";
  EXPECT_STREQ(client_->patch("/crm/v3/properties/contacts/mrr", R"({"label":"Monthly revenue"})").json()["label"].GetString(), "Monthly revenue");
  // values are validated against the new definition, and unique values conflict
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts", R"({"properties":{"mrr":"12.5","external_id":"E1"}})").status, 201);
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts", R"({"properties":{"mrr":"abc"}})").status, 400);
  auto dup = client_->post("/crm/v3/objects/contacts", R"({"properties":{"external_id":"E1"}})");
  EXPECT_EQ(dup.status, 409);
  EXPECT_NE(std::string(dup.json()["message"].GetString()).find("Existing ID: "), std::string::npos);
  auto up = client_->post("/crm/v3/objects/contacts/batch/upsert",
                          R"({"inputs":[{"id":"E1","idProperty":"external_id","properties":{"mrr":"13"}}]})");
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_FALSE(up.json()["results"][0]["new"].GetBool());
  auto batch = client_->post("/crm/v3/properties/contacts/batch/read", R"({"inputs":[{"name":"mrr"},{"name":"email"}]})");
  EXPECT_EQ(batch.status, 200);
  EXPECT_EQ(batch.json()["results"].Size(), 2u);
  EXPECT_EQ(client_->del("/crm/v3/properties/contacts/mrr").status, 204);
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts", R"({"properties":{"mrr":"1"}})").status, 400);
  EXPECT_EQ(client_->del("/crm/v3/properties/contacts/email").status, 400) << "HubSpot-defined";
}

// The object endpoints read a type's definition from a shared snapshot
// (Portal::definition); every change of a definition must show through it
// at once: a property asked for by name is answered only while it exists.
TEST_F(SimMeta, ObjectEndpointsSeeEachDefinitionChangeAtOnce) {
  auto c = client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"tier@example.com"}})");
  ASSERT_EQ(c.status, 201) << c.body;
  const std::string path = "/crm/v3/objects/contacts/" + std::string(c.json()["id"].GetString()) + "?properties=tier";
  EXPECT_FALSE(client_->get(path).json()["properties"].HasMember("tier")) << "no such property yet";
  ASSERT_EQ(client_->post("/crm/v3/properties/contacts",
                          R"({"name":"tier","label":"Tier","type":"string","fieldType":"text","groupName":"contactinformation"})")
                .status,
            201);
  auto got = client_->get(path).json();
  ASSERT_TRUE(got["properties"].HasMember("tier")) << "a property created is known to the next read";
  EXPECT_TRUE(got["properties"]["tier"].IsNull());
  ASSERT_EQ(client_->patch("/crm/v3/objects/contacts/" + std::string(c.json()["id"].GetString()),
                           R"({"properties":{"tier":"gold"}})").status,
            200);
  EXPECT_STREQ(client_->get(path).json()["properties"]["tier"].GetString(), "gold");
  ASSERT_EQ(client_->del("/crm/v3/properties/contacts/tier").status, 204);
  EXPECT_FALSE(client_->get(path).json()["properties"].HasMember("tier")) << "an archived property is not answered";
}

// Writes check their values before taking the portal's lock, against a
// snapshot of the definitions: each write must meet the definitions of its
// moment, not the snapshot of an earlier one.
TEST_F(SimMeta, AWriteMeetsTheDefinitionsAsTheyAreWhenItIsMade) {
  ASSERT_EQ(client_->post("/crm/v3/properties/contacts",
                          R"({"name":"plan","label":"Plan","type":"enumeration","fieldType":"select",)"
                          R"("groupName":"contactinformation","options":[{"label":"Pro","value":"pro"}]})").status,
            201);
  auto c = client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"a@x.io","plan":"pro"}})");
  ASSERT_EQ(c.status, 201) << c.body;
  const std::string path = "/crm/v3/objects/contacts/" + std::string(c.json()["id"].GetString());
  ASSERT_EQ(client_->patch("/crm/v3/properties/contacts/plan",
                           R"({"options":[{"label":"Basic","value":"basic"}]})").status,
            200);
  auto stale = client_->post("/crm/v3/objects/contacts/batch/upsert",
                             R"({"inputs":[{"id":"b@x.io","idProperty":"email","properties":{"email":"b@x.io","plan":"pro"}}]})");
  EXPECT_EQ(stale.status, 400) << "an option taken away is refused: " << stale.body;
  EXPECT_NE(stale.body.find("INVALID_OPTION"), std::string::npos) << stale.body;
  auto fresh = client_->patch(path, R"({"properties":{"plan":"basic"}})");
  EXPECT_EQ(fresh.status, 200) << "an option added is taken: " << fresh.body;
  ASSERT_EQ(client_->del("/crm/v3/properties/contacts/plan").status, 204);
  auto gone = client_->patch(path, R"({"properties":{"plan":"basic"}})");
  EXPECT_EQ(gone.status, 400) << gone.body;
  EXPECT_NE(gone.body.find("PROPERTY_DOESNT_EXIST"), std::string::npos) << gone.body;
  auto upserted = client_->post("/crm/v3/objects/contacts/batch/upsert",
                                R"({"inputs":[{"id":"C@X.io","idProperty":"email","properties":{"firstname":"C"}}]})");
  ASSERT_EQ(upserted.status, 200) << upserted.body;
  EXPECT_STREQ(upserted.json()["results"][0]["properties"]["email"].GetString(), "c@x.io")
      << "an upsert's id, absent from its properties, is still checked and normalised";
}

TEST(SimPortal, ADefinitionSnapshotIsSharedUntilADefinitionChanges) {
  Portal portal(62515, 0, [] { return std::int64_t{1'700'000'000'000}; }, false);
  auto a = portal.definition("contacts");
  EXPECT_EQ(portal.definition("contacts"), a) << "no change: the same snapshot";
  EXPECT_EQ(a->find_property("tier"), nullptr);
  PropertyDef d;
  d.name = "tier";
  d.label = "Tier";
  d.group_name = "contactinformation";
  portal.create_property("contacts", d);
  auto b = portal.definition("contacts");
  EXPECT_NE(b, a);
  EXPECT_NE(b->find_property("tier"), nullptr);
  EXPECT_EQ(a->find_property("tier"), nullptr) << "a snapshot already handed out does not change";
  portal.archive_property("contacts", "tier");
  EXPECT_EQ(portal.definition("contacts")->find_property("tier"), nullptr);
  EXPECT_THROW(portal.definition("no_such_type"), ApiError);
}

TEST_F(SimMeta, PropertyGroups) {
  ASSERT_EQ(client_->post("/crm/v3/properties/contacts/groups", R"({"name":"billing","label":"Billing"})").status, 201);
  EXPECT_EQ(client_->post("/crm/v3/properties/contacts/groups", R"({"name":"billing","label":"Billing"})").status, 409);
  EXPECT_EQ(client_->post("/crm/v3/properties/contacts",
                          R"({"name":"plan","label":"Plan","type":"enumeration","fieldType":"select","groupName":"billing","options":[{"label":"Pro","value":"pro"}]})").status, 201);
  EXPECT_EQ(client_->get("/crm/v3/properties/contacts/groups/billing").status, 200);
}

TEST_F(SimMeta, SchemasAssignIdsAndKeepNamesImmutable) {
  for (const char* base : {"/crm/v3/schemas", "/crm-object-schemas/v3/schemas"}) {
    SCOPED_TRACE(base);
    sim_->reset();
    auto r = client_->post(base, R"({"name":"machines","labels":{"singular":"Machine","plural":"Machines"},
        "primaryDisplayProperty":"serial","requiredProperties":["serial"],"associatedObjects":["CONTACT"],
        "properties":[{"name":"serial","label":"Serial","type":"string","fieldType":"text","hasUniqueValue":true},
                      {"name":"weight","label":"Weight","type":"number"}]})");
    ASSERT_EQ(r.status, 201) << r.body;
    auto j = r.json();
    EXPECT_STREQ(j["objectTypeId"].GetString(), "2-1");
    EXPECT_STREQ(j["fullyQualifiedName"].GetString(), "p62515_machines");
    ASSERT_GE(j["associations"].Size(), 1u);
    EXPECT_EQ(client_->post(base, R"({"name":"m2","objectTypeId":"2-9","labels":{"singular":"M","plural":"Ms"}})").status, 400);
    EXPECT_EQ(client_->patch(std::string(base) + "/machines", R"({"labels":{"singular":"Robot","plural":"Robots"}})").status, 400);
    EXPECT_EQ(client_->patch(std::string(base) + "/2-1", R"({"searchableProperties":["serial"]})").status, 200);
    for (const char* ref : {"machines", "p_machines", "p62515_machines", "2-1"}) {
      auto c = client_->post(std::string("/crm/v3/objects/") + ref,
                             std::string(R"({"properties":{"serial":"S-)") + ref + R"(","weight":"3"}})");
      EXPECT_EQ(c.status, 201) << ref << " " << c.body;
      EXPECT_TRUE(c.json()["properties"].HasMember("hs_lastmodifieddate"));
    }
    EXPECT_EQ(client_->post("/crm/v3/objects/machines", R"({"properties":{"weight":"3"}})").status, 400) << "required property";
    auto list = client_->get(base).json();
    EXPECT_EQ(list["results"].Size(), 1u);
    auto assoc = client_->post(std::string(base) + "/machines/associations",
                               R"({"fromObjectTypeId":"2-1","toObjectTypeId":"0-2","name":"machine_to_company"})");
    EXPECT_EQ(assoc.status, 201) << assoc.body;
    EXPECT_EQ(client_->get("/crm/v4/associations/machines/companies/labels").json()["results"].Size(), 1u);
  }
}

TEST_F(SimMeta, AssociationsDefaultTypesAndPaging) {
  SimulatorOptions o;
  o.association_page_size = 10;
  start(o);
  auto contact = sim_->seed("contacts", 1, 1)[0];
  auto companies = sim_->seed("companies", 25, 2);
  std::string body = "{\"inputs\":[";
  for (size_t i = 0; i < companies.size(); ++i)
    body += (i ? "," : "") + std::string(R"({"from":{"id":")") + contact + R"("},"to":{"id":")" + companies[i] + "\"}}";
  body += "]}";
  auto r = client_->post("/crm/v4/associations/contacts/companies/batch/associate/default", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["results"][0]["associationSpec"]["associationTypeId"].GetInt(), 279);
  std::set<std::string> seen;
  std::string after;
  int pages = 0;
  do {
    std::string in = R"({"inputs":[{"id":")" + contact + "\"" + (after.empty() ? "" : R"(,"after":")" + after + "\"") + "}]}";
    auto page = client_->post("/crm/v4/associations/contacts/companies/batch/read", in);
    ASSERT_EQ(page.status, 200) << page.body;
    auto j = page.json();
    const auto& res = j["results"][0];
    for (const auto& t : res["to"].GetArray()) {
      seen.insert(t["toObjectId"].GetString());
      EXPECT_EQ(t["associationTypes"][0]["typeId"].GetInt(), 279);
    }
    after = res.HasMember("paging") ? res["paging"]["next"]["after"].GetString() : "";
    ++pages;
  } while (!after.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(pages, 3);
  // the reverse direction exists with the paired type id
  auto back = client_->post("/crm/v4/associations/companies/contacts/batch/read", R"({"inputs":[{"id":")" + companies[0] + "\"}]}").json();
  EXPECT_EQ(back["results"][0]["to"][0]["associationTypes"][0]["typeId"].GetInt(), 280);
  EXPECT_FALSE(back["results"][0].HasMember("paging")) << "paging only when more";
  // labels lookup, labelled create, archive
  auto labels = client_->get("/crm/v4/associations/contacts/companies/labels").json();
  std::set<int> ids;
  for (const auto& l : labels["results"].GetArray()) ids.insert(l["typeId"].GetInt());
  EXPECT_TRUE(ids.count(279) && ids.count(1));
  auto primary = client_->post("/crm/v4/associations/contacts/companies/batch/create",
                               R"({"inputs":[{"from":{"id":")" + contact + R"("},"to":{"id":")" + companies[0] +
                                   R"("},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":1}]}]})");
  EXPECT_EQ(primary.status, 201) << primary.body;
  auto bad = client_->post("/crm/v4/associations/contacts/companies/batch/create",
                           R"({"inputs":[{"from":{"id":")" + contact + R"("},"to":{"id":")" + companies[0] +
                               R"("},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":999}]}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(client_->post("/crm/v4/associations/contacts/companies/batch/archive",
                          R"({"inputs":[{"from":{"id":")" + contact + R"("},"to":[{"id":")" + companies[0] + "\"}]}]}").status, 204);
  auto after_archive = client_->post("/crm/v4/associations/companies/contacts/batch/read", R"({"inputs":[{"id":")" + companies[0] + "\"}]}");
  EXPECT_EQ(after_archive.status, 207) << "no associations left for that input";
  std::string too_many = "{\"inputs\":[";
  for (int i = 0; i < 1001; ++i) too_many += (i ? "," : "") + std::string(R"({"id":"1"})");
  EXPECT_EQ(client_->post("/crm/v4/associations/contacts/companies/batch/read", too_many + "]}").status, 400);
}

TEST_F(SimMeta, LabelledAssociationTypesForCustomObjects) {
  ASSERT_EQ(client_->post("/crm/v3/schemas", R"({"name":"machines","labels":{"singular":"Machine","plural":"Machines"},
      "associatedObjects":["CONTACT"],"properties":[{"name":"serial","label":"Serial","type":"string","fieldType":"text"}]})").status, 201);
  auto label = client_->post("/crm/v4/associations/machines/contacts/labels", R"({"label":"Operator","name":"operator"})");
  ASSERT_EQ(label.status, 200) << label.body;
  auto lj = label.json();
  int type_id = lj["results"][0]["typeId"].GetInt();
  EXPECT_STREQ(lj["results"][0]["category"].GetString(), "USER_DEFINED");
  auto types = client_->get("/crm/v4/associations/machines/contacts/labels").json();
  EXPECT_EQ(types["results"].Size(), 2u) << "the unlabelled pair from associatedObjects and the label";
  auto machine = std::string(client_->post("/crm/v3/objects/machines", R"({"properties":{"serial":"M1"}})").json()["id"].GetString());
  auto contact = sim_->seed("contacts", 1, 1)[0];
  auto r = client_->post("/crm/v4/associations/machines/contacts/batch/create",
                         R"({"inputs":[{"from":{"id":")" + machine + R"("},"to":{"id":")" + contact +
                             R"("},"types":[{"associationCategory":"USER_DEFINED","associationTypeId":)" + std::to_string(type_id) + "}]}]}");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_STREQ(r.json()["results"][0]["labels"][0].GetString(), "Operator");
  auto back = client_->get("/crm/v4/objects/contacts/" + contact + "/associations/machines").json();
  ASSERT_EQ(back["results"].Size(), 1u);
  EXPECT_STREQ(back["results"][0]["associationTypes"][0]["label"].GetString(), "Operator");
  // create with associations inline
  auto inline_create = client_->post("/crm/v3/objects/machines",
                                     R"({"properties":{"serial":"M2"},"associations":[{"to":{"id":")" + contact +
                                         R"("},"types":[{"associationCategory":"USER_DEFINED","associationTypeId":)" +
                                         std::to_string(type_id) + "}]}]}");
  EXPECT_EQ(inline_create.status, 201) << inline_create.body;
  EXPECT_EQ(client_->get("/crm/v4/objects/contacts/" + contact + "/associations/machines").json()["results"].Size(), 2u);
}

// POST …/batch/labels/archive as crm-associations-v4.json documents it:
// {inputs:[{from:{id}, to:{id}, types:[…]}]} -> 204.
TEST_F(SimMeta, LabelsArchiveRemovesOnlyTheGivenTypes) {
  auto contact = sim_->seed("contacts", 1, 1)[0];
  auto company = sim_->seed("companies", 1, 2)[0];
  auto label = client_->post("/crm/v4/associations/contacts/companies/labels", R"({"label":"Billing","name":"billing"})");
  ASSERT_EQ(label.status, 200) << label.body;
  const int billing = label.json()["results"][0]["typeId"].GetInt();
  auto spec = [](const std::string& category, int id) {
    return R"({"associationCategory":")" + category + R"(","associationTypeId":)" + std::to_string(id) + "}";
  };
  auto input = [&](const std::string& types) {
    return R"({"inputs":[{"from":{"id":")" + contact + R"("},"to":{"id":")" + company + R"("},"types":[)" + types + "]}]}";
  };
  auto types_between = [&](const std::string& from, const std::string& from_id) {
    std::set<int> ids;
    auto r = client_->post("/crm/v4/associations/" + from + "/batch/read", R"({"inputs":[{"id":")" + from_id + "\"}]}");
    auto j = r.json();
    if (r.status == 200)
      for (const auto& t : j["results"][0]["to"][0]["associationTypes"].GetArray()) ids.insert(t["typeId"].GetInt());
    return ids;
  };
  const std::string archive = "/crm/v4/associations/contacts/companies/batch/labels/archive";
  auto all_three = input(spec("HUBSPOT_DEFINED", 279) + "," + spec("HUBSPOT_DEFINED", 1) + "," + spec("USER_DEFINED", billing));
  ASSERT_EQ(client_->post("/crm/v4/associations/contacts/companies/batch/create", all_three).status, 201);

  auto removed = client_->post(archive, input(spec("HUBSPOT_DEFINED", 1)));
  EXPECT_EQ(removed.status, 204) << removed.body;
  EXPECT_TRUE(removed.body.empty());
  EXPECT_EQ(types_between("contacts/companies", contact), (std::set<int>{279, billing}));
  EXPECT_EQ(types_between("companies/contacts", company), (std::set<int>{280, billing + 1})) << "inverse types too";
  EXPECT_EQ(client_->post(archive, input(spec("HUBSPOT_DEFINED", 1))).status, 204) << "idempotent";

  // A bad input fails the batch and changes nothing.
  EXPECT_EQ(client_->post(archive, input(spec("HUBSPOT_DEFINED", 999))).status, 400);
  EXPECT_EQ(client_->post(archive, input(spec("USER_DEFINED", 279))).status, 400) << "category must match";
  EXPECT_EQ(client_->post(archive, input("")).status, 400) << "types is required";
  EXPECT_EQ(client_->post(archive, R"({"inputs":[{"from":{"id":")" + contact + R"("},"to":[{"id":")" + company +
                                       R"("}],"types":[)" + spec("USER_DEFINED", billing) + "]}]}").status, 400)
      << "`to` is one object here, not batch/archive's array";
  EXPECT_EQ(types_between("contacts/companies", contact), (std::set<int>{279, billing}));

  // Removing the unlabelled type removes every label (HubSpot's documented rule).
  EXPECT_EQ(client_->post(archive, input(spec("HUBSPOT_DEFINED", 279))).status, 204);
  EXPECT_TRUE(types_between("contacts/companies", contact).empty());
  EXPECT_TRUE(types_between("companies/contacts", company).empty());

  // Removing the last label leaves the pair unassociated.
  ASSERT_EQ(client_->post("/crm/v4/associations/contacts/companies/batch/create", input(spec("USER_DEFINED", billing))).status, 201);
  EXPECT_EQ(client_->post(archive, input(spec("USER_DEFINED", billing))).status, 204);
  EXPECT_EQ(client_->post("/crm/v4/associations/contacts/companies/batch/read",
                          R"({"inputs":[{"id":")" + contact + "\"}]}").status, 207) << "no associations left";
  EXPECT_EQ(client_->get("/crm/v4/objects/companies/" + company + "/associations/contacts").json()["results"].Size(), 0u);
}

TEST_F(SimMeta, MergeMovesAssociations) {
  auto contacts = sim_->seed("contacts", 2, 1);
  auto company = sim_->seed("companies", 1, 2)[0];
  ASSERT_EQ(client_->put("/crm/v4/objects/contacts/" + contacts[1] + "/associations/default/companies/" + company, "").status, 200);
  auto merged = client_->post("/crm/v3/objects/contacts/merge",
                              R"({"primaryObjectId":")" + contacts[0] + R"(","objectIdToMerge":")" + contacts[1] + "\"}").json();
  std::string survivor = merged["id"].GetString();
  auto links = client_->get("/crm/v4/objects/contacts/" + survivor + "/associations/companies").json();
  ASSERT_EQ(links["results"].Size(), 1u);
  EXPECT_EQ(std::string(links["results"][0]["toObjectId"].GetString()), company);
}

}  // namespace
}  // namespace hubsync::sim::test
