#pragma once

// Plain data of the simulated portal: property definitions, object types,
// records and the errors HubSpot answers with. No I/O here.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tests/hubspot-sim/props.h"
#include "tests/hubspot-sim/search_index.h"
#include "tests/hubspot-sim/unique_values.h"

namespace hubsync::sim {

using PropsPtr = std::shared_ptr<const Props>;

/// One option of an enumeration property.
struct PropertyOption {
  std::string label;
  std::string value;
  int display_order = 0;
  bool hidden = false;
};

/// A property definition as the Properties API shows it.
struct PropertyDef {
  std::string name;
  std::string label;
  std::string type = "string";  ///< string number date datetime enumeration bool phone_number
  std::string field_type = "text";
  std::string group_name;
  std::string description;
  std::vector<PropertyOption> options;
  int display_order = -1;
  bool has_unique_value = false;
  bool hubspot_defined = false;
  bool read_only = false;  ///< maintained by the simulator (ids, timestamps)
  bool archived = false;
  bool form_field = false;
  bool calculated = false;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

struct PropertyGroup {
  std::string name;
  std::string label;
  int display_order = -1;
  bool archived = false;
};

/// One entry of `propertiesWithHistory`.
struct HistoryEntry {
  std::string value;
  std::int64_t timestamp_ms = 0;
  std::string source_type;
  std::string source_id;
};

/// What the search index sees of a record, possibly lagging its real state.
struct IndexVersion {
  std::int64_t visible_at_ms = 0;
  PropsPtr props;  ///< null: the record did not exist
  bool archived = false;
};

struct Record {
  std::uint64_t id = 0;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t archived_ms = 0;
  bool archived = false;
  PropsPtr props;
  std::unordered_map<std::string, std::vector<HistoryEntry>> history;
  IndexVersion indexed;               ///< already visible to search
  std::deque<IndexVersion> pending;   ///< becoming visible later, oldest first
  /// Where ObjectType::search_index holds the latest version; kept by it.
  IndexSlot index_slot = IndexSlot::kNone;
  std::int64_t index_ms = 0;  ///< the key's time when index_slot is kTree
};

/// A CRM object type (standard or custom) and all its records.
struct ObjectType {
  std::string object_type_id;  ///< "0-1", "2-7"
  std::string name;            ///< "contacts", or the custom schema name
  std::string singular;        ///< "contact" — webhook prefix for standard types
  std::string label_singular;
  std::string label_plural;
  std::string fully_qualified_name;
  std::string last_modified_prop;  ///< lastmodifieddate or hs_lastmodifieddate
  std::string create_date_prop;    ///< createdate or hs_createdate
  std::string primary_display_property;
  std::vector<std::string> secondary_display_properties;
  std::vector<std::string> searchable_properties;
  std::vector<std::string> required_properties;
  std::vector<std::string> default_properties;  ///< returned when none asked
  bool custom = false;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::map<std::string, PropertyDef> properties;
  std::vector<PropertyGroup> groups;
  std::map<std::uint64_t, Record> records;
  /// unique property -> (email lower-cased) value -> live record. Records
  /// live in a std::map, so the pointers stay valid until the record is
  /// erased, and every erase drops its index entries first.
  std::unordered_map<std::string, UniqueValues> unique_index;
  /// `records` ordered by search-visible last-modified time; the Portal
  /// keeps it in step with every change of a record's indexed/pending
  /// versions and every erase (search_index.h).
  SearchIndex search_index;

  const PropertyDef* find_property(const std::string& n) const {
    auto it = properties.find(n);
    return it == properties.end() || it->second.archived ? nullptr : &it->second;
  }
};

/// One detail of an error body (`errors[]`).
struct ErrorDetail {
  std::string message;
  std::string code;
  std::string in;  ///< the field or parameter the error is about
  std::map<std::string, std::vector<std::string>> context;
};

/// A HubSpot error response, thrown inside the simulator and rendered by the
/// router as `{"status":"error","message",...}`.
struct ApiError {
  int http_status = 400;
  std::string category;
  std::string message;
  std::vector<ErrorDetail> errors;
  std::map<std::string, std::vector<std::string>> context;
  std::string sub_category;
};

ApiError make_api_error(int status, std::string category, std::string message);

/// Who is writing: the webhook changeSource, the history sourceType/sourceId.
struct WriteSource {
  std::string change_source = "INTEGRATION";  ///< INTEGRATION, CRM_UI, IMPORT
  std::string source_id;                      ///< app id, "userId:N", "import:N"
  std::int64_t app_id = 0;
};

/// A change the webhook dispatcher may deliver.
struct ChangeEvent {
  std::string object_type_id;
  std::string type_prefix;  ///< "contact", "company", "deal", "ticket" or "object"
  std::string kind;         ///< creation deletion propertyChange merge associationChange restore
  std::uint64_t object_id = 0;
  std::int64_t occurred_at_ms = 0;
  std::string change_source;
  std::string source_id;
  std::string property_name;
  std::string property_value;
  // merge
  std::uint64_t primary_object_id = 0;
  std::vector<std::uint64_t> merged_object_ids;
  std::uint64_t new_object_id = 0;
  // associationChange
  std::string association_type;
  std::uint64_t from_object_id = 0;
  std::uint64_t to_object_id = 0;
  bool association_removed = false;
  int association_type_id = 0;
};

}  // namespace hubsync::sim
