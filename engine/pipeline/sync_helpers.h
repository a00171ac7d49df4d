#pragma once

// Internal to the push and pull pipelines: how match values are compared,
// and how properties are shown in dead letters.
#include <string>

#include "engine/mapping/mapping.h"

namespace hubsync::pipeline {

/// The base's field name of an association's foreign-key column.
inline std::string assoc_field(const std::string& column) { return "assoc:" + column; }

/// True when HubSpot compares the mapping's match values without regard to
/// case (contacts' email: HubSpot stores emails lower-cased), so `A@x` and
/// `a@x` name one object.
inline bool folds_match_case(const mapping::Mapping& m) {
  return m.match_property == "email" && m.object.path() == "contacts";
}

/// The match value as HubSpot tells values apart: two rows with equal keys
/// map to one object. ASCII case folding, like SQLite's lower() used to
/// backfill older links.
inline std::string match_key_of(const mapping::Mapping& m, std::string value) {
  if (folds_match_case(m))
    for (auto& c : value)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return value;
}

/// Properties as a JSON object: a dead letter's payload.
inline std::string props_json(const mapping::Properties& props) {
  std::string out = "{";
  for (const auto& [k, v] : props) {
    if (out.size() > 1) out += ',';
    out += model::json_quote(k) + ":" + model::json_quote(v);
  }
  return out + "}";
}

}  // namespace hubsync::pipeline
