#pragma once

// Ports for the live checks and schema changes. The engine only sees these
// abstract classes; connectors/postgres and connectors/hubspot implement them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mapping/mapping.h"
#include "engine/model/result.h"

namespace hubsync::mapping {

struct PgColumn {
  std::string name;
  /// The type as format_type() prints it: "text", "bigint", "numeric(12,2)",
  /// "timestamp with time zone", "text[]", "jsonb", or the enum type's name
  /// (with `is_enum`).
  std::string type;
  bool nullable = true;
  bool has_default = false;  ///< a DEFAULT or identity/serial
  bool is_enum = false;      ///< a user-defined enum type
};

struct PgTableInfo {
  bool exists = false;
  std::vector<PgColumn> columns;
  std::vector<std::string> primary_key;
  /// Column sets of non-partial unique indexes and constraints (the primary
  /// key included), each in index order.
  std::vector<std::vector<std::string>> unique_indexes;
  /// Partial unique indexes on columns only: their columns and predicate
  /// (pg_get_expr), e.g. ({"email"}, "(deleted_at IS NULL)").
  std::vector<std::pair<std::vector<std::string>, std::string>> partial_unique_indexes;
  /// Logical replication subscriptions of this database that write the
  /// table (pg_subscription_rel), by name.
  std::vector<std::string> subscriptions;
  const PgColumn* column(std::string_view name) const;
};

/// The database side of the live checks.
class PgCatalog {
 public:
  virtual ~PgCatalog() = default;
  /// Describes a table; `exists` is false when there is none. Errors mean the
  /// catalog could not be asked (kind transient/auth/fatal), never "absent".
  virtual model::Result<PgTableInfo> describe_table(const TableName& table) = 0;
  /// Checks that `expression` is a valid boolean expression over `table`
  /// (e.g. EXPLAIN SELECT 1 FROM table WHERE (expression), never executed).
  /// Error kind invalid_record with the database's message when it is not;
  /// any other kind when it could not check.
  virtual model::Status check_filter(const TableName& table, const std::string& expression) = 0;
};

struct CrmProperty {
  std::string name, label, type, field_type, group_name;
  bool has_unique_value = false;
  bool read_only_value = false;  ///< modificationMetadata.readOnlyValue
  bool calculated = false;
  std::vector<PropertyOption> options;
};

struct CrmSchema {
  std::string name;
  std::string object_type_id;        ///< 2-<n>
  std::string fully_qualified_name;  ///< p<portal>_<name>
  std::string label_singular, label_plural;
  std::vector<CrmProperty> properties;
  std::vector<std::string> required, searchable;
  std::string primary_display;
};

struct CrmAssociationType {
  std::string category;  ///< HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED
  std::int64_t type_id = 0;
  std::string label;     ///< empty for the unlabelled (default) type
};

/// The HubSpot side of the live checks and of schema planning.
class CrmCatalog {
 public:
  virtual ~CrmCatalog() = default;
  /// Every property of an object type (`contacts`, `2-123`, ...); nullopt
  /// when the object type does not exist. Errors: could not ask.
  virtual model::Result<std::optional<std::vector<CrmProperty>>> properties(
      const std::string& object_type) = 0;
  /// The custom object schema whose name, objectTypeId or fully qualified
  /// name is `name`; nullopt when there is none.
  virtual model::Result<std::optional<CrmSchema>> schema(const std::string& name) = 0;
  /// Association types from one object type to another (by type id:
  /// 0-1, 0-2, 2-<n>), as the v4 labels endpoint lists them.
  virtual model::Result<std::vector<CrmAssociationType>> association_types(
      const std::string& from_object_type_id, const std::string& to_object_type_id) = 0;
};

/// Writes schema changes to HubSpot. Every call creates one thing and never
/// deletes or changes anything; creating what already exists is an error of
/// kind conflict.
class SchemaWriter {
 public:
  virtual ~SchemaWriter() = default;
  /// POST /crm/v3/schemas with the spec (properties, required, searchable,
  /// display properties) and `associated_object_type_ids`. Returns the new
  /// objectTypeId.
  virtual model::Result<std::string> create_schema(
      const SchemaSpec& spec, const std::vector<std::string>& associated_object_type_ids) = 0;
  /// POST /crm/v3/properties/{object_type}.
  virtual model::Status create_property(const std::string& object_type, const PropertySpec& property) = 0;
  /// POST /crm/v3/schemas/{from}/associations {fromObjectTypeId, toObjectTypeId, name}.
  virtual model::Status create_association(const std::string& from_object_type_id,
                                           const std::string& to_object_type_id,
                                           const std::string& name) = 0;
};

}  // namespace hubsync::mapping
