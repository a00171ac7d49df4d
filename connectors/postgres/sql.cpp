#include "connectors/postgres/sql.h"

#include <charconv>
#include <cstdint>
#include <set>

#include <pqxx/pqxx>

namespace hubsync::postgres {

std::string quote_qualified(const std::string& schema, const std::string& table) {
  return quote_ident(schema) + "." + quote_ident(table);
}

std::string quote_literal(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

namespace {

void append_element(std::string& out, const std::string& item) {
  out += '"';
  for (char c : item) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    append_element(out, items[i]);
  }
  return out + "}";
}

std::string array_literal(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    if (items[i]) append_element(out, *items[i]);
    else out += "NULL";
  }
  return out + "}";
}

model::Result<std::vector<std::optional<std::string>>> parse_text_array(std::string_view text) {
  const auto bad = [&](const char* why) {
    return model::make_error(model::ErrorKind::invalid_record,
                             std::string("cannot read the array ") + std::string(text.substr(0, 80)) + ": " + why);
  };
  std::size_t i = 0;
  if (!text.empty() && text[0] == '[') {  // [lower:upper]= before the braces
    i = text.find('=');
    if (i == std::string_view::npos) return bad("dimensions without '='");
    ++i;
  }
  if (i >= text.size() || text[i] != '{' || text.back() != '}') return bad("not {...}");
  std::vector<std::optional<std::string>> out;
  ++i;
  if (i == text.size() - 1) return out;  // {}
  while (i < text.size()) {
    std::string item;
    bool quoted = false;
    if (text[i] == '{') return bad("multi-dimensional arrays are not supported");
    if (text[i] == '"') {
      quoted = true;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
        if (i < text.size()) item += text[i];
      }
      if (i >= text.size()) return bad("unterminated quote");
      ++i;
    } else {
      for (; i < text.size() && text[i] != ',' && text[i] != '}'; ++i) item += text[i];
    }
    if (!quoted && item == "NULL") out.emplace_back(std::nullopt);
    else out.emplace_back(std::move(item));
    if (i >= text.size()) return bad("no closing '}'");
    if (text[i] == '}') {
      if (i + 1 != text.size()) return bad("text after '}'");
      return out;
    }
    if (text[i] != ',') return bad("expected ','");
    ++i;
  }
  return bad("no closing '}'");
}

std::vector<std::string> text_array(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  auto items = parse_text_array(f.c_str());
  if (!items.ok()) return out;
  for (auto& item : *items)
    if (item) out.push_back(std::move(*item));
  return out;
}

namespace {

const std::set<std::string>& key_types() {
  static const std::set<std::string> all = {"int2", "int4", "int8", "numeric", "text", "varchar",
                                            "bpchar", "citext", "name", "uuid", "date",
                                            "timestamp", "timestamptz"};
  return all;
}

// A date/time key: infinite values as Postgres prints them (that text does
// not depend on DateStyle), BC values with an explicit era, the rest plain.
std::string datetime_key_text(const std::string& x, const std::string& value,
                              const std::string& year_one, const std::string& format) {
  return "CASE WHEN NOT pg_catalog.isfinite(" + x + ") THEN (" + x + ")::pg_catalog.text WHEN " + x +
         " OPERATOR(pg_catalog.<) " + year_one + " THEN pg_catalog.to_char(" + value + ", '" + format +
         " BC') ELSE " + "pg_catalog.to_char(" + value + ", '" + format + "') END";
}

}  // namespace

bool key_type_supported(const std::string& typname) { return key_types().count(typname) > 0; }

