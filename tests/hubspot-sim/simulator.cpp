// Simulator: the request pipeline (faults, auth, rate limits, routing,
// counters) and the C++ test-knob API.
#include "tests/hubspot-sim/simulator.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "tests/hubspot-sim/impl.h"
#include "tests/hubspot-sim/search.h"
#include "tests/hubspot-sim/validation.h"

#include <spdlog/sinks/null_sink.h>

namespace hubsync::sim {
namespace {

// `ms` as an HTTP-date (RFC 9110 IMF-fixdate), as every HubSpot answer's Date header.
std::string http_date(std::int64_t ms) {
  static constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};  // 1970-01-01 was a Thursday
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const std::int64_t in_day = secs - days * 86400;
  // civil_from_days (Howard Hinnant).
  const std::int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
  char out[40];
  std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[((days % 7) + 7) % 7], static_cast<int>(d),
                kMonths[m - 1], static_cast<int>(y), static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                static_cast<int>(in_day % 60));
  return out;
}

bool glob_match(const std::string& pat, const std::string& s) {
  size_t p = 0, i = 0, star = std::string::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == s[i]) { ++p; ++i; }
    else if (p < pat.size() && pat[p] == '*') { star = p++; mark = i; }
    else if (star != std::string::npos) { p = star + 1; i = ++mark; }
    else return false;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

// /automation/v4/actions/{appId}/{definitionId}/revisions/{revisionId},
// /automation/v4/actions/callbacks/{callbackId}/complete.
std::string action_route_key(const HttpRequest& req, const std::vector<std::string>& seg) {
  std::string key = req.method + " ";
  bool callbacks = seg[3] == "callbacks";
  for (size_t i = 0; i < seg.size(); ++i) {
    std::string s = seg[i];
    if (callbacks && i == 4 && seg.size() == 6) s = "{callbackId}";
    else if (!callbacks && i == 3) s = "{appId}";
    else if (!callbacks && i == 4) s = "{definitionId}";
    else if (!callbacks && i == 6 && seg[5] == "revisions") s = "{revisionId}";
    key += "/" + s;
  }
  return key;
}

// The developer API of workflow action definitions: its own key, not the
// portal's rate limit.
bool is_action_definitions(const std::vector<std::string>& seg) {
  return seg.size() >= 4 && seg[0] == "automation" && seg[1] == "v4" && seg[2] == "actions" &&
         seg[3] != "callbacks";
}

// Routes answered without the portal's token and its rate limit: the
// simulator's knobs, OAuth, the action definitions.
bool outside_portal_limit(const std::vector<std::string>& seg) {
  return (!seg.empty() && seg[0] == "_sim") || (seg.size() >= 2 && seg[0] == "oauth") ||
         is_action_definitions(seg);
}

bool is_search_route(const std::vector<std::string>& seg) {
  return seg.size() == 5 && seg[0] == "crm" && seg[2] == "objects" && seg[4] == "search";
}

std::string route_key(const HttpRequest& req, const std::vector<std::string>& seg) {
  if (seg.size() >= 4 && seg[0] == "automation" && seg[1] == "v4" && seg[2] == "actions")
    return action_route_key(req, seg);
  std::string key = req.method + " ";
  for (size_t i = 0; i < seg.size(); ++i) {
    const std::string& s = seg[i];
    bool numeric = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    bool type_slot = (i == 3 && seg.size() > 3 && (seg[0] == "crm") && (seg[2] == "objects" || seg[2] == "properties")) ||
                     (seg.size() > 4 && seg[1] == "v4" && seg[2] == "associations" && (i == 3 || i == 4));
    bool object_id_slot = i == 4 && seg.size() == 5 && seg[0] == "crm" && seg[2] == "objects" &&
                          s != "search" && s != "merge" && s != "batch";
    key += "/" + (numeric || object_id_slot ? std::string("{id}") : type_slot ? std::string("{type}") : s);
  }
  return key;
}

}  // namespace

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    auto pos = s.find(sep, start);
    if (pos == std::string::npos) pos = s.size();
    if (pos > start) out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

