// CrmPort::sweep with a mapping's HubSpot-side filters: exactly the matching
// objects, with the sweep's guarantees (past the 10,000 cap, through a shared
// millisecond, nothing twice), and ISO dates sent as HubSpot wants them.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/integration/hubspot/sim_env.h"

namespace hubsync::hubspot::testing {
namespace {

using mapping::FilterOp;
using mapping::HubspotFilter;

HubspotFilter filter(std::string property, FilterOp op, std::string value = "", std::string high = "",
                     std::vector<std::string> values = {}) {
  HubspotFilter f;
  f.property = std::move(property);
  f.op = op;
  f.value = std::move(value);
  f.high_value = std::move(high);
  f.values = std::move(values);
  return f;
}

class SweepFilters : public SimTest {
 protected:
  std::vector<model::Record> sweep_all(const std::string& type, pipeline::SweepCursor from,
                                       const std::vector<HubspotFilter>& filters, int page_size = 200) {
    std::vector<model::Record> out;
    for (int i = 0; i < 10'000; ++i) {
      auto page = crm().sweep(type, from, {"email"}, page_size, filters);
      EXPECT_TRUE(page.ok()) << page.error().message;
      if (!page.ok()) break;
      for (auto& r : page->records) out.push_back(std::move(r));
      from = page->next;
      if (page->done) break;
    }
    return out;
  }
};

TEST_F(SweepFilters, EqAndHasPropertyReturnExactlyTheMatchesPastTheCapAndThroughOneMillisecond) {
  const std::int64_t stamp = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  std::vector<std::map<std::string, std::string>> rows;
  std::set<std::string> want_emails;
  for (int i = 0; i < 13'000; ++i) {
    std::map<std::string, std::string> row{{"email", "f" + std::to_string(i) + "@example.com"}};
    row["lifecyclestage"] = i % 10 == 9 ? "lead" : "customer";
    if (i % 50 != 0) row["city"] = "Oslo";
    if (row["lifecyclestage"] == "customer" && row.count("city")) want_emails.insert(row["email"]);
    rows.push_back(std::move(row));
  }
  ASSERT_GT(want_emails.size(), 10'000u) << "the matches alone pass the search cap";
  const auto ids = sim_->ui_bulk_import("contacts", rows, stamp);
  ASSERT_EQ(ids.size(), rows.size());
  std::set<std::string> want;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (want_emails.count(rows[i].at("email"))) want.insert(ids[i]);
  // Matching and non-matching objects before and after the shared millisecond.
  const auto early = sim_->ui_bulk_import(
      "contacts", {{{"email", "early@example.com"}, {"lifecyclestage", "customer"}, {"city", "Rome"}},
                   {{"email", "early-lead@example.com"}, {"lifecyclestage", "lead"}, {"city", "Rome"}}},
      stamp - 5'000);
  const auto late = sim_->ui_bulk_import(
      "contacts", {{{"email", "late@example.com"}, {"lifecyclestage", "customer"}, {"city", "Rome"}},
                   {{"email", "late-nocity@example.com"}, {"lifecyclestage", "customer"}}},
      stamp + 5'000);
  want.insert(early[0]);
  want.insert(late[0]);

  const std::vector<HubspotFilter> filters{filter("lifecyclestage", FilterOp::eq, "customer"),
                                           filter("city", FilterOp::has_property)};
  const auto got = sweep_all("contacts", pipeline::SweepCursor::since(stamp - 60'000), filters);
  std::set<std::string> unique;
  for (const auto& r : got) unique.insert(r.hubspot_id);
  EXPECT_EQ(got.size(), want.size()) << "nothing twice";
  EXPECT_EQ(unique, want) << "exactly the matching objects";
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front().hubspot_id, early[0]);
  EXPECT_EQ(got.back().hubspot_id, late[0]);
  for (std::size_t i = 1; i < got.size(); ++i) ASSERT_LE(got[i - 1].changed_at_ms, got[i].changed_at_ms) << i;
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/search", 400), 0) << "never near the cap, filters accepted";
}

TEST_F(SweepFilters, IsoDatesOnDateAndDatetimePropertiesGoAsEpochMillisOthersAsWritten) {
  create_contact_property(crm(), "hubsync_renewal", "date", "date");
  create_contact_property(crm(), "hubsync_seen", "datetime", "date");
  const std::int64_t stamp = 1'767'225'600'000;
  std::vector<std::map<std::string, std::string>> rows;
  for (int d = 1; d <= 9; ++d)
    rows.push_back({{"email", "d" + std::to_string(d) + "@example.com"},
                    {"hubsync_renewal", "2026-03-0" + std::to_string(d)},
                    {"hubsync_seen", "2026-03-0" + std::to_string(d) + "T12:00:00.000Z"},
                    {"date_of_birth", d % 2 ? "1990-01-01" : "1991-01-01"}});  // a string property
  const auto ids = sim_->ui_bulk_import("contacts", rows, stamp);
  auto ids_of = [](const std::vector<model::Record>& recs) {
    std::set<std::string> s;
    for (const auto& r : recs) s.insert(r.hubspot_id);
    return s;
  };
  const auto from = pipeline::SweepCursor::since(0);

  // The simulator refuses ISO values on date properties, as the stricter reading of HubSpot's docs.
  auto on_or_after_5th = sweep_all("contacts", from, {filter("hubsync_renewal", FilterOp::gte, "2026-03-05")}, 3);
  EXPECT_EQ(ids_of(on_or_after_5th), (std::set<std::string>{ids[4], ids[5], ids[6], ids[7], ids[8]}));
  auto window = sweep_all("contacts", from,
                          {filter("hubsync_seen", FilterOp::between, "2026-03-02T00:00:00Z", "2026-03-03T23:59:59Z")});
  EXPECT_EQ(ids_of(window), (std::set<std::string>{ids[1], ids[2]}));
  auto listed = sweep_all("contacts", from,
                          {filter("hubsync_renewal", FilterOp::in, "", "", {"2026-03-01", "1772668800000"})});
  EXPECT_EQ(ids_of(listed), (std::set<std::string>{ids[0], ids[4]})) << "ISO and epoch ms values mixed";
  auto text = sweep_all("contacts", from, {filter("date_of_birth", FilterOp::eq, "1990-01-01")});
  EXPECT_EQ(ids_of(text).size(), 5u) << "a string property keeps its ISO-looking value as text";
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/search", 400), 0);
  // Each property's type was asked once, however many pages and sweeps.
  EXPECT_EQ(sim_requests("GET /crm/v3/properties/{type}/hubsync_renewal"), 1);
  EXPECT_EQ(sim_requests("GET /crm/v3/properties/{type}/hubsync_seen"), 1);
  EXPECT_EQ(sim_requests("GET /crm/v3/properties/{type}/date_of_birth"), 1);
}

TEST_F(SweepFilters, TooManyFiltersForOneGroupAreRefusedBeforeAnyRequest) {
  std::vector<HubspotFilter> five(5, filter("city", FilterOp::has_property));
  auto page = crm().sweep("contacts", pipeline::SweepCursor::since(0), {"email"}, 100, five);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().kind, model::ErrorKind::fatal);
  EXPECT_EQ(client().counters().attempts, 0);
  std::vector<HubspotFilter> four(4, filter("city", FilterOp::has_property));
  EXPECT_TRUE(crm().sweep("contacts", {0, "5", true}, {"email"}, 100, four).ok())
      << "4 beside the tie phase's 2 fill HubSpot's 6";
}

TEST_F(SweepFilters, AFilterOnAnUnknownPropertyIsAnInvalidRecordNotARetry) {
  auto page = crm().sweep("contacts", pipeline::SweepCursor::since(0), {"email"}, 100,
                          {filter("no_such_property", FilterOp::eq, "x")});
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().kind, model::ErrorKind::invalid_record);
}

}  // namespace
}  // namespace hubsync::hubspot::testing
