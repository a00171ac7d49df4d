#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "connectors/hubspot/client.h"
#include "engine/pipeline/crm_port.h"

namespace hubsync::hubspot {

/// HubSpot search caps, checked before sending.
inline constexpr int kMaxSearchLimit = 200;
inline constexpr int kMaxSearchResults = 10'000;
inline constexpr std::size_t kMaxFilterGroups = 5;
inline constexpr std::size_t kMaxFiltersPerGroup = 6;
inline constexpr std::size_t kMaxFiltersTotal = 18;
/// HubSpot refuses a search body longer than this (characters).
inline constexpr std::size_t kMaxSearchBody = 3'000;
/// The sweep's own window takes at most 2 filters of a group (last-modified
/// EQ plus hs_object_id GT in the tie phase; last-modified GT, with LTE when
/// the cursor has an end, and in a second group last-modified EQ plus
/// hs_object_id NOT_IN, otherwise); the rest of HubSpot's 6 are the
/// caller's, in every group (2 x 6 <= 18).
inline constexpr std::size_t kMaxSweepFilters = kMaxFiltersPerGroup - 2;
/// At most this many ids go in the sweep's NOT_IN (a conservative reading
/// of HubSpot's caps on a filter's values); a longer run of equal
/// timestamps is read again instead.
inline constexpr std::size_t kMaxSweepSeen = 100;

struct Filter {
  std::string property;
  std::string op;  ///< EQ NEQ LT LTE GT GTE BETWEEN IN NOT_IN HAS_PROPERTY …
  std::string value;
  std::vector<std::string> values;  ///< IN / NOT_IN
  std::string high_value;           ///< BETWEEN
};

struct Sort {
  std::string property;
  bool ascending = true;
};

struct SearchRequest {
  std::vector<std::vector<Filter>> filter_groups;  ///< OR of ANDs
  std::vector<Sort> sorts;                         ///< HubSpot honours one
  std::vector<std::string> properties;
  int limit = 100;
  std::string after;
};

struct SearchPage {
  std::int64_t total = 0;
  std::vector<model::Record> records;
  std::string next_after;  ///< empty on the last page
};

/// One page of the sweep, and whether its records carry the properties
/// asked for. They do not when those properties would take the search body
/// past kMaxSearchBody: the search then asks only for the sweep's own (the
/// last-modified property, hs_object_id, hs_merged_object_ids) and the
/// caller reads the rest by id.
struct SweepResult {
  pipeline::SweepPage page;
  bool complete = true;
};

/// POST /crm/v3/objects/{type}/search through the search lane (5/s).
/// Requests beyond HubSpot's caps (limit > 200, paging past 10,000, too many
/// filters, more than one sort, a body over kMaxSearchBody characters with
/// its properties) are refused locally as fatal: they are bugs. Thread-safe.
class SearchApi {
 public:
  explicit SearchApi(HubSpotClient& client) : client_(client) {}

  model::Result<SearchPage> search(const std::string& type, const SearchRequest& request);

  /// Whether HubSpot takes this request's body: at most kMaxSearchBody
  /// characters, its filters, sorts and properties all counted.
  static bool fits(const SearchRequest& request);

  /// One page of the modified-since sweep (see CrmPort::sweep). Never pages
  /// with `after`: each request re-seeks from the cursor, either through the
  /// objects modified exactly at cursor time ordered by hs_object_id, or
  /// through later times ordered by last-modified. A page cut inside a run
  /// of equal timestamps hands the ids it read of the run to the next page,
  /// which asks for the rest of the run (NOT_IN, in a second filter group)
  /// and what follows; a run too long for that (over kMaxSweepSeen ids, or
  /// a body over kMaxSearchBody) is read again from its start, and one that
  /// fills a page by itself goes to the tie phase, so a bulk job that
  /// stamps 30,000 objects alike is read completely without the 10,000 cap.
  /// `filters` are ANDed into each of the window's filter groups; more
  /// than kMaxSweepFilters is refused as fatal. When `properties` would
  /// take the body past kMaxSearchBody (a mapping of ~100 properties), the
  /// search asks for the sweep's own only and the result is not complete.
  model::Result<SweepResult> sweep(const std::string& type, const pipeline::SweepCursor& from,
                                           const std::vector<std::string>& properties, int page_size = 200,
                                           const std::vector<Filter>& filters = {});

 private:
  HubSpotClient& client_;
};

}  // namespace hubsync::hubspot
