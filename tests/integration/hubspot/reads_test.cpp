// CrmPort reads the pull pipeline relies on: history, unique-property reads,
// archived reads and the archived listing, against the simulator.
#include <gtest/gtest.h>

#include <set>

#include "engine/model/value.h"
#include "tests/integration/hubspot/sim_env.h"

namespace hubsync::hubspot::testing {
namespace {

using model::Value;

class Reads : public SimTest {
 protected:
  std::vector<std::string> upsert_contacts(const std::string& prefix, int n) {
    std::vector<std::string> emails;
    for (int i = 0; i < n; ++i) emails.push_back(prefix + std::to_string(i) + "@example.com");
    return hubspot::testing::upsert_contacts(crm(), emails);
  }
};

TEST_F(Reads, ByIdWithHistoryShowsTheIntegrationWriteAndTheUiEditNewestFirst) {
  const auto id = upsert_contacts("h", 1).at(0);  // firstname "Ada", written by hubsync (app 1001)
  sim_->ui_edit("contacts", id, {{"firstname", "Augusta"}});

  pipeline::ReadRequest req{{"firstname", "createdate"}, {"firstname", "lastname"}, "", false};
  auto read = crm().read_objects("contacts", {id, "999999999"}, req);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), 2u);
  const auto& got = (*read)[0];
  ASSERT_TRUE(got.record);
  EXPECT_EQ(text(*got.record, "firstname"), "Augusta");
  ASSERT_EQ(got.history.size(), 2u) << "exactly the properties asked";
  const auto& versions = got.history.at("firstname");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].value, "Augusta");
  EXPECT_EQ(versions[0].source_type, "CRM_UI");
  EXPECT_EQ(versions[1].value, "Ada");
  EXPECT_EQ(versions[1].source_type, "INTEGRATION");
  EXPECT_EQ(versions[1].source_id, std::to_string(sim::kHubsyncAppId));
  EXPECT_GE(versions[0].timestamp_ms, versions[1].timestamp_ms);
  // The ISO timestamp was parsed to ms: the first value was written when the contact was created.
  auto created = model::parse_datetime(text(*got.record, "createdate"));
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(versions[1].timestamp_ms, created->ms);
  EXPECT_TRUE(got.history.at("lastname").empty()) << "asked, never set";

  EXPECT_FALSE((*read)[1].record) << "an unknown id is not found";
  EXPECT_FALSE((*read)[1].error);
}

TEST_F(Reads, HistoryReadsGoOutInChunksOfFifty) {
  const auto ids = upsert_contacts("c", 120);
  ASSERT_EQ(ids.size(), 120u);
  sim_->reset_counters();
  auto read = crm().read_objects("contacts", ids, {{"email"}, {"firstname"}, "", false});
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), 120u);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ASSERT_TRUE((*read)[i].record) << i;
    EXPECT_EQ((*read)[i].record->hubspot_id, ids[i]) << "input order";
    EXPECT_EQ((*read)[i].history.at("firstname").size(), 1u);
  }
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/batch/read", 200), 3) << "50 + 50 + 20";
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/batch/read", 400), 0);
}

TEST_F(Reads, ByEmailFindsCaseVariantsInInputOrderAndMissesWithoutError) {
  const auto ids = upsert_contacts("u", 2);  // u0@example.com, u1@example.com
  sim_->reset_counters();
  pipeline::ReadRequest req{{"firstname"}, {}, "email", false};
  auto read = crm().read_objects(
      "contacts", {"u1@example.com", "U0@Example.COM", "nobody@example.com", "u0@example.com"}, req);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), 4u);
  ASSERT_TRUE((*read)[0].record);
  EXPECT_EQ((*read)[0].record->hubspot_id, ids[1]);
  ASSERT_TRUE((*read)[1].record) << "HubSpot matches emails case-insensitively";
  EXPECT_EQ((*read)[1].record->hubspot_id, ids[0]);
  EXPECT_EQ(text(*(*read)[1].record, "email"), "u0@example.com") << "stored lower-cased";
  EXPECT_FALSE((*read)[2].record);
  EXPECT_FALSE((*read)[2].error) << "not found is an answer";
  ASSERT_TRUE((*read)[3].record);
  EXPECT_EQ((*read)[3].record->hubspot_id, ids[0]);
  for (const auto& o : *read) EXPECT_TRUE(o.merged_into.empty());
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/batch/read"), 1);
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/search"), 0) << "no merge lookups by unique value";
}

TEST_F(Reads, ArchivedReadFindsOnlyArchivedObjectsWithArchivedAt) {
  const auto ids = upsert_contacts("a", 2);
  ASSERT_TRUE(crm().archive("contacts", {ids[0]}).ok());
  auto archived = crm().read_objects("contacts", ids, {{"email"}, {"email"}, "", true});
  ASSERT_TRUE(archived.ok()) << archived.error().message;
  ASSERT_TRUE((*archived)[0].record);
  EXPECT_EQ(text(*(*archived)[0].record, "email"), "a0@example.com");
  EXPECT_GT((*archived)[0].record->changed_at_ms, 0);
  EXPECT_EQ((*archived)[0].history.at("email").size(), 1u);
  EXPECT_FALSE((*archived)[1].record) << "a live object is not archived";
  EXPECT_FALSE((*archived)[1].error);
  auto live = crm().read("contacts", ids, {"email"});
  ASSERT_TRUE(live.ok());
  EXPECT_FALSE((*live)[0].record);
  EXPECT_TRUE((*live)[1].record);
}

