// What the pull direction relies on HubSpot doing, seen through the
// connector: merges, restores and archives move objects in or out of the
// modified-time sweep; association changes do not; a bulk import stamps one
// millisecond. The simulator's clock is driven by the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>

#include "engine/model/value.h"
#include "tests/integration/hubspot/sim_env.h"

namespace hubsync::hubspot::testing {
namespace {

class PullFidelity : public SimTest {
 protected:
  sim::SimulatorOptions sim_options() override {
    auto o = SimTest::sim_options();
    o.clock = [this] { return now_.load(); };
    o.rate_limits = false;  // a stopped clock never refills the simulator's windows
    return o;
  }
  void advance(std::int64_t ms) { now_ += ms; }

  std::vector<model::Record> sweep_from(const std::string& type, pipeline::SweepCursor from,
                                        pipeline::SweepCursor* end = nullptr) {
    std::vector<model::Record> out;
    for (int i = 0; i < 1'000; ++i) {
      auto page = crm().sweep(type, from, {"email", "name"}, 50);
      EXPECT_TRUE(page.ok()) << page.error().message;
      if (!page.ok()) break;
      for (auto& r : page->records) out.push_back(std::move(r));
      from = page->next;
      if (page->done) break;
    }
    if (end) *end = from;
    return out;
  }
  // Where a sweep of everything so far ends: later sweeps start here.
  pipeline::SweepCursor caught_up(const std::string& type) {
    pipeline::SweepCursor end;
    sweep_from(type, pipeline::SweepCursor::since(0), &end);
    return end;
  }
  std::vector<std::string> upsert(const std::vector<std::string>& emails) { return upsert_contacts(crm(), emails); }
  std::set<std::string> archived_ids() {
    std::set<std::string> out;
    auto page = crm().list_archived("contacts", "", {"email"});
    EXPECT_TRUE(page.ok());
    if (page.ok())
      for (const auto& r : page->records) out.insert(r.hubspot_id);
    return out;
  }

