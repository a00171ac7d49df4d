// Properties API and Schemas API.
#include "tests/hubspot-sim/impl.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

void write_property(JsonWriter& w, const PropertyDef& d) {
  w.StartObject();
  w.Key("name"); write_str(w, d.name);
  w.Key("label"); write_str(w, d.label);
  w.Key("type"); write_str(w, d.type);
  w.Key("fieldType"); write_str(w, d.field_type);
  w.Key("description"); write_str(w, d.description);
  w.Key("groupName"); write_str(w, d.group_name);
  w.Key("options");
  w.StartArray();
  for (const auto& o : d.options) {
    w.StartObject();
    w.Key("label"); write_str(w, o.label);
    w.Key("value"); write_str(w, o.value);
    w.Key("displayOrder"); w.Int(o.display_order);
    w.Key("hidden"); w.Bool(o.hidden);
    w.EndObject();
  }
  w.EndArray();
  w.Key("displayOrder"); w.Int(d.display_order);
  w.Key("calculated"); w.Bool(d.calculated);
  w.Key("externalOptions"); w.Bool(false);
  w.Key("hasUniqueValue"); w.Bool(d.has_unique_value);
  w.Key("hidden"); w.Bool(false);
  w.Key("hubspotDefined"); w.Bool(d.hubspot_defined);
  w.Key("formField"); w.Bool(d.form_field);
  w.Key("archived"); w.Bool(d.archived);
  w.Key("createdAt"); write_str(w, format_iso_ms(d.created_ms));
  w.Key("updatedAt"); write_str(w, format_iso_ms(d.updated_ms));
  w.Key("modificationMetadata");
  w.StartObject();
  w.Key("archivable"); w.Bool(!d.hubspot_defined);
  w.Key("readOnlyDefinition"); w.Bool(d.hubspot_defined);
  w.Key("readOnlyValue"); w.Bool(d.read_only);
  w.EndObject();
  w.EndObject();
}

PropertyDef parse_property(const rapidjson::Value& v) {
  if (!v.IsObject()) throw make_api_error(400, "VALIDATION_ERROR", "Invalid property definition");
  PropertyDef d;
  d.name = get_string(v, "name");
  d.label = get_string(v, "label");
  d.type = get_string(v, "type");
  d.field_type = get_string(v, "fieldType");
  d.group_name = get_string(v, "groupName");
  d.description = get_string(v, "description");
  if (v.HasMember("hasUniqueValue") && v["hasUniqueValue"].IsBool()) d.has_unique_value = v["hasUniqueValue"].GetBool();
  if (v.HasMember("formField") && v["formField"].IsBool()) d.form_field = v["formField"].GetBool();
  if (v.HasMember("displayOrder") && v["displayOrder"].IsInt()) d.display_order = v["displayOrder"].GetInt();
  if (auto it = v.FindMember("options"); it != v.MemberEnd() && it->value.IsArray()) {
    int i = 0;
    for (const auto& o : it->value.GetArray()) {
      PropertyOption opt{get_string(o, "label"), get_string(o, "value"), i++, false};
      if (o.HasMember("displayOrder") && o["displayOrder"].IsInt()) opt.display_order = o["displayOrder"].GetInt();
      if (o.HasMember("hidden") && o["hidden"].IsBool()) opt.hidden = o["hidden"].GetBool();
      d.options.push_back(opt);
    }
  }
  return d;
}

void write_group(JsonWriter& w, const PropertyGroup& g) {
  w.StartObject();
  w.Key("name"); write_str(w, g.name);
  w.Key("label"); write_str(w, g.label);
  w.Key("displayOrder"); w.Int(g.display_order);
  w.Key("archived"); w.Bool(g.archived);
  w.EndObject();
}


}  // namespace

