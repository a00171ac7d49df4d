#include "tests/hubspot-sim/search_index.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <limits>
#include <optional>
#include <set>
#include <string>

#include "tests/hubspot-sim/key_list.h"
#include "tests/hubspot-sim/model.h"
#include "tests/hubspot-sim/search.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

using Key = KeyList::Key;  // (last-modified ms, record id)
using Tree = KeyList;

constexpr std::int64_t kMinMs = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMaxMs = std::numeric_limits<std::int64_t>::max();
constexpr std::uint64_t kMaxId = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kExactIds = std::uint64_t{1} << 53;  // below: a double holds the id exactly
constexpr double kTwo64 = 18446744073709551616.0;

const IndexVersion& latest(const Record& r) { return r.pending.empty() ? r.indexed : r.pending.back(); }

// The version search shows at `now`: the same walk as the scan.
const IndexVersion& visible(const Record& r, std::int64_t now) {
  const IndexVersion* v = &r.indexed;
  for (const auto& p : r.pending) {
    if (p.visible_at_ms > now) break;
    v = &p;
  }
  return *v;
}

// From this time on the record shows its latest version.
std::int64_t settles_at(const Record& r) {
  std::int64_t m = kMinMs;
  for (const auto& p : r.pending) m = std::max(m, p.visible_at_ms);
  return m;
}

// True when comparing the hs_object_id property as search does (a number)
// is comparing the record id: then the tree's id order is that filter's.
bool regular_id(const Props& props, std::uint64_t id) {
  if (id >= kExactIds) return false;
  auto it = props.find("hs_object_id");
  if (it == props.end() || it->second.empty()) return false;
  const std::string& s = it->second;
  std::uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return v == id;
  auto n = parse_number(s);
  return n && *n == static_cast<double>(id);
}

bool by_time(const Key& a, const Key& b) { return a.first < b.first; }

// An unsettled-queue entry still describes the record: it settles then.
bool current(const Key& entry, const Record& r) { return !r.pending.empty() && settles_at(r) == entry.first; }

// parse_time_ms for the form format_iso_ms writes ("2024-01-31T12:00:00.000Z",
// every write's last-modified time), at a fifth of its cost; the same
// checks and arithmetic, so the same value. Other forms: parse_time_ms.
std::optional<std::int64_t> parse_lastmod(const std::string& s) {
  static constexpr char kForm[] = "0000-00-00T00:00:00.000Z";
  if (s.size() != sizeof(kForm) - 1) return parse_time_ms(s);
  int v[24];
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (kForm[i] == '0') {
      if (s[i] < '0' || s[i] > '9') return parse_time_ms(s);
      v[i] = s[i] - '0';
    } else if (s[i] != kForm[i]) {
      return parse_time_ms(s);
    }
  }
  const int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], mo = v[5] * 10 + v[6], d = v[8] * 10 + v[9];
  const int hh = v[11] * 10 + v[12], mi = v[14] * 10 + v[15], ss = v[17] * 10 + v[18];
  const int frac = v[20] * 100 + v[21] * 10 + v[22];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60) return std::nullopt;
  // days_from_civil (validation.cpp), Howard Hinnant's algorithm.
  const std::int64_t yy = y - (mo <= 2);
  const std::int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  const auto yoe = static_cast<unsigned>(yy - era * 400);
  const auto um = static_cast<unsigned>(mo);
  const unsigned doy = (153 * (um > 2 ? um - 3 : um + 9) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = era * 146097 + static_cast<std::int64_t>(doe) - 719468;
  return days * 86400000 + (hh * 3600 + mi * 60 + ss) * 1000LL + frac;
}

// Where the record's latest version belongs (see IndexSlot).
IndexSlot classify(const ObjectType& t, const Record& r, std::int64_t& ms) {
  const IndexVersion& v = latest(r);
  if (!v.props || v.archived) return IndexSlot::kNone;
  auto it = v.props->find(t.last_modified_prop);
  if (it == v.props->end() || it->second.empty()) return IndexSlot::kNone;
  auto parsed = parse_lastmod(it->second);
  if (!parsed) return IndexSlot::kNone;
  if (!regular_id(*v.props, r.id)) return IndexSlot::kSide;
  ms = *parsed;
  return IndexSlot::kTree;
}

bool range_op(const std::string& op) {
  return op == "GT" || op == "GTE" || op == "LT" || op == "LTE" || op == "EQ" || op == "BETWEEN";
}

