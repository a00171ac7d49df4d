// Static checks over a whole mapping and over a set of mappings.
#include <algorithm>
#include <set>

#include "engine/mapping/parse_parts.h"
#include "engine/mapping/parser.h"
#include "engine/mapping/property_value.h"

namespace hubsync::mapping {

bool is_known_read_only_property(std::string_view /*object*/, std::string_view p) {
  static const std::set<std::string, std::less<>> kReadOnly = {
      "hs_object_id",          "hs_createdate",          "createdate",
      "lastmodifieddate",      "hs_lastmodifieddate",    "hs_merged_object_ids",
      "hs_was_imported",       "hs_object_source",       "hs_object_source_id",
      "hs_object_source_label", "hs_created_by_user_id", "hs_updated_by_user_id",
      "hs_all_contact_vids",   "num_associated_contacts", "num_associated_deals"};
  return kReadOnly.count(p) > 0;
}

std::string property_compatibility(const FieldMapping& f, std::string_view type,
                                   std::string_view field_type) {
  const ValueType hs = f.hs_kind;
  const std::string what = std::string("property type ") + std::string(type) +
                           (field_type.empty() ? "" : "/" + std::string(field_type));
  if (type == "string" || type == "phone_number") {
    if (hs == ValueType::list)
      return what + " cannot hold a multi_select; use an enumeration property with field_type checkbox";
    return {};
  }
  if (type == "number") {
    if (hs == ValueType::integer || hs == ValueType::decimal) return {};
    // Reading a number into text loses nothing (e.g. hs_object_id into a text column).
    if (hs == ValueType::text && !f.to_hubspot() && f.transforms.empty()) return {};
    return what + " needs a number: declare the field `type: integer` or `type: decimal` (or use `cents`)";
  }
  if (type == "bool") {
    if (hs == ValueType::boolean) return {};
    return what + " needs `type: boolean`";
  }
  if (type == "date") {
    if (hs == ValueType::date) return {};
    return what + " needs `type: date`" + (hs == ValueType::datetime ? " (a datetime is not a date)" : "");
  }
  if (type == "datetime") {
    if (hs == ValueType::datetime || hs == ValueType::date) return {};
    return what + " needs `type: datetime`";
  }
  if (type == "enumeration") {
    if (hs == ValueType::list) {
      if (field_type == "checkbox") return {};
      return what + " holds one option; a multi_select needs field_type checkbox";
    }
    if (hs == ValueType::date || hs == ValueType::datetime || hs == ValueType::decimal)
      return what + " holds option values, not " + model::to_string(hs) + "s";
    return {};
  }
  return {};
}

namespace detail {

namespace {

void check_schema(Reader& r, const Mapping& m) {
  const SchemaSpec& s = *m.schema;
  if (m.object.custom) {
    if (s.name.empty()) {
      r.error(s.mark, "the schema of custom object `" + m.object.name + "` needs `name`");
    } else if (m.object.object_type_id.empty() && s.name != m.object.name) {
      r.error(s.mark, "schema.name `" + s.name + "` differs from hubspot.object `" + m.object.name + "`");
    }
    if (s.label_singular.empty()) r.error(s.mark, "the schema of a custom object needs `labels: {singular, plural}`");
    const PropertySpec* match = s.property(m.match_property);
    if (!m.match_property.empty() && !match)
      r.error(m.match_mark, "match property `" + m.match_property +
                                "` must be declared in the schema block with has_unique_value: true");
  } else {
    if (!s.name.empty() || !s.label_singular.empty() || !s.required.empty() ||
        !s.searchable.empty() || !s.primary_display.empty() || !s.secondary_display.empty() ||
        !s.associated_objects.empty())
      r.error(s.mark, "on standard object `" + m.object.name +
                          "` the schema block may only add `properties`; name, labels, required, "
                          "searchable, display and associated_objects are for custom objects");
  }
  if (const PropertySpec* match = s.property(m.match_property); match && !match->has_unique_value)
    r.error(match->mark, "property `" + match->name + "` is the match property: declare has_unique_value: true");
  for (const auto& f : m.fields) {
    for (const auto& pname : f.properties) {
      const PropertySpec* p = s.property(pname);
      if (!p) continue;
      std::string why = property_compatibility(f, p->type, p->field_type);
      if (!why.empty()) r.error(f.mark, "field " + f.id + " -> " + pname + ": " + why);
      if (p->type != "enumeration" || p->options.empty()) continue;
      for (const auto& t : f.transforms) {
        if (t.kind != TransformKind::value_map) continue;
        // value_map sends one option at a time (a multi-select item by item).
        for (const auto& [pg, hs] : t.map)
          if (!property_value_problem(p->type, "select", p->options, hs).empty())
            r.error(t.mark, "value_map sends `" + hs + "`, which is not an option of " + pname);
      }
    }
  }
}

}  // namespace

void check_mapping(Reader& r, const Mapping& m, bool partial) {
  if (m.kind == MappingKind::link) {
    if (m.link)
      for (const auto& c : {m.link->from_column, m.link->to_column})
        if (std::find(m.key.begin(), m.key.end(), c) == m.key.end()) {
          r.warning(m.link->mark, "link column `" + c + "` is not part of postgres.key: two rows may then hold "
                                  "one pair, and deleting either removes the association both stand for; key the "
                                  "table by (" + m.link->from_column + ", " + m.link->to_column +
                                  ") or give it UNIQUE (" + m.link->from_column + ", " + m.link->to_column + ")");
          break;
        }
    return;
  }
  std::set<std::string> columns, properties;
  std::vector<std::string> property_names;
  for (const auto& f : m.fields) {
    for (const auto& c : f.columns)
      if (!columns.insert(c).second) r.error(f.mark, "column `" + c + "` is mapped by two fields");
    for (const auto& p : f.properties) {
      if (!properties.insert(p).second) r.error(f.mark, "property `" + p + "` is mapped by two fields");
      property_names.push_back(p);
      if (f.to_hubspot() && is_known_read_only_property(m.object.name, p))
        r.error(f.mark, "property `" + p + "` is read-only in HubSpot: declare `direction: to_postgres`");
    }
  }
  for (const auto& a : m.associations)
    if (columns.count(a.column))
      r.error(a.mark, "column `" + a.column + "` is both a field and an association");
  if (!m.soft_delete_column.empty() && columns.count(m.soft_delete_column))
    r.error(m.mark, "soft-delete column `" + m.soft_delete_column + "` must not also be a field");

  if (!m.match_property.empty() && !partial) {
    const FieldMapping* mf = m.match_field();
    if (!mf) {
      r.error(m.match_mark, "match property `" + m.match_property + "` has no field; add "
                                "`{column: ..., property: " + m.match_property + "}`" +
                                Reader::hint(m.match_property, property_names));
    } else if (mf->columns.size() != 1 || mf->properties.size() != 1) {
      r.error(m.match_mark, "the match property must map one column to one property");
    } else if (m.pushes() && !mf->to_hubspot()) {
      r.error(mf->mark, "field " + mf->id + " carries the match property, which upserts need: it must go to HubSpot");
    }
  }
  if (m.match_property == "hs_object_id" && m.pushes())
    r.error(m.match_mark, "hs_object_id cannot be the match property of a mapping that pushes: "
                          "upserts need a unique property hubsync writes (e.g. email)");
  if (!m.match_property.empty() && m.match_property != "hs_object_id" && !m.object.custom &&
      !(m.object.name == "contacts" && m.match_property == "email")) {
    const PropertySpec* p = m.schema ? m.schema->property(m.match_property) : nullptr;
    if (!p)
      r.warning(m.match_mark, "match property `" + m.match_property + "` is not unique on " + m.object.name +
                                  " unless it was created with hasUniqueValue; the live check verifies it");
  }
  if (m.schema) check_schema(r, m);
  for (const auto& f : m.fields) {
    if (f.direction != Direction::both) continue;
    std::string cex = round_trip_counterexample(f);
    if (!cex.empty())
      r.error(f.mark, "field " + f.id + " syncs both ways but its transforms do not round-trip: " + cex +
                          "; declare `direction: to_hubspot` (or to_postgres) or drop the transform");
  }
}

}  // namespace detail

namespace {

// Two object mappings of other tables pulling one HubSpot object type, one
// of them with no filter.hubspot: each object lands in both tables.
bool both_pull_one_object(const Mapping& a, const Mapping& b) {
  return a.kind == MappingKind::object && b.kind == MappingKind::object && a.object.name == b.object.name &&
         a.table.display() != b.table.display() && a.pulls() && b.pulls() &&
         (a.hubspot_filters.empty() || b.hubspot_filters.empty());
}

}  // namespace

Findings validate_set(const std::vector<Mapping>& mappings) {
  Findings out;
  std::vector<std::string> names;
  for (const auto& m : mappings) names.push_back(m.name);
  auto find = [&](const std::string& n) -> const Mapping* {
    for (const auto& m : mappings)
      if (m.name == n) return &m;
    return nullptr;
  };
  auto err = [&out](const SourceMark& at, std::string msg) {
    out.push_back(Finding{Severity::error, at, std::move(msg)});
  };
  for (std::size_t i = 0; i < mappings.size(); ++i) {
    const Mapping& m = mappings[i];
    for (std::size_t j = 0; j < i; ++j) {
      if (mappings[j].name == m.name)
        err(m.mark, "mapping name `" + m.name + "` is also used by " + mappings[j].mark.file);
      if (mappings[j].kind == MappingKind::object && m.kind == MappingKind::object &&
          mappings[j].table.display() == m.table.display() && mappings[j].object.name == m.object.name)
        err(m.table_mark, "table " + m.table.display() + " is already synced to " + m.object.name +
                              " by mapping " + mappings[j].name);
      else if (both_pull_one_object(mappings[j], m))
        out.push_back(Finding{Severity::warning, m.object_mark,
                              "mappings " + mappings[j].name + " and " + m.name + " both pull every " + m.object.name +
                                  " into their tables: what either table pushes lands in the other too, and a row "
                                  "of each matching one object overwrites the other's values; give them "
                                  "filter.hubspot conditions that tell their objects apart, or one of them "
                                  "direction: to_hubspot"});
      // Action names are one namespace across all mappings: the name alone identifies an action.
      for (const auto& a : m.actions)
        for (const auto& b : mappings[j].actions)
          if (a.name == b.name)
            err(a.mark, "action name `" + a.name + "` is also declared by mapping " + mappings[j].name +
                            " (" + b.mark.to_string() + ")");
    }
    auto target = [&](const std::string& n, const SourceMark& at, const char* what) {
      const Mapping* t = find(n);
      if (!t)
        err(at, std::string(what) + " points to mapping `" + n + "`, which does not exist" +
                    detail::Reader::hint(n, names));
      else if (t->kind != MappingKind::object)
        err(at, std::string(what) + " points to `" + n + "`, a link mapping, not an object mapping");
    };
    for (const auto& a : m.associations) target(a.to_mapping, a.mark, "association");
    if (m.link) {
      target(m.link->from_mapping, m.link->mark, "link.from");
      target(m.link->to_mapping, m.link->mark, "link.to");
    }
  }
  return out;
}

}  // namespace hubsync::mapping
