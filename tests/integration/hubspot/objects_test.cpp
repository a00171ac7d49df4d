#include <gtest/gtest.h>

#include <set>

#include "connectors/hubspot/errors.h"
#include "tests/integration/hubspot/sim_env.h"

namespace hubsync::hubspot::testing {
namespace {

using model::ErrorKind;
using model::Value;

class Objects : public SimTest {};

TEST_F(Objects, CreateGetUpdateListArchive) {
  auto& api = crm().objects();
  auto created = api.create("contacts", {{"email", Value::text("ada@example.com")}, {"firstname", Value::text("Ada")}});
  ASSERT_TRUE(created.ok()) << created.error().message;
  const std::string id = created->hubspot_id;
  EXPECT_FALSE(id.empty());
  EXPECT_GT(created->changed_at_ms, 0);

  auto got = api.get("contacts", id, {"email", "firstname"});
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(text(**got, "firstname"), "Ada");

  auto by_email = api.get("contacts", "ada@example.com", {"firstname"}, "email");
  ASSERT_TRUE(by_email.ok()) << by_email.error().message;
  ASSERT_TRUE(by_email->has_value());
  EXPECT_EQ((*by_email)->hubspot_id, id);

  auto updated = api.update("contacts", id, {{"firstname", Value::text("Augusta")}, {"lastname", Value::null()}});
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  got = api.get("contacts", id, {"firstname"});
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(text(**got, "firstname"), "Augusta");

  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(api.create("contacts", {{"email", Value::text("p" + std::to_string(i) + "@example.com")}}).ok());
  std::set<std::string> listed;
  std::string after;
  int pages = 0;
  do {
    auto page = api.list("contacts", {"email"}, after, 2);
    ASSERT_TRUE(page.ok()) << page.error().message;
    for (const auto& r : page->records) listed.insert(r.hubspot_id);
    after = page->next_after;
    ++pages;
  } while (!after.empty() && pages < 10);
  EXPECT_EQ(listed.size(), 5u);
  EXPECT_GE(pages, 3);

  ASSERT_TRUE(api.archive("contacts", id).ok());
  got = api.get("contacts", id, {"email"});
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_FALSE(got->has_value());
  auto archived = api.list("contacts", {"email"}, "", 100, true);
  ASSERT_TRUE(archived.ok());
  ASSERT_EQ(archived->records.size(), 1u);
  EXPECT_EQ(archived->records[0].hubspot_id, id);
  EXPECT_TRUE(api.archive("contacts", id).ok());  // idempotent
}

TEST_F(Objects, BatchUpsertCreatesThenUpdatesInInputOrder) {
  std::vector<pipeline::UpsertInput> in;
  for (int i = 0; i < 250; ++i) in.push_back(contact("u" + std::to_string(i) + "@example.com"));
  auto first = crm().upsert("contacts", "email", in);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(first->size(), 250u);
  std::set<std::string> ids;
  for (const auto& o : *first) {
    ASSERT_TRUE(o.ok()) << o.error->message;
    EXPECT_TRUE(o.created);
    ids.insert(o.hubspot_id);
  }
  EXPECT_EQ(ids.size(), 250u);
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/batch/upsert"), 3);

  for (auto& i : in) i.properties["firstname"] = Value::text("Grace");
  auto second = crm().upsert("contacts", "email", in);
  ASSERT_TRUE(second.ok());
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_FALSE((*second)[i].created);
    EXPECT_EQ((*second)[i].hubspot_id, (*first)[i].hubspot_id) << i;
  }
  // The ids really belong to the emails they were reported for.
  auto read = crm().read("contacts", {(*first)[7].hubspot_id, (*first)[200].hubspot_id}, {"email", "firstname"});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(text(*(*read)[0].record, "email"), "u7@example.com");
  EXPECT_EQ(text(*(*read)[1].record, "email"), "u200@example.com");
  EXPECT_EQ(text(*(*read)[1].record, "firstname"), "Grace");
}

TEST_F(Objects, BatchLimitOfOneHundredIsEnforcedLocally) {
  std::vector<pipeline::UpsertInput> in;
  for (int i = 0; i < 101; ++i) in.push_back(contact("x" + std::to_string(i) + "@example.com"));
  auto r = crm().objects().batch_upsert("contacts", "email", in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::fatal);
  EXPECT_EQ(client().counters().attempts, 0);
}

TEST_F(Objects, InvalidRecordIsReportedAloneThroughTraceIds) {
  std::vector<pipeline::UpsertInput> in;
  for (int i = 0; i < 100; ++i) in.push_back(contact("ok" + std::to_string(i) + "@example.com"));
  in[42] = contact("not-an-email");
  auto r = crm().upsert("contacts", "email", in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (int i = 0; i < 100; ++i) {
    if (i == 42) continue;
    EXPECT_TRUE((*r)[i].ok()) << i;
  }
  ASSERT_FALSE((*r)[42].ok());
  EXPECT_EQ((*r)[42].error->kind, ErrorKind::invalid_record);
  EXPECT_EQ((*r)[42].error->category, "VALIDATION_ERROR");
  EXPECT_EQ(client().counters().retries(), 0);  // 4xx never retried
}

TEST_F(Objects, InvalidRecordIsIsolatedByBisectingWithoutTraceIds) {
  crm().objects().set_write_trace_ids(false);
  std::vector<pipeline::UpsertInput> in;
  for (int i = 0; i < 100; ++i) in.push_back(contact("b" + std::to_string(i) + "@example.com"));
  in[13] = contact("bad@@example");
  auto r = crm().upsert("contacts", "email", in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  int ok = 0;
  for (const auto& o : *r) ok += o.ok();
  EXPECT_EQ(ok, 99);
  ASSERT_FALSE((*r)[13].ok());
  EXPECT_EQ((*r)[13].error->kind, ErrorKind::invalid_record);
  const auto calls = sim_requests("POST /crm/v3/objects/{type}/batch/upsert");
  EXPECT_GT(calls, 2);
  EXPECT_LE(calls, 1 + 2 * 7);  // bisection: ~2 log2(100)
  EXPECT_EQ(client().counters().retries(), 0);
}

TEST_F(Objects, ConflictCarriesTheExistingId) {
  auto& api = crm().objects();
  auto a = api.create("contacts", {{"email", Value::text("dup@example.com")}});
  ASSERT_TRUE(a.ok());
  auto b = api.create("contacts", {{"email", Value::text("dup@example.com")}});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().kind, ErrorKind::conflict);
  EXPECT_EQ(b.error().http_status, 409);
  EXPECT_NE(b.error().message.find("existing_id=" + a->hubspot_id), std::string::npos) << b.error().message;
  EXPECT_NE(b.error().message.find("correlation_id="), std::string::npos);

  auto batch = api.batch_create("contacts", {{{"email", Value::text("dup@example.com")}},
                                             {{"email", Value::text("fresh@example.com")}}});
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  ASSERT_FALSE((*batch)[0].ok());
  EXPECT_EQ((*batch)[0].error->kind, ErrorKind::conflict);
  EXPECT_EQ((*batch)[0].existing_id, a->hubspot_id);
  EXPECT_TRUE((*batch)[1].ok());
}

TEST_F(Objects, BatchUpdateAndArchiveAndRead) {
  std::vector<pipeline::UpsertInput> in;
  for (int i = 0; i < 150; ++i) in.push_back(contact("r" + std::to_string(i) + "@example.com"));
  auto up = crm().upsert("contacts", "email", in);
  ASSERT_TRUE(up.ok());
  std::vector<std::string> ids;
  for (const auto& o : *up) ids.push_back(o.hubspot_id);

  std::vector<pipeline::UpdateInput> updates;
  for (int i = 0; i < 10; ++i) updates.push_back({ids[i], {{"lastname", Value::text("L" + std::to_string(i))}}});
  updates.push_back({"987654321", {{"lastname", Value::text("nobody")}}});
  auto upd = crm().update("contacts", updates);
  ASSERT_TRUE(upd.ok()) << upd.error().message;
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_TRUE((*upd)[i].ok()) << (*upd)[i].error->message;
    EXPECT_EQ((*upd)[i].hubspot_id, ids[i]);
  }
  ASSERT_FALSE(updates.empty());
  ASSERT_FALSE(upd->back().ok());
  EXPECT_EQ(upd->back().error->http_status, 404);
  EXPECT_EQ(upd->back().error->kind, ErrorKind::invalid_record);

  auto arch = crm().archive("contacts", std::vector<std::string>(ids.begin(), ids.begin() + 120));
  ASSERT_TRUE(arch.ok()) << arch.error().message;
  for (const auto& o : *arch) EXPECT_TRUE(o.ok());

  std::vector<std::string> ask(ids.begin() + 110, ids.end());  // 10 archived, 30 live
  ask.push_back("999999999");
  auto read = crm().read("contacts", ask, {"email", "lastname"});
  ASSERT_TRUE(read.ok()) << read.error().message;
  int found = 0;
  for (const auto& o : *read) {
    EXPECT_FALSE(o.error) << o.error->message;
    found += o.record.has_value();
  }
  EXPECT_EQ(found, 30);
  EXPECT_FALSE(read->back().record);
}

TEST_F(Objects, LongPropertyListsGoThroughBatchReadNotTheUrl) {
  auto c = crm().objects().create("contacts", {{"email", Value::text("long@example.com")}});
  ASSERT_TRUE(c.ok());
  std::vector<std::string> props;
  for (int i = 0; i < 400; ++i) props.push_back("custom_property_with_a_long_name_" + std::to_string(i));
  props.push_back("email");
  auto got = crm().objects().get("contacts", c->hubspot_id, props);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(text(**got, "email"), "long@example.com");
  EXPECT_EQ(sim_requests("GET /crm/v3/objects/{type}/{id}"), 0);
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/batch/read"), 1);
}

TEST_F(Objects, ReadFollowsMerges) {
  auto& api = crm().objects();
  auto a = api.create("contacts", {{"email", Value::text("keep@example.com")}});
  auto b = api.create("contacts", {{"email", Value::text("gone@example.com")}});
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string survivor = sim_->ui_merge("contacts", a->hubspot_id, b->hubspot_id);
  auto read = crm().read("contacts", {b->hubspot_id, survivor}, {"email"});
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_TRUE((*read)[0].record) << "absorbed id should resolve to the survivor";
  EXPECT_EQ((*read)[0].merged_into, survivor);
  EXPECT_EQ((*read)[0].record->hubspot_id, survivor);
  ASSERT_TRUE((*read)[1].record);
  EXPECT_TRUE((*read)[1].merged_into.empty());
  auto merged_ids = (*read)[1].record->fields["hs_merged_object_ids"];
  ASSERT_FALSE(merged_ids.is_null());
  EXPECT_NE(merged_ids.as_text().find(b->hubspot_id), std::string::npos);

  auto c = api.create("contacts", {{"email", Value::text("c@example.com")}});
  auto d = api.create("contacts", {{"email", Value::text("d@example.com")}});
  ASSERT_TRUE(c.ok() && d.ok());
  auto merged = api.merge("contacts", c->hubspot_id, d->hubspot_id);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_FALSE(merged->hubspot_id.empty());
}

// Properties too many for one search body: the survivor is found by a
// search asking for hs_merged_object_ids alone, then read by its id.
TEST_F(Objects, AMergeIsFollowedWithPropertiesTooManyForOneSearchBody) {
  std::vector<std::string> wide{"email"};
  for (int i = 0; i < 110; ++i) {
    wide.push_back("wide_property_with_a_long_name_" + std::to_string(100 + i));
    create_contact_property(crm(), wide.back(), "string", "text");
  }
  auto a = crm().objects().create("contacts", {{"email", Value::text("keep@example.com")},
                                               {wide.back(), Value::text("kept")}});
  auto b = crm().objects().create("contacts", {{"email", Value::text("gone@example.com")}});
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string survivor = sim_->ui_merge("contacts", a->hubspot_id, b->hubspot_id);
  sim_->reset_counters();
  auto read = crm().read("contacts", {b->hubspot_id}, wide);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_TRUE((*read)[0].record) << "absorbed id should resolve to the survivor";
  EXPECT_EQ((*read)[0].merged_into, survivor);
  EXPECT_EQ(text(*(*read)[0].record, "email"), "keep@example.com");
  EXPECT_EQ(text(*(*read)[0].record, wide.back()), "kept");
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/search", 200), 1);
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/search", 400), 0);
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/batch/read"), 2) << "the absorbed id, then the survivor";
}

TEST_F(Objects, BadTokenIsAnAuthErrorWithoutRetry) {
  PrivateAppToken bad("pat-not-valid");
  Stack other(sim_->base_url(), bad);
  auto r = other.crm.upsert("contacts", "email", {contact("z@example.com")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_EQ(r.error().category, "INVALID_AUTHENTICATION");
  EXPECT_EQ(other.client.counters().attempts, 1);
}

TEST_F(Objects, ErrorParsingOfRealBodies) {
  auto e = parse_api_error(409, R"({"status":"error","message":"Contact already exists. Existing ID: 37765128953","correlationId":"c-1","category":"CONFLICT"})");
  ASSERT_TRUE(e.existing_id);
  EXPECT_EQ(*e.existing_id, "37765128953");
  EXPECT_EQ(classify(409, "CONFLICT"), ErrorKind::conflict);
  EXPECT_EQ(classify(403, "MISSING_SCOPES"), ErrorKind::auth);
  EXPECT_EQ(classify(423, ""), ErrorKind::transient);
  EXPECT_EQ(classify(502, ""), ErrorKind::transient);
  EXPECT_EQ(classify(404, "OBJECT_NOT_FOUND"), ErrorKind::invalid_record);
  EXPECT_EQ(classify(414, ""), ErrorKind::fatal);
  auto r = parse_api_error(429, R"({"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"x","policyName":"TEN_SECONDLY_ROLLING"})");
  EXPECT_EQ(r.policy_name, "TEN_SECONDLY_ROLLING");
  EXPECT_EQ(r.category, "RATE_LIMIT");
  auto junk = parse_api_error(502, "<html>bad gateway</html>");
  EXPECT_EQ(to_error(junk, "op").kind, ErrorKind::transient);
}

}  // namespace
}  // namespace hubsync::hubspot::testing
