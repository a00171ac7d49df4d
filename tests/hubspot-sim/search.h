#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/hubspot-sim/json.h"
#include "tests/hubspot-sim/model.h"

namespace hubsync::sim {

struct SearchFilter {
  std::string property;
  std::string op;  ///< EQ NEQ LT LTE GT GTE BETWEEN IN NOT_IN HAS_PROPERTY NOT_HAS_PROPERTY CONTAINS_TOKEN NOT_CONTAINS_TOKEN
  std::string value;
  std::string high_value;
  std::vector<std::string> values;
};

struct SearchQuery {
  std::vector<std::vector<SearchFilter>> groups;  ///< OR of ANDs; empty = everything
  std::string sort_property;
  bool sort_descending = false;
  std::vector<std::string> properties;
  int limit = 10;
  std::int64_t after = 0;
  std::string query;  ///< free-text `query`
};

inline constexpr int kSearchMaxLimit = 200;
inline constexpr std::int64_t kSearchResultCap = 10000;
inline constexpr int kSearchMaxGroups = 5;
inline constexpr int kSearchMaxFiltersPerGroup = 6;
inline constexpr int kSearchMaxFilters = 18;
inline constexpr size_t kSearchMaxBodyChars = 3000;

/// Parses and checks a search body against HubSpot's caps; throws ApiError
/// (400 VALIDATION_ERROR) like HubSpot on any violation.
SearchQuery parse_search(const rapidjson::Value& body, size_t body_chars, const ObjectType& type);

/// True when `props` satisfies the query's filter groups (and free text).
bool search_matches(const SearchQuery& q, const ObjectType& type, const Props& props);

/// Strict weak order for the query's sort (missing values last, ties by id).
bool search_less(const SearchQuery& q, const ObjectType& type, const Props& a, std::uint64_t a_id,
                 const Props& b, std::uint64_t b_id);

}  // namespace hubsync::sim
