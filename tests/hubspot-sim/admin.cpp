// /_sim/ — the test-knob API (not part of HubSpot). See README.md.
#include "tests/hubspot-sim/impl.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

std::map<std::string, std::string> props_of(const rapidjson::Value& v) {
  std::map<std::string, std::string> out;
  if (v.IsObject())
    for (const auto& m : v.GetObject()) out[m.name.GetString()] = scalar_to_string(m.value);
  return out;
}

HttpResponse ok_json(std::string body) { return json_response(200, std::move(body)); }
HttpResponse no_content() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

double num(const rapidjson::Value& v, const char* name, double def) {
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && it->value.IsNumber() ? it->value.GetDouble() : def;
}

}  // namespace

HttpResponse Simulator::Impl::handle_admin(HttpRequest& req, const std::vector<std::string>& seg) {
  const std::string what = seg.size() > 1 ? seg[1] : "";
  const std::string& m = req.method;
  rapidjson::Document body;
  if (!req.body.empty()) body = parse_body(req.body);
  else body.SetObject();
  if (what == "health") return ok_json("{\"status\":\"ok\"}");
  if (what == "reset" && m == "POST") {
    self->reset();
    return no_content();
  }
  if (what == "seed" && m == "POST") {
    auto ids = self->seed(get_string(body, "type", "contacts"), static_cast<int>(num(body, "count", 10)),
                          static_cast<std::uint64_t>(num(body, "seed", 1)));
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("ids");
    w.StartArray();
    for (const auto& id : ids) write_str(w, id);
    w.EndArray();
    w.EndObject();
    return ok_json({sb.GetString(), sb.GetSize()});
  }
  if (what == "ui" && seg.size() == 3 && m == "POST") {
    std::string type = get_string(body, "type", "contacts");
    std::string id = body.HasMember("id") ? scalar_to_string(body["id"]) : "";
    const std::string& op = seg[2];
    if (op == "edit") {
      self->ui_edit(type, id, props_of(body.HasMember("properties") ? body["properties"] : body));
      return no_content();
    }
    if (op == "create") {
      std::string nid = self->ui_create(type, props_of(body.HasMember("properties") ? body["properties"] : body));
      return ok_json("{\"id\":\"" + nid + "\"}");
    }
    if (op == "delete") { self->ui_delete(type, id); return no_content(); }
    if (op == "restore") { self->ui_restore(type, id); return no_content(); }
    if (op == "merge") {
      std::string nid = self->ui_merge(type, scalar_to_string(body["primaryObjectId"]), scalar_to_string(body["objectIdToMerge"]));
      return ok_json("{\"id\":\"" + nid + "\"}");
    }
    if (op == "import") {
      std::vector<std::map<std::string, std::string>> rows;
      if (body.HasMember("rows") && body["rows"].IsArray())
        for (const auto& r : body["rows"].GetArray()) rows.push_back(props_of(r));
      std::int64_t ms = static_cast<std::int64_t>(num(body, "modifiedAt", static_cast<double>(now())));
      auto ids = self->ui_bulk_import(type, rows, ms);
      std::string out = "{\"ids\":[";
      for (size_t i = 0; i < ids.size(); ++i) out += (i ? ",\"" : "\"") + ids[i] + "\"";
      return ok_json(out + "]}");
    }
  }
  if (what == "faults") {
    if (m == "DELETE") { self->set_faults({}); return no_content(); }
    if (m == "PUT" || m == "POST") {
      std::vector<FaultRule> rules;
      if (body.HasMember("rules") && body["rules"].IsArray())
        for (const auto& r : body["rules"].GetArray()) {
          FaultRule f;
          f.route = get_string(r, "route", "*");
          f.method = get_string(r, "method");
          f.pct_500 = num(r, "pct500", 0);
          f.pct_429 = num(r, "pct429", 0);
          f.pct_423 = num(r, "pct423", 0);
          f.pct_slow = num(r, "pctSlow", 0);
          f.slow_ms = static_cast<int>(num(r, "slowMs", 6000));
          f.pct_drop = num(r, "pctDrop", 0);
          f.pct_reset = num(r, "pctReset", 0);
          f.pct_malformed = num(r, "pctMalformed", 0);
          f.latency_min_ms = static_cast<int>(num(r, "latencyMinMs", 0));
          f.latency_max_ms = static_cast<int>(num(r, "latencyMaxMs", 0));
          f.remaining = static_cast<int>(num(r, "count", -1));
          rules.push_back(f);
        }
      self->set_faults(std::move(rules));
      return no_content();
    }
  }
  if (what == "counters") {
    if (seg.size() == 3 && seg[2] == "reset" && m == "POST") { self->reset_counters(); return no_content(); }
    auto c = self->counters();
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("requests");
    w.StartObject();
    for (const auto& [route, by_status] : c.requests) {
      write_str(w, route);
      w.StartObject();
      for (const auto& [st, n] : by_status) {
        write_str(w, std::to_string(st));
        w.Int64(n);
      }
      w.EndObject();
    }
    w.EndObject();
    w.Key("inputsWritten");
    w.StartObject();
    for (const auto& [t, n] : c.inputs_written) {
      write_str(w, t);
      w.Int64(n);
    }
    w.EndObject();
    w.Key("rateLimited"); w.Int64(c.rate_limited);
    w.Key("webhooks");
    w.StartObject();
    w.Key("events"); w.Int64(c.webhook_events);
    w.Key("deliveries"); w.Int64(c.webhook_deliveries);
    w.Key("failures"); w.Int64(c.webhook_failures);
    w.Key("retries"); w.Int64(c.webhook_retries);
    w.Key("dropped"); w.Int64(c.webhook_dropped);
    w.EndObject();
    w.Key("actions");
    w.StartObject();
    w.Key("executions"); w.Int64(c.action_executions);
    w.Key("calls"); w.Int64(c.action_calls);
    w.Key("deliveries"); w.Int64(c.action_deliveries);
    w.Key("failures"); w.Int64(c.action_failures);
    w.Key("retries"); w.Int64(c.action_retries);
    w.Key("failed"); w.Int64(c.action_failed);
    w.EndObject();
    w.EndObject();
    return ok_json({sb.GetString(), sb.GetSize()});
  }
  if (what == "dump" && seg.size() == 3 && m == "GET") return ok_json(self->dump_json(seg[2]));
  if (what == "webhooks") {
    if (seg.size() == 3 && seg[2] == "target" && (m == "PUT" || m == "POST")) {
      self->set_webhook_target(get_string(body, "url"));
      return no_content();
    }
    if (seg.size() == 3 && seg[2] == "subscriptions") {
      if (m == "DELETE") { self->clear_webhook_subscriptions(); return no_content(); }
      if (m == "POST") {
        WebhookSubscription s;
        s.event_type = get_string(body, "eventType");
        s.property_name = get_string(body, "propertyName");
        s.object_type_id = get_string(body, "objectTypeId");
        if (s.event_type.find('.') == std::string::npos)
          throw make_api_error(400, "VALIDATION_ERROR", "eventType like contact.creation is required");
        auto id = self->add_webhook_subscription(s);
        return json_response(201, "{\"id\":" + std::to_string(id) + "}");
      }
      if (m == "GET") {
        rapidjson::StringBuffer sb;
        JsonWriter w(sb);
        w.StartObject();
        w.Key("target"); write_str(w, webhooks.target());
        w.Key("results");
        w.StartArray();
        for (const auto& s : webhooks.subscriptions()) {
          w.StartObject();
          w.Key("id"); w.Int64(s.id);
          w.Key("eventType"); write_str(w, s.event_type);
          w.Key("propertyName"); write_str(w, s.property_name);
          w.Key("objectTypeId"); write_str(w, s.object_type_id);
          w.Key("active"); w.Bool(s.active);
          w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        return ok_json({sb.GetString(), sb.GetSize()});
      }
    }
    if (seg.size() == 4 && seg[2] == "subscriptions" && m == "DELETE") {
      webhooks.remove_subscription(parse_int_or(seg[3], -1));
      return no_content();
    }
  }
  if (what == "workflows") return handle_admin_workflows(req, seg, body);
  if (what == "tier" && m == "POST") { self->set_tier(static_cast<int>(num(body, "tier", 190))); return no_content(); }
  if (what == "rate-limits" && m == "POST") {
    self->set_rate_limits_enabled(!body.HasMember("enabled") || !body["enabled"].IsBool() || body["enabled"].GetBool());
    return no_content();
  }
  if (what == "index-lag" && m == "POST") { self->set_index_lag_ms(static_cast<std::int64_t>(num(body, "ms", 300))); return no_content(); }
  if (what == "oauth" && seg.size() == 3 && m == "POST") {
    if (seg[2] == "expiry") { self->set_token_expiry(static_cast<std::int64_t>(num(body, "expiresIn", 1800))); return no_content(); }
    if (seg[2] == "expire-all") { self->expire_oauth_tokens(); return no_content(); }
  }
  throw make_api_error(404, "OBJECT_NOT_FOUND", "Unknown admin route " + m + " " + req.path);
}

namespace {

void write_execution(JsonWriter& w, const ActionExecution& x) {
  w.StartObject();
  w.Key("callbackId"); write_str(w, x.callback_id);
  w.Key("definitionId"); write_str(w, x.definition_id);
  w.Key("objectId"); write_str(w, x.object_id);
  w.Key("objectType"); write_str(w, x.object_type);
  w.Key("attempts"); w.Int(x.attempts);
  w.Key("statuses");
  w.StartArray();
  for (int st : x.statuses) w.Int(st);
  w.EndArray();
  w.Key("state"); write_str(w, x.state);
  w.Key("outputFields");
  w.StartObject();
  for (const auto& [k, v] : x.output_fields) {
    write_str(w, k);
    write_str(w, v);
  }
  w.EndObject();
  w.Key("completedBy"); write_str(w, x.completed_by);
  w.Key("expirationDuration"); write_str(w, x.expiration_duration);
  w.EndObject();
}

// A member that may be given as a JSON string or number.
std::string id_member(const rapidjson::Value& body, const char* name) {
  auto it = body.FindMember(name);
  return it == body.MemberEnd() ? std::string() : scalar_to_string(it->value);
}

}  // namespace

HttpResponse Simulator::Impl::handle_admin_workflows(HttpRequest& req, const std::vector<std::string>& seg,
                                                     const rapidjson::Value& body) {
  const std::string& m = req.method;
  if (seg.size() == 3 && seg[2] == "enroll" && m == "POST") {
    WorkflowEnrollment e;
    e.definition_id = id_member(body, "definitionId");
    e.object_id = id_member(body, "objectId");
    e.object_type = get_string(body, "objectType", "CONTACT");
    if (auto it = body.FindMember("inputFields"); it != body.MemberEnd()) e.input_fields_json = to_json(it->value);
    e.workflow_id = static_cast<std::int64_t>(num(body, "workflowId", 1));
    e.lose_responses = static_cast<int>(num(body, "lose_responses", num(body, "loseResponses", 0)));
    std::string id = self->enroll_in_workflow(e);
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("callbackId"); write_str(w, id);
    w.EndObject();
    return ok_json(done(sb));
  }
  if (seg.size() == 3 && seg[2] == "executions" && m == "GET") {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("results");
    w.StartArray();
    for (const auto& x : self->action_executions()) write_execution(w, x);
    w.EndArray();
    w.EndObject();
    return ok_json(done(sb));
  }
  if (seg.size() == 4 && seg[2] == "executions" && m == "GET") {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    write_execution(w, self->action_execution(seg[3]));
    return ok_json(done(sb));
  }
  throw make_api_error(404, "OBJECT_NOT_FOUND", "Unknown admin route " + m + " " + req.path);
}

}  // namespace hubsync::sim
