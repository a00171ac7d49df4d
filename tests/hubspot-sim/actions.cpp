// Custom workflow action definitions: validation against HubSpot's
// PublicActionDefinitionEgg / Patch and the revision store.
#include "tests/hubspot-sim/actions.h"

#include <set>

#include "tests/hubspot-sim/model.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {
namespace action_schema {

using Value = rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

const std::set<std::string> kEggMembers{"actionUrl", "archivedAt", "executionRules", "functions",
                                        "inputFieldDependencies", "inputFields", "labels",
                                        "objectRequestOptions", "objectTypes", "outputFields", "published"};
const std::set<std::string> kPatchMembers{"actionUrl", "executionRules", "inputFieldDependencies", "inputFields",
                                          "labels", "objectRequestOptions", "objectTypes", "outputFields",
                                          "published"};
const std::vector<std::string> kRequired{"actionUrl", "functions", "inputFields", "labels", "objectTypes",
                                         "published"};
const std::set<std::string> kInputTypes{"bool", "date", "datetime", "enumeration", "json", "number",
                                        "object_coordinates", "phone_number", "string"};
const std::set<std::string> kOutputTypes{"bool", "currency_number", "date", "datetime", "enumeration", "json",
                                         "number", "object_coordinates", "phone_number", "string"};
const std::set<std::string> kInputFieldTypes{"booleancheckbox", "calculation_equation", "checkbox", "date",
                                             "file", "html", "number", "phonenumber", "radio", "select",
                                             "text", "textarea"};
const std::set<std::string> kOutputFieldTypes{
    "booleancheckbox", "calculation_equation", "calculation_read_time", "calculation_rollup",
    "calculation_score", "checkbox", "date", "file", "html", "number", "phonenumber", "radio", "select",
    "text", "textarea", "unknown"};
const std::set<std::string> kValueTypes{"STATIC_VALUE", "OBJECT_PROPERTY"};
const std::set<std::string> kFunctionTypes{"POST_ACTION_EXECUTION", "POST_FETCH_OPTIONS", "PRE_ACTION_EXECUTION",
                                           "PRE_FETCH_OPTIONS"};
const std::set<std::string> kDependencyTypes{"SINGLE_FIELD", "CONDITIONAL_SINGLE_FIELD"};

[[noreturn]] void invalid(const std::string& field, const std::string& problem) {
  ApiError e = make_api_error(400, "VALIDATION_ERROR", "Invalid input JSON: " + field + " " + problem);
  ErrorDetail d;
  d.message = field + " " + problem;
  d.in = field;
  e.errors.push_back(std::move(d));
  throw e;
}

std::string str(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

const Value* member(const Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

const Value& required(const Value& obj, const char* name, const std::string& at) {
  const Value* v = member(obj, name);
  if (!v) invalid(at + (at.empty() ? "" : ".") + name, "is required");
  return *v;
}

void need_string(const Value& v, const std::string& field) {
  if (!v.IsString() || v.GetStringLength() == 0) invalid(field, "must be a non-empty string");
}

void need_enum(const Value& v, const std::string& field, const std::set<std::string>& allowed) {
  if (!v.IsString() || !allowed.count(str(v))) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    invalid(field, "must be one of " + list);
  }
}

void need_object(const Value& v, const std::string& field) {
  if (!v.IsObject()) invalid(field, "must be an object");
}

void need_array(const Value& v, const std::string& field) {
  if (!v.IsArray()) invalid(field, "must be an array");
}

void need_string_array(const Value& v, const std::string& field) {
  need_array(v, field);
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) need_string(v[i], field + "[" + std::to_string(i) + "]");
}

void optional_strings(const Value& obj, const std::string& at, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (const Value* v = member(obj, n); v && !v->IsString()) invalid(at + "." + n, "must be a string");
}

void check_options(const Value& v, const std::string& field) {
  need_array(v, field);
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    std::string at = field + "[" + std::to_string(i) + "]";
    need_object(v[i], at);
    if (!required(v[i], "label", at).IsString()) invalid(at + ".label", "must be a string");
    if (!required(v[i], "value", at).IsString()) invalid(at + ".value", "must be a string");
  }
}

// The schema object HubSpot's FieldTypeDefinition carries, for the types it
// names; anything else UNKNOWN.
const char* schema_type(const std::string& type) {
  if (type == "string") return "STRING";
  if (type == "bool") return "BOOLEAN";
  return "UNKNOWN";
}

