#pragma once

#include <vector>

#include "engine/mapping/catalog.h"
#include "engine/mapping/types.h"

namespace hubsync::mapping {

/// Checks a mapping against the live Postgres catalog: the table and every
/// column exist, column types suit the field types, the key is unique, NOT
/// NULL and of a type that can be a key (key_column_type_supported), the
/// match column has a unique index when the mapping pulls, NOT NULL columns
/// without default are written when pulls insert, the filter is valid SQL.
/// A catalog that cannot be asked gives Severity::unavailable findings.
Findings check_postgres(const Mapping& m, PgCatalog& pg);

/// Checks a mapping against HubSpot: the object exists, every property
/// exists with a compatible type, the match property is unique, no field
/// writes a read-only property, value_map options exist, filters name real
/// properties, and association types exist between the objects. `all` is
/// the set of mappings, to find association targets (may be empty).
Findings check_hubspot(const Mapping& m, CrmCatalog& crm, const std::vector<Mapping>& all);

/// The object type id of a mapping's object (0-1, 2-<n>), looking custom
/// names up in the catalog. Empty when the object does not exist (yet).
model::Result<std::string> resolve_object_type(const HubspotObject& object, CrmCatalog& crm);

/// Empty when a Postgres column of type `pg_type` can hold the field's
/// values; otherwise why not. `severity` is set to warning for lossy but
/// workable pairs (e.g. timestamp without time zone, double precision).
std::string column_compatibility(const FieldMapping& f, const PgColumn& column, Severity& severity);

/// True when a column of `pg_type` (as format_type() prints it: "bigint",
/// "numeric(12,2)", "timestamp with time zone", "public.citext") can be a
/// mapping key: its text form is canonical and exact. The list mirrors
/// postgres::key_type_supported() (connectors/postgres/sql.h, by typname):
/// the two must agree (tests/unit/mapping checks the names, the postgres
/// integration tests check both against a real server).
bool key_column_type_supported(const std::string& pg_type);

}  // namespace hubsync::mapping
