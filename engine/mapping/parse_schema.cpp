// The parts of a mapping that describe HubSpot-side structure: the schema
// block, associations, link tables and HubSpot search filters.
#include <algorithm>

#include "engine/mapping/parse_parts.h"

namespace hubsync::mapping::detail {

namespace {

const std::vector<std::string> kPropertyTypes = {"string", "number", "date", "datetime",
                                                 "enumeration", "bool", "phone_number"};

std::string default_field_type(const std::string& type) {
  if (type == "string") return "text";
  if (type == "number") return "number";
  if (type == "date" || type == "datetime") return "date";
  if (type == "enumeration") return "select";
  if (type == "bool") return "booleancheckbox";
  if (type == "phone_number") return "phonenumber";
  return {};
}

std::vector<std::string> field_types_for(const std::string& type) {
  if (type == "string") return {"text", "textarea", "file", "html"};
  if (type == "number") return {"number", "calculation_equation"};
  if (type == "date" || type == "datetime") return {"date"};
  if (type == "enumeration") return {"select", "radio", "checkbox", "booleancheckbox"};
  if (type == "bool") return {"booleancheckbox"};
  if (type == "phone_number") return {"phonenumber"};
  return {};
}

// An association type: a number is a type id, anything else a label.
void parse_assoc_type(Reader& r, const YAML::Node& node, std::optional<std::int64_t>& id,
                      std::string& label) {
  auto s = r.scalar(node, "association type");
  if (!s) return;
  if (!s->empty() && s->size() < 10 && s->find_first_not_of("0123456789") == std::string::npos) {
    id = std::stoll(*s);
  } else if (s->empty()) {
    r.error(node, "association type is empty");
  } else {
    label = *s;
  }
}

std::optional<PropertySpec> parse_property(Reader& r, const YAML::Node& node) {
  auto e = r.entries(node, "a schema property",
                     {"name", "label", "type", "field_type", "group", "description",
                      "has_unique_value", "options"});
  if (!node.IsMap()) return std::nullopt;
  PropertySpec p;
  p.mark = r.mark(node);
  bool ok = true;
  if (auto it = e.find("name"); it != e.end()) {
    if (auto s = r.scalar(it->second.value, "property name")) {
      p.name = *s;
      bool valid = !s->empty() && s->size() <= 100;
      for (char c : *s)
        valid = valid && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
      if (!valid)
        r.error(it->second.value, "property name `" + *s + "` must be lower-case letters, digits and '_'");
      else if (s->rfind("hs_", 0) == 0)
        r.error(it->second.value, "property name `" + *s + "`: the hs_ prefix is reserved by HubSpot");
    } else {
      ok = false;
    }
  } else {
    r.error(node, "a schema property needs `name`");
    ok = false;
  }
  if (auto it = e.find("label"); it != e.end()) {
    if (auto s = r.scalar(it->second.value, "property label")) p.label = *s;
  } else {
    p.label = p.name;
  }
  if (auto it = e.find("type"); it != e.end()) {
    if (auto s = r.one_of(it->second.value, "property type", kPropertyTypes)) p.type = *s; else ok = false;
  } else {
    r.error(node, "schema property " + p.name + " needs `type` (string, number, date, datetime, enumeration, bool)");
    ok = false;
  }
  if (auto it = e.find("field_type"); it != e.end() && !p.type.empty()) {
    auto allowed = field_types_for(p.type);
    if (auto s = r.scalar(it->second.value, "field_type")) {
      if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        r.error(it->second.value, "field_type `" + *s + "` does not go with type " + p.type +
                                      Reader::hint(*s, allowed) + "; expected one of: " + list);
      }
      p.field_type = *s;
    }
  } else {
    p.field_type = default_field_type(p.type);
  }
  if (auto it = e.find("group"); it != e.end())
    if (auto s = r.scalar(it->second.value, "group")) p.group = *s;
  if (auto it = e.find("description"); it != e.end())
    if (auto s = r.scalar(it->second.value, "description")) p.description = *s;
  if (auto it = e.find("has_unique_value"); it != e.end()) {
    if (auto b = r.boolean(it->second.value, "has_unique_value")) p.has_unique_value = *b;
    if (p.has_unique_value && p.type != "string" && p.type != "number" && !p.type.empty())
      r.error(it->second.value, "has_unique_value needs type string or number");
  }
  if (auto it = e.find("options"); it != e.end()) {
    const YAML::Node& opts = it->second.value;
    if (!opts.IsSequence()) {
      r.error(opts, "options must be a list of values or {value, label}");
    } else {
      for (const auto& o : opts) {
        PropertyOption opt;
        if (o.IsScalar()) {
          opt.value = o.Scalar();
          opt.label = o.Scalar();
        } else {
          auto oe = r.entries(o, "an option", {"value", "label"});
          if (auto v = oe.find("value"); v != oe.end()) {
            if (auto s = r.scalar(v->second.value, "option value")) opt.value = *s;
          } else if (o.IsMap()) {
            r.error(o, "an option needs `value`");
          }
          opt.label = opt.value;
          if (auto l = oe.find("label"); l != oe.end())
            if (auto s = r.scalar(l->second.value, "option label")) opt.label = *s;
        }
        for (const auto& prev : p.options)
          if (prev.value == opt.value) r.error(o, "option `" + opt.value + "` is listed twice");
        if (opt.value.empty()) r.error(o, "an option value cannot be empty");
        p.options.push_back(opt);
      }
    }
    if (p.type != "enumeration" && !p.type.empty())
      r.error(opts, "options only apply to type enumeration");
  } else if (p.type == "enumeration") {
    r.error(node, "enumeration property " + p.name + " needs `options`");
  }
  if (!ok) return std::nullopt;
  return p;
}

}  // namespace

