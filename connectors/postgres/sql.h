#pragma once

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mapping/mapping.h"
#include "engine/model/result.h"

namespace pqxx {
class field;
}

namespace hubsync::postgres {

/// "name" with embedded quotes doubled: safe for any identifier, including
/// mixed case and spaces ("Order Items"). One implementation, the mapping's.
using mapping::quote_ident;
/// "schema"."table"
std::string quote_qualified(const std::string& schema, const std::string& table);
/// 'text' with embedded quotes doubled (standard_conforming_strings on).
std::string quote_literal(const std::string& text);
/// A text[] literal body: {"a","b \"c\""}, each element quoted and escaped.
std::string array_literal(const std::vector<std::string>& items);
/// The same, with NULL for each nullopt.
std::string array_literal(const std::vector<std::optional<std::string>>& items);

/// The elements of a one-dimensional array in PostgreSQL's text output:
/// `{a,"b,c",NULL}`, or `[0:1]={a,b}` when its lower bound is not 1;
/// nullopt for a NULL element. Elements are split at ',' only: libpqxx 6's
/// array_parser also splits an unquoted element at ';' (the box type's
/// delimiter), which PostgreSQL does not quote in a text[] ({a;b} is one
/// element). `invalid_record` for a multi-dimensional or malformed array.
model::Result<std::vector<std::optional<std::string>>> parse_text_array(std::string_view text);

/// The strings of a text[] (or name[]) result field, NULL elements left
/// out; empty for SQL NULL.
std::vector<std::string> text_array(const pqxx::field& f);

/// True when a column of type `typname` (pg_type.typname: int8, numeric,
/// timestamptz, ...) can be a mapping key: its key text (key_text_sql) is
/// canonical and casts back to exactly the same value. Supported: int2,
/// int4, int8, numeric, text, varchar, bpchar, citext, name, uuid, date,
/// timestamp, timestamptz. engine/mapping/live_check.cpp keeps the same list
/// under format_type() names (key_column_type_supported): the two must agree.
bool key_type_supported(const std::string& typname);

/// The SQL expression giving the canonical key text of `expr` (a column
/// reference, OLD."id", ...) of type `typname`, the same in every session
/// whatever its TimeZone, DateStyle or extra_float_digits:
///   int2/int4/int8, text/varchar/bpchar/citext/name, uuid: expr::text
///   numeric:     trim_scale(expr)::text             (1.50 -> 1.5)
///   date:        YYYY-MM-DD                         (BC: "0044-03-15 BC")
///   timestamptz: YYYY-MM-DDTHH24:MI:SS.USZ in UTC    (BC: suffix " BC")
///   timestamp:   YYYY-MM-DDTHH24:MI:SS.US            (BC: suffix " BC")
///   infinity and -infinity: as Postgres prints them.
/// Every such text cast back with `::<type>` gives the same value in any
/// session. Every function, operator and type is pg_catalog-qualified and
/// every literal is written so that no session setting (search_path
/// included) changes its meaning: it runs inside the capture trigger, a
/// SECURITY DEFINER function that takes the writer's search_path.
/// Unsupported types fall back to expr::text, which is not canonical:
/// callers check key_type_supported() first.
std::string key_text_sql(const std::string& expr, const std::string& typname);

/// A condition finding the rows whose `column` (a reference such as
/// t."email", of type `typname`), read as its key text (key_text_sql;
/// in mapping::email_form when `fold_case`), is one of `values` (in that
/// form too), and the text[] literal
/// to bind as `$<param>`. Where the type allows, it compares in the
/// column's own type so that a plain index on the column serves it:
/// int2/int4/int8 and uuid, with the values that are no canonical key text
/// of the type left out (no row's key text could equal them); text, varchar
/// and name compare the column as text, which their plain index serves too.
/// Other types, and `fold_case`, compare the key text expression, which
/// only an index on that expression serves (lookup_index_sql).
struct KeyLookup {
  std::string condition;
  std::string param;
};
KeyLookup key_lookup_sql(const std::string& column, const std::string& typname,
                         const std::vector<std::string>& values, bool fold_case, int param);

/// What goes between the parentheses of a CREATE INDEX that serves
/// key_lookup_sql on `column` (an unqualified, quoted column name) of type
/// `typname`: the column itself; with `fold_case` (an email)
/// lower(btrim(column::text, E' \t\n\r')), mapping::email_form in SQL;
/// (column::text) for bpchar and citext. Empty when no index can serve it
/// (the key text of numeric, date and timestamps is written with functions
/// an index may not use).
std::string lookup_index_sql(const std::string& column, const std::string& typname, bool fold_case);

/// Translates an exception thrown by libpqxx into an engine Error whose kind
/// says who retries: lost connections and serialization failures are
/// transient, constraint violations invalid_record, the rest fatal. The
/// message carries the SQLSTATE and never the DSN.
model::Error translate_exception(const std::exception& e, const std::string& context);

}  // namespace hubsync::postgres
