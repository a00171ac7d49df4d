#include "engine/mapping/mapping.h"

#include <algorithm>

#include "engine/mapping/json_compare.h"

namespace hubsync::mapping {

using model::ErrorKind;
using model::make_error;
using model::Result;
using model::Value;

namespace {

const Value kNull;

const Value& column_value(const model::Fields& row, const std::string& column, bool& missing) {
  auto it = row.find(column);
  missing = it == row.end();
  return missing ? kNull : it->second;
}

std::string property_value(const Properties& props, const std::string& name) {
  auto it = props.find(name);
  return it == props.end() ? std::string() : it->second;
}

// "a b c" split into n parts at the first n-1 separators; the last part keeps the rest.
std::vector<std::string> split_parts(const std::string& s, const std::string& sep, std::size_t n) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    auto at = sep.empty() ? std::string::npos : s.find(sep, start);
    if (at == std::string::npos) {
      parts.push_back(s.substr(start));
      start = s.size();
      continue;
    }
    parts.push_back(s.substr(start, at - start));
    start = at + sep.size();
  }
  parts.push_back(start < s.size() ? s.substr(start) : std::string());
  return parts;
}

// Inverse of split_parts for values without leading/trailing separators:
// empty parts add nothing (HubSpot's "" is no value).
std::string join_parts(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts)
    if (!p.empty()) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    out += model::json_quote(items[i]);
  }
  return out + "]";
}

model::Error field_error(const FieldMapping& f, const model::Error& e) {
  return make_error(ErrorKind::invalid_record, "field " + f.id + ": " + e.message);
}

std::string_view without_email_space(std::string_view email) {
  const auto first = email.find_first_not_of(kEmailSpace);
  if (first == std::string_view::npos) return {};
  return email.substr(first, email.find_last_not_of(kEmailSpace) - first + 1);
}

}  // namespace

