// The simulator's search index (search_index.h) against the full scan it
// replaces: same page, same order, same total, for hubsync's sweep shapes
// and their neighbours, on a portal changed at random (creates, updates,
// archives, restores, merges, GDPR deletes, imports, bulk stamps), with the
// index lag on and off. Deterministic: a fake clock and seeded randomness.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/hubspot-sim/key_list.h"
#include "tests/hubspot-sim/portal.h"
#include "tests/hubspot-sim/search_index.h"
#include "tests/hubspot-sim/validation.h"
#include "tests/support/sanitized.h"

namespace hubsync::sim {

// The Portal's friend: the type (with its records and index) behind the lock.
// Single-threaded tests only.
struct PortalAccess {
  static const ObjectType& type(const Portal& p, const std::string& ref) { return p.type_locked(ref); }
};

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000;
const std::string kLm = "lastmodifieddate";

SearchFilter filter(const std::string& prop, const std::string& op, const std::string& value,
                    const std::string& high = "") {
  SearchFilter f;
  f.property = prop;
  f.op = op;
  f.value = value;
  f.high_value = high;
  return f;
}

// hubsync's sweep, first shape: everything modified after `ms`, by time.
SearchQuery after_time(std::int64_t ms, int limit) {
  SearchQuery q;
  q.groups = {{filter(kLm, "GT", std::to_string(ms))}};
  q.sort_property = kLm;
  q.limit = limit;
  return q;
}

// Second shape: the rest of one timestamp's tie, by id.
SearchQuery within_tie(std::int64_t ms, std::uint64_t after_id, int limit) {
  SearchQuery q;
  q.groups = {{filter(kLm, "EQ", std::to_string(ms)), filter("hs_object_id", "GT", std::to_string(after_id))}};
  q.sort_property = "hs_object_id";
  q.limit = limit;
  return q;
}

// Third shape: after a page cut inside the run at `ms`, everything modified
// later, and (a second group) the rest of that run, the ids read of it left
// out. `values` may hold what is not an id at all.
SearchQuery past_seen(std::int64_t ms, const std::vector<std::string>& values, int limit) {
  SearchQuery q;
  SearchFilter not_in = filter("hs_object_id", "NOT_IN", "");
  not_in.values = values;
  q.groups = {{filter(kLm, "GT", std::to_string(ms))}, {filter(kLm, "EQ", std::to_string(ms)), not_in}};
  q.sort_property = kLm;
  q.limit = limit;
  return q;
}

SearchQuery past_seen(std::int64_t ms, const std::vector<std::uint64_t>& seen, int limit) {
  std::vector<std::string> values;
  for (auto id : seen) values.push_back(std::to_string(id));
  return past_seen(ms, values, limit);
}

struct Param {
  std::int64_t lag_ms;
  bool merge_new_id;
};

class SimSearchIndex : public ::testing::TestWithParam<Param> {
 protected:
  std::int64_t now_ = kT0;
  Portal portal_{62515, GetParam().lag_ms, [this] { return now_; }, GetParam().merge_new_id};
  std::mt19937_64 rng_{20240611};
  WriteSource src_;
  std::vector<ChangeEvent> events_;
  std::uint64_t next_import_ = 9'000'001;

  const ObjectType& contacts() const { return PortalAccess::type(portal_, "0-1"); }

  std::string name() {
    static const char* kNames[] = {"Ada", "Grace", "Alan", "Edsger"};
    return kNames[rng_() % 4];
  }
  std::vector<std::uint64_t> ids(bool archived) const {
    std::vector<std::uint64_t> out;
    for (const auto& [id, r] : contacts().records)
      if (r.archived == archived) out.push_back(id);
    return out;
  }
  std::uint64_t pick(const std::vector<std::uint64_t>& v) { return v[rng_() % v.size()]; }

  void create(int n) {
    std::vector<WriteInput> in(static_cast<std::size_t>(n));
    for (auto& i : in) i.props = {{"firstname", name()}};
    portal_.write("0-1", WriteOp::kCreate, in, false, src_, events_);
  }

