// Automation actions v4: custom workflow action definitions and revisions
// (developer API key) and callback completions (the portal's token).
#include "tests/hubspot-sim/impl.h"

namespace hubsync::sim {
namespace {
namespace action_routes {

HttpResponse no_content_response() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

// The same ForwardPaging every list answer carries.
std::string page_json(const std::vector<std::string>& results, const std::optional<std::uint64_t>& next) {
  std::string out = "{\"results\":[";
  for (size_t i = 0; i < results.size(); ++i) out += (i ? "," : "") + results[i];
  out += "]";
  if (next) {
    std::string after = std::to_string(*next);
    out += ",\"paging\":{\"next\":{\"after\":\"" + after + "\",\"link\":\"?after=" + after + "\"}}";
  }
  return out + "}";
}

int page_limit(const HttpRequest& req) {
  std::int64_t limit = parse_int_or(req.query_param("limit", "10"), -1);
  if (limit < 1 || limit > 100) throw make_api_error(400, "VALIDATION_ERROR", "limit must be between 1 and 100");
  return static_cast<int>(limit);
}

std::uint64_t page_after(const HttpRequest& req) {
  std::int64_t after = parse_int_or(req.query_param("after", "0"), -1);
  if (after < 0) throw make_api_error(400, "VALIDATION_ERROR", "after must be a paging cursor from a previous page");
  return static_cast<std::uint64_t>(after);
}

void check_developer_key(const HttpRequest& req, const std::string& key) {
  std::string given = req.query_param("hapikey");
  if (given.empty())
    throw make_api_error(401, "INVALID_AUTHENTICATION",
                         "Authentication credentials not found. This API supports the developer API key "
                         "(hapikey query parameter) of the app's developer account.");
  if (given != key)
    throw make_api_error(401, "INVALID_AUTHENTICATION",
                         "The API key provided is invalid. View or manage your API key in your developer account.");
}

std::map<std::string, std::string> output_fields_of(const rapidjson::Value& v, const std::string& at) {
  auto it = v.FindMember("outputFields");
  if (it == v.MemberEnd() || !it->value.IsObject()) {
    ApiError e = make_api_error(400, "VALIDATION_ERROR", "Invalid input JSON: " + at + "outputFields is required (an object of strings)");
    e.errors.push_back(ErrorDetail{at + "outputFields is required", "", at + "outputFields", {}});
    throw e;
  }
  std::map<std::string, std::string> out;
  for (const auto& m : it->value.GetObject()) {
    std::string name(m.name.GetString(), m.name.GetStringLength());
    if (m.value.IsObject() || m.value.IsArray())
      throw make_api_error(400, "VALIDATION_ERROR", "Invalid input JSON: " + at + "outputFields." + name + " must be a string");
    out[name] = scalar_to_string(m.value);
  }
  return out;
}

}  // namespace action_routes
}  // namespace

HttpResponse Simulator::Impl::handle_action_definitions(HttpRequest& req, const std::vector<std::string>& seg) {
  using namespace action_routes;
  check_developer_key(req, opts.developer_api_key);
  std::int64_t app_id = parse_int_or(seg[3], -1);
  if (app_id < 0) throw make_api_error(400, "VALIDATION_ERROR", "appId must be an integer, got " + seg[3]);
  // The key's developer account owns one app; any other id is not found.
  if (app_id != opts.oauth_app_id) throw make_api_error(404, "OBJECT_NOT_FOUND", "App " + seg[3] + " not found");
  const std::string& m = req.method;
  bool archived = req.query_param("archived") == "true";
  if (seg.size() == 4 && m == "POST") return json_response(201, definition_json(actions.create(app_id, parse_body(req.body))));
  if (seg.size() == 4 && m == "GET") {
    std::optional<std::uint64_t> next;
    std::vector<std::string> results;
    for (const auto& d : actions.list(app_id, archived, page_limit(req), page_after(req), next))
      results.push_back(definition_json(d));
    return json_response(200, page_json(results, next));
  }
  const std::string id = seg.size() > 4 ? seg[4] : "";
  if (seg.size() == 5 && m == "GET") return json_response(200, definition_json(actions.get(app_id, id, archived)));
  if (seg.size() == 5 && m == "PATCH")
    return json_response(200, definition_json(actions.update(app_id, id, parse_body(req.body))));
  if (seg.size() == 5 && m == "DELETE") {
    actions.archive(app_id, id);
    return no_content_response();
  }
  if (seg.size() == 6 && seg[5] == "revisions" && m == "GET") {
    std::optional<std::uint64_t> next;
    std::vector<std::string> results;
    for (const auto& r : actions.revisions(app_id, id, page_limit(req), page_after(req), next))
      results.push_back(revision_json(r));
    return json_response(200, page_json(results, next));
  }
  if (seg.size() == 7 && seg[5] == "revisions" && m == "GET")
    return json_response(200, revision_json(actions.revision(app_id, id, seg[6])));
  throw make_api_error(404, "OBJECT_NOT_FOUND", "Unknown route " + m + " " + req.path);
}

HttpResponse Simulator::Impl::handle_action_callbacks(HttpRequest& req, const std::vector<std::string>& seg) {
  using namespace action_routes;
  bool batch = seg.size() == 5 && seg[4] == "complete";
  bool single = seg.size() == 6 && seg[5] == "complete";
  if (req.method != "POST" || !(batch || single))
    throw make_api_error(404, "OBJECT_NOT_FOUND", "Unknown route " + req.method + " " + req.path);
  auto body = parse_body(req.body);
  std::vector<CallbackCompletion> completions;
  if (single) {
    completions.push_back(CallbackCompletion{seg[4], output_fields_of(body, "")});
  } else {
    auto inputs = body.FindMember("inputs");
    if (inputs == body.MemberEnd() || !inputs->value.IsArray())
      throw make_api_error(400, "VALIDATION_ERROR", "Invalid input JSON: inputs is required (an array)");
    for (rapidjson::SizeType i = 0; i < inputs->value.Size(); ++i) {
      const auto& in = inputs->value[i];
      std::string at = "inputs[" + std::to_string(i) + "].";
      std::string id = get_string(in, "callbackId");
      if (id.empty()) throw make_api_error(400, "VALIDATION_ERROR", "Invalid input JSON: " + at + "callbackId is required");
      completions.push_back(CallbackCompletion{id, output_fields_of(in, at)});
    }
  }
  executions.complete(completions);
  return no_content_response();
}

}  // namespace hubsync::sim