std::optional<SchemaSpec> parse_schema(Reader& r, const YAML::Node& node) {
  auto e = r.entries(node, "`schema`",
                     {"name", "labels", "properties", "required", "searchable", "primary_display",
                      "secondary_display", "associated_objects"});
  if (!node.IsMap()) return std::nullopt;
  SchemaSpec s;
  s.mark = r.mark(node);
  if (auto it = e.find("name"); it != e.end())
    if (auto v = r.scalar(it->second.value, "schema.name")) s.name = *v;
  if (auto it = e.find("labels"); it != e.end()) {
    auto le = r.entries(it->second.value, "`schema.labels`", {"singular", "plural"});
    if (auto l = le.find("singular"); l != le.end())
      if (auto v = r.scalar(l->second.value, "labels.singular")) s.label_singular = *v;
    if (auto l = le.find("plural"); l != le.end())
      if (auto v = r.scalar(l->second.value, "labels.plural")) s.label_plural = *v;
    if (it->second.value.IsMap() && (s.label_singular.empty() || s.label_plural.empty()))
      r.error(it->second.value, "schema.labels needs both `singular` and `plural`");
  }
  if (auto it = e.find("properties"); it != e.end()) {
    const YAML::Node& props = it->second.value;
    if (!props.IsSequence()) {
      r.error(props, "schema.properties must be a list");
    } else {
      for (const auto& p : props) {
        auto spec = parse_property(r, p);
        if (!spec) continue;
        if (s.property(spec->name)) r.error(p, "schema property `" + spec->name + "` is declared twice");
        s.properties.push_back(std::move(*spec));
      }
    }
  }
  auto names = [&](const char* key, std::vector<std::string>& out) {
    if (auto it = e.find(key); it != e.end())
      if (auto l = r.scalar_list(it->second.value, std::string("schema.") + key)) out = *l;
  };
  names("required", s.required);
  names("searchable", s.searchable);
  names("secondary_display", s.secondary_display);
  names("associated_objects", s.associated_objects);
  if (auto it = e.find("primary_display"); it != e.end())
    if (auto v = r.scalar(it->second.value, "schema.primary_display")) s.primary_display = *v;
  // References to properties must name declared ones.
  auto check_refs = [&](const char* key, const std::vector<std::string>& refs) {
    auto it = e.find(key);
    if (it == e.end()) return;
    std::vector<std::string> declared;
    for (const auto& p : s.properties) declared.push_back(p.name);
    for (const auto& ref : refs)
      if (!s.property(ref))
        r.error(it->second.value, std::string("schema.") + key + " names `" + ref +
                                      "`, which is not a declared property" + Reader::hint(ref, declared));
  };
  check_refs("required", s.required);
  check_refs("searchable", s.searchable);
  check_refs("secondary_display", s.secondary_display);
  if (!s.primary_display.empty()) check_refs("primary_display", {s.primary_display});
  return s;
}

void parse_associations(Reader& r, const YAML::Node& node, Mapping& m) {
  if (!node.IsSequence()) {
    r.error(node, "`associations` must be a list of {column, to, type} entries");
    return;
  }
  for (const auto& item : node) {
    auto e = r.entries(item, "an association", {"column", "to", "type", "direction"});
    if (!item.IsMap()) continue;
    AssociationMapping a;
    a.mark = r.mark(item);
    a.direction = m.direction;
    bool ok = true;
    if (auto it = e.find("column"); it != e.end()) {
      if (auto s = r.scalar(it->second.value, "association column")) a.column = *s; else ok = false;
    } else {
      r.error(item, "an association needs `column` (the foreign key column)");
      ok = false;
    }
    if (auto it = e.find("to"); it != e.end()) {
      if (auto s = r.scalar(it->second.value, "association target")) a.to_mapping = *s; else ok = false;
    } else {
      r.error(item, "an association needs `to` (the name of the mapping it points to)");
      ok = false;
    }
    if (auto it = e.find("type"); it != e.end()) parse_assoc_type(r, it->second.value, a.type_id, a.type_label);
    if (auto it = e.find("direction"); it != e.end())
      if (auto s = r.one_of(it->second.value, "direction", direction_names())) a.direction = *parse_direction(*s);
    for (const auto& prev : m.associations)
      if (prev.column == a.column && !a.column.empty())
        r.error(item, "column `" + a.column + "` already has an association");
    if (ok) m.associations.push_back(std::move(a));
  }
}