  // One random change of the kinds that move records in or out of the index.
  void random_change() {
    auto live = ids(false), gone = ids(true);
    switch (rng_() % 10) {
      case 0: case 1: case 2: {
        std::vector<WriteInput> in(1);
        in[0].id = std::to_string(pick(live));
        in[0].props = {{"firstname", name()}};
        portal_.write("0-1", WriteOp::kUpdate, in, false, src_, events_);
        break;
      }
      case 3: portal_.archive("0-1", {std::to_string(pick(live))}, src_, events_); break;
      case 4:
        if (!gone.empty()) portal_.restore("0-1", std::to_string(pick(gone)), src_, events_);
        break;
      case 5: {
        auto a = pick(live), b = pick(live);
        if (a != b) portal_.merge("0-1", std::to_string(a), std::to_string(b), src_, events_);
        break;
      }
      case 6: portal_.purge("0-1", std::to_string(pick(rng_() % 2 || gone.empty() ? live : gone)), "", src_, events_); break;
      case 7: {
        // A bulk import stamps old, shared modified times: many ties.
        std::vector<std::uint64_t> some;
        for (int i = 0; i < 20; ++i) some.push_back(pick(rng_() % 4 ? live : (gone.empty() ? live : gone)));
        portal_.stamp_modified("0-1", some, kT0 + static_cast<std::int64_t>(rng_() % 40) * 1000);
        break;
      }
      case 8: {
        // Snapshot loads: ms or ISO times, an hs_object_id that is not the
        // id, no modified time at all; some over existing records.
        std::uint64_t id = rng_() % 3 ? next_import_++ : pick(live);
        Props p{{"firstname", name()}, {"hs_object_id", std::to_string(id)}};
        std::int64_t ms = kT0 + static_cast<std::int64_t>(rng_() % 40) * 1000;
        switch (rng_() % 5) {
          case 0: p[kLm] = std::to_string(ms); break;
          case 3: p[kLm] = format_iso_ms(ms).substr(0, 19) + "+00:00"; break;
          case 1: p[kLm] = format_iso_ms(ms); p["hs_object_id"] = std::to_string(id + 7); break;
          case 2: break;
          default: p[kLm] = format_iso_ms(ms);
        }
        portal_.import_record("0-1", id, p, ms, ms, rng_() % 5 == 0);
        break;
      }
      default: create(1 + static_cast<int>(rng_() % 5));
    }
  }

