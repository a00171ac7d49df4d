#pragma once

#include <map>
#include <string>
#include <vector>

#include "connectors/hubspot/json.h"
#include "engine/model/record.h"
#include "engine/pipeline/crm_port.h"

namespace hubsync::hubspot::codec {

/// An object (`{id, properties, createdAt, updatedAt, archived}`) as an engine
/// Record: hubspot_id, every property as text (JSON null as null),
/// changed_at_ms from updatedAt, or from archivedAt for an archived object.
model::Record record_from_json(const rapidjson::Value& obj);

/// An object's `propertiesWithHistory`: per property, its versions newest
/// first (HubSpot's order; re-sorted by time should it differ, ties keeping
/// HubSpot's order). Timestamps are ISO-8601 strings (epoch ms accepted);
/// one that does not parse gives timestamp_ms 0. Empty when absent.
std::map<std::string, std::vector<pipeline::PropertyVersion>> history_from_json(const rapidjson::Value& obj);

/// Writes `"properties": {...}` with each value's canonical text.
void write_properties(json::Writer& w, const model::Fields& fields);

void write_string_array(json::Writer& w, std::string_view key, const std::vector<std::string>& items);

/// Comma-joined, percent-encoded property names for a query string.
std::string properties_query(const std::vector<std::string>& properties);

/// ASCII lower case (emails and labels compare this way).
std::string lower(std::string s);

/// Whether HubSpot matches values of this unique property regardless of case
/// (email: stored lower-cased). Other unique values compare exactly.
inline bool case_insensitive(const std::string& id_property) { return id_property == "email"; }

/// The last-modified property of an object type.
std::string last_modified_property(const std::string& object_type);

/// Sets rec.changed_at_ms from its last-modified property `lm` when it
/// carries a readable one; else leaves what updatedAt gave.
void stamp_modified(model::Record& rec, const std::string& lm);

}  // namespace hubsync::hubspot::codec