// One filter group as a rectangle of (last-modified ms, id).
struct Rect {
  std::int64_t lo = kMinMs, hi = kMaxMs;
  std::uint64_t ilo = 0, ihi = kMaxId;
  bool empty = false;  ///< a filter no record can pass (e.g. an unparseable value)
  bool pure = true;    ///< only range filters on last-modified and hs_object_id (and not_in)
  std::vector<std::uint64_t> not_in;  ///< ids an hs_object_id NOT_IN leaves out

  void at_least_ms(std::int64_t v) { lo = std::max(lo, v); }
  void at_most_ms(std::int64_t v) { hi = std::min(hi, v); }
  // Integral doubles only: id >= y, id <= z.
  void at_least_id(double y) {
    if (y <= 0) return;
    if (y >= kTwo64) empty = true;
    else ilo = std::max(ilo, static_cast<std::uint64_t>(y));
  }
  void at_most_id(double z) {
    if (z < 0) empty = true;
    else if (z < kTwo64) ihi = std::min(ihi, static_cast<std::uint64_t>(z));
  }
  bool none() const { return empty || lo > hi || ilo > ihi; }
};

// Mirrors eval() in search.cpp for a date/datetime property: both sides
// parsed with parse_time_ms, a side that does not parse fails the filter.
void narrow_ms(const SearchFilter& f, Rect& r) {
  auto v = parse_time_ms(f.value);
  if (f.op == "BETWEEN") {
    auto h = parse_time_ms(f.high_value);
    if (!v || !h) r.empty = true;
    else r.at_least_ms(*v), r.at_most_ms(*h);
    return;
  }
  if (!v) {
    r.empty = true;
  } else if (f.op == "GT") {
    if (*v == kMaxMs) r.empty = true;
    else r.at_least_ms(*v + 1);
  } else if (f.op == "GTE") {
    r.at_least_ms(*v);
  } else if (f.op == "LT") {
    if (*v == kMinMs) r.empty = true;
    else r.at_most_ms(*v - 1);
  } else if (f.op == "LTE") {
    r.at_most_ms(*v);
  } else {  // EQ
    r.at_least_ms(*v), r.at_most_ms(*v);
  }
}

// Mirrors eval() for hs_object_id (a number): on a regular record the
// compared number is the id, an integer, so real bounds round inwards.
void narrow_id(const SearchFilter& f, Rect& r) {
  auto x = parse_number(f.value);
  if (f.op == "BETWEEN") {
    auto y = parse_number(f.high_value);
    if (!x || !y) r.empty = true;
    else r.at_least_id(std::ceil(*x)), r.at_most_id(std::floor(*y));
    return;
  }
  if (!x) r.empty = true;
  else if (f.op == "GT") r.at_least_id(std::floor(*x) + 1);
  else if (f.op == "GTE") r.at_least_id(std::ceil(*x));
  else if (f.op == "LT") r.at_most_id(std::ceil(*x) - 1);
  else if (f.op == "LTE") r.at_most_id(std::floor(*x));
  else r.at_least_id(std::ceil(*x)), r.at_most_id(std::floor(*x));  // EQ
}

// Mirrors eval()'s NOT_IN for hs_object_id on a regular record (whose
// hs_object_id is its id, below kExactIds): a value equal to the id as a
// number leaves the record out.
void narrow_not_in(const SearchFilter& f, Rect& r) {
  for (const auto& v : f.values)
    if (auto n = parse_number(v); n && *n >= 0 && *n < static_cast<double>(kExactIds) && std::floor(*n) == *n)
      r.not_in.push_back(static_cast<std::uint64_t>(*n));
}

// The key range that holds every settled match, and how far it can be trusted.
struct Plan {
  bool any = false;   ///< some group can match a settled record
  Key from{kMaxMs, kMaxId}, to{kMinMs, 0};  ///< inclusive
  bool pure = false;  ///< every settled key in [from, to] but `excluded` matches
  std::vector<Key> excluded;  ///< sorted; keys in [from, to] that do not match
};

// The key after k.
Key next_key(const Key& k) { return k.second == kMaxId ? Key{k.first + 1, 0} : Key{k.first, k.second + 1}; }

// Whether the groups' key intervals (sorted by start) leave no gap.
bool contiguous(std::vector<std::pair<Key, Key>> spans) {
  std::sort(spans.begin(), spans.end());
  for (std::size_t i = 1; i < spans.size(); ++i) {
    if (spans[i - 1].second.first == kMaxMs && spans[i - 1].second.second == kMaxId) return true;
    if (next_key(spans[i - 1].second) < spans[i].first) return false;
    spans[i].second = std::max(spans[i].second, spans[i - 1].second);
  }
  return true;
}

