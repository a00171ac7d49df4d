// Objects v3 over real HTTP: CRUD, batch, validation, uniqueness, search.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "tests/hubspot-sim/test/sim_fixture.h"

namespace hubsync::sim::test {
namespace {

std::string contact(const std::string& email, const std::string& extra = "") {
  return R"({"properties":{"email":")" + email + "\"" + extra + "}}";
}

class SimObjects : public SimTest {};

TEST_F(SimObjects, CreateReadUpdateArchive) {
  auto c = client_->post("/crm/v3/objects/contacts", contact("Ann@Example.com", R"(,"firstname":"Ann","phone":"+1 555")"));
  ASSERT_EQ(c.status, 201) << c.body;
  auto j = c.json();
  std::string id = j["id"].GetString();
  EXPECT_STREQ(j["properties"]["email"].GetString(), "ann@example.com");
  EXPECT_STREQ(j["properties"]["hs_object_id"].GetString(), id.c_str());
  EXPECT_STREQ(j["properties"]["createdate"].GetString(), "2023-11-14T22:13:20.000Z");
  EXPECT_STREQ(j["createdAt"].GetString(), "2023-11-14T22:13:20.000Z");
  EXPECT_FALSE(j["archived"].GetBool());

  advance(1000);
  auto u = client_->patch("/crm/v3/objects/contacts/" + id, R"({"properties":{"firstname":"","lastname":"Lee"}})");
  ASSERT_EQ(u.status, 200) << u.body;
  auto g = client_->get("/crm/v3/objects/contacts/" + id + "?properties=firstname,lastname,phone");
  ASSERT_EQ(g.status, 200);
  auto gj = g.json();
  EXPECT_TRUE(gj["properties"]["firstname"].IsNull()) << "\"\" clears the value";
  EXPECT_STREQ(gj["properties"]["lastname"].GetString(), "Lee");
  EXPECT_STREQ(gj["properties"]["phone"].GetString(), "+1 555");
  EXPECT_STREQ(gj["properties"]["lastmodifieddate"].GetString(), "2023-11-14T22:13:21.000Z");
  EXPECT_STREQ(gj["updatedAt"].GetString(), "2023-11-14T22:13:21.000Z");

  auto by_email = client_->get("/crm/v3/objects/contacts/ANN@example.com?idProperty=email");
  ASSERT_EQ(by_email.status, 200) << by_email.body;
  EXPECT_EQ(std::string(by_email.json()["id"].GetString()), id);

  EXPECT_EQ(client_->del("/crm/v3/objects/contacts/" + id).status, 204);
  auto gone = client_->get("/crm/v3/objects/contacts/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_STREQ(gone.json()["category"].GetString(), "OBJECT_NOT_FOUND");
  auto archived = client_->get("/crm/v3/objects/contacts/" + id + "?archived=true");
  EXPECT_EQ(archived.status, 200);
  EXPECT_TRUE(archived.json()["archived"].GetBool());
  // the email is free again once the contact is archived
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts", contact("ann@example.com")).status, 201);
}

TEST_F(SimObjects, ListPagesAndArchivedFilter) {
  sim_->seed("contacts", 25, 7);
  std::vector<std::string> ids;
  std::string after;
  int pages = 0;
  do {
    auto r = client_->get("/crm/v3/objects/contacts?limit=10&properties=email" + (after.empty() ? "" : "&after=" + after));
    ASSERT_EQ(r.status, 200);
    auto j = r.json();
    for (const auto& o : j["results"].GetArray()) ids.emplace_back(o["id"].GetString());
    after = j.HasMember("paging") ? j["paging"]["next"]["after"].GetString() : "";
    ++pages;
  } while (!after.empty());
  EXPECT_EQ(ids.size(), 25u);
  EXPECT_EQ(pages, 3);
  client_->del("/crm/v3/objects/contacts/" + ids[0]);
  auto arch = client_->get("/crm/v3/objects/contacts?archived=true").json();
  ASSERT_EQ(arch["results"].Size(), 1u);
  EXPECT_EQ(std::string(arch["results"][0]["id"].GetString()), ids[0]);
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts?limit=101").status, 400);
}

TEST_F(SimObjects, ValidationErrorsUseHubSpotCodes) {
  auto r = client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"bad","nope":"1","lifecyclestage":"Lead"}})");
  ASSERT_EQ(r.status, 400);
  auto j = r.json();
  EXPECT_STREQ(j["status"].GetString(), "error");
  EXPECT_STREQ(j["category"].GetString(), "VALIDATION_ERROR");
  EXPECT_TRUE(j.HasMember("correlationId"));
  std::set<std::string> codes;
  for (const auto& e : j["errors"].GetArray()) codes.insert(e["code"].GetString());
  EXPECT_EQ(codes, (std::set<std::string>{"INVALID_EMAIL", "PROPERTY_DOESNT_EXIST", "INVALID_OPTION"}));
  auto n = client_->post("/crm/v3/objects/companies", R"({"properties":{"name":"X","numberofemployees":"many"}})");
  ASSERT_EQ(n.status, 400);
  EXPECT_STREQ(n.json()["errors"][0]["code"].GetString(), "INVALID_INTEGER");
  auto ro = client_->post("/crm/v3/objects/contacts", R"({"properties":{"hs_object_id":"5"}})");
  EXPECT_EQ(ro.status, 400);
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts", "{not json").status, 400);
  EXPECT_EQ(client_->get("/crm/v3/objects/widgets").status, 400);
}

