#include "connectors/hubspot/batch_codec.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <map>
#include <unordered_map>

#include "connectors/hubspot/codec.h"
#include "connectors/hubspot/errors.h"
#include "connectors/hubspot/json.h"

namespace hubsync::hubspot {

namespace {

// A result's `properties` as HubSpot answered them; null values are left out.
std::map<std::string, std::string> stored_of(const rapidjson::Value& result) {
  std::map<std::string, std::string> out;
  const auto* props = json::member(result, "properties");
  if (!props || !props->IsObject()) return out;
  for (auto it = props->MemberBegin(); it != props->MemberEnd(); ++it)
    if (auto text = json::scalar_text(it->value))
      out.emplace(std::string(it->name.GetString(), it->name.GetStringLength()), std::move(*text));
  return out;
}

void answer(pipeline::WriteOutcome& o, const rapidjson::Value& result, int status) {
  o.hubspot_id = json::get_string(result, "id");
  o.created = json::get_bool(result, "new", status == 201);
  o.stored = stored_of(result);
}

}  // namespace

std::vector<pipeline::WriteOutcome> parse_batch_write(const HttpResponse& resp, std::size_t n,
                                                      const BatchKeys& keys, const char* op) {
  std::vector<pipeline::WriteOutcome> out(n);
  std::vector<bool> answered(n, false);
  std::unordered_map<std::string, std::size_t> by_key;
  for (std::size_t i = 0; i < keys.keys.size() && i < n; ++i)
    if (!keys.keys[i].empty()) by_key.emplace(codec::lower(keys.keys[i]), i);

  auto find_input = [&](const std::vector<std::string>& candidates) -> std::optional<std::size_t> {
    for (const auto& c : candidates) {
      if (auto it = by_key.find(codec::lower(c)); it != by_key.end()) return it->second;
    }
    return std::nullopt;
  };
  auto trace_index = [&](const std::string& trace) -> std::optional<std::size_t> {
    if (trace.empty()) return std::nullopt;
    try {
      const auto i = static_cast<std::size_t>(std::stoull(trace));
      if (i < n) return i;
    } catch (const std::exception&) {
    }
    return std::nullopt;
  };

  rapidjson::Document d;
  try {
    d = json::parse(resp.body);
  } catch (const std::exception&) {
    for (auto& o : out)
      o.error = model::make_error(model::ErrorKind::transient, std::string(op) + ": unreadable batch response");
    return out;
  }

  std::size_t position = 0;
  std::vector<const rapidjson::Value*> unplaced;
  const auto* results_arr = json::member(d, "results");
  const auto* errors_arr = json::member(d, "errors");
  // Position is trusted only when every input got a result and none failed.
  const bool by_position = results_arr && results_arr->IsArray() && results_arr->Size() == n &&
                           !(errors_arr && errors_arr->IsArray() && !errors_arr->Empty());
  if (const auto* results = results_arr; results && results->IsArray()) {
    for (const auto& r : results->GetArray()) {
      std::optional<std::size_t> idx = trace_index(json::get_string(r, "objectWriteTraceId"));
      if (!idx && !by_key.empty()) {
        std::string key;
        if (keys.key_property.empty()) {
          key = json::get_string(r, "id");
        } else if (const auto* props = json::member(r, "properties")) {
          key = json::get_string(*props, keys.key_property.c_str());
        }
        if (!key.empty()) idx = find_input({key});
      }
      if (!idx && by_position && position < n) idx = position;
      ++position;
      if (!idx || answered[*idx]) {
        if (!idx) unplaced.push_back(&r);
        continue;
      }
      answered[*idx] = true;
      answer(out[*idx], r, resp.status);
    }
  }
  if (const auto* errors = json::member(d, "errors"); errors && errors->IsArray()) {
    for (const auto& e : errors->GetArray()) {
      auto api = parse_api_error(resp.status == 207 ? 400 : resp.status, json::to_string(e));
      // A batch item's own status, when numeric, is the truth for its kind.
      if (const auto* st = json::member(e, "status"); st && st->IsString()) {
        const std::string s = st->GetString();
        int status = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), status);
        if (!s.empty() && ec == std::errc() && end == s.data() + s.size() && status >= 100 && status <= 599)
          api.http_status = status;
      }
      if (api.category == "CONFLICT") api.http_status = 409;
      if (api.category == "OBJECT_NOT_FOUND") api.http_status = 404;
      auto values = api.context_values();
      std::vector<std::size_t> targets;
      for (const auto& [k, vs] : api.context) {
        if (k == "objectWriteTraceId")
          for (const auto& v : vs)
            if (auto i = trace_index(v)) targets.push_back(*i);
      }
      if (targets.empty())
        for (const auto& v : values)
          if (auto i = find_input({v})) targets.push_back(*i);
      for (auto i : targets) {
        if (answered[i]) continue;
        answered[i] = true;
        out[i].error = to_error(api, op);
        if (api.existing_id) out[i].existing_id = *api.existing_id;
      }
    }
  }
  // Results that carry no trace id nor key (creates) follow the inputs that
  // did not fail, in order, when the counts agree.
  std::vector<std::size_t> open;
  for (std::size_t i = 0; i < n; ++i)
    if (!answered[i]) open.push_back(i);
  if (!unplaced.empty() && unplaced.size() == open.size()) {
    for (std::size_t k = 0; k < open.size(); ++k) {
      answered[open[k]] = true;
      answer(out[open[k]], *unplaced[k], resp.status);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!answered[i])
      out[i].error = model::make_error(model::ErrorKind::transient,
                                       std::string(op) + ": input not answered by HubSpot, index=" + std::to_string(i));
  }
  return out;
}

}  // namespace hubsync::hubspot
