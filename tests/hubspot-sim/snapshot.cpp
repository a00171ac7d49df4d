// Snapshot file: custom schemas, custom properties and records (current
// values, not history) saved at stop and loaded at construction.
#include <fstream>
#include <sstream>

#include "tests/hubspot-sim/impl.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

void write_prop_def(JsonWriter& w, const PropertyDef& d) {
  w.StartObject();
  w.Key("name"); write_str(w, d.name);
  w.Key("label"); write_str(w, d.label);
  w.Key("type"); write_str(w, d.type);
  w.Key("fieldType"); write_str(w, d.field_type);
  w.Key("groupName"); write_str(w, d.group_name);
  w.Key("hasUniqueValue"); w.Bool(d.has_unique_value);
  w.Key("options");
  w.StartArray();
  for (const auto& o : d.options) {
    w.StartObject();
    w.Key("label"); write_str(w, o.label);
    w.Key("value"); write_str(w, o.value);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

PropertyDef read_prop_def(const rapidjson::Value& v) {
  PropertyDef d;
  d.name = get_string(v, "name");
  d.label = get_string(v, "label");
  d.type = get_string(v, "type");
  d.field_type = get_string(v, "fieldType");
  d.group_name = get_string(v, "groupName");
  d.has_unique_value = v.HasMember("hasUniqueValue") && v["hasUniqueValue"].GetBool();
  for (const auto& o : v["options"].GetArray()) d.options.push_back({get_string(o, "label"), get_string(o, "value"), 0, false});
  return d;
}

}  // namespace

void Simulator::Impl::save_snapshot() {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("types");
  w.StartArray();
  std::vector<ObjectType> types;
  for (const char* s : {"0-1", "0-2", "0-3", "0-5"}) types.push_back(portal.type_definition(s));
  for (auto& c : portal.custom_schemas()) types.push_back(std::move(c));
  for (const auto& t : types) {
    w.StartObject();
    w.Key("objectTypeId"); write_str(w, t.object_type_id);
    w.Key("custom"); w.Bool(t.custom);
    w.Key("name"); write_str(w, t.name);
    w.Key("singular"); write_str(w, t.label_singular);
    w.Key("plural"); write_str(w, t.label_plural);
    w.Key("primaryDisplayProperty"); write_str(w, t.primary_display_property);
    w.Key("properties");
    w.StartArray();
    for (const auto& [n, d] : t.properties)
      if (!d.hubspot_defined && !d.archived) write_prop_def(w, d);
    w.EndArray();
    w.Key("records");
    w.StartArray();
    for (const auto& v : portal.dump(t.object_type_id)) {
      w.StartObject();
      w.Key("id"); w.Uint64(v.id);
      w.Key("createdMs"); w.Int64(v.created_ms);
      w.Key("updatedMs"); w.Int64(v.updated_ms);
      w.Key("archived"); w.Bool(v.archived);
      w.Key("properties");
      w.StartObject();
      for (const auto& [k, val] : *v.props) { write_str(w, k); write_str(w, val); }
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::string tmp = opts.snapshot_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(sb.GetString(), static_cast<std::streamsize>(sb.GetSize()));
  }
  std::rename(tmp.c_str(), opts.snapshot_file.c_str());
  log->info("snapshot saved file={} bytes={}", opts.snapshot_file, sb.GetSize());
}

void Simulator::Impl::load_snapshot() {
  std::ifstream in(opts.snapshot_file, std::ios::binary);
  if (!in) {
    log->info("snapshot file={} not found; starting empty", opts.snapshot_file);
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  rapidjson::Document d;
  d.Parse(ss.str().c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("types"))
    throw std::runtime_error("hubspot-sim: snapshot " + opts.snapshot_file + " is not valid JSON");
  for (const auto& t : d["types"].GetArray()) {
    std::string tid = get_string(t, "objectTypeId");
    if (t["custom"].GetBool()) {
      ObjectType o;
      o.name = get_string(t, "name");
      o.label_singular = get_string(t, "singular");
      o.label_plural = get_string(t, "plural");
      o.primary_display_property = get_string(t, "primaryDisplayProperty");
      for (const auto& p : t["properties"].GetArray()) {
        PropertyDef pd = read_prop_def(p);
        pd.group_name.clear();
        o.properties[pd.name] = pd;
      }
      tid = portal.create_schema(o, {}).object_type_id;
    } else {
      for (const auto& p : t["properties"].GetArray()) {
        PropertyDef pd = read_prop_def(p);
        portal.create_property(tid, pd);
      }
    }
    for (const auto& r : t["records"].GetArray()) {
      Props props;
      for (const auto& m : r["properties"].GetObject()) props[m.name.GetString()] = m.value.GetString();
      portal.import_record(tid, r["id"].GetUint64(), std::move(props), r["createdMs"].GetInt64(),
                           r["updatedMs"].GetInt64(), r["archived"].GetBool());
    }
  }
}

}  // namespace hubsync::sim