TEST_F(SimObjects, DuplicateEmailIs409WithExistingId) {
  auto first = client_->post("/crm/v3/objects/contacts", contact("dup@example.com")).json();
  std::string id = first["id"].GetString();
  auto r = client_->post("/crm/v3/objects/contacts", contact("DUP@example.com"));
  ASSERT_EQ(r.status, 409);
  auto j = r.json();
  EXPECT_STREQ(j["category"].GetString(), "CONFLICT");
  EXPECT_EQ(std::string(j["message"].GetString()), "Contact already exists. Existing ID: " + id);
  auto second = client_->post("/crm/v3/objects/contacts", contact("other@example.com")).json();
  auto u = client_->patch("/crm/v3/objects/contacts/" + std::string(second["id"].GetString()), contact("dup@example.com"));
  EXPECT_EQ(u.status, 409);
}

TEST_F(SimObjects, BatchLimitsAndAtomicity) {
  auto big = inputs(101, [](int i) { return contact("u" + std::to_string(i) + "@x.com"); });
  auto r = client_->post("/crm/v3/objects/contacts/batch/create", big);
  EXPECT_EQ(r.status, 400);
  EXPECT_STREQ(r.json()["category"].GetString(), "VALIDATION_ERROR");
  auto ok = client_->post("/crm/v3/objects/contacts/batch/create",
                          inputs(100, [](int i) { return contact("u" + std::to_string(i) + "@x.com"); }));
  ASSERT_EQ(ok.status, 201) << ok.body;
  auto j = ok.json();
  EXPECT_STREQ(j["status"].GetString(), "COMPLETE");
  EXPECT_EQ(j["results"].Size(), 100u);
  EXPECT_TRUE(j.HasMember("startedAt") && j.HasMember("completedAt"));
  // one invalid input fails the whole batch, nothing is written
  auto bad = client_->post("/crm/v3/objects/contacts/batch/create",
                           inputs(3, [](int i) { return contact(i == 1 ? "broken" : "v" + std::to_string(i) + "@x.com"); }));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts/v0@x.com?idProperty=email").status, 404);
  EXPECT_EQ(sim_->counters().inputs_written.at("0-1"), 100) << "only written inputs count";
}

TEST_F(SimObjects, TraceIdsGive207WithPerInputErrors) {
  client_->post("/crm/v3/objects/contacts", contact("taken@x.com"));
  auto body = inputs(3, [](int i) {
    std::string email = i == 0 ? "fine@x.com" : i == 1 ? "broken" : "taken@x.com";
    return R"({"objectWriteTraceId":"t)" + std::to_string(i) + R"(","properties":{"email":")" + email + "\"}}";
  });
  auto r = client_->post("/crm/v3/objects/contacts/batch/create", body);
  ASSERT_EQ(r.status, 207) << r.body;
  auto j = r.json();
  EXPECT_EQ(j["results"].Size(), 1u);
  EXPECT_EQ(j["numErrors"].GetInt(), 2);
  std::set<std::string> traces, categories;
  for (const auto& e : j["errors"].GetArray()) {
    traces.insert(e["context"]["objectWriteTraceId"][0].GetString());
    categories.insert(e["category"].GetString());
  }
  EXPECT_EQ(traces, (std::set<std::string>{"t1", "t2"}));
  EXPECT_EQ(categories, (std::set<std::string>{"VALIDATION_ERROR", "CONFLICT"}));
}

