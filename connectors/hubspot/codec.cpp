#include "connectors/hubspot/codec.h"

#include "connectors/hubspot/oauth.h"

namespace hubsync::hubspot::codec {

model::Record record_from_json(const rapidjson::Value& obj) {
  model::Record rec;
  rec.hubspot_id = json::get_string(obj, "id");
  if (const auto* props = json::member(obj, "properties"); props && props->IsObject()) {
    for (auto it = props->MemberBegin(); it != props->MemberEnd(); ++it) {
      auto text = json::scalar_text(it->value);
      rec.fields[it->name.GetString()] = text ? model::Value::text(*text) : model::Value::null();
    }
  }
  if (auto updated = json::opt_string(obj, "updatedAt")) {
    if (auto t = model::parse_datetime(*updated); t.ok()) rec.changed_at_ms = t->ms;
  }
  return rec;
}

void write_properties(json::Writer& w, const model::Fields& fields) {
  w.key("properties");
  w->StartObject();
  for (const auto& [name, value] : fields) w.kv(name, value.canonical());
  w->EndObject();
}

void write_string_array(json::Writer& w, std::string_view key, const std::vector<std::string>& items) {
  w.key(key);
  w->StartArray();
  for (const auto& s : items) w.str(s);
  w->EndArray();
}

std::string properties_query(const std::vector<std::string>& properties) {
  std::string out;
  for (const auto& p : properties) out += (out.empty() ? "" : ",") + url_encode(p);
  return out;
}

std::string last_modified_property(const std::string& object_type) {
  return (object_type == "contacts" || object_type == "contact" || object_type == "0-1") ? "lastmodifieddate"
                                                                                         : "hs_lastmodifieddate";
}

}  // namespace hubsync::hubspot::codec
