#include "connectors/hubspot/errors.h"

#include <algorithm>
#include <cctype>

#include "connectors/hubspot/json.h"
#include "engine/model/record.h"

namespace hubsync::hubspot {

namespace {

// to_error() puts HubSpot's text last, after this; loggable() cuts there.
constexpr std::string_view kMessageField = " message=";

std::map<std::string, std::vector<std::string>> read_context(const rapidjson::Value& obj) {
  std::map<std::string, std::vector<std::string>> out;
  const auto* ctx = json::member(obj, "context");
  if (!ctx || !ctx->IsObject()) return out;
  for (auto it = ctx->MemberBegin(); it != ctx->MemberEnd(); ++it) {
    auto& vec = out[it->name.GetString()];
    if (it->value.IsArray()) {
      for (const auto& v : it->value.GetArray())
        if (auto s = json::scalar_text(v)) vec.push_back(*s);
    } else if (auto s = json::scalar_text(it->value)) {
      vec.push_back(*s);
    }
  }
  return out;
}

ApiError from_json(const rapidjson::Value& d, int http_status) {
  ApiError e;
  e.http_status = http_status;
  e.category = json::get_string(d, "category");
  e.message = json::get_string(d, "message");
  e.correlation_id = json::get_string(d, "correlationId");
  e.policy_name = json::get_string(d, "policyName");
  if (const auto* sc = json::member(d, "subCategory"); sc && sc->IsString()) e.sub_category = sc->GetString();
  if (e.category.empty()) {
    // 429 bodies use errorType instead of category.
    e.category = json::get_string(d, "errorType");
  }
  e.context = read_context(d);
  if (const auto* errs = json::member(d, "errors"); errs && errs->IsArray()) {
    for (const auto& item : errs->GetArray()) {
      if (!item.IsObject()) continue;
      ErrorDetail det;
      det.message = json::get_string(item, "message");
      det.code = json::get_string(item, "code");
      det.context = read_context(item);
      e.details.push_back(std::move(det));
    }
  }
  if (http_status == 409 || e.category == "CONFLICT") e.existing_id = parse_existing_id(e.message);
  return e;
}

}  // namespace

std::vector<std::string> ApiError::context_values() const {
  std::vector<std::string> out;
  for (const auto& [k, vs] : context) out.insert(out.end(), vs.begin(), vs.end());
  for (const auto& d : details)
    for (const auto& [k, vs] : d.context) out.insert(out.end(), vs.begin(), vs.end());
  return out;
}

std::optional<std::string> parse_existing_id(std::string_view message) {
  constexpr std::string_view kTag = "Existing ID:";
  auto pos = message.find(kTag);
  if (pos == std::string_view::npos) return std::nullopt;
  pos += kTag.size();
  while (pos < message.size() && message[pos] == ' ') ++pos;
  std::size_t end = pos;
  while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
  if (end == pos) return std::nullopt;
  return std::string(message.substr(pos, end - pos));
}

ApiError parse_api_error(int http_status, std::string_view body) {
  try {
    auto d = json::parse(body);
    if (d.IsObject()) return from_json(d, http_status);
  } catch (const std::exception&) {
    // Not JSON (a proxy's HTML page, an empty body): keep a short excerpt.
  }
  ApiError e;
  e.http_status = http_status;
  e.message = std::string(body.substr(0, 200));
  return e;
}

ApiError parse_batch_error_item(std::string_view item_json, int http_status) {
  return parse_api_error(http_status, item_json);
}

model::ErrorKind classify(int status, std::string_view category) {
  using model::ErrorKind;
  if (status == 429) return ErrorKind::rate_limited;
  if (status >= 500 || status == 408 || status == 423) return ErrorKind::transient;
  if (status == 401) return ErrorKind::auth;
  if (status == 403) return ErrorKind::auth;
  if (status == 409 || category == "CONFLICT") return ErrorKind::conflict;
  if (status == 400 || status == 404) return ErrorKind::invalid_record;
  return ErrorKind::fatal;
}

model::Error to_error(const ApiError& e, std::string_view op) {
  model::Error out;
  out.kind = classify(e.http_status, e.category);
  out.http_status = e.http_status;
  out.category = e.category;
  if (!e.details.empty()) out.code = e.details.front().code;
  out.message = std::string(op) + ": status=" + std::to_string(e.http_status);
  if (!e.category.empty()) out.message += " category=" + e.category;
  if (!out.code.empty()) out.message += " code=" + out.code;
  if (!e.correlation_id.empty()) out.message += " correlation_id=" + e.correlation_id;
  if (e.existing_id) out.message += " existing_id=" + *e.existing_id;
  if (!e.message.empty()) out.message += std::string(kMessageField) + model::json_quote(e.message);
  return out;
}

std::string log_fields(const ApiError& e, std::string_view op) {
  std::string out = "op=" + std::string(op) + " status=" + std::to_string(e.http_status);
  if (!e.category.empty()) out += " category=" + e.category;
  std::vector<std::string> codes;
  for (const auto& d : e.details)
    if (!d.code.empty() && std::find(codes.begin(), codes.end(), d.code) == codes.end()) codes.push_back(d.code);
  for (std::size_t i = 0; i < codes.size(); ++i) out += (i == 0 ? " codes=" : ",") + codes[i];
  if (!e.policy_name.empty()) out += " policy=" + e.policy_name;
  if (!e.correlation_id.empty()) out += " correlation_id=" + e.correlation_id;
  return out;
}

std::string loggable(const model::Error& e) {
  if (e.http_status == 0) return e.message;
  return e.message.substr(0, e.message.find(kMessageField));
}

model::Error response_error(const HttpResponse& r, std::string_view op) {
  return to_error(parse_api_error(r.status, r.body), op);
}

model::Error too_many_inputs(const char* op, std::size_t n, std::size_t max) {
  return model::make_error(model::ErrorKind::fatal, std::string(op) + ": " + std::to_string(n) +
                                                        " inputs exceed the batch limit of " + std::to_string(max));
}

}  // namespace hubsync::hubspot