TEST_F(SimObjects, UpsertCreatesOrUpdatesAndFlagsNew) {
  client_->post("/crm/v3/objects/contacts", contact("old@x.com", R"(,"firstname":"Old")"));
  auto r = client_->post("/crm/v3/objects/contacts/batch/upsert",
                         R"({"inputs":[{"id":"old@x.com","idProperty":"email","properties":{"firstname":"Renamed"}},
                                       {"id":"new@x.com","idProperty":"email","properties":{"firstname":"New"}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  ASSERT_EQ(j["results"].Size(), 2u);
  EXPECT_FALSE(j["results"][0]["new"].GetBool());
  EXPECT_TRUE(j["results"][1]["new"].GetBool());
  EXPECT_STREQ(j["results"][1]["properties"]["email"].GetString(), "new@x.com");
  auto dup = client_->post("/crm/v3/objects/contacts/batch/upsert",
                           R"({"inputs":[{"id":"a@x.com","idProperty":"email","properties":{}},
                                         {"id":"a@x.com","idProperty":"email","properties":{}}]})");
  EXPECT_EQ(dup.status, 400) << "duplicate ids in one batch";
}

TEST_F(SimObjects, BatchReadReportsMissingIdsWith207) {
  auto ids = sim_->seed("companies", 2, 3);
  auto r = client_->post("/crm/v3/objects/companies/batch/read",
                         R"({"properties":["name","domain"],"inputs":[{"id":")" + ids[0] + R"("},{"id":"999"}]})");
  ASSERT_EQ(r.status, 207) << r.body;
  auto j = r.json();
  EXPECT_EQ(j["results"].Size(), 1u);
  EXPECT_STREQ(j["errors"][0]["category"].GetString(), "OBJECT_NOT_FOUND");
  EXPECT_STREQ(j["errors"][0]["context"]["ids"][0].GetString(), "999");
  EXPECT_TRUE(j["results"][0]["properties"].HasMember("hs_lastmodifieddate"));
  client_->del("/crm/v3/objects/companies/" + ids[1]);
  auto archived = client_->post("/crm/v3/objects/companies/batch/read?archived=true",
                                R"({"properties":[],"propertiesWithHistory":[],"inputs":[{"id":")" + ids[1] + "\"}]}");
  ASSERT_EQ(archived.status, 200) << archived.body;
  EXPECT_TRUE(archived.json()["results"][0]["archived"].GetBool());
  EXPECT_EQ(client_->post("/crm/v3/objects/companies/batch/read?archived=false",
                          R"({"properties":[],"propertiesWithHistory":[],"inputs":[{"id":")" + ids[1] + "\"}]}").status, 207);
}

TEST_F(SimObjects, PropertiesWithHistoryRecordSourceOfEachWrite) {
  auto id = std::string(client_->post("/crm/v3/objects/contacts", contact("h@x.com", R"(,"city":"Paris")")).json()["id"].GetString());
  advance(10);
  Client other(sim_->base_url(), kOtherToken);
  ASSERT_EQ(other.patch("/crm/v3/objects/contacts/" + id, R"({"properties":{"city":"Rome"}})").status, 200);
  advance(10);
  sim_->ui_edit("contacts", id, {{"city", "Oslo"}});
  auto j = client_->get("/crm/v3/objects/contacts/" + id + "?propertiesWithHistory=city").json();
  const auto& h = j["propertiesWithHistory"]["city"];
  ASSERT_EQ(h.Size(), 3u);
  EXPECT_STREQ(h[0]["value"].GetString(), "Oslo");
  EXPECT_STREQ(h[0]["sourceType"].GetString(), "CRM_UI");
  EXPECT_STREQ(h[1]["value"].GetString(), "Rome");
  EXPECT_STREQ(h[1]["sourceType"].GetString(), "INTEGRATION");
  EXPECT_STREQ(h[1]["sourceId"].GetString(), "2002");
  EXPECT_STREQ(h[2]["sourceId"].GetString(), "1001");
}

TEST_F(SimObjects, MergeGivesNewIdAndAbsorbedIdsStopResolving) {
  auto a = std::string(client_->post("/crm/v3/objects/contacts", contact("a@x.com", R"(,"firstname":"A")")).json()["id"].GetString());
  auto b = std::string(client_->post("/crm/v3/objects/contacts", contact("b@x.com", R"(,"city":"Lima")")).json()["id"].GetString());
  auto r = client_->post("/crm/v3/objects/contacts/merge", R"({"primaryObjectId":")" + a + R"(","objectIdToMerge":")" + b + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string survivor = r.json()["id"].GetString();
  EXPECT_NE(survivor, a);
  EXPECT_NE(survivor, b);
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts/" + a).status, 404);
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts/" + b).status, 404);
  auto s = client_->get("/crm/v3/objects/contacts/" + survivor + "?properties=email,city,hs_merged_object_ids").json();
  EXPECT_STREQ(s["properties"]["email"].GetString(), "a@x.com");
  EXPECT_STREQ(s["properties"]["city"].GetString(), "Lima");
  EXPECT_EQ(std::string(s["properties"]["hs_merged_object_ids"].GetString()), a + ";" + b);
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts/a@x.com?idProperty=email").json()["id"].GetString(), survivor);
}