TEST_F(Reads, ListArchivedPagesThroughEveryArchivedObject) {
  const auto ids = upsert_contacts("x", 135);
  ASSERT_EQ(ids.size(), 135u);
  const std::vector<std::string> gone(ids.begin(), ids.begin() + 130);
  ASSERT_TRUE(crm().archive("contacts", gone).ok());

  auto list_all = [&](const std::vector<std::string>& props, int& pages) {
    std::set<std::string> seen;
    std::string after;
    pages = 0;
    do {
      auto page = crm().list_archived("contacts", after, props);
      EXPECT_TRUE(page.ok()) << page.error().message;
      if (!page.ok()) break;
      for (const auto& r : page->records) {
        EXPECT_TRUE(seen.insert(r.hubspot_id).second) << "listed twice: " << r.hubspot_id;
        EXPECT_GT(r.changed_at_ms, 0) << "archivedAt";
        EXPECT_NE(text(r, "email").find("@example.com"), std::string::npos);
      }
      after = page->next_after;
      ++pages;
    } while (!after.empty() && pages < 10);
    return seen;
  };
  int pages = 0;
  EXPECT_EQ(list_all({"email"}, pages), std::set<std::string>(gone.begin(), gone.end()));
  EXPECT_EQ(pages, 2) << "100 + 30";

  // Too many properties for a URL: ids from the listing, values from batch/read.
  std::vector<std::string> many;
  for (int i = 0; i < 400; ++i) many.push_back("custom_property_with_a_long_name_" + std::to_string(i));
  many.push_back("email");
  sim_->reset_counters();
  EXPECT_EQ(list_all(many, pages), std::set<std::string>(gone.begin(), gone.end()));
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/batch/read"), 2) << "100 + 30 ids";
}

TEST_F(Reads, UnassociateTypesLeavesTheLabelsItWasNotGiven) {
  auto contact_id = upsert_contacts("l", 1).at(0);
  auto companies = sim_->seed("companies", 101, 3);
  // A person adds a "Billing" label in HubSpot's settings.
  auto label = client().call(HttpMethod::post, "/crm/v4/associations/contacts/companies/labels",
                             R"({"label":"Billing","name":"billing"})", {});
  ASSERT_TRUE(label.ok() && label->status == 200);
  auto unlabelled = crm().association_type("contacts", "companies", "");
  auto primary = crm().association_type("contacts", "companies", "Primary");
  auto billing = crm().association_type("contacts", "companies", "Billing");
  ASSERT_TRUE(unlabelled.ok() && primary.ok() && billing.ok());
  ASSERT_TRUE(*unlabelled && *primary && *billing);

  std::vector<pipeline::AssociationInput> hubsync_links, user_links;
  for (const auto& co : companies) {
    hubsync_links.push_back({contact_id, co, **primary});
    user_links.push_back({contact_id, co, **unlabelled});
  }
  user_links.push_back({contact_id, companies[0], **billing});
  ASSERT_TRUE(crm().associate("contacts", "companies", hubsync_links).ok());
  ASSERT_TRUE(crm().associate("contacts", "companies", user_links).ok());

  sim_->reset_counters();
  auto st = crm().unassociate_types("contacts", "companies", hubsync_links);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(sim_requests("POST /crm/v4/associations/{type}/{type}/batch/labels/archive", 204), 2) << "100 + 1";
  EXPECT_TRUE(crm().unassociate_types("contacts", "companies", hubsync_links).ok()) << "idempotent";

  auto types_of = [&](const std::string& company) {
    std::set<std::int32_t> ids;
    auto read = crm().associations("contacts", "companies", {contact_id});
    EXPECT_TRUE(read.ok());
    if (read.ok())
      for (const auto& t : (*read)[0].to)
        if (t.to_id == company)
          for (const auto& ty : t.types) ids.insert(ty.type_id);
    return ids;
  };
  EXPECT_EQ(types_of(companies[0]), (std::set<std::int32_t>{(*unlabelled)->type_id, (*billing)->type_id}));
  EXPECT_EQ(types_of(companies[100]), (std::set<std::int32_t>{(*unlabelled)->type_id}));

  // HubSpot's documented exception: the unlabelled type takes every label with it.
  ASSERT_TRUE(crm().unassociate_types("contacts", "companies", {{contact_id, companies[0], **unlabelled}}).ok());
  EXPECT_TRUE(types_of(companies[0]).empty());

  auto bad = crm().unassociate_types("contacts", "companies",
                                     {{contact_id, companies[1], {"HUBSPOT_DEFINED", 999999, ""}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, model::ErrorKind::invalid_record);
}

}  // namespace
}  // namespace hubsync::hubspot::testing