/// PublicFieldTypeDefinition (inputs) or FieldTypeDefinition (outputs),
/// completed with the members HubSpot's answers always carry.
void normalize_type_definition(Value& td, const std::string& at, bool output, Alloc& a) {
  need_object(td, at);
  need_string(required(td, "name", at), at + ".name");
  const Value& type = required(td, "type", at);
  need_enum(type, at + ".type", output ? kOutputTypes : kInputTypes);
  if (const Value* ft = member(td, "fieldType"))
    need_enum(*ft, at + ".fieldType", output ? kOutputFieldTypes : kInputFieldTypes);
  optional_strings(td, at, {"label", "description", "helpText", "optionsUrl", "referencedObjectType"});
  if (const Value* o = member(td, "options")) check_options(*o, at + ".options");
  else td.AddMember("options", Value(rapidjson::kArrayType), a);
  if (!output) return;
  std::string type_name = str(type);
  if (!member(td, "externalOptions")) td.AddMember("externalOptions", false, a);
  if (!member(td, "useChirp")) td.AddMember("useChirp", false, a);
  if (!member(td, "schema")) {
    Value schema(rapidjson::kObjectType);
    schema.AddMember("type", Value(schema_type(type_name), a), a);
    td.AddMember("schema", schema, a);
  }
}

void normalize_input_fields(Value& v, Alloc& a) {
  need_array(v, "inputFields");
  std::set<std::string> names;
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    std::string at = "inputFields[" + std::to_string(i) + "]";
    Value& f = v[i];
    need_object(f, at);
    if (!required(f, "isRequired", at).IsBool()) invalid(at + ".isRequired", "must be a boolean");
    auto td = f.FindMember("typeDefinition");
    if (td == f.MemberEnd()) invalid(at + ".typeDefinition", "is required");
    normalize_type_definition(td->value, at + ".typeDefinition", false, a);
    if (!names.insert(str(td->value["name"])).second)
      invalid(at + ".typeDefinition.name", "repeats the input field " + str(td->value["name"]));
    if (const Value* s = member(f, "supportedValueTypes")) {
      need_array(*s, at + ".supportedValueTypes");
      for (rapidjson::SizeType k = 0; k < s->Size(); ++k)
        need_enum((*s)[k], at + ".supportedValueTypes[" + std::to_string(k) + "]", kValueTypes);
    }
  }
}

void normalize_output_fields(Value& v, Alloc& a) {
  need_array(v, "outputFields");
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    std::string at = "outputFields[" + std::to_string(i) + "]";
    need_object(v[i], at);
    auto td = v[i].FindMember("typeDefinition");
    if (td == v[i].MemberEnd()) invalid(at + ".typeDefinition", "is required");
    normalize_type_definition(td->value, at + ".typeDefinition", true, a);
  }
}

void check_labels(const Value& v) {
  need_object(v, "labels");
  if (v.MemberCount() == 0) invalid("labels", "must have at least one locale (e.g. en) with actionName");
  for (const auto& m : v.GetObject()) {
    std::string at = "labels." + str(m.name);
    need_object(m.value, at);
    need_string(required(m.value, "actionName", at), at + ".actionName");
  }
}

void check_dependencies(const Value& v) {
  need_array(v, "inputFieldDependencies");
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    std::string at = "inputFieldDependencies[" + std::to_string(i) + "]";
    need_object(v[i], at);
    const Value& type = required(v[i], "dependencyType", at);
    need_enum(type, at + ".dependencyType", kDependencyTypes);
    need_string(required(v[i], "controllingFieldName", at), at + ".controllingFieldName");
    need_string_array(required(v[i], "dependentFieldNames", at), at + ".dependentFieldNames");
    if (str(type) == "CONDITIONAL_SINGLE_FIELD" && !required(v[i], "controllingFieldValue", at).IsString())
      invalid(at + ".controllingFieldValue", "must be a string");
  }
}

void check_execution_rules(const Value& v) {
  need_array(v, "executionRules");
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    std::string at = "executionRules[" + std::to_string(i) + "]";
    need_object(v[i], at);
    need_string(required(v[i], "labelName", at), at + ".labelName");
    need_object(required(v[i], "conditions", at), at + ".conditions");
  }
}

/// PublicActionFunction[] in, PublicActionFunctionIdentifier[] out (the
/// source is accepted and not kept: the functions API is left out).
void normalize_functions(Value& v, Alloc& a, std::uint64_t& next_function_id) {
  need_array(v, "functions");
  Value out(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    std::string at = "functions[" + std::to_string(i) + "]";
    need_object(v[i], at);
    need_enum(required(v[i], "functionType", at), at + ".functionType", kFunctionTypes);
    if (!required(v[i], "functionSource", at).IsString()) invalid(at + ".functionSource", "must be a string");
    std::string id = std::to_string(next_function_id++);
    if (const Value* given = member(v[i], "id")) {
      need_string(*given, at + ".id");
      id = str(*given);
    }
    Value f(rapidjson::kObjectType);
    f.AddMember("functionType", Value(v[i]["functionType"], a), a);
    f.AddMember("id", Value(id.c_str(), static_cast<rapidjson::SizeType>(id.size()), a), a);
    out.PushBack(f, a);
  }
  v = out;
}