TEST_F(SimObjects, SearchSeesWritesOnlyAfterIndexLag) {
  auto body = R"({"filterGroups":[{"filters":[{"propertyName":"email","operator":"EQ","value":"lag@x.com"}]}]})";
  client_->post("/crm/v3/objects/contacts", contact("lag@x.com"));
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts/search", body).json()["total"].GetInt(), 0);
  advance(299);
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts/search", body).json()["total"].GetInt(), 0);
  advance(1);
  auto r = client_->post("/crm/v3/objects/contacts/search", body);
  EXPECT_EQ(r.json()["total"].GetInt(), 1);
  EXPECT_FALSE(r.has_header("x-hubspot-ratelimit-max")) << "search carries no rate-limit headers";
  // an update is not visible either until the lag passes; the old version is
  std::string id = r.json()["results"][0]["id"].GetString();
  advance(1000);
  client_->patch("/crm/v3/objects/contacts/" + id, contact("moved@x.com"));
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts/search", body).json()["total"].GetInt(), 1);
  advance(300);
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts/search", body).json()["total"].GetInt(), 0);
  // archived records never appear
  client_->del("/crm/v3/objects/contacts/" + id);
  advance(300);
  auto all = client_->post("/crm/v3/objects/contacts/search", "{}").json();
  EXPECT_EQ(all["total"].GetInt(), 0);
}

TEST_F(SimObjects, SearchPagingSortingAndTheTenThousandCap) {
  sim_->set_index_lag_ms(0);
  sim_->set_rate_limits_enabled(false);
  sim_->seed("contacts", 10050, 11);
  auto page = client_->post("/crm/v3/objects/contacts/search",
                            R"({"sorts":[{"propertyName":"hs_object_id","direction":"ASCENDING"}],"properties":["email"],"limit":200,"after":"9800"})");
  ASSERT_EQ(page.status, 200) << page.body;
  auto j = page.json();
  EXPECT_EQ(j["total"].GetInt(), 10050);
  EXPECT_EQ(j["results"].Size(), 200u);
  EXPECT_STREQ(j["paging"]["next"]["after"].GetString(), "10000");
  auto past = client_->post("/crm/v3/objects/contacts/search", R"({"limit":200,"after":"10000"})");
  EXPECT_EQ(past.status, 400);
  EXPECT_STREQ(past.json()["category"].GetString(), "VALIDATION_ERROR");
  auto desc = client_->post("/crm/v3/objects/contacts/search",
                            R"({"sorts":[{"propertyName":"hs_object_id","direction":"DESCENDING"}],"limit":2})").json();
  EXPECT_GT(std::stoll(desc["results"][0]["id"].GetString()), std::stoll(desc["results"][1]["id"].GetString()));
}

TEST_F(SimObjects, UnknownRequestedPropertiesAreIgnoredAndLongUrisAre414) {
  auto id = std::string(client_->post("/crm/v3/objects/contacts", contact("q@x.com")).json()["id"].GetString());
  auto j = client_->get("/crm/v3/objects/contacts/" + id + "?properties=email,nope,city").json();
  EXPECT_FALSE(j["properties"].HasMember("nope"));
  EXPECT_TRUE(j["properties"]["city"].IsNull());
  std::string many = "/crm/v3/objects/contacts/" + id + "?properties=";
  while (many.size() < 20000) many += "some_long_property_name_here,";
  EXPECT_EQ(client_->get(many).status, 414) << "pain point 7: use batch/read for long lists";
}

TEST_F(SimObjects, GetEmbedsV3AssociationsWhenAsked) {
  auto contact = sim_->seed("contacts", 1, 1)[0];
  auto company = sim_->seed("companies", 1, 2)[0];
  ASSERT_EQ(client_->put("/crm/v4/objects/contacts/" + contact + "/associations/default/companies/" + company, "").status, 200);
  auto j = client_->get("/crm/v3/objects/contacts/" + contact + "?associations=companies").json();
  ASSERT_TRUE(j.HasMember("associations"));
  EXPECT_EQ(std::string(j["associations"]["companies"]["results"][0]["id"].GetString()), company);
  EXPECT_STREQ(j["associations"]["companies"]["results"][0]["type"].GetString(), "contact_to_company");
  auto list = client_->get("/crm/v3/objects/companies?associations=contacts").json();
  EXPECT_EQ(std::string(list["results"][0]["associations"]["contacts"]["results"][0]["id"].GetString()), contact);
}

