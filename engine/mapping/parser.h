#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mapping/mapping.h"
#include "engine/mapping/types.h"

namespace hubsync::mapping {

/// The outcome of reading one mapping file: the compiled mapping when it has
/// no error, and every finding (errors and warnings) either way.
struct ParseResult {
  std::optional<Mapping> mapping;
  Findings findings;
  bool ok() const { return mapping.has_value(); }
};

/// Parses one YAML mapping document and validates it statically: structure,
/// known keys (with did-you-mean hints), enum values, types and transform
/// chains, duplicate columns/properties, the match field, read-only
/// properties, the schema block, and the round-trip proof of every field
/// that syncs both ways. Every error is reported, each with file:line:col.
/// Never throws; any input gives either a mapping or at least one error.
ParseResult parse_mapping(std::string_view yaml_text, const std::string& file);

/// Reads `path` and parses it; an unreadable file is one error finding.
ParseResult load_mapping_file(const std::string& path);

/// Checks a set of mappings together: unique names, association and link
/// targets exist and are object mappings, one table per mapping. Findings
/// point at the referring entry.
Findings validate_set(const std::vector<Mapping>& mappings);

/// Standard HubSpot objects by name: {"contacts","0-1"}, ... Returns the
/// object type id, or empty if `name` is not a standard object.
std::string standard_object_type_id(std::string_view name);
/// The name of a standard object given by name or id ("0-1" -> "contacts");
/// empty if it is not one.
std::string standard_object_name(std::string_view name);

/// Properties HubSpot computes itself and never accepts writes to.
bool is_known_read_only_property(std::string_view object, std::string_view property);

/// Empty when a field can travel through a HubSpot property of this `type`
/// and `field_type`; else why not.
std::string property_compatibility(const FieldMapping& f, std::string_view type,
                                   std::string_view field_type);

/// Proves on sample values that a field's transforms round-trip
/// (Postgres -> HubSpot -> Postgres gives the same value). Empty when they
/// do, else a description of the first counterexample.
std::string round_trip_counterexample(const FieldMapping& f);

}  // namespace hubsync::mapping
