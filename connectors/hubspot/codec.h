#pragma once

#include <string>
#include <vector>

#include "connectors/hubspot/json.h"
#include "engine/model/record.h"

namespace hubsync::hubspot::codec {

/// An object (`{id, properties, createdAt, updatedAt, archived}`) as an engine
/// Record: hubspot_id, every property as text (JSON null as null),
/// changed_at_ms from updatedAt.
model::Record record_from_json(const rapidjson::Value& obj);

/// Writes `"properties": {...}` with each value's canonical text.
void write_properties(json::Writer& w, const model::Fields& fields);

void write_string_array(json::Writer& w, std::string_view key, const std::vector<std::string>& items);

/// Comma-joined, percent-encoded property names for a query string.
std::string properties_query(const std::vector<std::string>& properties);

/// The last-modified property of an object type.
std::string last_modified_property(const std::string& object_type);

}  // namespace hubsync::hubspot::codec
