#pragma once

// SearchIndex: one object type's records ordered by their search-visible
// last-modified time, so that CRM searches with a range filter on that
// property in every filter group (hubsync's sweep: `lastmod GT t` sorted by
// lastmod, then `lastmod EQ t AND hs_object_id GT id` sorted by id) cost
// O(log N + page) instead of a scan of every record, with the same page and
// the same exact `total` as the scan.
//
// How: each record is keyed by (lastmod ms, id) of its *latest* search
// version (the last pending one, else `indexed`) in an ordered list with
// ranks (key_list.h), which gives `total` in O(log N). That key is what
// search sees once every pending version is visible
// ("settled"); the few records still inside the index lag ("unsettled",
// found through a queue of the times their writes become visible) are
// evaluated fully against the version visible now at query time, and
// merged in. Records whose hs_object_id property is not their id
// ("irregular", never made by the simulator itself) are evaluated fully too.
//
// Declared without model.h (model.h holds one per ObjectType); the Portal
// calls settle/forget/note around every change of a record's
// `indexed`/`pending`, forget before erasing a record, under its exclusive
// lock, and search under its shared lock. Not thread-safe by itself.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace hubsync::sim {

class Props;
struct ObjectType;
struct Record;
struct SearchQuery;

/// Where a record's latest search version sits in its type's SearchIndex.
enum class IndexSlot : std::uint8_t {
  kNone,  ///< not live, or no parseable last-modified time: no indexed query matches it
  kTree,  ///< in the ordered list, at (Record::index_ms, id)
  kSide,  ///< live but hs_object_id is not its id: evaluated in full by every search
};

/// One search result: the record id and the properties search sees now.
struct SearchHit {
  std::uint64_t id = 0;
  std::shared_ptr<const Props> props;
};

/// What one indexed search looked at (evidence that the index was used).
struct SearchIndexStats {
  std::size_t tree_entries = 0;  ///< index entries visited
  std::size_t side_records = 0;  ///< unsettled or irregular records evaluated in full
};

class SearchIndex {
 public:
  SearchIndex();
  ~SearchIndex();
  /// Deep copies: a copied ObjectType (records included) keeps a matching index.
  SearchIndex(const SearchIndex& other);
  SearchIndex& operator=(const SearchIndex& other);
  SearchIndex(SearchIndex&& other) noexcept;
  SearchIndex& operator=(SearchIndex&& other) noexcept;

  /// Drops what the index holds for `r` (as its index_slot says) and
  /// clears r.index_slot. Call before `r.indexed` or `r.pending` change and
  /// before `r` is erased from `t.records`. O(log N); no-op for a record
  /// never noted.
  void forget(Record& r);
  /// Records `r` of `t` as it is now (after its search versions changed, or
  /// when it was added) and sets r.index_slot / r.index_ms. Every note()
  /// is preceded by a forget() of the record's previous state.
  /// O(log N + |r.pending|) (amortised O(1) for the lag queue while the
  /// clock and the lag do not go backwards).
  void note(const ObjectType& t, Record& r);
  /// Drops the lag queue's entries of records settled by `now`. Call with
  /// the clock of each write; O(1) amortised. A later search at an earlier
  /// time (a clock set back) is refused and left to the scan.
  void settle(std::int64_t now);

  /// Answers `q` over `t` (whose index this is) at `now` exactly as
  /// search_scan would: `page` gets the hits at [q.after, q.after+q.limit)
  /// of the sorted matches, `total` their count. Returns false, touching
  /// nothing, when the index cannot answer exactly: some filter group has no
  /// range filter (GT GTE LT LTE EQ BETWEEN) on t.last_modified_prop, that
  /// property is not a date/datetime, or `now` is before a settle() time.
  /// Cost: O(log N + after + limit + unsettled) when the only filters are
  /// ranges on the last-modified property and hs_object_id in one group and
  /// the order is the index's (sorted by it ascending; or by hs_object_id
  /// ascending / unsorted within one timestamp); otherwise O(records in the
  /// timestamp range). Thread-safe with other const calls.
  bool search(const ObjectType& t, const SearchQuery& q, std::int64_t now, std::vector<SearchHit>& page,
              std::int64_t& total, SearchIndexStats* stats = nullptr) const;

  /// Records keyed in the ordered list (IndexSlot::kTree).
  std::size_t size() const;
  /// Entries of the lag queue (until settled) and irregular records.
  std::size_t side_size() const;
  /// How many searches this index answered (returned true) since it was
  /// made; thread-safe. Lets tests see that a query shape takes this path.
  std::uint64_t answered() const { return answered_.load(std::memory_order_relaxed); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  mutable std::atomic<std::uint64_t> answered_{0};
};

/// The reference search: every record's version visible at `now` checked
/// with search_matches, then sorted with search_less; same outputs as
/// SearchIndex::search. O(N) per call.
void search_scan(const ObjectType& t, const SearchQuery& q, std::int64_t now, std::vector<SearchHit>& page,
                 std::int64_t& total);

}  // namespace hubsync::sim