  // A timestamp worth asking about: one a record has (a tie), a neighbour, or outside.
  std::int64_t some_ms() {
    auto live = ids(false);
    switch (rng_() % 4) {
      case 0: return kT0 - 5 + static_cast<std::int64_t>(rng_() % 50'000);
      case 1: return kT0 + static_cast<std::int64_t>(rng_() % 40) * 1000 - 1;
      default: {
        const auto& r = contacts().records.at(pick(live));
        auto it = r.props->find(kLm);
        return it == r.props->end() ? kT0 : parse_time_ms(it->second).value_or(kT0) - (rng_() % 5 == 0 ? 1 : 0);
      }
    }
  }

  // The index's answer equals the scan's; `indexed`: the index must answer.
  void expect_same(const SearchQuery& q, bool indexed = true) {
    const ObjectType& t = contacts();
    std::vector<SearchHit> got, want;
    std::int64_t got_total = -1, want_total = -2;
    const bool used = t.search_index.search(t, q, now_, got, got_total);
    ASSERT_EQ(used, indexed);
    search_scan(t, q, now_, want, want_total);
    if (!used) return;
    ASSERT_EQ(got_total, want_total);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].id, want[i].id) << "at " << i;
      ASSERT_EQ(got[i].props, want[i].props) << "the version search sees, at " << i;
    }
    // And through the Portal, which must take the index.
    const auto before = t.search_index.answered();
    std::int64_t total = -1;
    auto views = portal_.search("0-1", q, total);
    ASSERT_EQ(t.search_index.answered(), before + 1);
    ASSERT_EQ(total, want_total);
    ASSERT_EQ(views.size(), want.size());
    for (std::size_t i = 0; i < views.size(); ++i) ASSERT_EQ(views[i].id, want[i].id);
  }

  int some_limit() { return rng_() % 3 == 0 ? 200 : 1 + static_cast<int>(rng_() % 200); }

  // Random queries: the two sweep shapes most of the time, with the
  // neighbours the index also answers (other orders, ranges, groups).
  void random_queries(int n) {
    for (int i = 0; i < n; ++i) {
      const std::int64_t ms = some_ms();
      const int limit = some_limit();
      SearchQuery q;
      const auto kind = rng_() % 15;
      if (kind < 4) {
        q = after_time(ms, limit);
      } else if (kind < 8) {
        auto live = ids(false);
        std::uint64_t after_id = rng_() % 4 == 0 ? 0 : pick(live) - rng_() % 2;
        q = within_tie(ms, after_id, limit);
      } else if (kind == 8) {
        q = after_time(ms, limit);
        q.groups[0].push_back(filter("firstname", "EQ", name()));  // a mapping's own filter
      } else if (kind == 9) {
        q = within_tie(ms, pick(ids(false)), limit);
        q.groups[0].push_back(filter("firstname", "NEQ", name()));
        if (rng_() % 2) q.sort_property.clear();
      } else if (kind == 10) {
        q.groups = {{filter(kLm, "BETWEEN", std::to_string(ms), std::to_string(ms + 9000)),
                     filter("hs_object_id", rng_() % 2 ? "LTE" : "GTE", std::to_string(pick(ids(false))))},
                    {filter(kLm, "LT", std::to_string(ms - 20000))}};
        const char* sorts[] = {"", "hs_object_id", "lastmodifieddate", "firstname"};
        q.sort_property = sorts[rng_() % 4];
        q.sort_descending = rng_() % 2;
        q.limit = limit;
      } else if (kind >= 12) {
        // The sweep's page after a cut run: ids of that run and others,
        // numbers that are no id; now and then a first group that
        // overlaps the second (its ids then still match), or a sort by id.
        auto live = ids(false);
        std::vector<std::string> values;
        for (auto k = rng_() % 30; k > 0; --k) values.push_back(std::to_string(pick(live)));
        for (const auto& [id, r] : contacts().records) {
          if (rng_() % 3 || !r.props) continue;
          auto it = r.props->find(kLm);
          if (it != r.props->end() && parse_time_ms(it->second) == ms) values.push_back(std::to_string(id));
        }
        if (rng_() % 4 == 0) values.push_back("1000500.5");
        if (rng_() % 4 == 0) values.push_back(std::to_string(pick(live)) + ".0");
        if (values.empty()) values.push_back("ad");
        q = past_seen(ms, values, limit);
        if (kind == 13) q.groups[0][0].op = "GTE";
        if (kind == 14) q.sort_property = rng_() % 2 ? "hs_object_id" : "";
      } else {
        q = after_time(ms, limit);
        q.groups[0][0].op = rng_() % 2 ? "GTE" : "EQ";
        if (rng_() % 2) q.query = "ad";
        if (rng_() % 2) q.groups[0].push_back(filter("hs_object_id", "GT", "1000500.5"));
        if (rng_() % 3 == 0) q.sort_property = "hs_object_id";
      }
      // A window of a sweep split by time: the later group ends (LTE).
      if ((kind < 4 || kind == 12) && rng_() % 3 == 0)
        q.groups[0].push_back(filter(kLm, "LTE", std::to_string(ms + static_cast<std::int64_t>(rng_() % 20'000))));
      if (rng_() % 5 == 0) q.after = static_cast<std::int64_t>(rng_() % 300);
      ASSERT_NO_FATAL_FAILURE(expect_same(q)) << "query kind " << kind << " ms " << ms;
    }
  }
};

TEST_P(SimSearchIndex, MatchesTheScanUnderRandomChanges) {
  const std::int64_t lag = GetParam().lag_ms;
  for (int batch = 0; batch < 30; ++batch) {
    create(100);
    now_ += static_cast<std::int64_t>(rng_() % 3);  // batches share timestamps
  }
  const int rounds = hubsync::test::kSanitized ? 10 : 30;
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < 50; ++i) {
      random_change();
      // Mostly within the lag, now and then past it.
      now_ += lag > 0 && rng_() % 10 ? static_cast<std::int64_t>(rng_() % 25) : static_cast<std::int64_t>(rng_() % 700);
    }
    ASSERT_NO_FATAL_FAILURE(random_queries(30)) << "round " << round;
    if (lag > 0 && round % 3 == 0) {
      // Queries while nothing is written and the lag runs out.
      now_ += lag / 2;
      ASSERT_NO_FATAL_FAILURE(random_queries(10));
      now_ += lag;
      ASSERT_NO_FATAL_FAILURE(random_queries(10));
    }
  }
  if (lag > 0) {
    EXPECT_GT(contacts().search_index.side_size(), 0u) << "the unsettled path was exercised";
  }
}

TEST_P(SimSearchIndex, EveryPageLimitOfBothShapes) {
  for (int batch = 0; batch < 20; ++batch) {
    create(100);
    now_ += static_cast<std::int64_t>(rng_() % 2);
  }
  for (int i = 0; i < 300; ++i) {
    random_change();
    now_ += static_cast<std::int64_t>(rng_() % 30);
  }
  for (int limit = 1; limit <= 200; ++limit) {
    const std::int64_t ms = some_ms();
    ASSERT_NO_FATAL_FAILURE(expect_same(after_time(ms, limit))) << "limit " << limit;
    ASSERT_NO_FATAL_FAILURE(expect_same(within_tie(ms, pick(ids(false)) - 1, limit))) << "limit " << limit;
  }
}

INSTANTIATE_TEST_SUITE_P(Lag, SimSearchIndex,
                         ::testing::Values(Param{0, false}, Param{300, true}),
                         [](const ::testing::TestParamInfo<Param>& p) { return p.param.lag_ms ? "Lag300" : "NoLag"; });

// The index, not a scan, answers a sweep: the entries it visits are the
// page, not the portal.
TEST(SimSearchIndexCost, SweepPagesVisitOnlyThePage) {
  std::int64_t now = kT0;
  Portal portal(62515, 300, [&] { return now; }, false);
  WriteSource src;
  std::vector<ChangeEvent> events;
  for (int batch = 0; batch < 200; ++batch) {  // 20,000 records, 100 per timestamp
    std::vector<WriteInput> in(100);
    for (auto& i : in) i.props = {{"firstname", "Ada"}};
    portal.write("0-1", WriteOp::kCreate, in, false, src, events);
    now += 10;
  }
  now += 1000;  // all visible
  const ObjectType& t = PortalAccess::type(portal, "0-1");
  EXPECT_EQ(t.search_index.size(), 20000u);
  std::vector<SearchHit> page;
  std::int64_t total = 0;
  SearchIndexStats st;
  ASSERT_TRUE(t.search_index.search(t, after_time(kT0 + 999, 200), now, page, total, &st));
  EXPECT_EQ(total, 10000);
  ASSERT_EQ(page.size(), 200u);
  EXPECT_LE(st.tree_entries, 200u);
  EXPECT_EQ(st.side_records, 0u);
  page.clear();
  ASSERT_TRUE(t.search_index.search(t, within_tie(kT0 + 1000, 1010050, 200), now, page, total, &st));
  EXPECT_EQ(total, 50);
  EXPECT_LE(st.tree_entries, 50u);
  // The page after a cut run: the rest of that run and everything later,
  // the ids read of it left out (two groups, one NOT_IN).
  page.clear();
  std::vector<std::uint64_t> seen;
  for (std::uint64_t id = 1010001; id <= 1010050; ++id) seen.push_back(id);
  ASSERT_TRUE(t.search_index.search(t, past_seen(kT0 + 1000, seen, 200), now, page, total, &st));
  EXPECT_EQ(total, 9950);
  ASSERT_EQ(page.size(), 200u);
  EXPECT_EQ(page.front().id, 1010051u);
  EXPECT_LE(st.tree_entries, 250u);
  // Writes inside the lag are the only records evaluated in full.
  std::vector<WriteInput> in(30);
  for (std::size_t i = 0; i < in.size(); ++i) {
    in[i].id = std::to_string(1000001 + 3 * i);
    in[i].props = {{"firstname", "Grace"}};
  }
  portal.write("0-1", WriteOp::kUpdate, in, false, src, events);
  page.clear();
  ASSERT_TRUE(t.search_index.search(t, after_time(kT0 - 1, 200), now + 100, page, total, &st));
  EXPECT_EQ(total, 20000) << "the old versions, still visible";
  EXPECT_EQ(st.side_records, 30u);
  EXPECT_LE(st.tree_entries, 230u);
  page.clear();
  ASSERT_TRUE(t.search_index.search(t, after_time(now - 1, 200), now + 300, page, total, &st));
  EXPECT_EQ(total, 30) << "the new versions, visible now";
  // Before the last write's time (a clock set back) the index declines.
  EXPECT_FALSE(t.search_index.search(t, after_time(kT0 - 1, 200), now - 1, page, total));
  // A query without a time range is the scan's.
  SearchQuery by_name;
  by_name.groups = {{filter("firstname", "EQ", "Ada")}};
  EXPECT_FALSE(t.search_index.search(t, by_name, now, page, total));
}

// The index's ordered keys against std::set: ranks, order, splits and
// blocks emptied, at the end and in the middle.
TEST(SimKeyList, MatchesAnOrderedSet) {
  std::mt19937_64 rng(7);
  KeyList list;
  std::set<KeyList::Key> want;
  auto check = [&](const KeyList::Key& k) {
    ASSERT_EQ(list.size(), want.size());
    ASSERT_EQ(list.rank(k, false), static_cast<std::size_t>(std::distance(want.begin(), want.lower_bound(k))));
    ASSERT_EQ(list.rank(k, true), static_cast<std::size_t>(std::distance(want.begin(), want.upper_bound(k))));
    auto a = list.lower_bound(k);
    auto b = want.lower_bound(k);
    for (int i = 0; i < 5 && b != want.end(); ++i, ++a, ++b) ASSERT_EQ(*a, *b);
    if (b == want.end()) {
      ASSERT_TRUE(a == list.end());
    }
  };
  for (int i = 0; i < 60000; ++i) {
    // Phases: grow (mostly at the end, as writes do), then shrink to empty.
    const bool grow = (i / 15000) % 2 == 0;
    KeyList::Key k{static_cast<std::int64_t>(rng() % (rng() % 4 ? 3000 : 30)), rng() % 50};
    if (grow && rng() % 3) k = {3000 + i, 1};
    if (grow || rng() % 4 == 0) {
      list.insert(k);
      want.insert(k);
    } else {
      auto it = want.lower_bound(k);
      if (it != want.end() && rng() % 2) k = *it;
      list.erase(k);
      want.erase(k);
    }
    if (i % 7 == 0) {
      ASSERT_NO_FATAL_FAILURE(check({static_cast<std::int64_t>(rng() % 20000), rng() % 50}));
    }
  }
  while (!want.empty()) {
    list.erase(*want.begin());
    want.erase(want.begin());
  }
  EXPECT_EQ(list.size(), 0u);
  EXPECT_TRUE(list.lower_bound({0, 0}) == list.end());
}

}  // namespace
}  // namespace hubsync::sim
