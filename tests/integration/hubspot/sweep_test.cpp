#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/integration/hubspot/sim_env.h"

namespace hubsync::hubspot::testing {
namespace {

class Sweep : public SimTest {
 protected:
  // Runs the sweep from `from` until done; returns every record in order.
  std::vector<model::Record> sweep_all(const std::string& type, pipeline::SweepCursor from, int page_size,
                                       int* pages = nullptr,
                                       const std::vector<std::string>& properties = {"email", "firstname"}) {
    std::vector<model::Record> out;
    for (int i = 0; i < 100'000; ++i) {
      auto page = crm().sweep(type, from, properties, page_size);
      EXPECT_TRUE(page.ok()) << page.error().message;
      if (!page.ok()) break;
      // The cursor survives a checkpoint round trip.
      auto decoded = pipeline::SweepCursor::decode(page->next.encode());
      EXPECT_TRUE(decoded && *decoded == page->next);
      for (auto& r : page->records) out.push_back(std::move(r));
      from = page->next;
      if (pages) ++*pages;
      if (page->done) break;
    }
    return out;
  }
};

TEST_F(Sweep, ThirtyThousandObjectsWithOneTimestampReadCompletelyOnce) {
  const std::int64_t stamp = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  std::vector<std::map<std::string, std::string>> rows;
  for (int i = 0; i < 30'000; ++i) rows.push_back({{"email", "bulk" + std::to_string(i) + "@example.com"}});
  const auto ids = sim_->ui_bulk_import("contacts", rows, stamp);
  ASSERT_EQ(ids.size(), 30'000u);
  // Something modified before and after the import, at distinct times.
  const auto before = sim_->ui_bulk_import("contacts", {{{"email", "early@example.com"}}}, stamp - 5'000);
  const auto after = sim_->ui_bulk_import("contacts", {{{"email", "late@example.com"}}}, stamp + 5'000);

  int pages = 0;
  const auto got = sweep_all("contacts", pipeline::SweepCursor::since(stamp - 60'000), 200, &pages);
  std::set<std::string> unique;
  for (const auto& r : got) unique.insert(r.hubspot_id);
  EXPECT_EQ(got.size(), 30'002u) << "duplicates or misses";
  EXPECT_EQ(unique.size(), 30'002u);
  for (const auto& id : ids) ASSERT_TRUE(unique.count(id)) << "missed " << id;
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front().hubspot_id, before[0]);
  EXPECT_EQ(got.back().hubspot_id, after[0]);
  for (std::size_t i = 1; i < got.size(); ++i) ASSERT_LE(got[i - 1].changed_at_ms, got[i].changed_at_ms) << i;
  EXPECT_LE(pages, 30'002 / 200 + 6);
  // Search paging never went near the cap: every page was a fresh seek.
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/search", 400), 0);
  EXPECT_EQ(client().counters().responses_429, 0);
}

TEST_F(Sweep, RunsOfEqualTimestampsAcrossPageBoundaries) {
  // 7 timestamps with 1..130 objects each; page size 50 cuts inside runs.
  const std::int64_t base = 1'767'225'600'000;
  std::set<std::string> expected;
  int n = 0;
  for (int t = 0; t < 7; ++t) {
    std::vector<std::map<std::string, std::string>> rows;
    const int count = t == 3 ? 130 : 1 + t * 7;
    for (int i = 0; i < count; ++i) rows.push_back({{"email", "run" + std::to_string(n++) + "@example.com"}});
    for (const auto& id : sim_->ui_bulk_import("contacts", rows, base + t * 1000)) expected.insert(id);
  }
  const auto got = sweep_all("contacts", pipeline::SweepCursor::since(base), 50);
  std::set<std::string> unique;
  for (const auto& r : got) unique.insert(r.hubspot_id);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_EQ(unique, expected);

  // Resuming from a mid-run checkpoint reads exactly the rest.
  pipeline::SweepCursor mid{base + 3000, "", true};
  std::vector<std::string> ids_at_3;
  for (const auto& r : got)
    if (r.changed_at_ms == base + 3000) ids_at_3.push_back(r.hubspot_id);
  ASSERT_EQ(ids_at_3.size(), 130u);
  mid.after_id = ids_at_3[59];
  const auto rest = sweep_all("contacts", mid, 50);
  std::size_t later = 0;
  for (const auto& r : got) later += r.changed_at_ms > base + 3000;
  EXPECT_EQ(rest.size(), 70u + later);
}

// Runs of 75 equal timestamps (what a batch write stamps) with pages of
// 200: a page cut inside a run hands on the ids it read of it, so every
// page brings 200 objects not read before.
TEST_F(Sweep, APageCutInsideARunGoesOnPastWhatItReadOfIt) {
  const std::int64_t base = 1'767'225'600'000;
  std::set<std::string> expected;
  int n = 0;
  for (int t = 0; t < 14; ++t) {
    std::vector<std::map<std::string, std::string>> rows;
    for (int i = 0; i < 75; ++i) rows.push_back({{"email", "r" + std::to_string(n++) + "@example.com"}});
    for (const auto& id : sim_->ui_bulk_import("contacts", rows, base + t * 1000)) expected.insert(id);
  }
  int pages = 0;
  const auto got = sweep_all("contacts", pipeline::SweepCursor{base - 1, "", false}, 200, &pages);
  std::set<std::string> unique;
  for (const auto& r : got) unique.insert(r.hubspot_id);
  EXPECT_EQ(got.size(), expected.size()) << "duplicates or misses";
  EXPECT_EQ(unique, expected);
  for (std::size_t i = 1; i < got.size(); ++i) ASSERT_LE(got[i - 1].changed_at_ms, got[i].changed_at_ms) << i;
  // 1,050 objects in 5 full pages and one of 50; re-reading each cut run
  // from its start (150 new objects a page) took 7.
  EXPECT_EQ(pages, 6);
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/search"), 6);
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/batch/read"), 0) << "two properties fit in the search";
}

// HubSpot takes 3,000 characters of search body, the properties asked for
// included: a mapping of 110 long property names cannot ask for them there.
TEST_F(Sweep, PropertiesTooManyForOneSearchBodyAreReadApartByIdExactlyOnce) {
  std::vector<std::string> wide{"email"};
  for (int i = 0; i < 110; ++i) {
    wide.push_back("wide_property_with_a_long_name_" + std::to_string(100 + i));
    create_contact_property(crm(), wide.back(), "string", "text");
  }
  const std::int64_t base = 1'767'225'600'000;
  std::map<std::string, int> expected;  // id -> row number
  int n = 0;
  for (int t = 0; t < 3; ++t) {  // runs of 120, 130, 140: pages of 200 cut inside runs
    std::vector<std::map<std::string, std::string>> rows;
    for (int i = 0; i < 120 + 10 * t; ++i, ++n)
      rows.push_back({{"email", "w" + std::to_string(n) + "@example.com"},
                      {wide[1], "first" + std::to_string(n)},
                      {wide.back(), "last" + std::to_string(n)}});
    const auto ids = sim_->ui_bulk_import("contacts", rows, base + t * 1000);
    for (std::size_t i = 0; i < ids.size(); ++i) expected[ids[i]] = n - static_cast<int>(ids.size() - i);
  }
  sim_->reset_counters();
  int pages = 0;
  const auto got = sweep_all("contacts", pipeline::SweepCursor{base - 1, "", false}, 200, &pages, wide);
  std::map<std::string, int> times;
  for (const auto& r : got) {
    ++times[r.hubspot_id];
    ASSERT_TRUE(expected.count(r.hubspot_id)) << r.hubspot_id;
    const auto row = std::to_string(expected[r.hubspot_id]);
    EXPECT_EQ(text(r, "email"), "w" + row + "@example.com");
    EXPECT_EQ(text(r, wide[1]), "first" + row);
    EXPECT_EQ(text(r, wide.back()), "last" + row);
    EXPECT_EQ(r.changed_at_ms, base + (expected[r.hubspot_id] < 120 ? 0 : expected[r.hubspot_id] < 250 ? 1000 : 2000));
  }
  EXPECT_EQ(times.size(), expected.size()) << "misses";
  for (const auto& [id, k] : times) EXPECT_EQ(k, 1) << id << " read more than once";
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/search", 400), 0);
  EXPECT_EQ(pages, 2) << "390 objects in pages of 200, the cut run handed on";
  EXPECT_EQ(sim_requests("POST /crm/v3/objects/{type}/batch/read"), 4) << "100 a call";
}

// An object archived between the search and the read is left out of the
// page (the archive listing reports it); the rest of the page is read.
TEST_F(Sweep, AnObjectArchivedBeforeItsPropertiesAreReadIsLeftOut) {
  std::vector<std::string> wide{"email"};
  for (int i = 0; i < 110; ++i) wide.push_back("wide_property_with_a_long_name_" + std::to_string(100 + i));
  const std::int64_t base = 1'767'225'600'000;
  const auto ids = sim_->ui_bulk_import("contacts", {{{"email", "keep@example.com"}}, {{"email", "gone@example.com"}}}, base);
  // The search index lags: the archived object is still found, not read.
  sim_->set_index_lag_ms(60'000);
  sim_->ui_delete("contacts", ids[1]);
  auto page = crm().sweep("contacts", pipeline::SweepCursor{base - 1, "", false}, wide, 200);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(page->records[0].hubspot_id, ids[0]);
  EXPECT_EQ(text(page->records[0], "email"), "keep@example.com");
  EXPECT_TRUE(page->done);
}

// The ids handed on exclude only the objects still modified at the run's
// time: one modified again meanwhile is read again, with its new state.
TEST_F(Sweep, AnObjectOfACutRunModifiedAgainIsReadAgain) {
  const std::int64_t base = 1'767'225'600'000;
  std::vector<std::map<std::string, std::string>> rows;
  for (int i = 0; i < 80; ++i) rows.push_back({{"email", "cut" + std::to_string(i) + "@example.com"}});
  const auto ids = sim_->ui_bulk_import("contacts", rows, base);
  auto first = crm().sweep("contacts", pipeline::SweepCursor{base - 1, "", false}, {"email", "firstname"}, 50);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(first->records.size(), 50u);
  ASSERT_EQ(first->next.seen.size(), 50u);
  const std::string again = first->records[7].hubspot_id;
  sim_->ui_edit("contacts", again, {{"firstname", "Edited"}});

  std::vector<model::Record> got = std::move(first->records);
  for (auto& r : sweep_all("contacts", first->next, 50)) got.push_back(std::move(r));
  std::map<std::string, int> times;
  for (const auto& r : got) ++times[r.hubspot_id];
  EXPECT_EQ(times.size(), 80u);
  for (const auto& id : ids) EXPECT_EQ(times[id], id == again ? 2 : 1) << id;
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().hubspot_id, again);
  EXPECT_EQ(got.back().fields.at("firstname").as_text(), "Edited");
}

TEST_F(Sweep, CompaniesUseTheirOwnLastModifiedPropertyAndAnEmptyPortalIsDone) {
  auto empty = crm().sweep("companies", pipeline::SweepCursor::since(0), {"name"}, 100);
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  int guard = 0;
  while (!empty->done && guard++ < 3) empty = crm().sweep("companies", empty->next, {"name"}, 100);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->done);
  auto c = crm().objects().create("companies", {{"name", model::Value::text("Acme")}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  const auto got = sweep_all("companies", pipeline::SweepCursor::since(0), 100);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].hubspot_id, c->hubspot_id);
  EXPECT_GT(got[0].changed_at_ms, 0);
}

TEST_F(Sweep, SearchCapsAreRefusedLocally) {
  SearchRequest q;
  q.limit = 201;
  EXPECT_EQ(crm().search().search("contacts", q).error().kind, model::ErrorKind::fatal);
  q.limit = 100;
  q.after = "9950";
  EXPECT_EQ(crm().search().search("contacts", q).error().kind, model::ErrorKind::fatal);
  q.after.clear();
  q.sorts = {{"email", true}, {"firstname", true}};
  EXPECT_EQ(crm().search().search("contacts", q).error().kind, model::ErrorKind::fatal);
  q.sorts.clear();
  for (int i = 0; q.properties.size() < 110; ++i) q.properties.push_back("wide_property_with_a_long_name_" + std::to_string(i));
  EXPECT_FALSE(SearchApi::fits(q));
  EXPECT_EQ(crm().search().search("contacts", q).error().kind, model::ErrorKind::fatal);
  EXPECT_EQ(client().counters().attempts, 0);
}

}  // namespace
}  // namespace hubsync::hubspot::testing
