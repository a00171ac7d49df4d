#pragma once

// Internal to the mapping parser: the pieces parser.cpp composes.

#include <optional>

#include "engine/mapping/mapping.h"
#include "engine/mapping/reader.h"

namespace hubsync::mapping::detail {

std::optional<SchemaSpec> parse_schema(Reader& r, const YAML::Node& node);
void parse_associations(Reader& r, const YAML::Node& node, Mapping& m);
std::optional<LinkMapping> parse_link(Reader& r, const YAML::Node& node);
void parse_hubspot_filters(Reader& r, const YAML::Node& node, Mapping& m);
/// Parses `actions:` into m.actions; runs after the fields, the table and the
/// object are parsed (columns name fields; labels default from the names).
/// `partial`: some fields failed to parse, so unknown field ids are not reported.
void parse_actions(Reader& r, const YAML::Node& node, Mapping& m, bool partial);
/// Parses `transform:` into f.transforms / f.separator and types the chain
/// from f.pg_kind (sets f.hs_kind). False when any step is invalid.
bool parse_transforms(Reader& r, const YAML::Node& node, FieldMapping& f);
/// Parses `default:` as a value of the field's Postgres kind.
bool parse_default(Reader& r, const YAML::Node& node, FieldMapping& f);
/// Checks that span several parts of one mapping (match field, duplicates,
/// read-only properties, schema consistency, round-trip proof). `partial`
/// is true when some fields failed to parse (checks that need them all skip).
void check_mapping(Reader& r, const Mapping& m, bool partial);

}  // namespace hubsync::mapping::detail
