#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mapping/transform.h"
#include "engine/mapping/types.h"
#include "engine/model/record.h"
#include "engine/model/result.h"

namespace hubsync::mapping {

/// HubSpot property values as the API carries them: name -> string.
using Properties = std::map<std::string, std::string>;

/// A schema-qualified Postgres table. Names are exact (unquoted input is
/// folded to lower case like Postgres does; quoted input is kept).
struct TableName {
  std::string schema = "public";
  std::string table;
  /// SQL text, each part double-quoted: "public"."customers".
  std::string quoted() const;
  /// schema.table as written in logs and model::Change::table.
  std::string display() const;
};

/// Quotes one SQL identifier ("Order Items" -> "\"Order Items\"").
std::string quote_ident(std::string_view name);

/// The HubSpot object type a mapping syncs.
struct HubspotObject {
  std::string name;            ///< as written: contacts, companies, deals, tickets, event, 2-123
  std::string object_type_id;  ///< 0-1, 0-2, 0-3, 0-5, 2-<n>; empty for a custom name
  bool custom = false;
  /// The path segment for /crm/v3/objects/{path}: the standard name, the
  /// 2-<n> id, or p_<name> for a custom object given by name.
  std::string path() const;
};

enum class FilterOp {
  eq, neq, lt, lte, gt, gte, between, in, not_in, has_property, not_has_property,
  contains_token, not_contains_token
};
const char* to_string(FilterOp op);  ///< HubSpot's spelling: EQ, NOT_IN, ...
const std::vector<std::string>& filter_op_names();

/// One HubSpot search filter; a mapping's filters are ANDed (one filterGroup).
struct HubspotFilter {
  std::string property;
  FilterOp op = FilterOp::eq;
  std::string value;                ///< EQ NEQ LT LTE GT GTE BETWEEN(low) CONTAINS_TOKEN ...
  std::string high_value;           ///< BETWEEN
  std::vector<std::string> values;  ///< IN NOT_IN
  SourceMark mark;
  /// Evaluates the filter on fetched properties (webhook-driven reads bypass
  /// search, so the pull loop checks objects itself). Numbers and instants
  /// compare by value, everything else as text.
  bool matches(const Properties& props) const;
};

/// The whitespace an email may carry around it in Postgres that HubSpot
/// does not keep (a form's stray space, a CSV's carriage return): what
/// email_form() drops, and what the pull's lookup drops in SQL (btrim).
inline constexpr const char* kEmailSpace = " \t\n\r";

/// An email as HubSpot tells emails apart: without the whitespace around it
/// (kEmailSpace) and ASCII lower-cased, as SQLite's and PostgreSQL's lower()
/// agree on. Pure.
std::string email_form(std::string_view email);

/// One field: one or more columns <-> one or more properties (at most one
/// side has several; the other side is split/joined by `separator`).
struct FieldMapping {
  std::string id;                       ///< column name(s) joined with '+': unique in a mapping
  std::vector<std::string> columns;
  std::vector<std::string> properties;
  FieldType type = FieldType::text;
  ValueType pg_kind = ValueType::text;  ///< kind of the Postgres value
  ValueType hs_kind = ValueType::text;  ///< kind after the transform chain
  Direction direction = Direction::both;  ///< effective (mapping direction applied)
  ConflictPolicy conflict = ConflictPolicy::newest;
  std::vector<Transform> transforms;
  std::string separator;                 ///< for split/join fields
  std::optional<model::Value> default_value;  ///< Postgres-side value used for null/empty
  /// An email as HubSpot holds one (contacts' email): compared in
  /// email_form(), so `Ann@X.io` and ` ann@x.io ` in Postgres are no change
  /// from HubSpot's `ann@x.io`, and sent without the whitespace around it,
  /// which HubSpot refuses. Set by the parser.
  bool fold_case = false;
  SourceMark mark;

  bool to_hubspot() const { return writes_hubspot(direction); }
  bool to_postgres() const { return writes_postgres(direction); }

