#include "connectors/hubspot/properties.h"

#include "connectors/hubspot/codec.h"
#include "connectors/hubspot/errors.h"
#include "connectors/hubspot/json.h"
#include "connectors/hubspot/oauth.h"

namespace hubsync::hubspot {

namespace {


std::vector<std::string> strings(const rapidjson::Value& obj, const char* name) {
  std::vector<std::string> out;
  if (const auto* a = json::member(obj, name); a && a->IsArray())
    for (const auto& s : a->GetArray())
      if (auto t = json::scalar_text(s)) out.push_back(*t);
  return out;
}

PropertyDef read_property(const rapidjson::Value& p) {
  PropertyDef d;
  d.name = json::get_string(p, "name");
  d.label = json::get_string(p, "label");
  d.type = json::get_string(p, "type");
  d.field_type = json::get_string(p, "fieldType");
  d.group_name = json::get_string(p, "groupName");
  d.description = json::get_string(p, "description");
  d.has_unique_value = json::get_bool(p, "hasUniqueValue");
  d.hubspot_defined = json::get_bool(p, "hubspotDefined");
  d.calculated = json::get_bool(p, "calculated");
  if (const auto* m = json::member(p, "modificationMetadata"))
    d.read_only_value = json::get_bool(*m, "readOnlyValue");
  d.read_only_value = json::get_bool(p, "readOnlyValue", d.read_only_value);
  if (const auto* opts = json::member(p, "options"); opts && opts->IsArray())
    for (const auto& o : opts->GetArray()) d.options.push_back({json::get_string(o, "label"), json::get_string(o, "value")});
  return d;
}

void write_property(json::Writer& w, const PropertyDef& d) {
  w->StartObject();
  w.kv("name", d.name);
  w.kv("label", d.label);
  w.kv("type", d.type);
  w.kv("fieldType", d.field_type);
  if (!d.group_name.empty()) w.kv("groupName", d.group_name);
  if (!d.description.empty()) w.kv("description", d.description);
  if (d.has_unique_value) {
    w.key("hasUniqueValue");
    w->Bool(true);
  }
  if (!d.options.empty()) {
    w.key("options");
    w->StartArray();
    int order = 0;
    for (const auto& o : d.options) {
      w->StartObject();
      w.kv("label", o.label);
      w.kv("value", o.value);
      w.key("displayOrder");
      w->Int(order++);
      w.key("hidden");
      w->Bool(false);
      w->EndObject();
    }
    w->EndArray();
  }
  w->EndObject();
}

ObjectSchema read_schema(const rapidjson::Value& s) {
  ObjectSchema o;
  o.object_type_id = json::get_string(s, "objectTypeId");
  o.fully_qualified_name = json::get_string(s, "fullyQualifiedName");
  o.name = json::get_string(s, "name");
  if (const auto* l = json::member(s, "labels")) {
    o.label_singular = json::get_string(*l, "singular");
    o.label_plural = json::get_string(*l, "plural");
  }
  o.primary_display_property = json::get_string(s, "primaryDisplayProperty");
  o.secondary_display_properties = strings(s, "secondaryDisplayProperties");
  o.searchable_properties = strings(s, "searchableProperties");
  o.required_properties = strings(s, "requiredProperties");
  if (const auto* ps = json::member(s, "properties"); ps && ps->IsArray())
    for (const auto& p : ps->GetArray()) o.properties.push_back(read_property(p));
  if (const auto* as = json::member(s, "associations"); as && as->IsArray())
    for (const auto& a : as->GetArray())
      o.associations.push_back({json::get_string(a, "id"), json::get_string(a, "fromObjectTypeId"),
                                json::get_string(a, "toObjectTypeId"), json::get_string(a, "name")});
  return o;
}

template <class T, class F>
model::Result<T> parse_or_error(const model::Result<HttpResponse>& r, const char* op, F&& f) {
  if (!r.ok()) return r.error();
  if (!is_2xx(r->status)) return response_error(*r, op);
  try {
    auto d = json::parse(r->body);
    return f(d);
  } catch (const std::exception& ex) {
    return model::make_error(model::ErrorKind::transient, std::string(op) + ": unreadable response: " + ex.what());
  }
}

const std::string kSchemas = "/crm/v3/schemas";

}  // namespace

model::Result<std::vector<PropertyDef>> PropertiesApi::list(const std::string& object_type) {
  auto r = client_.call(HttpMethod::get, "/crm/v3/properties/" + url_encode(object_type), "", {.op = "properties.list"});
  return parse_or_error<std::vector<PropertyDef>>(r, "properties.list", [](const rapidjson::Document& d) {
    std::vector<PropertyDef> out;
    if (const auto* res = json::member(d, "results"); res && res->IsArray())
      for (const auto& p : res->GetArray()) out.push_back(read_property(p));
    return out;
  });
}

model::Result<std::optional<PropertyDef>> PropertiesApi::get(const std::string& object_type, const std::string& name) {
  auto r = client_.call(HttpMethod::get, "/crm/v3/properties/" + url_encode(object_type) + "/" + url_encode(name), "",
                        {.op = "properties.get"});
  if (r.ok() && r->status == 404) return std::optional<PropertyDef>();
  return parse_or_error<std::optional<PropertyDef>>(
      r, "properties.get", [](const rapidjson::Document& d) { return std::optional<PropertyDef>(read_property(d)); });
}

model::Result<PropertyDef> PropertiesApi::create(const std::string& object_type, const PropertyDef& def) {
  json::Writer w;
  write_property(w, def);
  auto r = client_.call(HttpMethod::post, "/crm/v3/properties/" + url_encode(object_type), w.take(),
                        {.op = "properties.create", .idempotent = false});
  return parse_or_error<PropertyDef>(r, "properties.create", [](const rapidjson::Document& d) { return read_property(d); });
}

model::Result<std::vector<std::string>> PropertiesApi::list_groups(const std::string& object_type) {
  auto r = client_.call(HttpMethod::get, "/crm/v3/properties/" + url_encode(object_type) + "/groups", "",
                        {.op = "properties.groups"});
  return parse_or_error<std::vector<std::string>>(r, "properties.groups", [](const rapidjson::Document& d) {
    std::vector<std::string> out;
    if (const auto* res = json::member(d, "results"); res && res->IsArray())
      for (const auto& g : res->GetArray()) out.push_back(json::get_string(g, "name"));
    return out;
  });
}

model::Result<std::vector<ObjectSchema>> PropertiesApi::list_schemas() {
  auto r = client_.call(HttpMethod::get, kSchemas, "", {.op = "schemas.list"});
  return parse_or_error<std::vector<ObjectSchema>>(r, "schemas.list", [](const rapidjson::Document& d) {
    std::vector<ObjectSchema> out;
    if (const auto* res = json::member(d, "results"); res && res->IsArray())
      for (const auto& s : res->GetArray()) out.push_back(read_schema(s));
    return out;
  });
}

model::Result<std::optional<ObjectSchema>> PropertiesApi::get_schema(const std::string& object_type) {
  auto r = client_.call(HttpMethod::get, kSchemas + "/" + url_encode(object_type), "", {.op = "schemas.get"});
  if (r.ok() && r->status == 404) return std::optional<ObjectSchema>();
  return parse_or_error<std::optional<ObjectSchema>>(
      r, "schemas.get", [](const rapidjson::Document& d) { return std::optional<ObjectSchema>(read_schema(d)); });
}

model::Result<ObjectSchema> PropertiesApi::create_schema(const SchemaSpec& spec) {
  json::Writer w;
  w->StartObject();
  w.kv("name", spec.name);
  w.key("labels");
  w->StartObject();
  w.kv("singular", spec.label_singular);
  w.kv("plural", spec.label_plural);
  w->EndObject();
  if (!spec.primary_display_property.empty()) w.kv("primaryDisplayProperty", spec.primary_display_property);
  codec::write_string_array(w, "secondaryDisplayProperties", spec.secondary_display_properties);
  codec::write_string_array(w, "searchableProperties", spec.searchable_properties);
  codec::write_string_array(w, "requiredProperties", spec.required_properties);
  codec::write_string_array(w, "associatedObjects", spec.associated_objects);
  w.key("properties");
  w->StartArray();
  for (const auto& p : spec.properties) write_property(w, p);
  w->EndArray();
  w->EndObject();
  auto r = client_.call(HttpMethod::post, kSchemas, w.take(), {.op = "schemas.create", .idempotent = false});
  return parse_or_error<ObjectSchema>(r, "schemas.create", [](const rapidjson::Document& d) { return read_schema(d); });
}

model::Result<SchemaAssociation> PropertiesApi::add_schema_association(const std::string& object_type,
                                                                       const std::string& from_object_type_id,
                                                                       const std::string& to_object_type_id,
                                                                       const std::string& name) {
  json::Writer w;
  w->StartObject();
  w.kv("fromObjectTypeId", from_object_type_id);
  w.kv("toObjectTypeId", to_object_type_id);
  if (!name.empty()) w.kv("name", name);
  w->EndObject();
  auto r = client_.call(HttpMethod::post, kSchemas + "/" + url_encode(object_type) + "/associations", w.take(),
                        {.op = "schemas.add_association", .idempotent = false});
  return parse_or_error<SchemaAssociation>(r, "schemas.add_association", [](const rapidjson::Document& d) {
    return SchemaAssociation{json::get_string(d, "id"), json::get_string(d, "fromObjectTypeId"),
                             json::get_string(d, "toObjectTypeId"), json::get_string(d, "name")};
  });
}

}  // namespace hubsync::hubspot