void normalize_member(const std::string& name, Value& v, Alloc& a, std::uint64_t& next_function_id) {
  if (name == "actionUrl") {
    need_string(v, name);
    std::string url = str(v);
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) invalid(name, "must be an http(s) URL");
  } else if (name == "published") {
    if (!v.IsBool()) invalid(name, "must be a boolean");
  } else if (name == "objectTypes") {
    need_string_array(v, name);
    if (v.Empty()) invalid(name, "must name at least one object type");
  } else if (name == "labels") {
    check_labels(v);
  } else if (name == "inputFields") {
    normalize_input_fields(v, a);
  } else if (name == "outputFields") {
    normalize_output_fields(v, a);
  } else if (name == "functions") {
    normalize_functions(v, a, next_function_id);
  } else if (name == "inputFieldDependencies") {
    check_dependencies(v);
  } else if (name == "executionRules") {
    check_execution_rules(v);
  } else if (name == "objectRequestOptions") {
    need_object(v, name);
    need_string_array(required(v, "properties", name), name + ".properties");
  } else if (name == "archivedAt") {
    if (!v.IsInt64()) invalid(name, "must be an integer");
  }
}

/// Validates `in` (an Egg, or a Patch when `patch`) and returns its members
/// normalised, `archivedAt` dropped (the server sets it).
rapidjson::Document normalize(const rapidjson::Value& in, bool patch, std::uint64_t& next_function_id) {
  if (!in.IsObject()) invalid("body", "must be a JSON object");
  rapidjson::Document doc;
  doc.CopyFrom(in, doc.GetAllocator());
  for (auto& m : doc.GetObject()) {
    std::string name = str(m.name);
    if (!(patch ? kPatchMembers : kEggMembers).count(name))
      invalid(name, patch ? "is not a member of PublicActionDefinitionPatch"
                          : "is not a member of PublicActionDefinitionEgg");
    normalize_member(name, m.value, doc.GetAllocator(), next_function_id);
  }
  if (!patch)
    for (const auto& r : kRequired)
      if (!doc.HasMember(r.c_str())) invalid(r, "is required");
  doc.RemoveMember("archivedAt");
  return doc;
}

std::uint64_t parse_definition_id(const std::string& id) {
  if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoull(id);
}

ApiError definition_not_found(const std::string& id) {
  return make_api_error(404, "OBJECT_NOT_FOUND", "Action definition " + id + " not found");
}

}  // namespace action_schema
}  // namespace

using action_schema::definition_not_found;
using action_schema::parse_definition_id;

std::string definition_json(const ActionDefinitionView& d) {
  rapidjson::Document body;
  body.Parse(d.current.body_json.c_str());
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("id");
  write_str(w, d.id);
  w.Key("revisionId");
  write_str(w, std::to_string(d.current.revision));
  for (const auto& m : body.GetObject()) {
    w.Key(m.name.GetString(), m.name.GetStringLength());
    m.value.Accept(w);
  }
  if (d.archived_ms) {
    w.Key("archivedAt");
    w.Int64(d.archived_ms);
  }
  w.EndObject();
  return done(sb);
}

std::string revision_json(const ActionRevisionView& r) {
  ActionDefinitionView snapshot;
  snapshot.id = r.definition_id;
  snapshot.current = r;
  std::string def = definition_json(snapshot);
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("id");
  write_str(w, r.definition_id);
  w.Key("revisionId");
  write_str(w, std::to_string(r.revision));
  w.Key("createdAt");
  write_str(w, format_iso_ms(r.created_ms));
  w.Key("definition");
  w.RawValue(def.data(), def.size(), rapidjson::kObjectType);
  w.EndObject();
  return done(sb);
}

ActionDefinitionView ActionRegistry::view_locked(std::uint64_t id, const Definition& d) const {
  ActionDefinitionView v;
  v.id = std::to_string(id);
  v.archived_ms = d.archived_ms;
  v.current = d.revisions.back();
  rapidjson::Document body;
  body.Parse(v.current.body_json.c_str());
  v.action_url = get_string(body, "actionUrl");
  for (const auto& t : body["objectTypes"].GetArray()) v.object_types.emplace_back(t.GetString(), t.GetStringLength());
  if (auto opts = body.FindMember("objectRequestOptions"); opts != body.MemberEnd())
    for (const auto& p : opts->value["properties"].GetArray()) v.object_properties.emplace_back(p.GetString(), p.GetStringLength());
  return v;
}

const ActionRegistry::Definition& ActionRegistry::find_locked(std::int64_t app_id, const std::string& id) const {
  auto it = defs_.find(parse_definition_id(id));
  if (it == defs_.end() || it->second.app_id != app_id) throw definition_not_found(id);
  return it->second;
}