HttpResponse Simulator::Impl::handle_properties(HttpRequest& req, const std::vector<std::string>& seg) {
  const std::string& type = seg[3];
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  std::int64_t started = now();
  if (seg.size() == 4 && req.method == "GET") {
    w.StartObject();
    w.Key("results");
    w.StartArray();
    for (const auto& d : portal.properties(type, req.query_param("archived") == "true")) write_property(w, d);
    w.EndArray();
    w.EndObject();
    return json_response(200, done(sb));
  }
  if (seg.size() == 4 && req.method == "POST") {
    auto body = parse_body(req.body);
    write_property(w, portal.create_property(type, parse_property(body)));
    return json_response(201, done(sb));
  }
  if (seg.size() >= 5 && seg[4] == "groups") {
    if (seg.size() == 5 && req.method == "GET") {
      w.StartObject();
      w.Key("results");
      w.StartArray();
      for (const auto& g : portal.groups(type)) write_group(w, g);
      w.EndArray();
      w.EndObject();
      return json_response(200, done(sb));
    }
    if (seg.size() == 5 && req.method == "POST") {
      auto body = parse_body(req.body);
      PropertyGroup g{get_string(body, "name"), get_string(body, "label"),
                      body.HasMember("displayOrder") && body["displayOrder"].IsInt() ? body["displayOrder"].GetInt() : -1, false};
      write_group(w, portal.create_group(type, g));
      return json_response(201, done(sb));
    }
    if (seg.size() == 6) {
      if (req.method == "GET") {
        for (const auto& g : portal.groups(type))
          if (g.name == seg[5]) {
            write_group(w, g);
            return json_response(200, done(sb));
          }
        throw make_api_error(404, "OBJECT_NOT_FOUND", "Unable to find property group " + seg[5]);
      }
      if (req.method == "PATCH") {
        auto body = parse_body(req.body);
        std::optional<std::string> label;
        std::optional<int> order;
        if (body.HasMember("label")) label = get_string(body, "label");
        if (body.HasMember("displayOrder") && body["displayOrder"].IsInt()) order = body["displayOrder"].GetInt();
        write_group(w, portal.update_group(type, seg[5], label, order));
        return json_response(200, done(sb));
      }
      if (req.method == "DELETE") {
        portal.archive_group(type, seg[5]);
        HttpResponse r; r.status = 204; r.content_type.clear();
        return r;
      }
    }
  }
  if (seg.size() == 6 && seg[4] == "batch" && req.method == "POST") {
    auto body = parse_body(req.body);
    auto it = body.FindMember("inputs");
    if (it == body.MemberEnd() || !it->value.IsArray())
      throw make_api_error(400, "VALIDATION_ERROR", "Invalid input JSON: `inputs` is required");
    if (seg[5] == "archive") {
      for (const auto& v : it->value.GetArray()) portal.archive_property(type, get_string(v, "name"));
      HttpResponse r; r.status = 204; r.content_type.clear();
      return r;
    }
    std::vector<PropertyDef> out;
    if (seg[5] == "create") {
      for (const auto& v : it->value.GetArray()) out.push_back(portal.create_property(type, parse_property(v)));
    } else if (seg[5] == "read") {
      for (const auto& v : it->value.GetArray()) out.push_back(portal.property(type, get_string(v, "name")));
    } else {
      throw make_api_error(404, "OBJECT_NOT_FOUND", "Unknown batch operation " + seg[5]);
    }
    w.StartObject();
    w.Key("status"); w.String("COMPLETE");
    w.Key("results");
    w.StartArray();
    for (const auto& d : out) write_property(w, d);
    w.EndArray();
    w.Key("startedAt"); write_str(w, format_iso_ms(started));
    w.Key("completedAt"); write_str(w, format_iso_ms(now()));
    w.EndObject();
    return json_response(seg[5] == "create" ? 201 : 200, done(sb));
  }
  if (seg.size() == 5) {
    const std::string& name = seg[4];
    if (req.method == "GET") {
      write_property(w, portal.property(type, name));
      return json_response(200, done(sb));
    }
    if (req.method == "PATCH") {
      auto body = parse_body(req.body);
      std::optional<bool> unique;
      if (body.HasMember("hasUniqueValue") && body["hasUniqueValue"].IsBool()) unique = body["hasUniqueValue"].GetBool();
      PropertyDef patch = parse_property(body);
      auto d = portal.update_property(type, name, [&](PropertyDef& p) {
        if (!patch.label.empty()) p.label = patch.label;
        if (!patch.type.empty()) p.type = patch.type;
        if (!patch.field_type.empty()) p.field_type = patch.field_type;
        if (!patch.group_name.empty()) p.group_name = patch.group_name;
        if (body.HasMember("description")) p.description = patch.description;
        if (body.HasMember("options")) p.options = patch.options;
        if (body.HasMember("displayOrder")) p.display_order = patch.display_order;
      }, unique);
      write_property(w, d);
      return json_response(200, done(sb));
    }
    if (req.method == "DELETE") {
      portal.archive_property(type, name);
      HttpResponse r; r.status = 204; r.content_type.clear();
      return r;
    }
  }
  throw make_api_error(405, "VALIDATION_ERROR", "Method " + req.method + " not allowed on " + req.path);
}