std::optional<LinkMapping> parse_link(Reader& r, const YAML::Node& node) {
  auto e = r.entries(node, "`link`", {"from", "to", "type"});
  if (!node.IsMap()) return std::nullopt;
  LinkMapping l;
  l.mark = r.mark(node);
  bool ok = true;
  auto end = [&](const char* key, std::string& column, std::string& mapping_name) {
    auto it = e.find(key);
    if (it == e.end()) {
      r.error(node, std::string("`link` needs `") + key + ": {column, mapping}`");
      ok = false;
      return;
    }
    auto ee = r.entries(it->second.value, std::string("`link.") + key + "`", {"column", "mapping"});
    if (!it->second.value.IsMap()) {
      ok = false;
      return;
    }
    for (const char* k : {"column", "mapping"}) {
      auto f = ee.find(k);
      if (f == ee.end()) {
        r.error(it->second.value, std::string("missing `") + k + "` in `link." + key + "`");
        ok = false;
        continue;
      }
      auto s = r.scalar(f->second.value, std::string("link.") + key + "." + k);
      if (!s) {
        ok = false;
        continue;
      }
      (std::string(k) == "column" ? column : mapping_name) = *s;
    }
  };
  end("from", l.from_column, l.from_mapping);
  end("to", l.to_column, l.to_mapping);
  if (auto it = e.find("type"); it != e.end()) parse_assoc_type(r, it->second.value, l.type_id, l.type_label);
  if (ok && l.from_column == l.to_column) r.error(node, "link.from and link.to use the same column");
  if (!ok) return std::nullopt;
  return l;
}

void parse_hubspot_filters(Reader& r, const YAML::Node& node, Mapping& m) {
  // The pull sweep adds its own window filters to the same filter group,
  // and HubSpot allows 6 filters per group.
  constexpr std::size_t kMaxFilters = 3;
  if (!node.IsSequence()) {
    r.error(node, "filter.hubspot must be a list of {property, operator, value} filters");
    return;
  }
  if (node.size() > kMaxFilters)
    r.error(node, "filter.hubspot has " + std::to_string(node.size()) + " filters; at most " +
                      std::to_string(kMaxFilters) + " (the sweep uses the rest of HubSpot's 6 per group)");
  for (const auto& item : node) {
    auto e = r.entries(item, "a HubSpot filter", {"property", "operator", "value", "values", "high_value"});
    if (!item.IsMap()) continue;
    HubspotFilter f;
    f.mark = r.mark(item);
    bool ok = true;
    if (auto it = e.find("property"); it != e.end()) {
      if (auto s = r.scalar(it->second.value, "filter property")) f.property = *s; else ok = false;
    } else {
      r.error(item, "a HubSpot filter needs `property`");
      ok = false;
    }
    auto op = e.find("operator");
    if (op == e.end()) {
      r.error(item, "a HubSpot filter needs `operator` (EQ, NEQ, LT, ..., HAS_PROPERTY)");
      continue;
    }
    auto s = r.scalar(op->second.value, "filter operator");
    if (!s) continue;
    std::string upper = *s;
    for (char& c : upper)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    const auto& ops = filter_op_names();
    auto found = std::find(ops.begin(), ops.end(), upper);
    if (found == ops.end()) {
      r.error(op->second.value, "unknown filter operator `" + *s + "`" + Reader::hint(upper, ops));
      continue;
    }
    f.op = static_cast<FilterOp>(found - ops.begin());
    bool needs_value = f.op != FilterOp::has_property && f.op != FilterOp::not_has_property &&
                       f.op != FilterOp::in && f.op != FilterOp::not_in;
    bool needs_values = f.op == FilterOp::in || f.op == FilterOp::not_in;
    auto v = e.find("value"), vs = e.find("values"), hv = e.find("high_value");
    if (needs_value && v == e.end()) {
      r.error(item, std::string(to_string(f.op)) + " needs `value`");
      ok = false;
    } else if (!needs_value && v != e.end()) {
      r.error(v->second.key, std::string(to_string(f.op)) + " takes no `value`" +
                                 (needs_values ? " (use `values: [...]`)" : ""));
      ok = false;
    } else if (v != e.end()) {
      if (auto x = r.scalar(v->second.value, "filter value")) f.value = *x; else ok = false;
    }
    if (needs_values) {
      if (vs == e.end()) {
        r.error(item, std::string(to_string(f.op)) + " needs `values: [...]`");
        ok = false;
      } else if (auto l = r.scalar_list(vs->second.value, "filter values")) {
        f.values = *l;
      } else {
        ok = false;
      }
    } else if (vs != e.end()) {
      r.error(vs->second.key, std::string(to_string(f.op)) + " takes no `values`");
      ok = false;
    }
    if (f.op == FilterOp::between) {
      if (hv == e.end()) {
        r.error(item, "BETWEEN needs `high_value`");
        ok = false;
      } else if (auto x = r.scalar(hv->second.value, "filter high_value")) {
        f.high_value = *x;
      }
    } else if (hv != e.end()) {
      r.error(hv->second.key, "`high_value` only goes with BETWEEN");
      ok = false;
    }
    if (ok) m.hubspot_filters.push_back(std::move(f));
  }
}

}  // namespace hubsync::mapping::detail