std::int64_t parse_int_or(const std::string& s, std::int64_t def) {
  try {
    size_t used = 0;
    std::int64_t v = std::stoll(s, &used);
    return used == s.size() ? v : def;
  } catch (...) {
    return def;
  }
}

std::int64_t Simulator::Impl::wall_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {
std::shared_ptr<spdlog::logger> logger_or_null(const std::shared_ptr<spdlog::logger>& l) {
  return l ? l : std::make_shared<spdlog::logger>("hubspot-sim", std::make_shared<spdlog::sinks::null_sink_mt>());
}
}  // namespace

Simulator::Impl::Impl(SimulatorOptions o)
    : opts(std::move(o)),
      log(logger_or_null(opts.logger)),
      portal(opts.portal_id, opts.index_lag_ms, [this] { return now(); }, opts.merge_new_id),
      limiter(opts.tier, opts.daily_limit, opts.search_per_second),
      webhooks(WebhookDispatcher::Config{opts.portal_id, opts.oauth_app_id,
                                         opts.webhook_secret.empty() ? opts.oauth_client_secret : opts.webhook_secret,
                                         opts.webhook_time_compression, opts.webhook_max_attempts, 10, log,
                                         [this] { return now(); }}),
      actions([this] { return now(); }),
      executions(ActionExecutor::Config{opts.portal_id,
                                        opts.webhook_secret.empty() ? opts.oauth_client_secret : opts.webhook_secret,
                                        opts.webhook_time_compression, opts.action_timeout_ms,
                                        opts.action_max_attempts, 4, log, [this] { return now(); }}),
      rng(opts.random_seed) {
  rate_limits_on = opts.rate_limits;
  oauth_expires_in_s = opts.oauth_expires_in_s;
  for (const auto& t : opts.tokens) private_tokens[t.token] = t.app_id;
  if (!opts.webhook_target.empty()) webhooks.set_target(opts.webhook_target);
  portal.set_events_wanted([this] { return webhooks.active(); });
}

std::string Simulator::Impl::correlation_id() {
  std::uint64_t n = ++correlation_counter;
  char buf[48];
  std::snprintf(buf, sizeof buf, "5a1e0000-0000-4000-8000-%012llx", static_cast<unsigned long long>(n));
  return buf;
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse error_response(const ApiError& e, const std::string& correlation_id) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("status");
  w.String("error");
  w.Key("message");
  write_str(w, e.message);
  w.Key("correlationId");
  write_str(w, correlation_id);
  w.Key("category");
  write_str(w, e.category);
  if (!e.sub_category.empty()) {
    w.Key("subCategory");
    write_str(w, e.sub_category);
  }
  if (!e.errors.empty()) {
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
      if (!d.in.empty()) {
        w.Key("in");
        write_str(w, d.in);
      }
      if (!d.context.empty()) {
        w.Key("context");
        write_context(w, d.context);
      }
      w.EndObject();
    }
    w.EndArray();
  }
  if (!e.context.empty()) {
    w.Key("context");
    write_context(w, e.context);
  }
  w.EndObject();
  return json_response(e.http_status, std::string(sb.GetString(), sb.GetSize()));
}

rapidjson::Document parse_body(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject())
    throw make_api_error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1: the body is not a JSON object");
  return d;
}