namespace {

void write_schema(JsonWriter& w, const ObjectType& t, const std::vector<std::pair<std::string, std::vector<AssocTypeDef>>>& assocs) {
  w.StartObject();
  w.Key("id"); write_str(w, t.object_type_id.substr(2));
  w.Key("objectTypeId"); write_str(w, t.object_type_id);
  w.Key("name"); write_str(w, t.name);
  w.Key("fullyQualifiedName"); write_str(w, t.fully_qualified_name);
  w.Key("labels");
  w.StartObject();
  w.Key("singular"); write_str(w, t.label_singular);
  w.Key("plural"); write_str(w, t.label_plural);
  w.EndObject();
  w.Key("primaryDisplayProperty"); write_str(w, t.primary_display_property);
  for (const auto& [key, list] : {std::pair<const char*, const std::vector<std::string>*>{"secondaryDisplayProperties", &t.secondary_display_properties},
                                  {"searchableProperties", &t.searchable_properties},
                                  {"requiredProperties", &t.required_properties}}) {
    w.Key(key);
    w.StartArray();
    for (const auto& s : *list) write_str(w, s);
    w.EndArray();
  }
  w.Key("properties");
  w.StartArray();
  for (const auto& [n, d] : t.properties)
    if (!d.archived) write_property(w, d);
  w.EndArray();
  w.Key("associations");
  w.StartArray();
  for (const auto& [other, defs] : assocs)
    for (const auto& d : defs) {
      w.StartObject();
      w.Key("id"); write_str(w, std::to_string(d.type_id));
      w.Key("fromObjectTypeId"); write_str(w, t.object_type_id);
      w.Key("toObjectTypeId"); write_str(w, other);
      w.Key("name"); write_str(w, d.name);
      w.EndObject();
    }
  w.EndArray();
  w.Key("archived"); w.Bool(false);
  w.Key("createdAt"); write_str(w, format_iso_ms(t.created_ms));
  w.Key("updatedAt"); write_str(w, format_iso_ms(t.updated_ms));
  w.EndObject();
}

std::vector<std::string> strings(const rapidjson::Value& body, const char* name) {
  std::vector<std::string> out;
  auto it = body.FindMember(name);
  if (it != body.MemberEnd() && it->value.IsArray())
    for (const auto& v : it->value.GetArray())
      if (v.IsString()) out.emplace_back(v.GetString());
  return out;
}

}  // namespace

