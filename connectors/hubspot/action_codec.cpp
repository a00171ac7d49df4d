#include "connectors/hubspot/action_codec.h"

#include <fmt/format.h>

#include "connectors/hubspot/json.h"

namespace hubsync::hubspot {

namespace {

using model::ErrorKind;
using model::make_error;

void write_outputs(json::Writer& w, const actions::Outputs& outputs) {
  w->StartObject();
  for (const auto& [k, v] : outputs) w.kv(k, v);
  w->EndObject();
}

// A typeDefinition's name, type, fieldType and options. Input fields take
// options as label/value; output fields need the full Option shape the
// automation API's schema requires (`full`).
void write_type_head(json::Writer& w, const actions::FieldDef& f, bool full) {
  w.kv("name", f.name);
  w.kv("type", f.type);
  w.kv("fieldType", f.field_type);
  w.key("options");
  w->StartArray();
  int order = 0;
  for (const auto& o : f.options) {
    w->StartObject();
    w.kv("label", o.label);
    w.kv("value", o.value);
    if (full) {
      w.kv("description", "");
      w.key("displayOrder");
      w->Int(order++);
      w.key("doubleData");
      w->Double(0);
      w.key("hidden");
      w->Bool(false);
      w.key("readOnly");
      w->Bool(false);
    }
    w->EndObject();
  }
  w->EndArray();
}

void write_input(json::Writer& w, const actions::FieldDef& f) {
  w->StartObject();
  w.key("typeDefinition");
  w->StartObject();
  write_type_head(w, f, /*full=*/false);
  w->EndObject();
  w.key("supportedValueTypes");
  w->StartArray();
  w.str("STATIC_VALUE");
  w.str("OBJECT_PROPERTY");
  w->EndArray();
  w.key("isRequired");
  w->Bool(f.required);
  w->EndObject();
}

const char* schema_type(const std::string& type) {
  if (type == "number") return "DOUBLE";
  if (type == "bool") return "BOOLEAN";
  return "STRING";
}

void write_output(json::Writer& w, const actions::FieldDef& f) {
  w->StartObject();
  w.key("typeDefinition");
  w->StartObject();
  write_type_head(w, f, /*full=*/true);
  w.key("externalOptions");
  w->Bool(false);
  w.key("useChirp");
  w->Bool(false);
  w.key("schema");
  w->StartObject();
  w.kv("type", schema_type(f.type));
  w->EndObject();
  w->EndObject();
  w->EndObject();
}

void write_field_labels(json::Writer& w, const char* key, const std::vector<actions::FieldDef>& fields) {
  w.key(key);
  w->StartObject();
  for (const auto& f : fields) w.kv(f.name, f.label);
  w->EndObject();
}

void write_labels(json::Writer& w, const actions::Definition& d) {
  w.key("labels");
  w->StartObject();
  w.key("en");
  w->StartObject();
  w.kv("actionName", d.label);
  w.kv("actionDescription", d.description);
  w.kv("appDisplayName", "hubsync");
  write_field_labels(w, "inputFieldLabels", d.inputs);
  write_field_labels(w, "outputFieldLabels", d.outputs);
  w->EndObject();
  w->EndObject();
}

std::vector<mapping::PropertyOption> read_options(const rapidjson::Value& type_def) {
  std::vector<mapping::PropertyOption> out;
  const auto* opts = json::member(type_def, "options");
  if (opts == nullptr || !opts->IsArray()) return out;
  for (const auto& o : opts->GetArray())
    if (o.IsObject()) out.push_back({json::get_string(o, "value"), json::get_string(o, "label")});
  return out;
}

std::vector<actions::FieldDef> read_fields(const rapidjson::Value& d, const char* key, const rapidjson::Value* labels,
                                           bool inputs) {
  std::vector<actions::FieldDef> out;
  const auto* list = json::member(d, key);
  if (list == nullptr || !list->IsArray()) return out;
  const auto* names = labels ? json::member(*labels, inputs ? "inputFieldLabels" : "outputFieldLabels") : nullptr;
  for (const auto& f : list->GetArray()) {
    const auto* t = f.IsObject() ? json::member(f, "typeDefinition") : nullptr;
    if (t == nullptr || !t->IsObject()) continue;
    actions::FieldDef def;
    def.name = json::get_string(*t, "name");
    def.type = json::get_string(*t, "type");
    def.field_type = json::get_string(*t, "fieldType");
    def.options = read_options(*t);
    def.required = inputs && json::get_bool(f, "isRequired");
    if (names != nullptr && names->IsObject()) def.label = json::get_string(*names, def.name.c_str());
    out.push_back(std::move(def));
  }
  return out;
}

actions::Registered read_definition(const rapidjson::Value& d) {
  actions::Registered r;
  r.id = json::id_text(d, "id").value_or("");
  r.revision_id = json::id_text(d, "revisionId").value_or("");
  auto& def = r.definition;
  def.action_url = json::get_string(d, "actionUrl");
  def.published = json::get_bool(d, "published");
  if (const auto* types = json::member(d, "objectTypes"); types && types->IsArray())
    for (const auto& t : types->GetArray())
      if (t.IsString()) def.object_types.emplace_back(t.GetString(), t.GetStringLength());
  const rapidjson::Value* en = nullptr;
  if (const auto* labels = json::member(d, "labels"); labels && labels->IsObject()) {
    en = json::member(*labels, "en");
    if (en && en->IsObject()) {
      def.label = json::get_string(*en, "actionName");
      def.description = json::get_string(*en, "actionDescription");
    }
  }
  def.inputs = read_fields(d, "inputFields", en, true);
  def.outputs = read_fields(d, "outputFields", en, false);
  return r;
}

}  // namespace

model::Result<actions::ActionRequest> decode_action_request(std::string_view body) {
  try {
    rapidjson::Document doc;
    try {
      doc = json::parse(body);
    } catch (const JsonError& e) {
      return make_error(ErrorKind::invalid_record, std::string("action request: ") + e.what());
    }
    if (!doc.IsObject()) return make_error(ErrorKind::invalid_record, "action request is not a JSON object");
    actions::ActionRequest r;
    r.callback_id = json::get_string(doc, "callbackId");
    if (r.callback_id.empty()) return make_error(ErrorKind::invalid_record, "action request without callbackId");
    const auto* object = json::member(doc, "object");
    if (object == nullptr || !object->IsObject())
      return make_error(ErrorKind::invalid_record, "action request without an object");
    r.object_id = json::id_text(*object, "objectId").value_or("");
    r.object_type = json::get_string(*object, "objectType");
    if (r.object_id.empty()) return make_error(ErrorKind::invalid_record, "action request without object.objectId");
    if (const auto* origin = json::member(doc, "origin"); origin && origin->IsObject()) {
      r.portal_id = json::get_int(*origin, "portalId");
      r.definition_id = json::id_text(*origin, "actionDefinitionId").value_or("");
      r.definition_version = json::get_int(*origin, "actionDefinitionVersion");
    }
    if (const auto* in = json::member(doc, "inputFields"); in != nullptr) {
      if (!in->IsObject()) return make_error(ErrorKind::invalid_record, "action request: inputFields is not an object");
      for (const auto& m : in->GetObject())
        if (auto v = json::scalar_text(m.value)) r.inputs[std::string(m.name.GetString(), m.name.GetStringLength())] = *v;
    }
    return r;
  } catch (const JsonError& e) {
    return make_error(ErrorKind::invalid_record, std::string("action request: ") + e.what());
  }
}

std::string encode_action_answer(const actions::Outputs& outputs) {
  json::Writer w;
  w->StartObject();
  w.key("outputFields");
  write_outputs(w, outputs);
  w->EndObject();
  return w.take();
}

std::string encode_definition(const actions::Definition& d, bool create) {
  json::Writer w;
  w->StartObject();
  w.kv("actionUrl", d.action_url);
  w.key("published");
  w->Bool(d.published);
  w.key("objectTypes");
  w->StartArray();
  for (const auto& t : d.object_types) w.str(t);
  w->EndArray();
  w.key("inputFields");
  w->StartArray();
  for (const auto& f : d.inputs) write_input(w, f);
  w->EndArray();
  w.key("outputFields");
  w->StartArray();
  for (const auto& f : d.outputs) write_output(w, f);
  w->EndArray();
  write_labels(w, d);
  if (create) {
    w.key("functions");
    w->StartArray();
    w->EndArray();
  }
  w->EndObject();
  return w.take();
}

model::Result<actions::Registered> decode_definition(std::string_view text) {
  try {
    auto doc = json::parse(text);
    if (!doc.IsObject()) return make_error(ErrorKind::invalid_record, "action definition is not a JSON object");
    auto r = read_definition(doc);
    if (r.id.empty()) return make_error(ErrorKind::invalid_record, "action definition without id");
    return r;
  } catch (const JsonError& e) {
    return make_error(ErrorKind::invalid_record, std::string("action definition: ") + e.what());
  }
}

model::Result<std::pair<std::vector<actions::Registered>, std::string>> decode_definition_page(
    std::string_view text) {
  try {
    auto doc = json::parse(text);
    const auto* results = doc.IsObject() ? json::member(doc, "results") : nullptr;
    if (results == nullptr || !results->IsArray())
      return make_error(ErrorKind::invalid_record, "action definitions page without results");
    std::pair<std::vector<actions::Registered>, std::string> out;
    for (const auto& d : results->GetArray())
      if (d.IsObject()) out.first.push_back(read_definition(d));
    if (const auto* paging = json::member(doc, "paging"); paging && paging->IsObject())
      if (const auto* next = json::member(*paging, "next"); next && next->IsObject())
        out.second = json::get_string(*next, "after");
    return out;
  } catch (const JsonError& e) {
    return make_error(ErrorKind::invalid_record, std::string("action definitions page: ") + e.what());
  }
}

std::string encode_callback_completion(const actions::Outputs& outputs) {
  json::Writer w;
  w->StartObject();
  w.key("outputFields");
  write_outputs(w, outputs);
  w.key("typedOutputs");
  w->StartObject();
  w->EndObject();
  w->EndObject();
  return w.take();
}

}  // namespace hubsync::hubspot