TEST_F(SimObjects, ConcurrentUpsertsNeverDuplicateUniqueValues) {
  sim_->set_rate_limits_enabled(false);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      Client c(sim_->base_url());
      for (int round = 0; round < 20; ++round) {
        auto body = inputs(50, [&](int i) {
          return R"({"id":"p)" + std::to_string((i * 7 + round + t) % 120) + R"(@x.com","idProperty":"email","properties":{"city":"C)" +
                 std::to_string(t) + "\"}}";
        });
        if (c.post("/crm/v3/objects/contacts/batch/upsert", body).status != 200) failures++;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto dump = rapidjson::Document();
  std::string json = sim_->dump_json("contacts");
  dump.Parse(json.c_str());
  std::set<std::string> emails;
  for (const auto& o : dump["results"].GetArray()) EXPECT_TRUE(emails.insert(o["properties"]["email"].GetString()).second);
  EXPECT_EQ(emails.size(), 120u);
}

TEST(SimSeed, EachWriteOfASeedHasAMillisecondOfItsOwn) {
  // A clock that moves a millisecond every ten readings: writes quicker
  // than that would share one, as a fast simulator's did (runs of 200-300).
  // The seed's runs of equal modified times must still be its writes of 100.
  std::atomic<std::int64_t> readings{0};
  SimulatorOptions o;
  o.clock = [&] { return 1'700'000'000'000 + readings++ / 10; };
  Simulator sim(o);
  sim.seed("contacts", 450, 3);
  rapidjson::Document dump;
  std::string json = sim.dump_json("contacts");
  dump.Parse(json.c_str());
  std::map<std::string, int> runs;  // lastmodifieddate -> records
  for (const auto& r : dump["results"].GetArray()) ++runs[r["properties"]["lastmodifieddate"].GetString()];
  std::vector<int> sizes;
  for (const auto& [at, n] : runs) sizes.push_back(n);
  EXPECT_EQ(sizes, (std::vector<int>{100, 100, 100, 100, 50}));
}

TEST_F(SimObjects, SweepCanWindowOnModifiedTimeAndObjectId) {
  // Pain point 1: a bulk import stamps many rows with one modified time, so a
  // sweep pages on (lastmodifieddate, hs_object_id).
  sim_->set_index_lag_ms(0);
  std::vector<std::map<std::string, std::string>> rows;
  for (int i = 0; i < 30; ++i) rows.push_back({{"email", "s" + std::to_string(i) + "@x.com"}});
  ASSERT_EQ(sim_->ui_bulk_import("contacts", rows, 1690000000000).size(), 30u);
  std::string last_id = "0";
  std::set<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    auto body = R"({"filterGroups":[{"filters":[{"propertyName":"lastmodifieddate","operator":"EQ","value":"1690000000000"},
                                                 {"propertyName":"hs_object_id","operator":"GT","value":")" + last_id + R"("}]}],
                    "sorts":[{"propertyName":"hs_object_id","direction":"ASCENDING"}],"limit":7})";
    auto r = client_->post("/crm/v3/objects/contacts/search", body);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    if (j["results"].Size() == 0) break;
    for (const auto& o : j["results"].GetArray()) {
      EXPECT_TRUE(seen.insert(o["id"].GetString()).second);
      last_id = o["id"].GetString();
    }
    advance(1000);  // stay under 5 searches per second
  }
  EXPECT_EQ(seen.size(), 30u);
}

TEST_F(SimObjects, BulkImportStampsOneModifiedTime) {
  std::vector<std::map<std::string, std::string>> rows;
  for (int i = 0; i < 5; ++i) rows.push_back({{"email", "imp" + std::to_string(i) + "@x.com"}});
  auto ids = sim_->ui_bulk_import("contacts", rows, 1690000000000);
  ASSERT_EQ(ids.size(), 5u);
  for (const auto& id : ids)
    EXPECT_STREQ(client_->get("/crm/v3/objects/contacts/" + id).json()["properties"]["lastmodifieddate"].GetString(),
                 "2023-07-22T04:26:40.000Z");
}

}  // namespace
}  // namespace hubsync::sim::test