// The groups as key intervals, with the keys a group's NOT_IN leaves out
// that no other group takes in: pure when they join into one range.
void join_groups(const std::vector<Rect>& rects, bool all_pure, Plan& plan) {
  std::vector<std::pair<Key, Key>> spans;
  for (const auto& r : rects)
    if (!r.none()) spans.push_back({Key{r.lo, r.ilo}, Key{r.hi, r.ihi}});
  plan.pure = all_pure && contiguous(spans);
  if (!plan.pure) return;
  for (const auto& r : rects) {
    if (r.none()) continue;
    for (auto id : r.not_in) {
      const Key k{r.lo, id};
      const bool taken = std::any_of(rects.begin(), rects.end(), [&](const Rect& o) {
        return &o != &r && !o.none() && !(k < Key{o.lo, o.ilo}) && !(Key{o.hi, o.ihi} < k) &&
               std::find(o.not_in.begin(), o.not_in.end(), id) == o.not_in.end();
      });
      if (!taken && !(k < Key{r.lo, r.ilo}) && !(Key{r.hi, r.ihi} < k)) plan.excluded.push_back(k);
    }
  }
  std::sort(plan.excluded.begin(), plan.excluded.end());
  plan.excluded.erase(std::unique(plan.excluded.begin(), plan.excluded.end()), plan.excluded.end());
}

// False: some group has no last-modified range filter (the index cannot help).
bool make_plan(const ObjectType& t, const SearchQuery& q, Plan& plan) {
  if (q.groups.empty()) return false;
  bool all_pure = q.query.empty();
  std::vector<Rect> rects;
  for (const auto& g : q.groups) {
    Rect r;
    bool has_time = false;
    for (const auto& f : g) {
      if (f.property == t.last_modified_prop && range_op(f.op)) {
        has_time = true;
        narrow_ms(f, r);
      } else if (f.property == "hs_object_id" && range_op(f.op)) {
        narrow_id(f, r);
      } else if (f.property == "hs_object_id" && f.op == "NOT_IN") {
        narrow_not_in(f, r);
      } else {
        r.pure = false;
      }
    }
    if (!has_time) return false;
    // A lexicographic key range equals the rectangle only on one timestamp
    // or without id bounds; ids left out only on one timestamp.
    all_pure = all_pure && r.pure && (r.lo == r.hi || (r.ilo == 0 && r.ihi == kMaxId && r.not_in.empty()));
    if (!r.none()) {
      plan.any = true;
      plan.from = std::min(plan.from, Key{r.lo, r.ilo});
      plan.to = std::max(plan.to, Key{r.hi, r.ihi});
    }
    rects.push_back(std::move(r));
  }
  join_groups(rects, all_pure, plan);
  return true;
}

}  // namespace

struct SearchIndex::Impl {
  Tree tree;                       ///< settled key of every live, regular record
  /// (settles_at, id) noted for records with pending versions, in time
  /// order. Not erased by forget (a write appends, O(1)): an entry is
  /// current only while the record still settles at that time.
  std::deque<Key> unsettled;
  std::int64_t settled_through = kMinMs;  ///< the latest settle() time: entries up to it are gone
  std::set<std::uint64_t> irregular;  ///< live records whose hs_object_id is not their id
};

SearchIndex::SearchIndex() : impl_(std::make_unique<Impl>()) {}
SearchIndex::~SearchIndex() = default;
SearchIndex::SearchIndex(const SearchIndex& other)
    : impl_(std::make_unique<Impl>(other.impl_ ? *other.impl_ : Impl{})) {}
SearchIndex& SearchIndex::operator=(const SearchIndex& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(other.impl_ ? *other.impl_ : Impl{});
  return *this;
}
SearchIndex::SearchIndex(SearchIndex&& other) noexcept : impl_(std::move(other.impl_)) {}
SearchIndex& SearchIndex::operator=(SearchIndex&& other) noexcept {
  impl_ = std::move(other.impl_);
  return *this;
}

void SearchIndex::forget(Record& r) {
  if (impl_) {
    switch (r.index_slot) {
      case IndexSlot::kTree: impl_->tree.erase(Key{r.index_ms, r.id}); break;
      case IndexSlot::kSide: impl_->irregular.erase(r.id); break;
      case IndexSlot::kNone: break;
    }
  }
  r.index_slot = IndexSlot::kNone;
}

