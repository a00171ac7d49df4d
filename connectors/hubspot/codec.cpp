#include "connectors/hubspot/codec.h"

#include <algorithm>
#include <cctype>

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
  // An archived object last changed when it was archived.
  auto changed = json::get_bool(obj, "archived") ? json::opt_string(obj, "archivedAt") : std::nullopt;
  if (!changed) changed = json::opt_string(obj, "updatedAt");
  if (changed)
    if (auto t = model::parse_datetime(*changed); t.ok()) rec.changed_at_ms = t->ms;
  return rec;
}

std::map<std::string, std::vector<pipeline::PropertyVersion>> history_from_json(const rapidjson::Value& obj) {
  std::map<std::string, std::vector<pipeline::PropertyVersion>> out;
  const auto* hist = json::member(obj, "propertiesWithHistory");
  if (!hist || !hist->IsObject()) return out;
  for (auto it = hist->MemberBegin(); it != hist->MemberEnd(); ++it) {
    auto& versions = out[it->name.GetString()];
    if (!it->value.IsArray()) continue;
    for (const auto& v : it->value.GetArray()) {
      if (!v.IsObject()) continue;
      pipeline::PropertyVersion pv;
      if (const auto* value = json::member(v, "value")) pv.value = json::scalar_text(*value).value_or("");
      if (const auto* ts = json::member(v, "timestamp"))
        if (auto text = json::scalar_text(*ts))
          if (auto t = model::parse_datetime(*text); t.ok()) pv.timestamp_ms = t->ms;
      pv.source_type = json::get_string(v, "sourceType");
      if (const auto* id = json::member(v, "sourceId")) pv.source_id = json::scalar_text(*id).value_or("");
      versions.push_back(std::move(pv));
    }
    std::stable_sort(versions.begin(), versions.end(),
                     [](const auto& a, const auto& b) { return a.timestamp_ms > b.timestamp_ms; });
  }
  return out;
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

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string last_modified_property(const std::string& object_type) {
  return (object_type == "contacts" || object_type == "contact" || object_type == "0-1") ? "lastmodifieddate"
                                                                                         : "hs_lastmodifieddate";
}

void stamp_modified(model::Record& rec, const std::string& lm) {
  if (auto it = rec.fields.find(lm); it != rec.fields.end() && !it->second.is_null())
    if (auto t = model::parse_datetime(it->second.as_text()); t.ok()) rec.changed_at_ms = t->ms;
}

}  // namespace hubsync::hubspot::codec
