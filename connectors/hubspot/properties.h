#pragma once

#include <optional>
#include <string>
#include <vector>

#include "connectors/hubspot/client.h"

namespace hubsync::hubspot {

struct PropertyOption {
  std::string label;
  std::string value;
};

/// A property definition (crm/v3/properties).
struct PropertyDef {
  std::string name;
  std::string label;
  std::string type;        ///< string number date datetime enumeration bool phone_number
  std::string field_type;  ///< text textarea number date select radio checkbox booleancheckbox …
  std::string group_name;
  std::string description;
  bool has_unique_value = false;
  bool hubspot_defined = false;
  bool read_only_value = false;
  bool calculated = false;
  std::vector<PropertyOption> options;
};

struct SchemaAssociation {
  std::string id;
  std::string from_object_type_id;
  std::string to_object_type_id;
  std::string name;
};

/// A custom object schema (crm/v3/schemas).
struct ObjectSchema {
  std::string object_type_id;        ///< "2-<n>", assigned by HubSpot
  std::string fully_qualified_name;  ///< "p{portal}_{name}", assigned
  std::string name;
  std::string label_singular;
  std::string label_plural;
  std::string primary_display_property;
  std::vector<std::string> secondary_display_properties;
  std::vector<std::string> searchable_properties;
  std::vector<std::string> required_properties;
  std::vector<PropertyDef> properties;
  std::vector<SchemaAssociation> associations;
};

/// What to create: no objectTypeId (HubSpot assigns it).
struct SchemaSpec {
  std::string name;
  std::string label_singular;
  std::string label_plural;
  std::string primary_display_property;
  std::vector<std::string> secondary_display_properties;
  std::vector<std::string> searchable_properties;
  std::vector<std::string> required_properties;
  std::vector<PropertyDef> properties;
  std::vector<std::string> associated_objects;  ///< e.g. "CONTACT"
};

/// Properties and schemas. Thread-safe.
class PropertiesApi {
 public:
  explicit PropertiesApi(HubSpotClient& client) : client_(client) {}

  /// Every (non-archived) property of an object type.
  model::Result<std::vector<PropertyDef>> list(const std::string& object_type);
  /// One property; nullopt when it does not exist.
  model::Result<std::optional<PropertyDef>> get(const std::string& object_type, const std::string& name);
  /// Creates a property. A property that already exists is a conflict
  /// error (HubSpot's 409): callers compare with get() to stay idempotent.
  model::Result<PropertyDef> create(const std::string& object_type, const PropertyDef& def);

  /// Names of the object type's property groups, in HubSpot's order.
  model::Result<std::vector<std::string>> list_groups(const std::string& object_type);

  /// All custom object schemas.
  model::Result<std::vector<ObjectSchema>> list_schemas();
  /// One schema by objectTypeId, fully qualified name or name; nullopt if none.
  model::Result<std::optional<ObjectSchema>> get_schema(const std::string& object_type);
  /// Creates a custom object; HubSpot assigns objectTypeId. 409 conflict if
  /// the name exists. Not idempotent (retried only when surely unprocessed).
  model::Result<ObjectSchema> create_schema(const SchemaSpec& spec);
  /// Adds an association definition to an existing schema; returns its id.
  model::Result<SchemaAssociation> add_schema_association(const std::string& object_type,
                                                          const std::string& from_object_type_id,
                                                          const std::string& to_object_type_id,
                                                          const std::string& name);

 private:
  HubSpotClient& client_;
};

}  // namespace hubsync::hubspot
