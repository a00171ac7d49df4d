// /crm/v3/objects/{type}[...]: single and batch CRUD, search, merge.
#include "tests/hubspot-sim/impl.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

constexpr std::size_t kMaxBatch = 100;
// batch/read asking for propertiesWithHistory takes fewer inputs; HubSpot's
// refusal is quoted in PipedreamHQ/pipedream#8462.
constexpr std::size_t kMaxHistoryBatch = 50;

std::vector<std::string> list_param(const HttpRequest& req, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& v : req.query_all(name))
    for (auto& p : split(v, ',')) out.push_back(p);
  return out;
}

std::vector<std::string> string_array(const rapidjson::Value& body, const char* name) {
  std::vector<std::string> out;
  auto it = body.FindMember(name);
  if (it != body.MemberEnd() && it->value.IsArray())
    for (const auto& v : it->value.GetArray())
      if (v.IsString()) out.emplace_back(v.GetString());
  return out;
}

const rapidjson::Value& inputs_of(const rapidjson::Value& body) {
  auto it = body.FindMember("inputs");
  if (it == body.MemberEnd() || !it->value.IsArray())
    throw make_api_error(400, "VALIDATION_ERROR", "Invalid input JSON: `inputs` is required");
  if (it->value.Size() > kMaxBatch)
    throw make_api_error(400, "VALIDATION_ERROR",
                         "Batch input limit exceeded: " + std::to_string(it->value.Size()) +
                             " inputs were provided, the maximum is " + std::to_string(kMaxBatch));
  return it->value;
}

WriteInput parse_input(const rapidjson::Value& v) {
  if (!v.IsObject()) throw make_api_error(400, "VALIDATION_ERROR", "Invalid input JSON: each input must be an object");
  WriteInput in;
  if (auto it = v.FindMember("id"); it != v.MemberEnd()) in.id = scalar_to_string(it->value);
  in.id_property = get_string(v, "idProperty");
  in.trace_id = get_string(v, "objectWriteTraceId");
  if (auto it = v.FindMember("properties"); it != v.MemberEnd()) {
    if (!it->value.IsObject()) throw make_api_error(400, "VALIDATION_ERROR", "Invalid input JSON: properties must be an object");
    std::vector<Props::value_type> values;
    values.reserve(it->value.MemberCount());
    for (const auto& m : it->value.GetObject())
      values.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()), scalar_to_string(m.value));
    in.props = Props::from_unsorted(std::move(values));  // with room for an upsert's idProperty
  }
  if (auto it = v.FindMember("associations"); it != v.MemberEnd() && it->value.IsArray()) {
    for (const auto& a : it->value.GetArray()) {
      WriteInput::Assoc as;
      if (auto to = a.FindMember("to"); to != a.MemberEnd()) as.to_id = scalar_to_string(to->value["id"]);
      if (auto ts = a.FindMember("types"); ts != a.MemberEnd() && ts->value.IsArray())
        for (const auto& t : ts->value.GetArray())
          as.types.push_back({get_string(t, "associationCategory", "HUBSPOT_DEFINED"),
                              t.HasMember("associationTypeId") && t["associationTypeId"].IsInt() ? t["associationTypeId"].GetInt() : 0});
      in.associations.push_back(std::move(as));
    }
  }
  return in;
}

// HubSpot ignores unknown names in `properties`; known ones without a value
// come back as null.
std::vector<std::string> known_only(const ObjectType& def, std::vector<std::string> props) {
  std::erase_if(props, [&](const std::string& p) { return !def.find_property(p); });
  return props;
}