ActionRegistry::Definition& ActionRegistry::find_locked(std::int64_t app_id, const std::string& id) {
  auto it = defs_.find(parse_definition_id(id));
  if (it == defs_.end() || it->second.app_id != app_id) throw definition_not_found(id);
  return it->second;
}

ActionDefinitionView ActionRegistry::create(std::int64_t app_id, const rapidjson::Value& egg) {
  std::lock_guard lock(mu_);
  rapidjson::Document body = action_schema::normalize(egg, false, next_function_id_);
  std::uint64_t id = next_id_++;
  Definition& d = defs_[id];
  d.app_id = app_id;
  d.revisions.push_back(ActionRevisionView{std::to_string(id), 1, now_(), to_json(body)});
  return view_locked(id, d);
}

ActionDefinitionView ActionRegistry::update(std::int64_t app_id, const std::string& id,
                                            const rapidjson::Value& patch) {
  std::lock_guard lock(mu_);
  Definition& d = find_locked(app_id, id);
  if (d.archived_ms) throw definition_not_found(id);
  rapidjson::Document changes = action_schema::normalize(patch, true, next_function_id_);
  rapidjson::Document body;
  body.Parse(d.revisions.back().body_json.c_str());
  auto& alloc = body.GetAllocator();
  for (auto& m : changes.GetObject()) {
    auto it = body.FindMember(m.name);
    if (it != body.MemberEnd()) it->value.CopyFrom(m.value, alloc);
    else body.AddMember(rapidjson::Value(m.name, alloc), rapidjson::Value(m.value, alloc), alloc);
  }
  const auto& last = d.revisions.back();
  d.revisions.push_back(ActionRevisionView{last.definition_id, last.revision + 1, now_(), to_json(body)});
  return view_locked(parse_definition_id(id), d);
}

void ActionRegistry::archive(std::int64_t app_id, const std::string& id) {
  std::lock_guard lock(mu_);
  Definition& d = find_locked(app_id, id);
  if (d.archived_ms) throw definition_not_found(id);
  d.archived_ms = now_();
}

ActionDefinitionView ActionRegistry::get(std::int64_t app_id, const std::string& id, bool archived) const {
  std::lock_guard lock(mu_);
  const Definition& d = find_locked(app_id, id);
  if ((d.archived_ms != 0) != archived) throw definition_not_found(id);
  return view_locked(parse_definition_id(id), d);
}

std::vector<ActionDefinitionView> ActionRegistry::list(std::int64_t app_id, bool archived, int limit,
                                                       std::uint64_t after,
                                                       std::optional<std::uint64_t>& next) const {
  std::lock_guard lock(mu_);
  std::vector<ActionDefinitionView> out;
  next.reset();
  for (auto it = defs_.lower_bound(after); it != defs_.end(); ++it) {
    if (it->second.app_id != app_id || (it->second.archived_ms != 0) != archived) continue;
    if (static_cast<int>(out.size()) == limit) {
      next = it->first;
      break;
    }
    out.push_back(view_locked(it->first, it->second));
  }
  return out;
}

std::vector<ActionRevisionView> ActionRegistry::revisions(std::int64_t app_id, const std::string& id, int limit,
                                                          std::uint64_t after,
                                                          std::optional<std::uint64_t>& next) const {
  std::lock_guard lock(mu_);
  const Definition& d = find_locked(app_id, id);
  if (d.archived_ms) throw definition_not_found(id);
  std::vector<ActionRevisionView> out;
  next.reset();
  for (const auto& r : d.revisions) {
    if (static_cast<std::uint64_t>(r.revision) < after) continue;
    if (static_cast<int>(out.size()) == limit) {
      next = static_cast<std::uint64_t>(r.revision);
      break;
    }
    out.push_back(r);
  }
  return out;
}

ActionRevisionView ActionRegistry::revision(std::int64_t app_id, const std::string& id,
                                            const std::string& revision_id) const {
  std::lock_guard lock(mu_);
  const Definition& d = find_locked(app_id, id);
  if (d.archived_ms) throw definition_not_found(id);
  std::uint64_t n = parse_definition_id(revision_id);
  if (n == 0 || n > d.revisions.size())
    throw make_api_error(404, "OBJECT_NOT_FOUND", "Revision " + revision_id + " of action definition " + id + " not found");
  return d.revisions[n - 1];
}

std::optional<ActionDefinitionView> ActionRegistry::find_live(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = defs_.find(parse_definition_id(id));
  if (it == defs_.end() || it->second.archived_ms) return std::nullopt;
  return view_locked(it->first, it->second);
}

void ActionRegistry::reset() {
  std::lock_guard lock(mu_);
  defs_.clear();
}

}  // namespace hubsync::sim