void SearchIndex::note(const ObjectType& t, Record& r) {
  if (!impl_) impl_ = std::make_unique<Impl>();
  if (!r.pending.empty()) {
    // Times only grow while the clock and the lag hold still; else keep order.
    auto& u = impl_->unsettled;
    const Key k{settles_at(r), r.id};
    if (u.empty() || u.back().first <= k.first) u.push_back(k);
    else u.insert(std::upper_bound(u.begin(), u.end(), k, by_time), k);
  }
  r.index_slot = classify(t, r, r.index_ms);
  switch (r.index_slot) {
    case IndexSlot::kTree: impl_->tree.insert(Key{r.index_ms, r.id}); break;
    case IndexSlot::kSide: impl_->irregular.insert(r.id); break;
    case IndexSlot::kNone: break;
  }
}

void SearchIndex::settle(std::int64_t now) {
  if (!impl_) return;
  // A record whose entry leaves here settles by `now`: search from then on
  // sees its latest version, the tree's key. Searches before `now` (a clock
  // set back) would not, and are refused.
  auto& u = impl_->unsettled;
  while (!u.empty() && u.front().first <= now) u.pop_front();
  impl_->settled_through = std::max(impl_->settled_through, now);
}

std::size_t SearchIndex::size() const { return impl_ ? impl_->tree.size() : 0; }
std::size_t SearchIndex::side_size() const { return impl_ ? impl_->unsettled.size() + impl_->irregular.size() : 0; }