std::string email_form(std::string_view email) {
  std::string out(without_email_space(email));
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

namespace {

// The comparison form of one HubSpot string of field f.
Result<std::string> normalised(const FieldMapping& f, const std::string& raw) {
  auto v = parse_hubspot(raw, f.hs_kind);
  if (!v) return std::move(v).error();
  if (f.fold_case && v->type() == ValueType::text) return email_form(v->as_text());
  if (f.type == FieldType::json && f.hs_kind == ValueType::text && !v->is_null()) {
    // Text that is not strictly one JSON document (jsonb would refuse it)
    // still compares the same way from both sides, minified.
    auto j = canonical_json(v->canonical());
    if (!j) j = normalise_json(v->canonical());
    if (!j) return std::move(j).error();
    return *j;
  }
  return normalise_hubspot(*v);
}

int compare_decimal(const model::Decimal& a, const model::Decimal& b) {
  bool na = !a.text.empty() && a.text[0] == '-', nb = !b.text.empty() && b.text[0] == '-';
  if (na != nb) return na ? -1 : 1;
  auto mag = [](std::string t) {
    if (!t.empty() && t[0] == '-') t.erase(0, 1);
    auto dot = t.find('.');
    std::string ip = t.substr(0, dot), fp = dot == std::string::npos ? "" : t.substr(dot + 1);
    return std::pair{ip, fp};
  };
  auto [ai, af] = mag(a.text);
  auto [bi, bf] = mag(b.text);
  int c = ai.size() != bi.size() ? (ai.size() < bi.size() ? -1 : 1) : ai.compare(bi);
  if (c == 0) {
    while (af.size() < bf.size()) af += '0';
    while (bf.size() < af.size()) bf += '0';
    c = af.compare(bf);
    c = c < 0 ? -1 : c > 0 ? 1 : 0;
  } else {
    c = c < 0 ? -1 : 1;
  }
  return na ? -c : c;
}

// Orders two HubSpot strings: as numbers, else as instants, else as text.
int compare_loose(const std::string& a, const std::string& b) {
  auto da = model::parse_decimal(a), db = model::parse_decimal(b);
  if (da && db) return compare_decimal(*da, *db);
  auto ta = model::parse_datetime(a), tb = model::parse_datetime(b);
  if (ta && tb) return ta->ms < tb->ms ? -1 : ta->ms > tb->ms ? 1 : 0;
  int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string TableName::quoted() const { return quote_ident(schema) + "." + quote_ident(table); }
std::string TableName::display() const { return schema + "." + table; }

std::string HubspotObject::path() const {
  if (!custom || !object_type_id.empty()) {
    if (!custom) return name;
    return object_type_id;
  }
  return "p_" + name;
}

const std::vector<std::string>& filter_op_names() {
  static const std::vector<std::string> names = {
      "EQ",  "NEQ",    "LT",           "LTE",              "GT",
      "GTE", "BETWEEN", "IN",          "NOT_IN",           "HAS_PROPERTY",
      "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"};
  return names;
}

const char* to_string(FilterOp op) { return filter_op_names()[static_cast<int>(op)].c_str(); }

const char* to_string(ActionKind k) {
  switch (k) {
    case ActionKind::lookup: return "lookup";
    case ActionKind::write: return "write";
    case ActionKind::sync_now: return "sync_now";
  }
  return "?";
}

bool HubspotFilter::matches(const Properties& props) const {
  const std::string v = property_value(props, property);
  switch (op) {
    case FilterOp::has_property: return !v.empty();
    case FilterOp::not_has_property: return v.empty();
    case FilterOp::eq: return !v.empty() && compare_loose(v, value) == 0;
    case FilterOp::neq: return v.empty() || compare_loose(v, value) != 0;
    case FilterOp::lt: return !v.empty() && compare_loose(v, value) < 0;
    case FilterOp::lte: return !v.empty() && compare_loose(v, value) <= 0;
    case FilterOp::gt: return !v.empty() && compare_loose(v, value) > 0;
    case FilterOp::gte: return !v.empty() && compare_loose(v, value) >= 0;
    case FilterOp::between:
      return !v.empty() && compare_loose(v, value) >= 0 && compare_loose(v, high_value) <= 0;
    case FilterOp::in:
    case FilterOp::not_in: {
      bool found = false;
      for (const auto& item : model::split_list(v))
        for (const auto& want : values)
          if (compare_loose(item, want) == 0) found = true;
      return op == FilterOp::in ? found : !found;
    }
    case FilterOp::contains_token:
    case FilterOp::not_contains_token: {
      bool found = lower(v).find(lower(value)) != std::string::npos;
      return op == FilterOp::contains_token ? found : !found;
    }
  }
  return false;
}

Result<std::vector<std::string>> FieldMapping::push(const model::Fields& row) const {
  Value v;
  if (columns.size() > 1) {
    std::vector<std::string> parts;
    for (const auto& c : columns) {
      bool missing = false;
      const Value& part = column_value(row, c, missing);
      if (missing) return make_error(ErrorKind::invalid_record, "field " + id + ": column " + c + " missing from row");
      parts.push_back(part.canonical());
    }
    std::string joined = join_parts(parts, separator);
    if (!joined.empty()) v = Value::text(joined);
  } else {
    bool missing = false;
    v = column_value(row, columns[0], missing);
    if (missing) return make_error(ErrorKind::invalid_record, "field " + id + ": column missing from row");
  }
  if (v.is_null() && default_value) v = *default_value;
  if (v.is_null()) return std::vector<std::string>(properties.size());
  auto c = coerce(v, pg_kind);
  if (!c) return field_error(*this, c.error());
  v = std::move(*c);
  if (type == FieldType::json) {
    auto j = normalise_json(v.canonical());
    if (!j) return field_error(*this, j.error());
    v = Value::text(std::move(*j));
  }
  if (type == FieldType::multi_select)
    for (const auto& item : v.as_list())
      if (item.find(';') != std::string::npos || item.empty())
        return make_error(ErrorKind::invalid_record, "field " + id + ": multi_select item '" + item +
                                                         "' is empty or contains ';'");
  for (const auto& t : transforms) {
    auto r = t.forward(v);
    if (!r) return field_error(*this, r.error());
    v = std::move(*r);
  }
  std::string out = format_hubspot(v);
  if (fold_case) out = std::string(without_email_space(out));  // HubSpot refuses the whitespace
  if (properties.size() > 1) return split_parts(out, separator, properties.size());
  return std::vector<std::string>{out};
}

Result<std::vector<Value>> FieldMapping::pull(const Properties& props) const {
  std::string raw;
  if (properties.size() > 1) {
    std::vector<std::string> parts;
    for (const auto& p : properties) parts.push_back(property_value(props, p));
    raw = join_parts(parts, separator);
  } else {
    raw = property_value(props, properties[0]);
  }
  auto parsed = parse_hubspot(raw, hs_kind);
  if (!parsed) return field_error(*this, parsed.error());
  Value v = std::move(*parsed);
  if (v.is_null()) {
    if (!default_value) return std::vector<Value>(columns.size());
    v = *default_value;
  } else {
    for (auto it = transforms.rbegin(); it != transforms.rend(); ++it) {
      auto r = it->backward(v);
      if (!r) return field_error(*this, r.error());
      v = std::move(*r);
    }
    auto c = coerce(v, pg_kind);
    if (!c) return field_error(*this, c.error());
    v = std::move(*c);
    if (type == FieldType::json) {
      auto j = normalise_json(v.canonical());
      if (!j) return field_error(*this, j.error());
      v = Value::text(std::move(*j));
    }
    // HubSpot's strings may hold U+0000; no PostgreSQL text type can.
    if (v.canonical().find('\0') != std::string::npos)
      return make_error(ErrorKind::invalid_record, "field " + id + ": the value holds a NUL character (U+0000), "
                                                   "which PostgreSQL cannot store in text");
  }
  if (columns.size() == 1) return std::vector<Value>{v};
  std::vector<Value> out;
  for (auto& part : split_parts(v.canonical(), separator, columns.size()))
    out.push_back(part.empty() ? Value::null() : Value::text(part));
  return out;
}

Result<std::string> FieldMapping::compare_from_postgres(const model::Fields& row) const {
  auto pushed = push(row);
  if (!pushed) return std::move(pushed).error();
  if (properties.size() > 1) return json_array(*pushed);
  auto v = normalised(*this, (*pushed)[0]);
  if (!v) return field_error(*this, v.error());
  return *v;
}

Result<std::string> FieldMapping::compare_from_hubspot(const Properties& props) const {
  std::vector<std::string> out;
  bool all_empty = true;
  for (const auto& p : properties) {
    std::string raw = property_value(props, p);
    if (!raw.empty()) all_empty = false;
    auto v = normalised(*this, raw);
    // A value HubSpot holds but we cannot parse still compares, as its text.
    out.push_back(v ? *v : raw);
  }
  if (all_empty && default_value) {
    model::Fields row;
    for (std::size_t i = 0; i < columns.size(); ++i) row[columns[i]] = Value::null();
    return compare_from_postgres(row);
  }
  if (properties.size() > 1) return json_array(out);
  return out[0];
}

const PropertySpec* SchemaSpec::property(std::string_view property_name) const {
  for (const auto& p : properties)
    if (p.name == property_name) return &p;
  return nullptr;
}

const FieldMapping* Mapping::field(std::string_view field_id) const {
  for (const auto& f : fields)
    if (f.id == field_id) return &f;
  return nullptr;
}

const FieldMapping* Mapping::field_for_column(std::string_view column) const {
  for (const auto& f : fields)
    if (std::find(f.columns.begin(), f.columns.end(), column) != f.columns.end()) return &f;
  return nullptr;
}

const FieldMapping* Mapping::field_for_property(std::string_view property) const {
  for (const auto& f : fields)
    if (std::find(f.properties.begin(), f.properties.end(), property) != f.properties.end())
      return &f;
  return nullptr;
}

const FieldMapping* Mapping::match_field() const { return field_for_property(match_property); }

std::string Mapping::match_column() const {
  const auto* f = match_field();
  return f && f->columns.size() == 1 ? f->columns[0] : std::string();
}

std::string Mapping::object_id_column() const {
  const auto* f = field_for_property("hs_object_id");
  return f && f->columns.size() == 1 && f->properties.size() == 1 && writes_postgres(f->direction) ? f->columns[0]
                                                                                                   : std::string();
}

std::vector<std::string> Mapping::postgres_columns() const {
  std::vector<std::string> out;
  auto add = [&out](const std::string& c) {
    if (!c.empty() && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  };
  for (const auto& k : key) add(k);
  for (const auto& f : fields)
    for (const auto& c : f.columns) add(c);
  for (const auto& a : associations) add(a.column);
  if (link) {
    add(link->from_column);
    add(link->to_column);
  }
  add(soft_delete_column);
  return out;
}

std::vector<std::string> Mapping::hubspot_properties() const {
  std::vector<std::string> out;
  auto add = [&out](const std::string& p) {
    if (!p.empty() && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  add(match_property);
  for (const auto& f : fields)
    for (const auto& p : f.properties) add(p);
  return out;
}

Result<Properties> Mapping::to_hubspot(const model::Fields& row, Scope scope) const {
  Properties out;
  std::string errors;
  for (const auto& f : fields) {
    if (scope == Scope::writable && !f.to_hubspot()) continue;
    auto r = f.push(row);
    if (!r) {
      errors += (errors.empty() ? "" : "; ") + r.error().message;
      continue;
    }
    for (std::size_t i = 0; i < f.properties.size(); ++i) out[f.properties[i]] = (*r)[i];
  }
  if (!errors.empty()) return make_error(ErrorKind::invalid_record, "mapping " + name + ": " + errors);
  return out;
}

Result<model::Fields> Mapping::to_postgres(const Properties& props, Scope scope) const {
  model::Fields out;
  std::string errors;
  for (const auto& f : fields) {
    if (scope == Scope::writable && !f.to_postgres()) continue;
    auto r = f.pull(props);
    if (!r) {
      errors += (errors.empty() ? "" : "; ") + r.error().message;
      continue;
    }
    for (std::size_t i = 0; i < f.columns.size(); ++i) out[f.columns[i]] = (*r)[i];
  }
  if (!errors.empty()) return make_error(ErrorKind::invalid_record, "mapping " + name + ": " + errors);
  return out;
}

Result<std::map<std::string, std::string>> Mapping::compare_from_postgres(
    const model::Fields& row) const {
  std::map<std::string, std::string> out;
  std::string errors;
  for (const auto& f : fields) {
    auto r = f.compare_from_postgres(row);
    if (!r) {
      errors += (errors.empty() ? "" : "; ") + r.error().message;
      continue;
    }
    out[f.id] = std::move(*r);
  }
  if (!errors.empty()) return make_error(ErrorKind::invalid_record, "mapping " + name + ": " + errors);
  return out;
}

Result<std::map<std::string, std::string>> Mapping::compare_from_hubspot(
    const Properties& props) const {
  std::map<std::string, std::string> out;
  for (const auto& f : fields) {
    auto r = f.compare_from_hubspot(props);
    if (!r) return make_error(ErrorKind::invalid_record, "mapping " + name + ": " + r.error().message);
    out[f.id] = std::move(*r);
  }
  return out;
}

bool Mapping::pull_filter_accepts(const Properties& props) const {
  for (const auto& f : hubspot_filters)
    if (!f.matches(props)) return false;
  return true;
}

Result<model::RecordKey> Mapping::key_of(const model::Fields& row) const {
  model::RecordKey k;
  for (const auto& c : key) {
    auto it = row.find(c);
    if (it == row.end() || it->second.is_null())
      return make_error(ErrorKind::invalid_record,
                        "mapping " + name + ": key column " + c + " is null or missing");
    k.parts.push_back(it->second.canonical());
  }
  return k;
}

}  // namespace hubsync::mapping