// `associations=companies,deals` on GET: HubSpot's v3 embedded shape.
void write_embedded_associations(JsonWriter& w, Portal& portal, const ObjectType& def, std::uint64_t id,
                                 const std::vector<std::string>& to_types) {
  if (to_types.empty()) return;
  w.Key("associations");
  w.StartObject();
  for (const auto& to : to_types) {
    std::vector<AssocLink> links;
    std::string to_name;
    try {
      to_name = portal.definition(to)->name;  // shared: no copy per object
      links = portal.associations(def.object_type_id, id, to);
    } catch (const ApiError&) {
      continue;  // unknown types are ignored, as HubSpot does
    }
    if (links.empty()) continue;
    write_str(w, to_name);
    w.StartObject();
    w.Key("results");
    w.StartArray();
    for (const auto& l : links)
      for (const auto& t : l.types) {
        w.StartObject();
        w.Key("id");
        write_str(w, std::to_string(l.to_id));
        w.Key("type");
        write_str(w, t.name.empty() ? std::to_string(t.type_id) : t.name);
        w.EndObject();
      }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
}

void write_error(JsonWriter& w, const ApiError& e) {
  w.StartObject();
  w.Key("status");
  w.String("error");
  w.Key("category");
  write_str(w, e.category);
  w.Key("message");
  write_str(w, e.message);
  w.Key("context");
  write_context(w, e.context);
  w.Key("errors");
  w.StartArray();
  for (const auto& d : e.errors) {
    w.StartObject();
    w.Key("message");
    write_str(w, d.message);
    if (!d.code.empty()) {
      w.Key("code");
      write_str(w, d.code);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("links");
  w.StartObject();
  w.EndObject();
  w.EndObject();
}

}  // namespace

HttpResponse Simulator::Impl::handle_objects(HttpRequest& req, const std::vector<std::string>& seg, const Caller& c) {
  const std::string& type_ref = seg[3];
  const auto shared_def = portal.definition(type_ref);  // throws for unknown types
  const ObjectType& def = *shared_def;
  const std::string& tid = def.object_type_id;
  std::int64_t started = now();
  // A write's answer carries what the write stored: the properties it set,
  // normalised, plus the ones HubSpot always adds (see README).
  auto write_answer = [&](JsonWriter& w, const ObjectView& v, bool with_new) {
    write_object(w, v, v.written, def.default_properties, with_new);
  };
  // `props` empty and `echo` set: each result carries its write's properties.
  auto batch_envelope = [&](JsonWriter& w, const std::vector<ObjectView>& views, const std::vector<std::string>& props,
                            const std::vector<ApiError>& errors, bool with_new, bool echo) {
    w.StartObject();
    w.Key("status");
    w.String("COMPLETE");
    w.Key("results");
    w.StartArray();
    for (const auto& v : views) {
      if (echo) write_answer(w, v, with_new);
      else write_object(w, v, props, def.default_properties, with_new);
    }
    w.EndArray();
    if (!errors.empty()) {
      w.Key("numErrors");
      w.Int(static_cast<int>(errors.size()));
      w.Key("errors");
      w.StartArray();
      for (const auto& e : errors) write_error(w, e);
      w.EndArray();
    }
    w.Key("startedAt");
    write_str(w, format_iso_ms(started));
    w.Key("completedAt");
    write_str(w, format_iso_ms(now()));
    w.EndObject();
  };

  // /crm/v3/objects/{type}
  if (seg.size() == 4) {
    if (req.method == "GET") {
      int limit = static_cast<int>(parse_int_or(req.query_param("limit", "10"), 10));
      if (limit < 1 || limit > 100)
        throw make_api_error(400, "VALIDATION_ERROR", "limit must be between 1 and 100");
      std::uint64_t after = static_cast<std::uint64_t>(parse_int_or(req.query_param("after", "0"), 0));
      bool archived = req.query_param("archived") == "true";
      auto props = known_only(def, list_param(req, "properties"));
      auto hist = list_param(req, "propertiesWithHistory");
      auto assoc_types = list_param(req, "associations");
      std::optional<std::uint64_t> next;
      auto views = portal.list(type_ref, limit, after, archived, hist, next);
      rapidjson::StringBuffer sb;
      JsonWriter w(sb);
      w.StartObject();
      w.Key("results");
      w.StartArray();
      for (const auto& v : views) {
        if (assoc_types.empty()) {
          write_object(w, v, props, def.default_properties, false);
          continue;
        }
        rapidjson::StringBuffer one;
        JsonWriter ow(one);
        write_object(ow, v, props, def.default_properties, false);
        std::string obj(one.GetString(), one.GetSize());
        rapidjson::StringBuffer ab;
        JsonWriter aw(ab);
        aw.StartObject();
        write_embedded_associations(aw, portal, def, v.id, assoc_types);
        aw.EndObject();
        std::string extra(ab.GetString() + 1, ab.GetSize() - 2);
        if (!extra.empty()) obj.insert(obj.size() - 1, "," + extra);
        w.RawValue(obj.data(), obj.size(), rapidjson::kObjectType);
      }
      w.EndArray();
      if (next) {
        w.Key("paging");
        w.StartObject();
        w.Key("next");
        w.StartObject();
        w.Key("after");
        write_str(w, std::to_string(*next));
        w.Key("link");
        write_str(w, "?after=" + std::to_string(*next));
        w.EndObject();
        w.EndObject();
      }
      w.EndObject();
      return json_response(200, std::string(sb.GetString(), sb.GetSize()));
    }
    if (req.method == "POST") {
      auto body = parse_body(req.body);
      std::vector<WriteInput> in{parse_input(body)};
      std::vector<ChangeEvent> events;
      auto out = portal.write(type_ref, WriteOp::kCreate, in, false, source_for(c), events);
      count_inputs(tid, 1);
      emit(events);
      rapidjson::StringBuffer sb;
      JsonWriter w(sb);
      write_answer(w, *out[0].view, false);
      return json_response(201, std::string(sb.GetString(), sb.GetSize()));
    }
  }
  if (seg.size() == 5 && seg[4] == "search" && req.method == "POST") {
    auto body = parse_body(req.body);
    SearchQuery q = parse_search(body, req.body.size(), def);
    std::int64_t total = 0;
    auto views = portal.search(type_ref, q, total);
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("total");
    w.Int64(total);
    w.Key("results");
    w.StartArray();
    auto props = known_only(def, q.properties);
    for (const auto& v : views) write_object(w, v, props, def.default_properties, false);
    w.EndArray();
    std::int64_t next = q.after + static_cast<std::int64_t>(views.size());
    if (next < total) {
      w.Key("paging");
      w.StartObject();
      w.Key("next");
      w.StartObject();
      w.Key("after");
      write_str(w, std::to_string(next));
      w.EndObject();
      w.EndObject();
    }
    w.EndObject();
    return json_response(200, std::string(sb.GetString(), sb.GetSize()));
  }
  if (seg.size() == 5 && seg[4] == "gdpr-delete" && req.method == "POST" && def.object_type_id == "0-1") {
    // PublicGdprDeleteInput: {objectId, idProperty?}; 204, found or not (an
    // unknown email is blocklisted by HubSpot; not modelled).
    auto body = parse_body(req.body);
    std::string id = body.HasMember("objectId") ? scalar_to_string(body["objectId"]) : "";
    if (id.empty()) throw make_api_error(400, "VALIDATION_ERROR", "objectId is required");
    std::vector<ChangeEvent> events;
    portal.purge(type_ref, id, get_string(body, "idProperty"), source_for(c), events);
    emit(events);
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    return r;
  }
  if (seg.size() == 5 && seg[4] == "merge" && req.method == "POST") {
    auto body = parse_body(req.body);
    std::string primary = body.HasMember("primaryObjectId") ? scalar_to_string(body["primaryObjectId"]) : "";
    std::string merged = body.HasMember("objectIdToMerge") ? scalar_to_string(body["objectIdToMerge"]) : "";
    if (primary.empty() || merged.empty())
      throw make_api_error(400, "VALIDATION_ERROR", "primaryObjectId and objectIdToMerge are required");
    std::vector<ChangeEvent> events;
    auto v = portal.merge(type_ref, primary, merged, source_for(c), events);
    emit(events);
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    write_object(w, v, {}, def.default_properties, false);
    return json_response(200, std::string(sb.GetString(), sb.GetSize()));
  }
  if (seg.size() == 6 && seg[4] == "batch" && req.method == "POST") {
    const std::string& op = seg[5];
    auto body = parse_body(req.body);
    const auto& inputs = inputs_of(body);
    auto props = known_only(def, string_array(body, "properties"));
    if (op == "read") {
      std::vector<std::string> ids;
      for (const auto& v : inputs.GetArray()) ids.push_back(v.IsObject() && v.HasMember("id") ? scalar_to_string(v["id"]) : "");
      auto hist = string_array(body, "propertiesWithHistory");
      if (!hist.empty() && ids.size() > kMaxHistoryBatch)
        throw make_api_error(400, "VALIDATION_ERROR",
                             "The maximum number of inputs supported in a batch request for property histories is " +
                                 std::to_string(kMaxHistoryBatch) + ". Please reduce the number of items and try again");
      std::vector<std::string> missing;
      // `archived` is a query parameter in the spec; a body flag is accepted too.
      bool archived = req.query_param("archived") == "true" ||
                      (body.HasMember("archived") && body["archived"].IsBool() && body["archived"].GetBool());
      auto views = portal.read_batch(type_ref, ids, get_string(body, "idProperty"), archived, hist, missing);
      std::vector<ApiError> errors;
      if (!missing.empty()) {
        ApiError e = make_api_error(404, "OBJECT_NOT_FOUND",
                                    "Could not get some " + def.label_singular + " objects, they may be deleted or not exist. Check that ids are valid.");
        e.context["ids"] = missing;
        errors.push_back(e);
      }
      rapidjson::StringBuffer sb;
      JsonWriter w(sb);
      batch_envelope(w, views, props, errors, false, false);
      return json_response(errors.empty() ? 200 : 207, std::string(sb.GetString(), sb.GetSize()));
    }
    if (op == "archive") {
      std::vector<std::string> ids;
      for (const auto& v : inputs.GetArray()) ids.push_back(v.IsObject() && v.HasMember("id") ? scalar_to_string(v["id"]) : "");
      std::vector<ChangeEvent> events;
      portal.archive(type_ref, ids, source_for(c), events);
      count_inputs(tid, static_cast<std::int64_t>(ids.size()));
      emit(events);
      HttpResponse r;
      r.status = 204;
      r.content_type.clear();
      return r;
    }
    WriteOp wop;
    if (op == "create") wop = WriteOp::kCreate;
    else if (op == "update") wop = WriteOp::kUpdate;
    else if (op == "upsert") wop = WriteOp::kUpsert;
    else throw make_api_error(404, "OBJECT_NOT_FOUND", "Unknown batch operation " + op);
    std::vector<WriteInput> in;
    bool partial = inputs.Size() > 0;
    for (const auto& v : inputs.GetArray()) {
      in.push_back(parse_input(v));
      if (in.back().trace_id.empty()) partial = false;
      if (wop == WriteOp::kUpsert && in.back().id.empty())
        throw make_api_error(400, "VALIDATION_ERROR", "Upsert inputs require `id`");
    }
    std::vector<ChangeEvent> events;
    auto out = portal.write(type_ref, wop, in, partial, source_for(c), events);
    emit(events);
    std::vector<ObjectView> views;
    views.reserve(out.size());
    std::vector<ApiError> errors;
    for (auto& o : out) {
      if (o.view) views.push_back(std::move(*o.view));
      else errors.push_back(*o.error);
    }
    count_inputs(tid, static_cast<std::int64_t>(views.size()));
    rapidjson::StringBuffer sb(nullptr, 512 * views.size() + 256);
    JsonWriter w(sb);
    batch_envelope(w, views, {}, errors, wop == WriteOp::kUpsert, true);
    int status = !errors.empty() ? 207 : (wop == WriteOp::kCreate ? 201 : 200);
    return json_response(status, std::string(sb.GetString(), sb.GetSize()));
  }
  if (seg.size() == 5) {
    const std::string& id = seg[4];
    if (req.method == "GET") {
      auto props = known_only(def, list_param(req, "properties"));
      auto hist = list_param(req, "propertiesWithHistory");
      auto v = portal.get(type_ref, id, req.query_param("idProperty"), req.query_param("archived") == "true", hist);
      rapidjson::StringBuffer sb;
      JsonWriter w(sb);
      write_object(w, v, props, def.default_properties, false);
      std::string body(sb.GetString(), sb.GetSize());
      auto assoc_types = list_param(req, "associations");
      if (!assoc_types.empty()) {
        rapidjson::StringBuffer ab;
        JsonWriter aw(ab);
        aw.StartObject();
        write_embedded_associations(aw, portal, def, v.id, assoc_types);
        aw.EndObject();
        std::string extra(ab.GetString() + 1, ab.GetSize() - 2);
        if (!extra.empty()) body.insert(body.size() - 1, "," + extra);
      }
      return json_response(200, std::move(body));
    }
    if (req.method == "PATCH") {
      auto body = parse_body(req.body);
      std::vector<WriteInput> in{parse_input(body)};
      in[0].id = id;
      in[0].id_property = req.query_param("idProperty");
      std::vector<ChangeEvent> events;
      auto out = portal.write(type_ref, WriteOp::kUpdate, in, false, source_for(c), events);
      count_inputs(tid, 1);
      emit(events);
      rapidjson::StringBuffer sb;
      JsonWriter w(sb);
      write_answer(w, *out[0].view, false);
      return json_response(200, std::string(sb.GetString(), sb.GetSize()));
    }
    if (req.method == "DELETE") {
      std::vector<ChangeEvent> events;
      portal.archive(type_ref, {id}, source_for(c), events);
      count_inputs(tid, 1);
      emit(events);
      HttpResponse r;
      r.status = 204;
      r.content_type.clear();
      return r;
    }
  }
  throw make_api_error(405, "VALIDATION_ERROR", "Method " + req.method + " not allowed on " + req.path);
}

}  // namespace hubsync::sim