HttpResponse Simulator::Impl::handle_schemas(HttpRequest& req, const std::vector<std::string>& seg) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  auto assocs_of = [&](const ObjectType& t) {
    std::vector<std::pair<std::string, std::vector<AssocTypeDef>>> out;
    for (const char* std_type : {"0-1", "0-2", "0-3", "0-5"}) {
      auto defs = portal.association_types(t.object_type_id, std_type);
      if (!defs.empty()) out.emplace_back(std_type, defs);
    }
    for (const auto& c : portal.custom_schemas()) {
      auto defs = portal.association_types(t.object_type_id, c.object_type_id);
      if (!defs.empty()) out.emplace_back(c.object_type_id, defs);
    }
    return out;
  };
  if (seg.size() == 3 && req.method == "GET") {
    w.StartObject();
    w.Key("results");
    w.StartArray();
    for (const auto& t : portal.custom_schemas()) write_schema(w, t, assocs_of(t));
    w.EndArray();
    w.EndObject();
    return json_response(200, done(sb));
  }
  if (seg.size() == 3 && req.method == "POST") {
    auto body = parse_body(req.body);
    ObjectType t;
    t.name = get_string(body, "name");
    if (body.HasMember("labels")) {
      t.label_singular = get_string(body["labels"], "singular");
      t.label_plural = get_string(body["labels"], "plural");
    }
    if (body.HasMember("objectTypeId"))
      throw make_api_error(400, "VALIDATION_ERROR", "objectTypeId is assigned by HubSpot and cannot be set");
    t.primary_display_property = get_string(body, "primaryDisplayProperty");
    t.secondary_display_properties = strings(body, "secondaryDisplayProperties");
    t.searchable_properties = strings(body, "searchableProperties");
    t.required_properties = strings(body, "requiredProperties");
    if (auto it = body.FindMember("properties"); it != body.MemberEnd() && it->value.IsArray())
      for (const auto& p : it->value.GetArray()) {
        PropertyDef d = parse_property(p);
        if (d.name.empty() || d.label.empty() || d.type.empty())
          throw make_api_error(400, "VALIDATION_ERROR", "Schema properties need name, label and type");
        if (d.field_type.empty()) d.field_type = d.type == "number" ? "number" : d.type == "enumeration" ? "select" : (d.type == "date" || d.type == "datetime") ? "date" : "text";
        t.properties[d.name] = d;
      }
    auto created = portal.create_schema(t, strings(body, "associatedObjects"));
    write_schema(w, created, assocs_of(created));
    return json_response(201, done(sb));
  }
  if (seg.size() >= 4) {
    const std::string& ref = seg[3];
    if (seg.size() == 5 && seg[4] == "associations" && req.method == "POST") {
      auto body = parse_body(req.body);
      std::string from = get_string(body, "fromObjectTypeId"), to = get_string(body, "toObjectTypeId");
      if (from.empty() || to.empty())
        throw make_api_error(400, "VALIDATION_ERROR", "fromObjectTypeId and toObjectTypeId are required");
      auto d = portal.create_association_definition(from, to, get_string(body, "name"), "", "USER_DEFINED");
      w.StartObject();
      w.Key("id"); write_str(w, std::to_string(d.type_id));
      w.Key("fromObjectTypeId"); write_str(w, portal.resolve_type(from));
      w.Key("toObjectTypeId"); write_str(w, portal.resolve_type(to));
      w.Key("name"); write_str(w, d.name);
      w.Key("createdAt"); write_str(w, format_iso_ms(now()));
      w.Key("updatedAt"); write_str(w, format_iso_ms(now()));
      w.EndObject();
      return json_response(201, done(sb));
    }
    if (seg.size() == 4) {
      ObjectType t = portal.type_definition(ref);
      if (!t.custom && req.method != "GET")
        throw make_api_error(400, "VALIDATION_ERROR", "Only custom object schemas can be changed");
      if (req.method == "GET") {
        if (!t.custom) throw make_api_error(404, "OBJECT_NOT_FOUND", "Unable to find schema " + ref);
        write_schema(w, t, assocs_of(t));
        return json_response(200, done(sb));
      }
      if (req.method == "PATCH") {
        auto body = parse_body(req.body);
        auto updated = portal.update_schema(ref, [&](ObjectType& s) {
          if (body.HasMember("name")) s.name = get_string(body, "name");
          if (body.HasMember("labels")) {
            s.label_singular = get_string(body["labels"], "singular", s.label_singular);
            s.label_plural = get_string(body["labels"], "plural", s.label_plural);
          }
          if (body.HasMember("primaryDisplayProperty")) s.primary_display_property = get_string(body, "primaryDisplayProperty");
          if (body.HasMember("secondaryDisplayProperties")) s.secondary_display_properties = strings(body, "secondaryDisplayProperties");
          if (body.HasMember("searchableProperties")) s.searchable_properties = strings(body, "searchableProperties");
          if (body.HasMember("requiredProperties")) s.required_properties = strings(body, "requiredProperties");
        });
        write_schema(w, updated, assocs_of(updated));
        return json_response(200, done(sb));
      }
      if (req.method == "DELETE") {
        portal.delete_schema(ref);
        HttpResponse r; r.status = 204; r.content_type.clear();
        return r;
      }
    }
  }
  throw make_api_error(405, "VALIDATION_ERROR", "Method " + req.method + " not allowed on " + req.path);
}

}  // namespace hubsync::sim
