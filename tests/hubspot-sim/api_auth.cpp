// OAuth 2.0: authorize (auto-consent), token (authorization_code and
// rotating refresh_token), token introspection; and the account details a
// token of either kind reads (/account-info/v3/details).
#include "tests/hubspot-sim/impl.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

std::map<std::string, std::string> parse_form(const std::string& body) {
  HttpRequest tmp;
  tmp.target = "/?" + body;
  parse_target(tmp);
  std::map<std::string, std::string> out;
  for (auto& [k, v] : tmp.query) out[k] = v;
  return out;
}

HttpResponse oauth_error(const std::string& status, const std::string& message, const std::string& cid) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("status"); write_str(w, status);
  w.Key("message"); write_str(w, message);
  w.Key("correlationId"); write_str(w, cid);
  w.EndObject();
  return json_response(400, std::string(sb.GetString(), sb.GetSize()));
}

}  // namespace

HttpResponse Simulator::Impl::handle_oauth(HttpRequest& req, const std::vector<std::string>& seg) {
  if (seg.size() == 2 && seg[1] == "authorize" && req.method == "GET") {
    if (req.query_param("client_id") != opts.oauth_client_id)
      return oauth_error("BAD_CLIENT_ID", "missing or unknown client id", correlation_id());
    std::string redirect = req.query_param("redirect_uri");
    if (redirect.empty()) return oauth_error("BAD_REDIRECT_URI", "redirect_uri is required", correlation_id());
    // sim_portal_id (not HubSpot's): the portal the user picks on the
    // consent page; by default the simulated one.
    std::int64_t hub_id = opts.portal_id;
    if (const auto chosen = req.query_param("sim_portal_id"); !chosen.empty()) {
      try {
        hub_id = std::stoll(chosen);
      } catch (const std::exception&) {
        return oauth_error("BAD_PORTAL_ID", "sim_portal_id must be a number", correlation_id());
      }
    }
    std::string code;
    {
      std::lock_guard lock(auth_mu);
      code = "sim-code-" + std::to_string(++token_counter);
      auth_codes[code] = AuthCode{redirect, req.query_param("scope"), hub_id};
    }
    std::string loc = redirect + (redirect.find('?') == std::string::npos ? "?" : "&") + "code=" + code;
    if (!req.query_param("state").empty()) loc += "&state=" + req.query_param("state");
    HttpResponse r;
    r.status = 302;
    r.content_type = "text/plain";
    r.headers.emplace_back("Location", loc);
    return r;
  }
  if (seg.size() == 3 && seg[1] == "v1" && seg[2] == "token" && req.method == "POST") {
    auto form = parse_form(req.body);
    std::string grant = form["grant_type"];
    if (form["client_id"] != opts.oauth_client_id || form["client_secret"] != opts.oauth_client_secret)
      return oauth_error("BAD_CLIENT_ID", "missing or unknown client id", correlation_id());
    std::string scopes;
    std::int64_t hub_id = opts.portal_id;
    std::lock_guard lock(auth_mu);
    if (grant == "authorization_code") {
      auto it = auth_codes.find(form["code"]);
      if (it == auth_codes.end()) return oauth_error("BAD_AUTH_CODE", "missing or unknown auth code", correlation_id());
      if (it->second.redirect_uri != form["redirect_uri"])
        return oauth_error("BAD_REDIRECT_URI", "redirect_uri does not match the one used to authorize", correlation_id());
      scopes = it->second.scopes;
      hub_id = it->second.hub_id;
      auth_codes.erase(it);
    } else if (grant == "refresh_token") {
      auto it = refresh_tokens.find(form["refresh_token"]);
      if (it == refresh_tokens.end())
        return oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token", correlation_id());
      scopes = it->second.scopes;
      hub_id = it->second.hub_id;
      refresh_tokens.erase(it);  // rotation: the old refresh token stops working
    } else {
      return oauth_error("BAD_GRANT_TYPE", "grant_type must be authorization_code or refresh_token", correlation_id());
    }
    std::uint64_t n = ++token_counter;
    std::string access = "sim-access-" + std::to_string(n) + "-" + std::to_string(now());
    std::string refresh = "sim-refresh-" + std::to_string(n) + "-" + std::to_string(now() % 100000);
    std::int64_t expires_in = oauth_expires_in_s;
    OAuthToken t{opts.oauth_app_id, now() + expires_in * 1000, refresh, scopes, hub_id};
    access_tokens[access] = t;
    refresh_tokens[refresh] = t;
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("token_type"); w.String("bearer");
    w.Key("refresh_token"); write_str(w, refresh);
    w.Key("access_token"); write_str(w, access);
    w.Key("expires_in"); w.Int64(expires_in);
    w.Key("token_use"); w.String("access_token");
    w.Key("hub_id"); w.Int64(hub_id);
    w.Key("scopes"); w.StartArray();
    for (const auto& s : split(scopes, ' ')) write_str(w, s);
    w.EndArray();
    w.EndObject();
    return json_response(200, std::string(sb.GetString(), sb.GetSize()));
  }
  if (seg.size() == 4 && seg[1] == "v1" && (seg[2] == "access-tokens" || seg[2] == "refresh-tokens")) {
    std::lock_guard lock(auth_mu);
    auto& table = seg[2] == "access-tokens" ? access_tokens : refresh_tokens;
    auto it = table.find(seg[3]);
    if (it == table.end())
      return error_response(make_api_error(404, "OBJECT_NOT_FOUND", "Token not found"), correlation_id());
    if (req.method == "DELETE" && seg[2] == "refresh-tokens") {
      table.erase(it);
      HttpResponse r; r.status = 204; r.content_type.clear();
      return r;
    }
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("token"); write_str(w, seg[3]);
    w.Key("user"); w.String("sim-user@example.com");
    w.Key("hub_id"); w.Int64(it->second.hub_id);
    w.Key("user_id"); w.Int(9000);
    w.Key("app_id"); w.Int64(it->second.app_id);
    w.Key("client_id"); write_str(w, opts.oauth_client_id);
    w.Key("token_type"); w.String(seg[2] == "access-tokens" ? "access" : "refresh");
    w.Key("expires_in"); w.Int64(std::max<std::int64_t>(0, (it->second.expires_at_ms - now()) / 1000));
    w.Key("scopes"); w.StartArray();
    for (const auto& s : split(it->second.scopes, ' ')) write_str(w, s);
    w.EndArray();
    w.EndObject();
    return json_response(200, std::string(sb.GetString(), sb.GetSize()));
  }
  return error_response(make_api_error(404, "OBJECT_NOT_FOUND", "Unknown OAuth route " + req.path), correlation_id());
}

// GET /account-info/v3/details: the portal the calling token is for (a
// private app's: this simulator's portal; an OAuth token's: the portal
// chosen on the consent page), with the fields HubSpot documents as
// always present.
HttpResponse Simulator::Impl::handle_account_details(const HttpRequest& req, const Caller& c) {
  if (req.method != "GET")
    return error_response(make_api_error(405, "METHOD_NOT_ALLOWED", req.method + " is not allowed on " + req.path),
                          correlation_id());
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("portalId"); w.Int64(c.hub_id);
  w.Key("accountType"); w.String("STANDARD");
  w.Key("timeZone"); w.String("US/Eastern");
  w.Key("companyCurrency"); w.String("USD");
  w.Key("additionalCurrencies"); w.StartArray(); w.EndArray();
  w.Key("utcOffset"); w.String("-05:00");
  w.Key("utcOffsetMilliseconds"); w.Int64(-18000000);
  w.Key("uiDomain"); w.String("app.hubspot.com");
  w.Key("dataHostingLocation"); w.String("na1");
  w.EndObject();
  return json_response(200, std::string(sb.GetString(), sb.GetSize()));
}

}  // namespace hubsync::sim