bool SearchIndex::search(const ObjectType& t, const SearchQuery& q, std::int64_t now, std::vector<SearchHit>& page,
                         std::int64_t& total, SearchIndexStats* stats) const {
  if (!impl_) return false;
  const PropertyDef* lm = t.find_property(t.last_modified_prop);
  if (!lm || (lm->type != "date" && lm->type != "datetime")) return false;
  const Impl& im = *impl_;
  if (now < im.settled_through) return false;
  Plan plan;
  if (!make_plan(t, q, plan)) return false;
  answered_.fetch_add(1, std::memory_order_relaxed);
  SearchIndexStats local;
  SearchIndexStats& st = stats ? *stats : local;
  st = {};

  // Side records: inside the index lag now, or irregular; their tree key
  // (if any) is not what search sees now, so they are evaluated in full.
  std::vector<std::uint64_t> unsettled;
  for (auto it = std::upper_bound(im.unsettled.begin(), im.unsettled.end(), Key{now, kMaxId}, by_time);
       it != im.unsettled.end(); ++it) {
    auto rit = t.records.find(it->second);
    if (rit != t.records.end() && current(*it, rit->second)) unsettled.push_back(it->second);
  }
  std::sort(unsettled.begin(), unsettled.end());
  unsettled.erase(std::unique(unsettled.begin(), unsettled.end()), unsettled.end());
  std::vector<std::uint64_t> side_ids;
  std::set_union(unsettled.begin(), unsettled.end(), im.irregular.begin(), im.irregular.end(),
                 std::back_inserter(side_ids));
  auto less = [&](const SearchHit& a, const SearchHit& b) {
    return search_less(q, t, *a.props, a.id, *b.props, b.id);
  };
  std::vector<SearchHit> side;
  for (auto id : side_ids) {
    auto rit = t.records.find(id);
    if (rit == t.records.end()) continue;
    ++st.side_records;
    const IndexVersion& v = visible(rit->second, now);
    if (v.props && !v.archived && search_matches(q, t, *v.props)) side.push_back({id, v.props});
  }

  const std::size_t after = static_cast<std::size_t>(std::max<std::int64_t>(0, q.after));
  const std::size_t need = after + static_cast<std::size_t>(std::max(0, q.limit));
  const bool tree_order =
      (q.sort_property == t.last_modified_prop && !q.sort_descending) ||
      ((q.sort_property.empty() || (q.sort_property == "hs_object_id" && !q.sort_descending)) &&
       plan.from.first == plan.to.first);
  auto unsettled_now = [&](std::uint64_t id) { return std::binary_search(unsettled.begin(), unsettled.end(), id); };
  // A settled record shows its latest version; records erase their entry first.
  auto settled_hit = [&](std::uint64_t id) {
    return SearchHit{id, latest(t.records.find(id)->second).props};
  };
  auto tree_begin = plan.any ? im.tree.lower_bound(plan.from) : im.tree.end();
  auto in_range = [&](Tree::const_iterator it) { return it != im.tree.end() && !(plan.to < *it); };
  auto excluded = [&](const Key& k) { return std::binary_search(plan.excluded.begin(), plan.excluded.end(), k); };

  if (!tree_order) {
    // Any other order: every match of the key range, sorted like the scan.
    std::vector<SearchHit> hits = std::move(side);
    for (auto it = tree_begin; in_range(it); ++it) {
      ++st.tree_entries;
      if (unsettled_now(it->second)) continue;
      SearchHit h = settled_hit(it->second);
      if (plan.pure ? !excluded(*it) : search_matches(q, t, *h.props)) hits.push_back(std::move(h));
    }
    const std::size_t n = std::min(hits.size(), need);
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(n), hits.end(), less);
    total = static_cast<std::int64_t>(hits.size());
    for (std::size_t i = after; i < n; ++i) page.push_back(std::move(hits[i]));
    return true;
  }

  std::sort(side.begin(), side.end(), less);
  // The tree's key order is the query's here: merge the settled matches
  // with the side ones, keeping positions [after, need).
  std::size_t pos = 0, si = 0, tree_matches = 0;
  auto emit = [&](SearchHit&& h) {
    if (pos >= after && pos < need) page.push_back(std::move(h));
    ++pos;
  };
  for (auto it = tree_begin; in_range(it); ++it) {
    if (pos >= need && plan.pure) break;  // the total comes from the order statistics
    ++st.tree_entries;
    if (unsettled_now(it->second) || (plan.pure && excluded(*it))) continue;
    if (pos >= need) {  // page full: only counting is left
      auto rit = t.records.find(it->second);
      if (rit != t.records.end() && search_matches(q, t, *latest(rit->second).props)) ++tree_matches;
      continue;
    }
    SearchHit h = settled_hit(it->second);
    if (!plan.pure && !search_matches(q, t, *h.props)) continue;
    ++tree_matches;
    while (si < side.size() && pos < need && less(side[si], h)) emit(std::move(side[si++]));
    emit(std::move(h));
  }
  while (si < side.size() && pos < need) emit(std::move(side[si++]));
  if (!plan.pure || !plan.any) {
    total = static_cast<std::int64_t>(tree_matches + side.size());
    return true;
  }
  // Settled keys in the range, less the unsettled records' (stale) keys in it.
  std::size_t in_tree = im.tree.rank(plan.to, true) - im.tree.rank(plan.from, false);
  for (auto id : unsettled) {
    auto rit = t.records.find(id);
    if (rit == t.records.end() || rit->second.index_slot != IndexSlot::kTree) continue;
    const Key k{rit->second.index_ms, id};
    if (!(k < plan.from) && !(plan.to < k)) --in_tree;
  }
  // Less the keys a NOT_IN leaves out (those of unsettled records went above).
  for (const Key& k : plan.excluded) {
    auto it = im.tree.lower_bound(k);
    if (it != im.tree.end() && *it == k && !unsettled_now(k.second) && !(k < plan.from) && !(plan.to < k)) --in_tree;
  }
  total = static_cast<std::int64_t>(in_tree + side.size());
  return true;
}

void search_scan(const ObjectType& t, const SearchQuery& q, std::int64_t now, std::vector<SearchHit>& page,
                 std::int64_t& total) {
  std::vector<SearchHit> hits;
  for (const auto& [id, r] : t.records) {
    const IndexVersion& v = visible(r, now);
    if (!v.props || v.archived) continue;
    if (search_matches(q, t, *v.props)) hits.push_back({id, v.props});
  }
  const auto need = std::min(hits.size(), static_cast<std::size_t>(std::max<std::int64_t>(0, q.after) + q.limit));
  if (!q.sort_property.empty()) {
    // Only the page asked for need be in order (a full sort per page made
    // a sweep of N objects cost N^2 log N in the simulator).
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(need), hits.end(),
                      [&](const SearchHit& a, const SearchHit& b) {
                        return search_less(q, t, *a.props, a.id, *b.props, b.id);
                      });
  }
  total = static_cast<std::int64_t>(hits.size());
  for (auto i = static_cast<std::size_t>(std::max<std::int64_t>(0, q.after)); i < need; ++i)
    page.push_back(std::move(hits[i]));
}

}  // namespace hubsync::sim
