// Associations v4: batch create/associate-default/read/archive, labels, and
// the per-object routes.
#include "tests/hubspot-sim/impl.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {
}  // namespace

namespace {

std::uint64_t id_of(const rapidjson::Value& v, const char* member) {
  if (!v.IsObject() || !v.HasMember(member)) throw make_api_error(400, "VALIDATION_ERROR", std::string("`") + member + "` is required");
  const auto& m = v[member];
  std::string s = m.IsObject() && m.HasMember("id") ? scalar_to_string(m["id"]) : scalar_to_string(m);
  auto n = parse_int_or(s, -1);
  if (n < 0) throw make_api_error(400, "VALIDATION_ERROR", "Invalid object id " + s);
  return static_cast<std::uint64_t>(n);
}

// `[{associationCategory, associationTypeId}]` as specs.
std::vector<AssocTypeSpec> specs_of(const rapidjson::Value& arr) {
  std::vector<AssocTypeSpec> specs;
  if (!arr.IsArray()) return specs;
  for (const auto& s : arr.GetArray())
    specs.push_back({get_string(s, "associationCategory"),
                     s.HasMember("associationTypeId") && s["associationTypeId"].IsInt() ? s["associationTypeId"].GetInt() : 0});
  return specs;
}

// An input's `types`, which batch/create and batch/labels/archive require.
std::vector<AssocTypeSpec> required_types(const rapidjson::Value& in) {
  auto ts = in.FindMember("types");
  if (ts == in.MemberEnd() || !ts->value.IsArray() || ts->value.Size() == 0)
    throw make_api_error(400, "VALIDATION_ERROR", "types is required");
  return specs_of(ts->value);
}

// A v4 batch body's `inputs` (at most 1000, HubSpot's limit for reads).
const rapidjson::Value& batch_inputs(const rapidjson::Value& body) {
  auto it = body.FindMember("inputs");
  if (it == body.MemberEnd() || !it->value.IsArray())
    throw make_api_error(400, "VALIDATION_ERROR", "Invalid input JSON: `inputs` is required");
  if (it->value.Size() > 1000)
    throw make_api_error(400, "VALIDATION_ERROR",
                         "Batch input limit exceeded: " + std::to_string(it->value.Size()) + " inputs, the maximum is 1000");
  return it->value;
}

void write_types(JsonWriter& w, const std::vector<AssocTypeDef>& types) {
  w.StartArray();
  for (const auto& d : types) {
    w.StartObject();
    w.Key("category"); write_str(w, d.category);
    w.Key("typeId"); w.Int(d.type_id);
    if (!d.label.empty()) {  // the spec has no null label: omit it
      w.Key("label");
      write_str(w, d.label);
    }
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

HttpResponse Simulator::Impl::handle_associations(HttpRequest& req, const std::vector<std::string>& seg, const Caller& c) {
  const std::string from = portal.resolve_type(seg[3]);
  const std::string to = portal.resolve_type(seg[4]);
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  std::int64_t started = now();
  if (seg.size() >= 6 && seg[5] == "labels") {
    if (req.method == "GET") {
      w.StartObject();
      w.Key("results");
      write_types(w, portal.association_types(from, to));
      w.EndObject();
      return json_response(200, done(sb));
    }
    if (req.method == "POST") {
      auto body = parse_body(req.body);
      std::string label = get_string(body, "label");
      if (label.empty()) throw make_api_error(400, "VALIDATION_ERROR", "label is required");
      auto d = portal.create_association_definition(from, to, get_string(body, "name", to_lower(label)), label, "USER_DEFINED");
      w.StartObject();
      w.Key("results");
      write_types(w, {d});
      w.EndObject();
      return json_response(200, done(sb));
    }
  }
  if (seg.size() == 8 && seg[5] == "batch" && seg[6] == "labels" && seg[7] == "archive" && req.method == "POST") {
    // {inputs:[{from:{id}, to:{id}, types:[...]}]} -> 204, as documented.
    auto body = parse_body(req.body);
    std::vector<AssocTypeRemoval> removals;
    for (const auto& in : batch_inputs(body).GetArray())
      removals.push_back({id_of(in, "from"), id_of(in, "to"), required_types(in)});
    std::vector<ChangeEvent> events;
    portal.unassociate_types(from, to, removals, source_for(c), events);
    emit(events);
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    return r;
  }
  if (seg.size() == 7 && seg[5] == "batch" && req.method == "POST") {
    auto body = parse_body(req.body);
    const auto& inputs = batch_inputs(body);
    const std::string& op = seg[6];
    std::vector<ChangeEvent> events;
    auto envelope_start = [&] {
      w.StartObject();
      w.Key("status"); w.String("COMPLETE");
      w.Key("results");
      w.StartArray();
    };
    auto envelope_end = [&](int errors_count, const std::vector<std::string>& missing) {
      w.EndArray();
      if (errors_count > 0) {
        w.Key("numErrors"); w.Int(errors_count);
        w.Key("errors");
        w.StartArray();
        w.StartObject();
        w.Key("status"); w.String("error");
        w.Key("category"); w.String("OBJECT_NOT_FOUND");
        w.Key("message"); w.String("No associations found for some objects");
        w.Key("context"); w.StartObject(); w.Key("fromObjectId"); w.StartArray();
        for (const auto& m : missing) write_str(w, m);
        w.EndArray(); w.EndObject();
        w.Key("errors"); w.StartArray(); w.EndArray();
        w.Key("links"); w.StartObject(); w.EndObject();
        w.EndObject();
        w.EndArray();
      }
      w.Key("startedAt"); write_str(w, format_iso_ms(started));
      w.Key("completedAt"); write_str(w, format_iso_ms(now()));
      w.EndObject();
    };
    if (op == "create" || op == "associate") {
      bool by_default = op == "associate";
      if (by_default && (seg.size() < 7)) throw make_api_error(404, "OBJECT_NOT_FOUND", "Unknown route");
      struct Done { std::uint64_t f, t; std::vector<AssocTypeDef> types; };
      std::vector<Done> results;
      for (const auto& in : inputs.GetArray()) {
        std::uint64_t f = id_of(in, "from"), t = id_of(in, "to");
        std::vector<AssocTypeSpec> specs;
        if (!by_default) specs = required_types(in);
        results.push_back({f, t, portal.associate(from, f, to, t, specs, source_for(c), events)});
      }
      envelope_start();
      for (const auto& r : results) {
        if (by_default) {
          w.StartObject();
          w.Key("from"); w.StartObject(); w.Key("id"); write_str(w, std::to_string(r.f)); w.EndObject();
          w.Key("to"); w.StartObject(); w.Key("id"); write_str(w, std::to_string(r.t)); w.EndObject();
          w.Key("associationSpec"); w.StartObject();
          w.Key("associationCategory"); write_str(w, r.types.front().category);
          w.Key("associationTypeId"); w.Int(r.types.front().type_id);
          w.EndObject();
          w.EndObject();
        } else {
          w.StartObject();
          w.Key("fromObjectTypeId"); write_str(w, from);
          w.Key("fromObjectId"); write_str(w, std::to_string(r.f));
          w.Key("toObjectTypeId"); write_str(w, to);
          w.Key("toObjectId"); write_str(w, std::to_string(r.t));
          w.Key("labels"); w.StartArray();
          for (const auto& d : r.types) if (!d.label.empty()) write_str(w, d.label);
          w.EndArray();
          w.EndObject();
        }
      }
      envelope_end(0, {});
      emit(events);
      return json_response(by_default ? 200 : 201, done(sb));
    }
    if (op == "read") {
      std::vector<std::string> missing;
      envelope_start();
      std::size_t page = static_cast<std::size_t>(std::max(1, opts.association_page_size));
      for (const auto& in : inputs.GetArray()) {
        std::uint64_t f = static_cast<std::uint64_t>(parse_int_or(in.IsObject() && in.HasMember("id") ? scalar_to_string(in["id"]) : "", -1));
        std::uint64_t after = static_cast<std::uint64_t>(parse_int_or(get_string(in, "after", "0"), 0));
        auto links = portal.associations(from, f, to);
        if (links.empty()) {
          missing.push_back(std::to_string(f));
          continue;
        }
        w.StartObject();
        w.Key("from"); w.StartObject(); w.Key("id"); write_str(w, std::to_string(f)); w.EndObject();
        w.Key("to");
        w.StartArray();
        std::size_t n = 0;
        std::optional<std::uint64_t> next;
        for (const auto& l : links) {
          if (l.to_id < after) continue;
          if (n == page) { next = l.to_id; break; }
          ++n;
          w.StartObject();
          w.Key("toObjectId"); write_str(w, std::to_string(l.to_id));
          w.Key("associationTypes");
          write_types(w, l.types);
          w.EndObject();
        }
        w.EndArray();
        if (next) {
          w.Key("paging"); w.StartObject(); w.Key("next"); w.StartObject();
          w.Key("after"); write_str(w, std::to_string(*next));
          w.EndObject(); w.EndObject();
        }
        w.EndObject();
      }
      envelope_end(static_cast<int>(missing.empty() ? 0 : 1), missing);
      return json_response(missing.empty() ? 200 : 207, done(sb));
    }
    if (op == "archive") {
      for (const auto& in : inputs.GetArray()) {
        std::uint64_t f = id_of(in, "from");
        auto ts = in.FindMember("to");
        if (ts == in.MemberEnd() || !ts->value.IsArray()) throw make_api_error(400, "VALIDATION_ERROR", "`to` is required");
        for (const auto& t : ts->value.GetArray())
          portal.unassociate(from, f, to, static_cast<std::uint64_t>(parse_int_or(get_string(t, "id", scalar_to_string(t["id"])), 0)), source_for(c), events);
      }
      emit(events);
      HttpResponse r; r.status = 204; r.content_type.clear();
      return r;
    }
  }
  if (seg.size() == 8 && seg[5] == "batch" && seg[6] == "associate" && seg[7] == "default") {
    std::vector<std::string> s2(seg.begin(), seg.begin() + 7);
    return handle_associations(req, s2, c);
  }
  throw make_api_error(404, "OBJECT_NOT_FOUND", "Unknown associations route " + req.path);
}

HttpResponse Simulator::Impl::handle_v4_object_associations(HttpRequest& req, const std::vector<std::string>& seg,
                                                            const Caller& c) {
  // /crm/v4/objects/{from}/{id}/associations/{to}[/{toId}] and .../associations/default/{to}/{toId}
  const std::string from = portal.resolve_type(seg[3]);
  std::uint64_t id = static_cast<std::uint64_t>(parse_int_or(seg[4], 0));
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  std::vector<ChangeEvent> events;
  if (seg[5] != "associations") throw make_api_error(404, "OBJECT_NOT_FOUND", "Unknown route " + req.path);
  if (seg.size() == 9 && seg[6] == "default" && req.method == "PUT") {
    std::string to = portal.resolve_type(seg[7]);
    std::uint64_t to_id = static_cast<std::uint64_t>(parse_int_or(seg[8], 0));
    auto types = portal.associate(from, id, to, to_id, {}, source_for(c), events);
    emit(events);
    w.StartObject();
    w.Key("status"); w.String("COMPLETE");
    w.Key("results"); w.StartArray();
    w.StartObject();
    w.Key("from"); w.StartObject(); w.Key("id"); write_str(w, std::to_string(id)); w.EndObject();
    w.Key("to"); w.StartObject(); w.Key("id"); write_str(w, std::to_string(to_id)); w.EndObject();
    w.Key("associationSpec"); w.StartObject();
    w.Key("associationCategory"); write_str(w, types.front().category);
    w.Key("associationTypeId"); w.Int(types.front().type_id);
    w.EndObject(); w.EndObject();
    w.EndArray();
    w.Key("startedAt"); write_str(w, format_iso_ms(now()));
    w.Key("completedAt"); write_str(w, format_iso_ms(now()));
    w.EndObject();
    return json_response(200, done(sb));
  }
  std::string to = portal.resolve_type(seg[6]);
  if (seg.size() == 7 && req.method == "GET") {
    int limit = static_cast<int>(parse_int_or(req.query_param("limit", "500"), 500));
    std::uint64_t after = static_cast<std::uint64_t>(parse_int_or(req.query_param("after", "0"), 0));
    auto links = portal.associations(from, id, to);
    w.StartObject();
    w.Key("results"); w.StartArray();
    int n = 0;
    std::optional<std::uint64_t> next;
    for (const auto& l : links) {
      if (l.to_id < after) continue;
      if (n == limit) { next = l.to_id; break; }
      ++n;
      w.StartObject();
      w.Key("toObjectId"); write_str(w, std::to_string(l.to_id));
      w.Key("associationTypes"); write_types(w, l.types);
      w.EndObject();
    }
    w.EndArray();
    if (next) {
      w.Key("paging"); w.StartObject(); w.Key("next"); w.StartObject();
      w.Key("after"); write_str(w, std::to_string(*next));
      w.EndObject(); w.EndObject();
    }
    w.EndObject();
    return json_response(200, done(sb));
  }
  if (seg.size() == 8) {
    std::uint64_t to_id = static_cast<std::uint64_t>(parse_int_or(seg[7], 0));
    if (req.method == "PUT") {
      auto body = rapidjson::Document();
      body.Parse(req.body.data(), req.body.size());
      std::vector<AssocTypeSpec> specs;
      if (!body.HasParseError()) specs = specs_of(body);
      auto types = portal.associate(from, id, to, to_id, specs, source_for(c), events);
      emit(events);
      w.StartObject();
      w.Key("fromObjectTypeId"); write_str(w, from);
      w.Key("fromObjectId"); write_str(w, std::to_string(id));
      w.Key("toObjectTypeId"); write_str(w, to);
      w.Key("toObjectId"); write_str(w, std::to_string(to_id));
      w.Key("labels"); w.StartArray();
      for (const auto& d : types) if (!d.label.empty()) write_str(w, d.label);
      w.EndArray();
      w.EndObject();
      return json_response(201, done(sb));
    }
    if (req.method == "DELETE") {
      portal.unassociate(from, id, to, to_id, source_for(c), events);
      emit(events);
      HttpResponse r; r.status = 204; r.content_type.clear();
      return r;
    }
  }
  throw make_api_error(404, "OBJECT_NOT_FOUND", "Unknown route " + req.path);
}

}  // namespace hubsync::sim
