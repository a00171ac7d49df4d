// WriteOutcome::stored: what HubSpot answered a write with, which the pull
// direction takes as the values HubSpot stored (its normalisation included)
// instead of what was sent.
#include <gtest/gtest.h>

#include "engine/model/value.h"
#include "tests/integration/hubspot/sim_env.h"

namespace hubsync::hubspot::testing {
namespace {

using model::Value;

class WriteStored : public SimTest {
 protected:
  void SetUp() override {
    SimTest::SetUp();
    create_contact_property(crm(), "hubsync_score", "number", "number");
    create_contact_property(crm(), "hubsync_tags", "enumeration", "checkbox", {{"A", "a"}, {"B", "b"}, {"C", "c"}});
    create_contact_property(crm(), "hubsync_renewal", "date", "date");
  }

  // What a read says HubSpot holds now: the truth `stored` must agree with.
  std::map<std::string, std::string> read_back(const std::string& id, const std::vector<std::string>& props) {
    std::map<std::string, std::string> out;
    auto r = crm().read("contacts", {id}, props);
    EXPECT_TRUE(r.ok() && (*r)[0].record) << "read " << id;
    if (!r.ok() || !(*r)[0].record) return out;
    for (const auto& [k, v] : (*r)[0].record->fields)
      if (!v.is_null()) out[k] = v.as_text();
    return out;
  }
};

const std::vector<std::string> kWritten = {"email", "hubsync_score", "hubsync_tags", "hubsync_renewal"};

TEST_F(WriteStored, UpsertAnswersWithTheNormalisedValuesHubSpotStored) {
  // 2024-05-01T00:00:00Z as epoch ms; HubSpot answers a date property as YYYY-MM-DD.
  pipeline::UpsertInput in{"Ann@X.IO",
                           {{"email", Value::text("Ann@X.IO")},
                            {"hubsync_score", Value::text("1.50")},
                            {"hubsync_tags", Value::text("c;a")},
                            {"hubsync_renewal", Value::text("1714521600000")}}};
  auto r = crm().upsert("contacts", "email", {in});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& o = (*r)[0];
  ASSERT_TRUE(o.ok()) << o.error->message;
  EXPECT_TRUE(o.created);
  EXPECT_EQ(o.stored.at("email"), "ann@x.io") << "HubSpot lower-cases emails";
  EXPECT_EQ(o.stored.at("hubsync_renewal"), "2024-05-01");
  const auto now = read_back(o.hubspot_id, kWritten);
  for (const auto& p : kWritten) EXPECT_EQ(o.stored.at(p), now.at(p)) << p << ": stored is what a read returns";
  EXPECT_EQ(o.stored.at("hs_object_id"), o.hubspot_id);
  EXPECT_EQ(o.stored.count("firstname"), 0u) << "a property nobody wrote is not in the answer";

  // The same input again: an update through upsert, answered the same way.
  in.properties["hubsync_tags"] = Value::text("b;a;c");
  auto again = crm().upsert("contacts", "email", {in});
  ASSERT_TRUE(again.ok() && (*again)[0].ok());
  EXPECT_FALSE((*again)[0].created);
  EXPECT_EQ((*again)[0].stored.at("hubsync_tags"), read_back(o.hubspot_id, {"hubsync_tags"}).at("hubsync_tags"))
      << "a multi-select in the order HubSpot keeps it";
}

TEST_F(WriteStored, UpdateAnswersWithWhatItSetAndLeavesClearedValuesOut) {
  auto up = crm().upsert("contacts", "email", {contact("bo@example.com", "Bo")});
  ASSERT_TRUE(up.ok() && (*up)[0].ok());
  const std::string id = (*up)[0].hubspot_id;

  pipeline::UpdateInput in{id,
                           {{"email", Value::text("Bo.Renamed@Example.COM")},
                            {"hubsync_score", Value::text("017")},
                            {"firstname", Value::null()}}};
  auto r = crm().update("contacts", {in});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& o = (*r)[0];
  ASSERT_TRUE(o.ok()) << o.error->message;
  EXPECT_EQ(o.hubspot_id, id);
  EXPECT_EQ(o.stored.at("email"), "bo.renamed@example.com");
  const auto now = read_back(id, {"email", "hubsync_score", "firstname"});
  EXPECT_EQ(o.stored.at("hubsync_score"), now.at("hubsync_score"));
  EXPECT_EQ(o.stored.count("firstname"), 0u) << "cleared: HubSpot answers null, so absent";
  EXPECT_EQ(now.count("firstname"), 0u);
}

TEST_F(WriteStored, BatchCreateAnswersEachInputWithItsOwnObject) {
  for (bool trace : {true, false}) {
    crm().objects().set_write_trace_ids(trace);
    const std::string tag = trace ? "t" : "p";
    std::vector<model::Fields> in;
    for (int i = 0; i < 3; ++i)
      in.push_back({{"email", Value::text("New" + tag + std::to_string(i) + "@Example.com")},
                    {"hubsync_renewal", Value::text("2024-06-0" + std::to_string(i + 1))}});
    auto r = crm().objects().batch_create("contacts", in);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->size(), 3u);
    for (int i = 0; i < 3; ++i) {
      const auto& o = (*r)[static_cast<std::size_t>(i)];
      ASSERT_TRUE(o.ok()) << o.error->message;
      EXPECT_EQ(o.stored.at("email"), "new" + tag + std::to_string(i) + "@example.com") << "placed on its own input";
      EXPECT_EQ(o.stored.at("hubsync_renewal"), "2024-06-0" + std::to_string(i + 1));
      EXPECT_EQ(o.stored.at("hs_object_id"), o.hubspot_id);
    }
  }
}

TEST_F(WriteStored, FailedInputsCarryNothingStored) {
  std::vector<pipeline::UpsertInput> in{contact("ok@example.com"), {"bad", {{"email", Value::text("not an email")}}}};
  auto r = crm().upsert("contacts", "email", in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE((*r)[0].ok());
  EXPECT_FALSE((*r)[0].stored.empty());
  EXPECT_FALSE((*r)[1].ok());
  EXPECT_TRUE((*r)[1].stored.empty());
}

}  // namespace
}  // namespace hubsync::hubspot::testing