namespace {

// HubSpot always includes these (those the type has), after the ones asked for.
constexpr std::string_view kAlwaysProps[] = {"hs_object_id", "createdate", "hs_createdate", "lastmodifieddate",
                                             "hs_lastmodifieddate"};

void write_properties(JsonWriter& w, const Props& values, const std::vector<std::string>& props,
                      const std::vector<std::string>& default_props) {
  w.StartObject();
  const auto& wanted = props.empty() ? default_props : props;
  for (const auto& p : wanted) {
    write_str(w, p);
    auto it = values.find(p);
    if (it == values.end()) w.Null();
    else write_str(w, it->second);
  }
  if (!props.empty()) {
    for (std::string_view always : kAlwaysProps) {
      auto it = values.find(always);
      if (it == values.end() || std::find(props.begin(), props.end(), always) != props.end()) continue;
      write_str(w, always);
      write_str(w, it->second);
    }
  }
  w.EndObject();
}

void write_history(JsonWriter& w, const std::map<std::string, std::vector<HistoryEntry>>& history) {
  w.StartObject();
  for (const auto& [name, entries] : history) {
    write_str(w, name);
    w.StartArray();
    for (const auto& h : entries) {
      w.StartObject();
      w.Key("value");
      write_str(w, h.value);
      w.Key("timestamp");
      write_str(w, iso_ms(h.timestamp_ms).view());
      w.Key("sourceType");
      write_str(w, h.source_type);
      w.Key("sourceId");
      write_str(w, h.source_id);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace

void write_object(JsonWriter& w, const ObjectView& v, const std::vector<std::string>& props,
                  const std::vector<std::string>& default_props, bool with_new) {
  w.StartObject();
  w.Key("id");
  char id[24];
  auto id_end = std::to_chars(id, id + sizeof id, v.id).ptr;
  write_str(w, std::string_view(id, static_cast<std::size_t>(id_end - id)));
  w.Key("properties");
  write_properties(w, *v.props, props, default_props);
  if (!v.history.empty()) {
    w.Key("propertiesWithHistory");
    write_history(w, v.history);
  }
  w.Key("createdAt");
  write_str(w, iso_ms(v.created_ms).view());
  w.Key("updatedAt");
  write_str(w, iso_ms(v.updated_ms).view());
  w.Key("archived");
  w.Bool(v.archived);
  if (v.archived) {
    w.Key("archivedAt");
    write_str(w, iso_ms(v.archived_ms).view());
  }
  if (with_new) {
    w.Key("new");
    w.Bool(v.is_new);
  }
  w.EndObject();
}

void Simulator::Impl::count_request(const std::string& key, int status) {
  std::lock_guard lock(counter_mu);
  counts.requests[key][status]++;
  if (status == 429) counts.rate_limited++;
}

void Simulator::Impl::count_inputs(const std::string& type_id, std::int64_t n) {
  std::lock_guard lock(counter_mu);
  counts.inputs_written[type_id] += n;
}

WriteSource Simulator::Impl::source_for(const Caller& c) const {
  WriteSource s;
  s.change_source = "INTEGRATION";
  s.source_id = std::to_string(c.app_id);
  s.app_id = c.app_id;
  return s;
}

void Simulator::Impl::emit(std::vector<ChangeEvent>& events) {
  if (!events.empty()) webhooks.enqueue(events);
}

Caller Simulator::Impl::authenticate(const HttpRequest& req) {
  std::string h = req.header("authorization");
  std::string token;
  if (h.size() > 7 && (h.compare(0, 7, "Bearer ") == 0 || h.compare(0, 7, "bearer ") == 0)) token = h.substr(7);
  if (token.empty())
    throw make_api_error(401, "INVALID_AUTHENTICATION",
                         "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
                         "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview");
  std::lock_guard lock(auth_mu);
  if (auto it = private_tokens.find(token); it != private_tokens.end())
    return Caller{it->second, false, opts.portal_id};
  if (auto it = access_tokens.find(token); it != access_tokens.end()) {
    if (now() >= it->second.expires_at_ms)
      throw make_api_error(401, "EXPIRED_AUTHENTICATION",
                           "The OAuth token used to make this call expired " +
                               std::to_string((now() - it->second.expires_at_ms) / 1000) + " second(s) ago.");
    return Caller{it->second.app_id, true, it->second.hub_id};
  }
  throw make_api_error(401, "INVALID_AUTHENTICATION",
                       "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
                       "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview");
}

void Simulator::Impl::admit(HttpRequest& req) {
  std::vector<std::string> seg = split(req.path, '/');
  if (outside_portal_limit(seg) || !rate_limits_on) return;
  try {
    authenticate(req);
  } catch (const ApiError&) {
    return;  // route() answers the 401; a refused token spends nothing
  }
  req.admission = spend_limit(seg);
}

RateLimiter::Decision Simulator::Impl::spend_limit(const std::vector<std::string>& seg) {
  return is_search_route(seg) ? limiter.check_search(now()) : limiter.check(now());
}

HttpResponse Simulator::Impl::handle(HttpRequest& req) {
  std::vector<std::string> seg = split(req.path, '/');
  std::string key = route_key(req, seg);
  bool is_admin = !seg.empty() && seg[0] == "_sim";
  HttpResponse resp;
  int latency = 0;
  bool malformed = false;
  if (!is_admin) {
    std::lock_guard lock(fault_mu);
    if (opts.latency_max_ms > 0)
      latency = opts.latency_min_ms +
                static_cast<int>(rng() % static_cast<std::uint64_t>(std::max(1, opts.latency_max_ms - opts.latency_min_ms + 1)));
    for (auto& f : faults) {
      if (!glob_match(f.route, req.path) || (!f.method.empty() && f.method != req.method) || f.remaining == 0) continue;
      if (f.latency_max_ms > 0)
        latency += f.latency_min_ms +
                   static_cast<int>(rng() % static_cast<std::uint64_t>(std::max(1, f.latency_max_ms - f.latency_min_ms + 1)));
      double roll = static_cast<double>(rng() % 1000000) / 10000.0;  // [0,100)
      double acc = 0;
      auto hit = [&](double pct) { acc += pct; return roll < acc; };
      int fault_status = 0;
      if (hit(f.pct_500)) fault_status = 500;
      else if (hit(f.pct_429)) fault_status = 429;
      else if (hit(f.pct_423)) fault_status = 423;
      else if (hit(f.pct_slow)) latency += f.slow_ms;
      else if (hit(f.pct_drop)) resp.action = ResponseAction::kDrop;
      else if (hit(f.pct_reset)) resp.action = ResponseAction::kReset;
      else if (hit(f.pct_malformed)) malformed = true;
      else continue;
      if (f.remaining > 0) --f.remaining;
      if (fault_status == 500) {
        resp = error_response(make_api_error(500, "INTERNAL_ERROR", "Internal error (injected by hubspot-sim)"), correlation_id());
      } else if (fault_status == 429) {
        resp = json_response(429, "{\"status\":\"error\",\"message\":\"You have reached your ten_secondly_rolling limit.\",\"errorType\":\"RATE_LIMIT\",\"correlationId\":\"" +
                                      correlation_id() + "\",\"policyName\":\"TEN_SECONDLY_ROLLING\",\"groupName\":\"publicapi:private-app:" + std::to_string(opts.portal_id) + "\"}");
      } else if (fault_status == 423) {
        resp = error_response(make_api_error(423, "LOCKED", "The resource is locked by another operation; retry in a few seconds"), correlation_id());
      }
      if (fault_status != 0) {
        count_request(key, fault_status);
        resp.delay_ms = latency;
        resp.headers.emplace_back("Date", http_date(now()));
        return resp;
      }
      break;
    }
    if (resp.action != ResponseAction::kRespond) {
      count_request(key, 0);
      return resp;
    }
  }
  resp = route(req, key);
  resp.delay_ms = latency;
  resp.headers.emplace_back("Date", http_date(now()));  // the portal's clock
  if (log->should_log(spdlog::level::debug))
    log->debug("request method={} route=\"{}\" status={} delay_ms={}", req.method, key.substr(key.find(' ') + 1),
               resp.status, latency);
  if (malformed && resp.body.size() > 2) resp.body.resize(resp.body.size() / 2);
  return resp;
}

HttpResponse Simulator::Impl::route(HttpRequest& req, const std::string& key) {
  std::vector<std::string> seg = split(req.path, '/');
  HttpResponse resp;
  try {
    if (!seg.empty() && seg[0] == "_sim") {
      resp = handle_admin(req, seg);
      count_request(key, resp.status);
      return resp;
    }
    if (seg.size() >= 2 && (seg[0] == "oauth")) {
      resp = handle_oauth(req, seg);
      count_request(key, resp.status);
      return resp;
    }
    if (is_action_definitions(seg)) {
      resp = handle_action_definitions(req, seg);
      count_request(key, resp.status);
      return resp;
    }
    Caller caller = authenticate(req);
    RateLimiter::Decision d;
    if (const auto* on_arrival = std::any_cast<RateLimiter::Decision>(&req.admission)) d = *on_arrival;
    else if (rate_limits_on) d = spend_limit(seg);
    if (!d.allowed) {
      std::string msg = d.policy == "DAILY" ? "You have reached your daily limit."
                        : d.policy == "SECONDLY" ? "You have reached your secondly limit."
                                                 : "You have reached your ten_secondly_rolling limit.";
      resp = json_response(429, "{\"status\":\"error\",\"message\":\"" + msg +
                                    "\",\"errorType\":\"RATE_LIMIT\",\"correlationId\":\"" + correlation_id() +
                                    "\",\"policyName\":\"" + d.policy + "\",\"groupName\":\"publicapi:" +
                                    (caller.oauth ? "oauth" : "private-app") + ":" + std::to_string(opts.portal_id) + "\"}");
      if (opts.retry_after)
        resp.headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(1, (d.retry_after_ms + 999) / 1000)));
    } else if (seg.size() >= 4 && seg[0] == "crm" && seg[1] == "v3" && seg[2] == "objects") {
      resp = handle_objects(req, seg, caller);
    } else if (seg.size() >= 4 && seg[0] == "crm" && seg[1] == "v3" && seg[2] == "properties") {
      resp = handle_properties(req, seg);
    } else if (seg.size() >= 3 && ((seg[0] == "crm" && seg[1] == "v3" && seg[2] == "schemas") ||
                                   (seg[0] == "crm-object-schemas" && seg[1] == "v3" && seg[2] == "schemas"))) {
      resp = handle_schemas(req, seg);
    } else if (seg.size() >= 5 && ((seg[0] == "crm" && seg[1] == "v4" && seg[2] == "associations") ||
                                   (seg[0] == "crm" && seg[1] == "associations" && seg[2] == "v4"))) {
      resp = handle_associations(req, seg, caller);
    } else if (seg.size() >= 6 && seg[0] == "crm" && seg[1] == "v4" && seg[2] == "objects") {
      resp = handle_v4_object_associations(req, seg, caller);
    } else if (seg.size() >= 5 && seg[0] == "automation" && seg[1] == "v4" && seg[2] == "actions") {
      resp = handle_action_callbacks(req, seg);
    } else if (seg.size() == 3 && seg[0] == "account-info" && seg[1] == "v3" && seg[2] == "details") {
      resp = handle_account_details(req, caller);
    } else {
      resp = error_response(make_api_error(404, "OBJECT_NOT_FOUND", "Unknown route " + req.method + " " + req.path), correlation_id());
    }
    if (rate_limits_on && d.allowed && !is_search_route(seg)) {
      resp.headers.emplace_back("X-HubSpot-RateLimit-Max", std::to_string(d.max));
      resp.headers.emplace_back("X-HubSpot-RateLimit-Remaining", std::to_string(d.remaining));
      resp.headers.emplace_back("X-HubSpot-RateLimit-Interval-Milliseconds", "10000");
      if (!caller.oauth) {
        resp.headers.emplace_back("X-HubSpot-RateLimit-Daily", std::to_string(d.daily));
        resp.headers.emplace_back("X-HubSpot-RateLimit-Daily-Remaining", std::to_string(d.daily_remaining));
      }
    }
  } catch (const ApiError& e) {
    resp = error_response(e, correlation_id());
  } catch (const SimulatorError& e) {
    resp = error_response(make_api_error(e.status(), e.category(), e.what()), correlation_id());
  } catch (const std::exception& e) {
    resp = error_response(make_api_error(400, "VALIDATION_ERROR", std::string("Invalid input: ") + e.what()), correlation_id());
  }
  count_request(key, resp.status);
  return resp;
}

}  // namespace hubsync::sim