  std::atomic<std::int64_t> now_{1'767'225'600'000};
};

TEST_F(PullFidelity, AMergeMovesTheSurvivorsModifiedTimeAndListsEveryAbsorbedId) {
  const auto ids = upsert({"keep@example.com", "dup1@example.com", "dup2@example.com"});
  ASSERT_EQ(ids.size(), 3u);
  auto cursor = caught_up("contacts");

  advance(1'000);
  auto first = crm().objects().merge("contacts", ids[0], ids[1]);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto got = sweep_from("contacts", cursor, &cursor);
  ASSERT_EQ(got.size(), 1u) << "only the survivor; the absorbed id is no object of its own";
  EXPECT_EQ(got[0].hubspot_id, first->hubspot_id);
  EXPECT_EQ(got[0].changed_at_ms, now_.load()) << "the merge moved its last-modified time";
  auto absorbed = model::split_list(text(got[0], "hs_merged_object_ids"));
  EXPECT_NE(std::find(absorbed.begin(), absorbed.end(), ids[1]), absorbed.end());

  advance(1'000);
  const std::string survivor = sim_->ui_merge("contacts", first->hubspot_id, ids[2]);
  got = sweep_from("contacts", cursor);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].hubspot_id, survivor);
  EXPECT_EQ(got[0].changed_at_ms, now_.load());
  absorbed = model::split_list(text(got[0], "hs_merged_object_ids"));
  for (const auto& id : {ids[1], ids[2]})
    EXPECT_NE(std::find(absorbed.begin(), absorbed.end(), id), absorbed.end()) << id << " kept across merges";
}

TEST_F(PullFidelity, ARestoredObjectIsSweptAgainAndLeavesTheArchivedListing) {
  const auto ids = upsert({"back@example.com", "other@example.com"});
  auto cursor = caught_up("contacts");

  advance(1'000);
  const std::int64_t deleted_at = now_.load();
  sim_->ui_delete("contacts", ids[0]);
  EXPECT_TRUE(sweep_from("contacts", cursor).empty()) << "an archive is no modification the sweep sees";
  auto page = crm().list_archived("contacts", "", {"email"});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(page->records[0].changed_at_ms, deleted_at) << "archivedAt";

  advance(1'000);
  sim_->ui_restore("contacts", ids[0]);
  auto got = sweep_from("contacts", cursor);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].hubspot_id, ids[0]);
  EXPECT_EQ(got[0].changed_at_ms, now_.load()) << "the restore moved its last-modified time";
  EXPECT_EQ(text(got[0], "email"), "back@example.com");
  EXPECT_TRUE(archived_ids().empty());
}

TEST_F(PullFidelity, AnArchiveLeavesSearchOnceTheIndexCatchesUpAndListsWithArchivedAt) {
  sim_->set_index_lag_ms(300);
  const auto ids = upsert({"gone@example.com", "stays@example.com"});
  advance(1'000);
  ASSERT_EQ(sweep_from("contacts", pipeline::SweepCursor::since(0)).size(), 2u);

  const std::int64_t deleted_at = now_.load();
  ASSERT_TRUE(crm().archive("contacts", {ids[0]}).ok());
  EXPECT_EQ(archived_ids(), (std::set<std::string>{ids[0]})) << "the archived listing has it at once";
  EXPECT_EQ(sweep_from("contacts", pipeline::SweepCursor::since(0)).size(), 2u) << "search still lags";
  advance(300);
  auto got = sweep_from("contacts", pipeline::SweepCursor::since(0));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].hubspot_id, ids[1]);
  auto page = crm().list_archived("contacts", "", {"email"});
  ASSERT_TRUE(page.ok() && page->records.size() == 1u);
  EXPECT_EQ(page->records[0].changed_at_ms, deleted_at);
  EXPECT_EQ(text(page->records[0], "email"), "gone@example.com");
}

TEST_F(PullFidelity, AssociationChangesMoveNeitherObjectsModifiedTime) {
  const auto contact_id = upsert({"linked@example.com"}).at(0);
  auto company = crm().objects().create("companies", {{"name", model::Value::text("Acme")}});
  ASSERT_TRUE(company.ok()) << company.error().message;
  const std::int64_t written_at = now_.load();
  const auto contacts_cursor = caught_up("contacts");
  const auto companies_cursor = caught_up("companies");
  auto type = crm().association_type("contacts", "companies", "");
  ASSERT_TRUE(type.ok() && *type);

  advance(1'000);
  auto linked = crm().associate("contacts", "companies", {{contact_id, company->hubspot_id, **type}});
  ASSERT_TRUE(linked.ok() && (*linked)[0].ok());
  advance(1'000);
  ASSERT_TRUE(crm().unassociate("contacts", "companies", {{contact_id, company->hubspot_id}}).ok());
  EXPECT_TRUE(sweep_from("contacts", contacts_cursor).empty());
  EXPECT_TRUE(sweep_from("companies", companies_cursor).empty());
  auto read = crm().read("contacts", {contact_id}, {"lastmodifieddate"});
  ASSERT_TRUE(read.ok() && (*read)[0].record);
  EXPECT_EQ((*read)[0].record->changed_at_ms, written_at);
}

TEST_F(PullFidelity, ABulkImportStampsEveryObjectWithOneMillisecond) {
  const std::int64_t stamp = now_.load() - 60'000;
  std::vector<std::map<std::string, std::string>> rows;
  for (int i = 0; i < 120; ++i) rows.push_back({{"email", "imp" + std::to_string(i) + "@example.com"}});
  const auto ids = sim_->ui_bulk_import("contacts", rows, stamp);
  const auto got = sweep_from("contacts", pipeline::SweepCursor::since(stamp));
  ASSERT_EQ(got.size(), ids.size());
  std::set<std::string> seen;
  for (const auto& r : got) {
    EXPECT_EQ(r.changed_at_ms, stamp);
    seen.insert(r.hubspot_id);
  }
  EXPECT_EQ(seen, std::set<std::string>(ids.begin(), ids.end()));
}

}  // namespace
}  // namespace hubsync::hubspot::testing
