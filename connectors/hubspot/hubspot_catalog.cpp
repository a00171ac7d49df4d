#include "connectors/hubspot/hubspot_catalog.h"

namespace hubsync::hubspot {

namespace {

mapping::CrmProperty to_crm(const PropertyDef& d) {
  mapping::CrmProperty p;
  p.name = d.name;
  p.label = d.label;
  p.type = d.type;
  p.field_type = d.field_type;
  p.group_name = d.group_name;
  p.has_unique_value = d.has_unique_value;
  p.read_only_value = d.read_only_value;
  p.calculated = d.calculated;
  for (const auto& o : d.options) p.options.push_back({o.value, o.label});
  return p;
}

PropertyDef from_spec(const mapping::PropertySpec& s) {
  PropertyDef d;
  d.name = s.name;
  d.label = s.label;
  d.type = s.type;
  d.field_type = s.field_type;
  d.group_name = s.group;
  d.description = s.description;
  d.has_unique_value = s.has_unique_value;
  for (const auto& o : s.options) d.options.push_back({o.label, o.value});
  return d;
}

// HubSpot answers an unknown object type with 400 "Unable to infer object
// type from: x" rather than 404.
bool not_found(const model::Error& e) {
  return e.http_status == 404 ||
         (e.http_status == 400 && e.message.find("Unable to infer object type") != std::string::npos);
}

}  // namespace

model::Result<std::optional<std::vector<mapping::CrmProperty>>> HubSpotCatalog::properties(
    const std::string& object_type) {
  auto r = properties_.list(object_type);
  if (!r.ok()) {
    if (not_found(r.error())) return std::optional<std::vector<mapping::CrmProperty>>();
    return std::move(r).error();
  }
  std::vector<mapping::CrmProperty> out;
  for (const auto& d : *r) out.push_back(to_crm(d));
  return std::optional<std::vector<mapping::CrmProperty>>(std::move(out));
}

model::Result<std::optional<mapping::CrmSchema>> HubSpotCatalog::schema(const std::string& name) {
  auto r = properties_.get_schema(name);
  if (!r.ok()) {
    if (not_found(r.error())) return std::optional<mapping::CrmSchema>();
    return std::move(r).error();
  }
  if (!r->has_value()) return std::optional<mapping::CrmSchema>();
  const ObjectSchema& s = **r;
  mapping::CrmSchema out;
  out.name = s.name;
  out.object_type_id = s.object_type_id;
  out.fully_qualified_name = s.fully_qualified_name;
  out.label_singular = s.label_singular;
  out.label_plural = s.label_plural;
  for (const auto& p : s.properties) out.properties.push_back(to_crm(p));
  out.required = s.required_properties;
  out.searchable = s.searchable_properties;
  out.primary_display = s.primary_display_property;
  return std::optional<mapping::CrmSchema>(std::move(out));
}

model::Result<std::vector<mapping::CrmAssociationType>> HubSpotCatalog::association_types(
    const std::string& from_object_type_id, const std::string& to_object_type_id) {
  auto r = associations_.labels(from_object_type_id, to_object_type_id);
  if (!r.ok()) return std::move(r).error();
  std::vector<mapping::CrmAssociationType> out;
  for (const auto& t : *r) out.push_back({t.category, t.type_id, t.label});
  return out;
}

model::Result<std::string> HubSpotCatalog::create_schema(const mapping::SchemaSpec& spec,
                                                         const std::vector<std::string>& associated_object_type_ids) {
  SchemaSpec s;
  s.name = spec.name;
  s.label_singular = spec.label_singular;
  s.label_plural = spec.label_plural;
  s.primary_display_property = spec.primary_display;
  s.secondary_display_properties = spec.secondary_display;
  s.searchable_properties = spec.searchable;
  s.required_properties = spec.required;
  for (const auto& p : spec.properties) s.properties.push_back(from_spec(p));
  s.associated_objects = associated_object_type_ids;
  auto r = properties_.create_schema(s);
  if (!r.ok()) return std::move(r).error();
  return r->object_type_id;
}

model::Status HubSpotCatalog::create_property(const std::string& object_type, const mapping::PropertySpec& property) {
  PropertyDef def = from_spec(property);
  if (def.group_name.empty()) {
    // HubSpot requires a group; a spec without one goes to the object's
    // main group ("contactinformation", "<name>_information").
    auto groups = properties_.list_groups(object_type);
    if (!groups.ok()) return std::move(groups).error();
    for (const auto& g : *groups)
      if (g.ends_with("information")) {
        def.group_name = g;
        break;
      }
    if (def.group_name.empty() && !groups->empty()) def.group_name = groups->front();
  }
  auto r = properties_.create(object_type, def);
  if (!r.ok()) return std::move(r).error();
  return {};
}

model::Status HubSpotCatalog::create_association(const std::string& from_object_type_id,
                                                 const std::string& to_object_type_id, const std::string& name) {
  auto r = properties_.add_schema_association(from_object_type_id, from_object_type_id, to_object_type_id, name);
  if (!r.ok()) return std::move(r).error();
  return {};
}

}  // namespace hubsync::hubspot