  /// Row -> one canonical string per property (in `properties` order). A
  /// null column gives "" (HubSpot clears the value). Errors: invalid_record
  /// naming the field and the value.
  model::Result<std::vector<std::string>> push(const model::Fields& row) const;
  /// Raw HubSpot strings -> one typed value per column. Missing or "" is null.
  model::Result<std::vector<model::Value>> pull(const Properties& props) const;
  /// The value compared by the three-way merge, in the HubSpot domain, from
  /// a Postgres row (through the transforms) or from raw HubSpot properties
  /// (normalised): equal strings mean equal values. Several properties give
  /// a JSON array of strings.
  model::Result<std::string> compare_from_postgres(const model::Fields& row) const;
  model::Result<std::string> compare_from_hubspot(const Properties& props) const;
};

/// customers.account_id <-> a contact->company association.
struct AssociationMapping {
  std::string column;         ///< foreign key column in this table (the target's key)
  std::string to_mapping;     ///< name of the mapping of the associated object
  std::optional<std::int64_t> type_id;  ///< numeric association type id, if given
  std::string type_label;     ///< association label, if given; both empty = default type
  Direction direction = Direction::both;
  SourceMark mark;
};

/// A link table: each row is one association between two mapped objects.
struct LinkMapping {
  std::string from_column, from_mapping;
  std::string to_column, to_mapping;
  std::optional<std::int64_t> type_id;
  std::string type_label;
  SourceMark mark;
};

struct PropertyOption {
  std::string value;
  std::string label;
};

/// A property declared in a `schema` block (created by `schema apply`).
struct PropertySpec {
  std::string name, label, type, field_type, group, description;
  bool has_unique_value = false;
  std::vector<PropertyOption> options;
  SourceMark mark;
};

/// The `schema` block: a custom object definition, or extra properties on a
/// standard object (then `name` and labels are empty).
struct SchemaSpec {
  std::string name;
  std::string label_singular, label_plural;
  std::vector<PropertySpec> properties;
  std::vector<std::string> required, searchable, secondary_display;
  std::string primary_display;
  std::vector<std::string> associated_objects;  ///< object names as written (contacts, event, ...)
  SourceMark mark;
  const PropertySpec* property(std::string_view name) const;
};

/// What a workflow custom action does (docs: mappings/README.md, "actions").
enum class ActionKind {
  lookup,    ///< returns chosen columns of the linked row as output fields
  write,     ///< sets whitelisted columns of the linked row from input fields
  sync_now,  ///< pulls the enrolled object and pushes its row at once
};
const char* to_string(ActionKind k);  ///< "lookup", "write", "sync_now"

/// One workflow custom action declared in a mapping's `actions:` block.
/// `hubsync actions apply` registers it in HubSpot; `serve` executes it.
struct ActionSpec {
  std::string name;  ///< unique across every mapping; [a-z][a-z0-9_]*, at most 64 characters
  ActionKind kind = ActionKind::lookup;
  std::string label;        ///< the action's name in HubSpot's workflow editor (never empty once compiled)
  std::string description;  ///< optional
  /// Field ids of this mapping (FieldMapping::id, i.e. the column name): for
  /// lookup the outputs, for write the inputs (each field writes Postgres:
  /// direction both or to_postgres, never the match field); empty for sync_now.
  std::vector<std::string> fields;
  SourceMark mark;
};

enum class MappingKind { object, link };

enum class Scope {
  writable,  ///< only fields whose direction lets them be written to that side
  all,       ///< every field (e.g. to compare)
};

/// A compiled, validated mapping: what the pipeline and the merge use.
/// Plain data filled by the parser, plus the conversions; immutable in use
/// and safe to share between threads.
struct Mapping {
  std::string name;
  SourceMark mark;  ///< the file
  MappingKind kind = MappingKind::object;
  TableName table;
  std::vector<std::string> key;  ///< key columns, in order
  HubspotObject object;          ///< object mappings only
  std::string match_property;    ///< unique property used as idProperty for upserts
  Direction direction = Direction::both;
  ConflictPolicy conflict = ConflictPolicy::newest;
  std::string pg_filter;         ///< SQL boolean expression; empty = every row
  /// filter.leaving: keep: a row leaving the filter stops syncing and keeps
  /// its object (and link); archive (false, the default): as a deletion.
  bool keep_leaving = false;
  std::vector<HubspotFilter> hubspot_filters;
  DeletePolicy deletes = DeletePolicy::archive;
  std::string soft_delete_column;
  /// Deletions (archives in HubSpot, rows deleted in Postgres) allowed
  /// within an hour before the rest are held (engine/pipeline/delete_guard.h).
  DeleteLimit max_deletes;
  std::vector<FieldMapping> fields;
  std::vector<AssociationMapping> associations;
  std::optional<LinkMapping> link;
  std::optional<SchemaSpec> schema;
  std::vector<ActionSpec> actions;  ///< workflow custom actions (object mappings only)
  /// Where parts were written, for findings of the live checks.
  SourceMark table_mark, key_mark, object_mark, match_mark, filter_mark;

  bool pushes() const { return writes_hubspot(direction); }
  bool pulls() const { return writes_postgres(direction); }
  const FieldMapping* field(std::string_view id) const;
  const FieldMapping* field_for_column(std::string_view column) const;
  const FieldMapping* field_for_property(std::string_view property) const;
  /// The field carrying the match property (always present once compiled).
  const FieldMapping* match_field() const;
  /// The column holding the match value (the match field's column).
  std::string match_column() const;
  /// The column where a field keeps the object's id (`hs_object_id` to one
  /// column, pulled): how a row names its object without the state store.
  /// Empty when no field does.
  std::string object_id_column() const;

  /// Every column the pipeline must read: key, fields, associations, soft delete.
  std::vector<std::string> postgres_columns() const;
  /// Every property to fetch from HubSpot (fields and the match property).
  std::vector<std::string> hubspot_properties() const;

  /// A Postgres row -> HubSpot properties. With Scope::writable only fields
  /// going to HubSpot. Errors (invalid_record) list every bad field.
  model::Result<Properties> to_hubspot(const model::Fields& row,
                                       Scope scope = Scope::writable) const;
  /// Raw HubSpot properties -> column values; Scope::writable keeps only
  /// fields written to Postgres.
  model::Result<model::Fields> to_postgres(const Properties& props,
                                           Scope scope = Scope::writable) const;
  /// Field id -> comparison string (FieldMapping::compare_from_*), all fields.
  model::Result<std::map<std::string, std::string>> compare_from_postgres(
      const model::Fields& row) const;
  model::Result<std::map<std::string, std::string>> compare_from_hubspot(
      const Properties& props) const;
  /// True if the object passes every HubSpot-side filter.
  bool pull_filter_accepts(const Properties& props) const;
  /// The key of a row, in key order (errors when a key column is null/missing).
  model::Result<model::RecordKey> key_of(const model::Fields& row) const;

  /// A stable one-line-per-item summary (golden tests, `hubsync validate -v`).
  std::string summary() const;
};

}  // namespace hubsync::mapping