std::string key_text_sql(const std::string& expr, const std::string& typname) {
  const std::string x = "(" + expr + ")";
  if (typname == "numeric") return "pg_catalog.trim_scale(" + x + ")::pg_catalog.text";
  // ISO input (and an explicit offset) parse the same under every DateStyle and TimeZone.
  if (typname == "date") return datetime_key_text(x, x, "'0001-01-01'::pg_catalog.date", "YYYY-MM-DD");
  if (typname == "timestamp")
    return datetime_key_text(x, x, "'0001-01-01 00:00:00'::pg_catalog.timestamp",
                             "YYYY-MM-DD\"T\"HH24:MI:SS.US");
  if (typname == "timestamptz")
    return datetime_key_text(x, "pg_catalog.timezone('UTC', " + x + ")",
                             "'0001-01-01 00:00:00+00'::pg_catalog.timestamptz",
                             "YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"");
  return x + "::pg_catalog.text";
}

namespace {

bool compared_in_own_type(const std::string& typname) {
  return typname == "int2" || typname == "int4" || typname == "int8" || typname == "uuid";
}

bool compared_as_text(const std::string& typname) {
  return typname == "text" || typname == "varchar" || typname == "name";
}

// True when `v` is what `(x)::text` prints for some value x of the type:
// the only texts a row's key text can equal.
bool canonical_text_of(const std::string& v, const std::string& typname) {
  if (typname == "uuid") {
    if (v.size() != 36) return false;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      const char c = v[i];
      if (dash != (c == '-')) return false;
      if (!dash && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
  }
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || std::to_string(n) != v) return false;
  if (typname == "int2") return n >= INT16_MIN && n <= INT16_MAX;
  if (typname == "int4") return n >= INT32_MIN && n <= INT32_MAX;
  return true;
}

// mapping::email_form in SQL: the text expression `text` without the
// whitespace around it (mapping::kEmailSpace), lower-cased.
std::string email_form_sql(const std::string& text) {
  std::string chars;
  for (const char* c = mapping::kEmailSpace; *c; ++c)
    chars += *c == '\t' ? "\\t" : *c == '\n' ? "\\n" : *c == '\r' ? "\\r" : std::string(1, *c);
  return "pg_catalog.lower(pg_catalog.btrim(" + text + ", E'" + chars + "'))";
}

}  // namespace

KeyLookup key_lookup_sql(const std::string& column, const std::string& typname,
                         const std::vector<std::string>& values, bool fold_case, int param) {
  const std::string p = "$" + std::to_string(param);
  if (!fold_case && compared_in_own_type(typname)) {
    std::vector<std::string> kept;
    for (const auto& v : values)
      if (canonical_text_of(v, typname)) kept.push_back(v);
    return {column + " = ANY(" + p + "::pg_catalog." + typname + "[])", array_literal(kept)};
  }
  std::string expr = compared_as_text(typname) ? column + "::text" : key_text_sql(column, typname);
  if (fold_case) expr = email_form_sql(expr);
  return {expr + " = ANY(" + p + "::text[])", array_literal(values)};
}

std::string lookup_index_sql(const std::string& column, const std::string& typname, bool fold_case) {
  const bool plain = compared_in_own_type(typname) || compared_as_text(typname);
  const bool cast = typname == "bpchar" || typname == "citext";  // key text: column::text
  if (fold_case) return plain || cast ? email_form_sql(column + "::text") : "";
  if (plain) return column;
  return cast ? "(" + column + "::text)" : "";
}

model::Error translate_exception(const std::exception& e, const std::string& context) {
  using model::ErrorKind;
  std::string what = e.what();
  while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
  if (dynamic_cast<const pqxx::broken_connection*>(&e) ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    auto err = model::make_error(ErrorKind::transient, context + ": connection lost: " + what);
    err.category = model::kPostgresUnreachable;
    return err;
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string state = sql->sqlstate();
    ErrorKind kind = ErrorKind::fatal;
    if (state.rfind("40", 0) == 0 || state.rfind("08", 0) == 0 || state == "55P03" ||
        state == "57P01" || state == "57P02" || state == "57P03" || state == "53300")
      kind = ErrorKind::transient;  // serialization, connection, lock, shutdown, too many conns
    else if (state.rfind("23", 0) == 0 || state.rfind("22", 0) == 0)
      kind = ErrorKind::invalid_record;  // integrity or data exception: this row, not the run
    else if (state == "25006")  // read_only_sql_transaction: only the mapping's SQL runs read-only
      what = "the mapping's filter.postgres tried to write, and hubsync runs it read-only: " + what;
    auto err = model::make_error(kind, context + ": " + what + " (SQLSTATE " + state + ")");
    err.code = state;
    if (state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0) err.category = model::kPostgresUnreachable;
    return err;
  }
  return model::make_error(ErrorKind::fatal, context + ": " + what);
}

}  // namespace hubsync::postgres
