#include "engine/mapping/live_check.h"

#include <algorithm>
#include <set>

#include "engine/mapping/parser.h"
#include "engine/mapping/property_value.h"
#include "engine/model/suggest.h"

namespace hubsync::mapping {

namespace {

std::string base_type(std::string t) {
  for (char& c : t)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  auto paren = t.find('(');
  if (paren != std::string::npos) {
    auto close = t.find(')', paren);
    t.erase(paren, close == std::string::npos ? std::string::npos : close - paren + 1);
  }
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

bool one_of(const std::string& t, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (t == n) return true;
  return false;
}

bool is_texty(const std::string& t) {
  return one_of(t, {"text", "character varying", "varchar", "character", "char", "bpchar", "citext", "name"});
}

bool is_int(const std::string& t) {
  return one_of(t, {"smallint", "integer", "bigint", "int2", "int4", "int8", "int", "serial", "bigserial"});
}

// The key column types, under format_type() names (and the typname aliases
// hand-written catalogs use). Must agree with postgres::key_type_supported().
bool is_key_type(const std::string& t) {
  return is_int(t) || is_texty(t) || one_of(t, {"numeric", "decimal", "uuid", "date", "timestamp with time zone",
                                                "timestamptz", "timestamp without time zone", "timestamp"});
}

std::string hint(const std::string& word, const std::vector<std::string>& names) {
  std::string best = model::closest_match(word, names);
  return best.empty() ? std::string() : " (did you mean `" + best + "`?)";
}

constexpr const char* kCreateLabel =
    "; hubsync does not create labels: create it in HubSpot (Settings > Objects > Associations, or "
    "POST /crm/v4/associations/{from}/{to}/labels)";

struct Out {
  Findings f;
  void add(Severity s, const SourceMark& at, std::string msg) { f.push_back(Finding{s, at, std::move(msg)}); }
};

// A key's text identifies the row in the changelog, the state store and
// HubSpot's links: it must exist (NOT NULL) and be exact (key_column_type_supported).
void check_key_column(Out& out, const Mapping& m, const PgColumn& c) {
  if (!key_column_type_supported(c.type))
    out.add(Severity::error, m.key_mark,
            "key column `" + c.name + "` is " + c.type + ", which cannot be a key: its text is not exact "
            "(keys can be smallint, integer, bigint, numeric, text, varchar, char, citext, name, uuid, "
            "date, timestamp or timestamptz); key the mapping on another unique column");
  if (c.nullable)
    out.add(Severity::error, m.key_mark,
            "key column `" + c.name + "` allows NULL: a row with a NULL key cannot be captured or read "
            "back; declare it NOT NULL (ALTER TABLE " + m.table.quoted() + " ALTER COLUMN " +
            quote_ident(c.name) + " SET NOT NULL) or key the mapping on the primary key");
}

bool same_set(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

}  // namespace

bool key_column_type_supported(const std::string& pg_type) {
  std::string t = base_type(pg_type);
  // An extension's type outside the search_path comes schema-qualified (public.citext).
  if (auto dot = t.rfind('.'); dot != std::string::npos && t.find('"') == std::string::npos)
    t = t.substr(dot + 1);
  return is_key_type(t);
}

const PgColumn* PgTableInfo::column(std::string_view name) const {
  for (const auto& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

std::string column_compatibility(const FieldMapping& f, const PgColumn& column, Severity& severity) {
  severity = Severity::error;
  const std::string t = base_type(column.type);
  const bool array = t.size() > 2 && t.compare(t.size() - 2, 2, "[]") == 0;
  const std::string elem = array ? base_type(t.substr(0, t.size() - 2)) : t;
  const std::string what = "column " + column.name + " is " + column.type;
  if (f.pg_kind == ValueType::list) {
    if (array && is_texty(elem)) return {};
    return what + "; a multi_select field needs a text[] column";
  }
  if (array) return what + ", an array: declare `type: multi_select`";
  if (f.columns.size() > 1 && !is_texty(t)) return what + "; split/join fields need text columns";
  switch (f.pg_kind) {
    case ValueType::text:
      if (f.type == FieldType::json) {
        if (one_of(t, {"json", "jsonb"}) || is_texty(t)) return {};
        return what + "; a json field needs a json, jsonb or text column";
      }
      if (is_texty(t) || t == "uuid") return {};
      if (column.is_enum) {
        severity = Severity::warning;
        return what + " (an enum): HubSpot values outside its labels will fail on pull";
      }
      severity = Severity::warning;
      return what + " but the field is " + to_string(f.type) + ": declare the matching `type:` so values are compared exactly";
    case ValueType::integer:
      if (is_int(t)) return {};
      if (t == "numeric" || t == "decimal") {
        severity = Severity::warning;
        return what + ": values with a fraction fail as integer; consider `type: decimal`";
      }
      return what + "; an integer field needs smallint, integer or bigint";
    case ValueType::decimal:
      if (t == "numeric" || t == "decimal" || is_int(t)) return {};
      if (t == "real" || t == "double precision" || t == "float4" || t == "float8") {
        severity = Severity::warning;
        return what + ": a float column is not exact; decimals may not compare equal after a round trip";
      }
      return what + "; a decimal field needs a numeric column";
    case ValueType::boolean:
      if (t == "boolean" || t == "bool") return {};
      return what + "; a boolean field needs a boolean column";
    case ValueType::date:
      if (t == "date") return {};
      return what + "; a date field needs a date column";
    case ValueType::datetime:
      if (t == "timestamp with time zone" || t == "timestamptz") return {};
      if (t == "timestamp without time zone" || t == "timestamp") {
        severity = Severity::warning;
        return what + ": values are read and written as UTC; prefer timestamptz";
      }
      return what + "; a datetime field needs a timestamptz column";
    default:
      return {};
  }
}

Findings check_postgres(const Mapping& m, PgCatalog& pg) {
  Out out;
  auto info = pg.describe_table(m.table);
  if (!info) {
    out.add(Severity::unavailable, m.table_mark,
            "cannot check table " + m.table.display() + ": " + info.error().message);
    return out.f;
  }
  if (!info->exists) {
    out.add(Severity::error, m.table_mark, "table " + m.table.display() + " does not exist");
    return out.f;
  }
  std::vector<std::string> names;
  for (const auto& c : info->columns) names.push_back(c.name);
  auto need = [&](const std::string& col, const SourceMark& at) -> const PgColumn* {
    const PgColumn* c = info->column(col);
    if (!c)
      out.add(Severity::error, at, "column `" + col + "` does not exist in " + m.table.display() + hint(col, names));
    return c;
  };
  for (const auto& k : m.key)
    if (const PgColumn* c = need(k, m.key_mark)) check_key_column(out, m, *c);
  if (std::all_of(m.key.begin(), m.key.end(), [&](const std::string& k) { return info->column(k); })) {
    bool unique = same_set(info->primary_key, m.key) && !info->primary_key.empty();
    for (const auto& idx : info->unique_indexes) unique = unique || same_set(idx, m.key);
    if (!unique)
      out.add(Severity::error, m.key_mark, "key (" + [&] {
        std::string s;
        for (const auto& k : m.key) s += (s.empty() ? "" : ", ") + k;
        return s;
      }() + ") is not unique in " + m.table.display() + ": no primary key or unique index on exactly these columns");
  }
  std::set<std::string> written;  // columns a pull writes
  for (const auto& f : m.fields) {
    for (const auto& col : f.columns) {
      const PgColumn* c = need(col, f.mark);
      if (!c) continue;
      if (f.to_postgres()) written.insert(col);
      Severity sev;
      std::string why = column_compatibility(f, *c, sev);
      if (!why.empty()) out.add(sev, f.mark, "field " + f.id + ": " + why);
    }
  }
  for (const auto& a : m.associations)
    if (need(a.column, a.mark) && writes_postgres(a.direction)) written.insert(a.column);
  if (m.link) {
    need(m.link->from_column, m.link->mark);
    need(m.link->to_column, m.link->mark);
  }
  if (!m.soft_delete_column.empty()) {
    if (const PgColumn* c = need(m.soft_delete_column, m.mark)) {
      std::string t = base_type(c->type);
      if (t != "timestamp with time zone" && t != "timestamp without time zone" && t != "boolean")
        out.add(Severity::error, m.mark, "soft-delete column " + c->name + " is " + c->type +
                                             "; it needs timestamptz or boolean");
      else if (t == "boolean")
        out.add(Severity::info, m.mark, "soft delete: a row counts as deleted when " + c->name +
                                            " is true (false and NULL are not deleted)");
      else
        out.add(Severity::info, m.mark, "soft delete: a row counts as deleted when " + c->name +
                                            " is set (not NULL)");
      written.insert(c->name);
    }
  }
  if (m.kind == MappingKind::object && m.pulls()) {
    const std::string mc = m.match_column();
    if (!mc.empty() && info->column(mc)) {
      bool unique = info->primary_key == std::vector<std::string>{mc};
      for (const auto& idx : info->unique_indexes) unique = unique || idx == std::vector<std::string>{mc};
      // Unique among live rows only (WHERE deleted_at IS NULL): a person
      // deleted and signed up again has two rows, and the pull takes the
      // live one (a soft-deleted row is never another object's).
      for (const auto& [cols, where] : info->partial_unique_indexes)
        if (!unique && !m.soft_delete_column.empty() && cols == std::vector<std::string>{mc} &&
            where.find(m.soft_delete_column) != std::string::npos) {
          unique = true;
          out.add(Severity::info, m.match_mark, "match column `" + mc + "` is unique among rows not soft-deleted (" +
                                                    where + "): the pull takes the live row");
        }
      if (!unique)
        out.add(Severity::error, m.match_mark, "match column `" + mc + "` needs a unique index: pulls find rows by it "
                                               "(CREATE UNIQUE INDEX ON " + m.table.quoted() + " (" + quote_ident(mc) + "))");
    }
    for (const auto& c : info->columns)
      if (!c.nullable && !c.has_default && !written.count(c.name))
        out.add(Severity::warning, m.table_mark, "column " + c.name + " is NOT NULL without a default and no pulled "
                                                 "field writes it: rows created in HubSpot cannot be inserted");
  }
  for (const auto& s : info->subscriptions)
    if (m.pulls())
      out.add(Severity::warning, m.table_mark,
              m.table.display() + " is written by logical replication (subscription " + s +
                  "): what hubsync pulls into it never reaches the publisher, and the next change replicated "
                  "from there overwrites it; map the publisher's table, or give this mapping direction: "
                  "to_hubspot");
  if (!m.pg_filter.empty()) {
    auto st = pg.check_filter(m.table, m.pg_filter);
    if (!st) {
      if (st.error().kind == model::ErrorKind::invalid_record)
        out.add(Severity::error, m.filter_mark, "filter.postgres is not valid: " + st.error().message);
      else
        out.add(Severity::unavailable, m.filter_mark, "cannot check filter.postgres: " + st.error().message);
    }
  }
  return out.f;
}

model::Result<std::string> resolve_object_type(const HubspotObject& object, CrmCatalog& crm) {
  if (!object.object_type_id.empty()) return object.object_type_id;
  auto s = crm.schema(object.name);
  if (!s) return std::move(s).error();
  if (!*s) return std::string();
  return (*s)->object_type_id;
}

namespace {

void check_association_type(Out& out, CrmCatalog& crm, const std::string& from, const std::string& to,
                            const std::optional<std::int64_t>& id, const std::string& label,
                            const SourceMark& at, const std::string& what) {
  auto types = crm.association_types(from, to);
  if (!types) {
    out.add(Severity::unavailable, at, "cannot check " + what + ": " + types.error().message);
    return;
  }
  std::vector<std::string> labels;
  for (const auto& t : *types) {
    if (!t.label.empty()) labels.push_back(t.label);
    if (id && t.type_id == *id) return;
    if (!id && !label.empty() && t.label == label) return;
    if (!id && label.empty() && t.label.empty()) return;
  }
  std::string wanted = id ? "type id " + std::to_string(*id) : label.empty() ? "a default (unlabelled) type" : "label `" + label + "`";
  out.add(Severity::error, at, what + ": HubSpot has no association " + wanted + " from " + from + " to " + to +
                                   (label.empty() ? "" : hint(label, labels) + kCreateLabel));
}

const Mapping* find_mapping(const std::vector<Mapping>& all, const std::string& name) {
  for (const auto& m : all)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace

Findings check_hubspot(const Mapping& m, CrmCatalog& crm, const std::vector<Mapping>& all) {
  Out out;
  if (m.kind == MappingKind::link) {
    const Mapping* a = find_mapping(all, m.link->from_mapping);
    const Mapping* b = find_mapping(all, m.link->to_mapping);
    if (!a || !b) return out.f;  // validate_set reports missing targets
    auto from = resolve_object_type(a->object, crm), to = resolve_object_type(b->object, crm);
    if (!from || !to) {
      out.add(Severity::unavailable, m.link->mark, "cannot resolve the linked object types");
      return out.f;
    }
    if (from->empty() || to->empty()) {
      out.add(Severity::error, m.link->mark, "a linked object type does not exist in HubSpot yet (run `hubsync schema apply`)");
      return out.f;
    }
    check_association_type(out, crm, *from, *to, m.link->type_id, m.link->type_label, m.link->mark, "link");
    return out.f;
  }
  auto type = resolve_object_type(m.object, crm);
  if (!type) {
    out.add(Severity::unavailable, m.object_mark, "cannot check object " + m.object.name + ": " + type.error().message);
    return out.f;
  }
  if (type->empty()) {
    out.add(Severity::error, m.object_mark, "custom object `" + m.object.name + "` does not exist in HubSpot" +
                                                (m.schema ? " (run `hubsync schema apply`)" : ""));
    return out.f;
  }
  auto props = crm.properties(m.object.custom ? *type : m.object.name);
  if (!props) {
    out.add(Severity::unavailable, m.object_mark, "cannot read the properties of " + m.object.name + ": " + props.error().message);
    return out.f;
  }
  if (!*props) {
    out.add(Severity::error, m.object_mark, "object type " + m.object.name + " does not exist in HubSpot");
    return out.f;
  }
  const auto& list = **props;
  std::vector<std::string> names;
  for (const auto& p : list) names.push_back(p.name);
  auto find = [&](const std::string& n) -> const CrmProperty* {
    for (const auto& p : list)
      if (p.name == n) return &p;
    return nullptr;
  };
  auto missing = [&](const std::string& n, const SourceMark& at) {
    bool declared = m.schema && m.schema->property(n);
    out.add(Severity::error, at, "property `" + n + "` does not exist on " + m.object.name +
                                     (declared ? " (declared in the schema block: run `hubsync schema apply`)" : hint(n, names)));
  };
  for (const auto& f : m.fields) {
    for (const auto& pname : f.properties) {
      const CrmProperty* p = find(pname);
      if (!p) {
        missing(pname, f.mark);
        continue;
      }
      std::string why = property_compatibility(f, p->type, p->field_type);
      if (!why.empty()) out.add(Severity::error, f.mark, "field " + f.id + " -> " + pname + ": " + why);
      if (f.to_hubspot() && (p->read_only_value || p->calculated))
        out.add(Severity::error, f.mark, "property `" + pname + "` is read-only in HubSpot: declare `direction: to_postgres`");
      if (p->type != "enumeration" || p->options.empty()) continue;
      for (const auto& t : f.transforms) {
        if (t.kind != TransformKind::value_map) continue;
        // value_map sends one option at a time (a multi-select item by item).
        for (const auto& [pg, hs] : t.map) {
          if (property_value_problem(p->type, "select", p->options, hs).empty()) continue;
          std::vector<std::string> values;
          for (const auto& o : p->options) values.push_back(o.value);
          out.add(Severity::error, t.mark, "value_map sends `" + hs + "`, which is not an option of " + pname + hint(hs, values));
        }
      }
    }
  }
  if (!m.match_property.empty()) {
    const CrmProperty* p = find(m.match_property);
    if (!p) {
      missing(m.match_property, m.match_mark);
    } else {
      bool unique = p->has_unique_value || (m.object.name == "contacts" && p->name == "email") || p->name == "hs_object_id";
      if (!unique)
        out.add(Severity::error, m.match_mark, "match property `" + p->name + "` is not unique in HubSpot "
                                               "(hasUniqueValue is false): upserts by it would create duplicates");
    }
  }
  for (const auto& f : m.hubspot_filters)
    if (!find(f.property)) missing(f.property, f.mark);
  for (const auto& a : m.associations) {
    const Mapping* target = find_mapping(all, a.to_mapping);
    if (!target || target->kind != MappingKind::object) continue;
    auto to = resolve_object_type(target->object, crm);
    if (!to) {
      out.add(Severity::unavailable, a.mark, "cannot resolve " + target->object.name + ": " + to.error().message);
      continue;
    }
    if (to->empty()) {
      out.add(Severity::error, a.mark, "association target object " + target->object.name + " does not exist in HubSpot");
      continue;
    }
    check_association_type(out, crm, *type, *to, a.type_id, a.type_label, a.mark, "association " + a.column);
  }
  return out.f;
}

}  // namespace hubsync::mapping
