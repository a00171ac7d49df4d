#pragma once

// Helpers shared by the Portal's record files (portal_objects.cpp,
// portal_write.cpp). Internal to the simulator.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>

#include "tests/hubspot-sim/model.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim::detail {

/// propertiesWithHistory keeps at most this many values per property.
inline constexpr std::size_t kMaxHistory = 20;

inline std::optional<std::uint64_t> parse_id(const std::string& s) {
  std::uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

/// The unique index's key: emails compare case-insensitively, as in HubSpot.
inline std::string unique_key(const PropertyDef& d, const std::string& v) {
  return d.name == "email" ? to_lower(v) : v;
}

}  // namespace hubsync::sim::detail
