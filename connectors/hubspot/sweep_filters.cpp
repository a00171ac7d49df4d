#include "connectors/hubspot/sweep_filters.h"

#include <algorithm>
#include <cctype>

#include "engine/model/value.h"

namespace hubsync::hubspot {

namespace {

// YYYY-MM-DD at the start; epoch milliseconds never look like this.
bool looks_iso(const std::string& v) {
  if (v.size() < 10 || v[4] != '-' || v[7] != '-') return false;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (!std::isdigit(static_cast<unsigned char>(v[i]))) return false;
  return true;
}

std::string as_epoch_ms(const std::string& v) {
  if (!looks_iso(v)) return v;
  auto t = model::parse_datetime(v);
  return t.ok() ? std::to_string(t->ms) : v;
}

}  // namespace

bool has_iso_time_value(const mapping::HubspotFilter& f) {
  return looks_iso(f.value) || looks_iso(f.high_value) || std::any_of(f.values.begin(), f.values.end(), looks_iso);
}

Filter to_search_filter(const mapping::HubspotFilter& f, bool time_property) {
  Filter out{f.property, mapping::to_string(f.op), f.value, f.values, f.high_value};
  if (!time_property) return out;
  out.value = as_epoch_ms(out.value);
  out.high_value = as_epoch_ms(out.high_value);
  for (auto& v : out.values) v = as_epoch_ms(v);
  return out;
}

}  // namespace hubsync::hubspot
